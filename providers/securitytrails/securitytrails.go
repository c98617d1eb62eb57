package securitytrails

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the securitytrails provider type.
var Schema = schema.ProviderSchema{
	Type:        "securitytrails",
	Description: "SecurityTrails API v1: current and historical DNS, subdomains, reverse IP/NS/MX search.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "SecurityTrails API key (APIKEY header)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {RRTypes: []string{"A", "AAAA", "MX", "NS", "SOA", "TXT"}},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
		schema.OpMXReverse:   {},
	},
	DefaultRate:     "1/s",
	DefaultBudget:   50,
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://api.securitytrails.com/v1",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the securitytrails provider is not implemented yet")
}
