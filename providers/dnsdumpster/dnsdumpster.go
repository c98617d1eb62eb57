package dnsdumpster

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the dnsdumpster provider type.
var Schema = schema.ProviderSchema{
	Type:        "dnsdumpster",
	Description: "DNSDumpster JSON API: hosts and records of a domain.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "DNSDumpster API key (X-API-Key header)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpSubdomains: {Current: true},
	},
	DefaultRate:     "30/min",
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://api.dnsdumpster.com",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the dnsdumpster provider is not implemented yet")
}
