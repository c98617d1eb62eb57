package schema

import "github.com/hashicorp/hcl/v2"

// LoadOptions are the inputs to Load beside the folder.
type LoadOptions struct {
	// Vars are -var name=value arguments in command-line order; VarFiles
	// are -var-file paths. Later ones win, and both win over the
	// environment (RECONFORM_VAR_<name>) and defaults.
	Vars     []string
	VarFiles []string
	// Environ is the process environment (os.Environ()), for env() and
	// RECONFORM_VAR_<name>. Nil means empty.
	Environ []string
	// Providers declares the provider types the config may use.
	Providers map[string]ProviderSchema
}

// Load reads every *.hcl file in dir into a Config. All problems are
// returned at once as diagnostics with file, line and column.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Loader not implemented yet"}}
}
