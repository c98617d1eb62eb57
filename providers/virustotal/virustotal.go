package virustotal

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the virustotal provider type.
var Schema = schema.ProviderSchema{
	Type:        "virustotal",
	Description: "VirusTotal API v3: domain and IP resolutions, subdomains.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "VirusTotal API key (x-apikey header)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {RRTypes: []string{"A", "AAAA"}},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
	},
	DefaultRate:     "4/min",
	DefaultBudget:   500,
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://www.virustotal.com/api/v3",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the virustotal provider is not implemented yet")
}
