package robtex

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the robtex provider type.
var Schema = schema.ProviderSchema{
	Type:        "robtex",
	Description: "Robtex passive DNS (forward and reverse), free or pro API.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: false, Sensitive: true, Description: "Robtex Pro API key (sent as ?key=); leave unset for the free API."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
	},
	DefaultRate:     "8/min",
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://freeapi.robtex.com",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the robtex provider is not implemented yet")
}
