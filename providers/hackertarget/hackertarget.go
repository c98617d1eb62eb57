package hackertarget

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the hackertarget provider type.
var Schema = schema.ProviderSchema{
	Type:        "hackertarget",
	Description: "HackerTarget: hostsearch, reverseiplookup, findshareddns, dnslookup.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: false, Sensitive: true, Description: "HackerTarget membership key (sent as &apikey=); the free tier needs none."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {Current: true},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
	},
	DefaultRate:     "1/s",
	DefaultBudget:   50,
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://api.hackertarget.com",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the hackertarget provider is not implemented yet")
}
