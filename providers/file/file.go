package file

import (
	"context"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the file provider type.
var Schema = schema.ProviderSchema{
	Type:        "file",
	Description: "Offline data files: COF NDJSON, Rapid7 Sonar FDNS NDJSON (plain or gzip), CSV.",
	Attributes: []schema.ProviderAttribute{
		{Name: "path", Type: cty.String, Required: true, Sensitive: false, Description: "Path of the data file, relative to the engagement folder."},
		{Name: "format", Type: cty.String, Required: false, Sensitive: false, Description: "cof, fdns or csv; detected from the content when unset."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
		schema.OpMXReverse:   {},
	},
	DefaultTimeout: 30 * time.Second,
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return nil, providers.Errorf(cfg.Address, providers.KindUnsupported, "the file provider is not implemented yet")
}
