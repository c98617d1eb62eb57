package circl

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the circl provider type.
var Schema = schema.ProviderSchema{
	Type:        "circl",
	Description: "CIRCL Passive DNS (COF NDJSON, HTTP Basic auth, dribble paging).",
	Attributes: []schema.ProviderAttribute{
		{Name: "username", Type: cty.String, Required: true, Sensitive: false, Description: "CIRCL pDNS user name."},
		{Name: "password", Type: cty.String, Required: true, Sensitive: true, Description: "CIRCL pDNS password."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
	},
	DefaultRate:     "1/s",
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://www.circl.lu/pdns/query",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the circl provider is not implemented yet")
}
