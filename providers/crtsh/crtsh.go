package crtsh

import (
	"context"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the crtsh provider type.
var Schema = schema.ProviderSchema{
	Type:        "crtsh",
	Description: "crt.sh certificate transparency search: names from certificates.",
	Attributes:  []schema.ProviderAttribute{},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpSubdomains: {},
	},
	DefaultRate:     "1/s",
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://crt.sh",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the crtsh provider is not implemented yet")
}
