package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// LoadOptions are the inputs to Load beside the folder.
type LoadOptions struct {
	// Vars are -var name=value arguments in command-line order; VarFiles
	// are -var-file paths (HCL, or JSON when the name ends in .json).
	// Later ones win, and both win over the
	// environment (RECONFORM_VAR_<name>) and defaults. Var files are
	// applied first, then Vars.
	Vars     []string
	VarFiles []string
	// VarFileNames, when set, are the names VarFiles are shown by in
	// diagnostics (the paths as the user typed them), index for index.
	VarFileNames []string
	// DisplayDir is the folder as the user named it; file names in
	// diagnostics and Config.Files are DisplayDir joined with the file's
	// base name. Empty means dir itself.
	DisplayDir string
	// Environ is the process environment (os.Environ()), for env() and
	// RECONFORM_VAR_<name>. Nil means empty.
	Environ []string
	// Providers declares the provider types the config may use.
	Providers map[string]ProviderSchema
}

// Block type names of the language.
const (
	blockEngagement = "engagement"
	blockVariable   = "variable"
	blockLocals     = "locals"
	blockScope      = "scope"
	blockProvider   = "provider"
	blockTarget     = "target"
	blockQuery      = "query"
	blockPivot      = "pivot"
)

// topLevelBlocks lists the top-level block types with their label names.
var topLevelBlocks = []struct {
	Type   string
	Labels []string // the last may be optional when OptionalLast
	// OptionalLast: the last label may be left out (provider "file" "x").
	OptionalLast bool
}{
	{Type: blockEngagement, Labels: []string{"name"}},
	{Type: blockVariable, Labels: []string{"name"}},
	{Type: blockLocals},
	{Type: blockScope},
	{Type: blockProvider, Labels: []string{"type", "name"}, OptionalLast: true},
	{Type: blockTarget, Labels: []string{"kind", "name"}},
	{Type: blockQuery, Labels: []string{"name"}},
	{Type: blockPivot, Labels: []string{"name"}},
}

// Load reads every *.hcl file in dir into a Config. All problems are
// returned at once as diagnostics with file, line and column. The Config
// is returned even when there are errors (with what could be decoded), so
// callers can render diagnostics with Config.Files; it is only fit to run
// when the diagnostics have no errors.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	display := opts.DisplayDir
	if display == "" {
		display = dir
	}
	cfg := &Config{
		Dir:       dir,
		Files:     map[string]*hcl.File{},
		Variables: map[string]*Variable{},
		Providers: map[string]*ProviderBlock{},
		Targets:   map[string]*Target{},
		Queries:   map[string]*QueryBlock{},
		Pivots:    map[string]*PivotBlock{},
	}
	cfg.environ = opts.Environ
	l := newLoader(cfg, opts)

	entries, err := os.ReadDir(dir)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the engagement folder",
			Detail:   fmt.Sprintf("Reading %s failed: %s. Give the folder that holds the engagement's *.hcl files.", display, cleanOSError(err)),
		})
		return cfg, l.diags
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   fmt.Sprintf("The folder %s holds no *.hcl files. An engagement needs at least an engagement block; see `reconform validate -help`.", display),
		})
		return cfg, l.diags
	}

	hash := sha256.New()
	syntaxErrors := false
	for _, name := range names {
		src, err := os.ReadFile(filepath.Join(dir, name))
		shown := filepath.Join(display, name)
		if err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read configuration file",
				Detail:   fmt.Sprintf("Reading %s failed: %s.", shown, cleanOSError(err)),
			})
			continue
		}
		fmt.Fprintf(hash, "file %q %d\n", name, len(src))
		hash.Write(src)
		file, diags := ParseHCL(src, shown)
		l.diags = append(l.diags, diags...)
		syntaxErrors = syntaxErrors || diags.HasErrors()
		if file == nil {
			continue
		}
		cfg.Files[shown] = file
		if body, ok := file.Body.(*hclsyntax.Body); ok {
			l.collect(body, shown)
		}
	}
	// A file with syntax errors decodes only partly; checking the rest
	// would report problems that are not there. Fix the syntax first.
	if !syntaxErrors {
		l.decode()
	}

	// The hash covers the variable values in force, except sensitive ones.
	var vnames []string
	for n := range cfg.Variables {
		vnames = append(vnames, n)
	}
	sort.Strings(vnames)
	for _, n := range vnames {
		v := cfg.Variables[n]
		if v.Sensitive || v.Value == cty.NilVal || !v.Value.IsWhollyKnown() {
			continue
		}
		plain, _ := v.Value.UnmarkDeep()
		js, err := ctyjson.Marshal(plain, plain.Type())
		if err != nil {
			continue
		}
		fmt.Fprintf(hash, "var %q %s\n", n, js)
	}
	cfg.Hash = hex.EncodeToString(hash.Sum(nil))
	return cfg, l.diags
}

// cleanOSError drops the path an *os.PathError repeats.
func cleanOSError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
