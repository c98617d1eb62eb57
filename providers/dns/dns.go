package dns

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the dns provider type.
var Schema = schema.ProviderSchema{
	Type:        "dns",
	Description: "Live DNS through resolvers (active recon: only with passive_only = false).",
	Attributes: []schema.ProviderAttribute{
		{Name: "resolvers", Type: cty.List(cty.String), Required: false, Sensitive: false, Description: "Resolver addresses (host or host:port); default: the system's resolv.conf."},
		{Name: "retries", Type: cty.Number, Required: false, Sensitive: false, Description: "Retries per query after a timeout (default 2)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolve: {Active: true, Current: true, RRTypes: []string{"A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "CAA"}},
	},
	DefaultRate:    "50/s",
	DefaultTimeout: 30 * time.Second,
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the dns provider is not implemented yet")
}
