package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
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
	blockModule     = "module"
	blockOutput     = "output"
	blockCheck      = "check"
	blockNotify     = "notify"
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
	{Type: blockModule, Labels: []string{"name"}},
	{Type: blockOutput, Labels: []string{"name"}},
	{Type: blockCheck, Labels: []string{"name"}},
	{Type: blockNotify, Labels: []string{"type", "name"}},
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
	root := newModule(nil)
	root.Dir = dir
	cfg := &Config{
		Dir:       dir,
		Files:     map[string]*hcl.File{},
		Variables: root.Variables,
		Providers: map[string]*ProviderBlock{},
		Targets:   map[string]*Target{},
		Queries:   map[string]*QueryBlock{},
		Pivots:    map[string]*PivotBlock{},
		Outputs:   map[string]*OutputBlock{},
		Notifiers: map[string]*NotifyBlock{},
		Root:      root,
		Modules:   map[string]*Module{"": root},
	}
	cfg.environ = opts.Environ
	hash := sha256.New()
	shared := &loadShared{
		sources:        map[string]*moduleSource{},
		hash:           hash,
		funcs:          Functions(cfg),
		providerRanges: map[string]hcl.Range{},
	}
	l := newLoader(cfg, opts, shared, root, display)
	// finish gathers every loader's diagnostics, each once.
	finish := func() hcl.Diagnostics {
		shared.collect(l.diags, nil)
		return append(shared.fileDiags, shared.result()...)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read the engagement folder",
			Detail:   fmt.Sprintf("Reading %s failed: %s. Give the folder that holds the engagement's *.hcl files.", display, cleanOSError(err)),
		})
		return cfg, finish()
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
		return cfg, finish()
	}

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
	cfg.Locals = root.Locals
	return cfg, finish()
}

// loadShared is what every module instance's loader of one Load shares.
type loadShared struct {
	sources map[string]*moduleSource // by folder
	hash    hash.Hash
	funcs   map[string]function.Function
	// providerRanges are the root's provider declarations.
	providerRanges map[string]hcl.Range
	// fileDiags are the module files' syntax diagnostics.
	fileDiags hcl.Diagnostics
	entries   []*diagEntry
	index     map[string]*diagEntry
}

// diagEntry is one diagnostic and the module instances that reported it.
type diagEntry struct {
	diag    *hcl.Diagnostic
	modules []string
	root    bool
}

// collect adds diagnostics reported while loading the module instance at
// path. A module called with for_each reports the same problem in every
// instance: it is kept once, with the instances named.
func (s *loadShared) collect(diags hcl.Diagnostics, path ModulePath) {
	if s.index == nil {
		s.index = map[string]*diagEntry{}
	}
	for _, d := range diags {
		key := fmt.Sprintf("%d\x00%s\x00%s", d.Severity, d.Summary, d.Detail)
		if d.Subject != nil {
			key += fmt.Sprintf("\x00%s:%d", d.Subject.Filename, d.Subject.Start.Byte)
			key += fmt.Sprintf("-%d", d.Subject.End.Byte)
		}
		e, ok := s.index[key]
		if !ok {
			e = &diagEntry{diag: d}
			s.index[key] = e
			s.entries = append(s.entries, e)
		}
		if path.IsRoot() {
			e.root = true
		} else {
			e.modules = append(e.modules, path.String())
		}
	}
}

// maxNamedInstances is how many module instances a diagnostic names.
const maxNamedInstances = 3

// result is the collected diagnostics; one raised inside module
// instances says in which.
func (s *loadShared) result() hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, len(s.entries))
	for _, e := range s.entries {
		if e.root || len(e.modules) == 0 {
			out = append(out, e.diag)
			continue
		}
		d := *e.diag
		names := e.modules
		more := ""
		if len(names) > maxNamedInstances {
			more = fmt.Sprintf(" and %d more", len(names)-maxNamedInstances)
			names = names[:maxNamedInstances]
		}
		d.Detail = strings.TrimSpace(d.Detail + "\n\nIn " + strings.Join(names, ", ") + more + ".")
		out = append(out, &d)
	}
	return out
}

// cleanOSError drops the path an *os.PathError repeats.
func cleanOSError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
