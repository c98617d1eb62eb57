package dnsdb

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the dnsdb provider type.
var Schema = schema.ProviderSchema{
	Type:        "dnsdb",
	Description: "Farsight/DomainTools DNSDB API v2 (SAF streaming): rrset and rdata lookups.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "DNSDB API key (X-API-Key header)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
		schema.OpMXReverse:   {},
	},
	DefaultRate:     "1/s",
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://api.dnsdb.info/dnsdb/v2",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the dnsdb provider is not implemented yet")
}
