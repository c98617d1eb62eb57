package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/schema"
)

// defaultStateName is the state file of an engagement that names none.
const defaultStateName = "reconform.rfstate"

// stateOptions are the apply/plan flags about the state file.
type stateOptions struct {
	DetailedExitCode bool
	Lock             bool
	LockTimeout      time.Duration
	// Set by the calling verb from its own flags.
	JSON, NoColor bool
	// Operation names the verb in the lock ("apply", "plan"); optional.
	Operation string
}

// addStateFlags registers -detailed-exitcode, -lock and -lock-timeout.
func addStateFlags(fs *flag.FlagSet) *stateOptions {
	o := &stateOptions{}
	fs.BoolVar(&o.DetailedExitCode, "detailed-exitcode", false, "")
	fs.BoolVar(&o.Lock, "lock", true, "")
	fs.DurationVar(&o.LockTimeout, "lock-timeout", 0, "")
	return o
}

// stateSession is an open engagement state: locked for the length of a run,
// with the previous state read (a corrupt or future state fails openState,
// before any request is sent).
type stateSession struct {
	env   *Env
	cfg   *schema.Config
	opts  *stateOptions
	store state.Store
	lock  *state.Lock
	prev  *state.State
	// next is the state Commit wrote; outputErrors is set when an output
	// could not be evaluated.
	next         *state.State
	outputErrors bool
}

// engagementStatePath is the state file of a loaded engagement.
func engagementStatePath(cfg *schema.Config) string {
	p := cfg.Engagement.State
	if p == "" {
		p = defaultStateName
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cfg.Dir, p)
	}
	return p
}

// openState locks the engagement's state and reads the previous one.
func openState(ctx context.Context, env *Env, cfg *schema.Config, opts *stateOptions) (*stateSession, error) {
	if opts == nil {
		opts = &stateOptions{Lock: true}
	}
	s := &stateSession{env: env, cfg: cfg, opts: opts, store: state.Store{Path: engagementStatePath(cfg)}}
	if opts.Lock {
		op := opts.Operation
		if op == "" {
			op = "run"
		}
		lock, err := s.store.AcquireLock(ctx, op, version.Version, opts.LockTimeout)
		if err != nil {
			return nil, err
		}
		s.lock = lock
	}
	prev, err := s.store.Read()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.prev = prev
	return s, nil
}

// PreviousFindings are the previous state's findings keyed by the block
// address that produced them ("query.history"), for plan predictions.
func (s *stateSession) PreviousFindings() map[string][]schema.Finding {
	if s.prev == nil {
		return nil
	}
	return s.prev.FindingsByBlock()
}

// deriveFacts replaces analysis.Derive when set (tests pin the facts so
// that their golden files do not follow every analysis change).
var deriveFacts func([]schema.Finding, analysis.Options) []schema.Fact

// mergeOptions are the engagement's settings for state.Merge.
func mergeOptions(cfg *schema.Config, now time.Time) state.MergeOptions {
	return state.MergeOptions{
		CurrentWindow: cfg.Engagement.CurrentWindow,
		ForgetAfter:   cfg.Engagement.ForgetAfter,
		Now:           now,
		ASNTable:      asnTablePath(cfg),
		Scope:         cfg.Scope.Domains,
		Secrets:       cfg.Secrets(),
		Derive:        deriveFacts,
	}
}

// asnTablePath is the engagement's asn_table, relative to its folder
// ("" when it has none).
func asnTablePath(cfg *schema.Config) string {
	p := cfg.Engagement.ASNTable
	if p != "" && !filepath.IsAbs(p) {
		p = filepath.Join(cfg.Dir, p)
	}
	return p
}

// Commit merges run into the state, derives facts, writes the state
// atomically, prints the drift since the previous state, and returns the
// exit code (exitDrift with -detailed-exitcode when there is drift).
//
// On a first run (no previous state) it prints a summary instead of every
// finding as new; with -detailed-exitcode a first run that found anything
// exits 2, since everything it found is new to the state.
func (s *stateSession) Commit(ctx context.Context, run *schema.RunResult) int {
	next := state.Merge(s.prev, run, mergeOptions(s.cfg, run.FinishedAt))
	if next.Engagement == "" {
		next.Engagement = s.cfg.Engagement.Name
	}
	s.setOutputs(next)
	s.next = next
	written, err := s.store.Write(s.prev, next)
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "Error: writing the state %s: %v\nThe previous state is unchanged.\n", s.store.Path, err)
		return exitError
	}
	r := diff.Compare(s.prev, next, s.cfg.Engagement.Ignore)
	switch {
	case s.opts.JSON:
		// apply -json is a stream of one JSON event a line.
		err = diff.JSONEvent(s.env.Stdout, r)
	case s.prev == nil:
		printFirstState(s.env, next, s.store.Path)
	default:
		fmt.Fprintln(s.env.Stdout)
		err = diff.Text(s.env.Stdout, r, diff.TextOptions{Color: useColor(s.env, s.opts.NoColor)})
		if written {
			fmt.Fprintf(s.env.Stdout, "State saved to %s (serial %d; serial %d kept in history).\n", displayPath(s.env, s.store.Path), next.Serial, s.prev.Serial)
		} else {
			fmt.Fprintf(s.env.Stdout, "State unchanged (%s, serial %d).\n", displayPath(s.env, s.store.Path), next.Serial)
		}
	}
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "Error: printing the drift: %v\n", err)
		return exitError
	}
	if s.opts.DetailedExitCode && r.HasDrift() {
		return exitDrift
	}
	return exitOK
}

// printFirstState summarises a state that has nothing to be compared with.
func printFirstState(env *Env, st *state.State, path string) {
	cur, hist := st.CountCurrency()
	fmt.Fprintf(env.Stdout, "\nFirst state of %s: %d findings (%d current, %d historical), %d facts.\n",
		st.Engagement, len(st.Findings), cur, hist, len(st.Facts))
	if n := st.UnverifiedCount(); n > 0 {
		fmt.Fprintf(env.Stdout, "%d findings are unverified.\n", n)
	}
	fmt.Fprintf(env.Stdout, "State saved to %s (serial %d). Later runs report the drift from it; see it with: reconform show\n",
		displayPath(env, path), st.Serial)
}

// Close releases the lock.
func (s *stateSession) Close() {
	if s == nil || s.lock == nil {
		return
	}
	if err := s.lock.Unlock(); err != nil {
		fmt.Fprintf(s.env.Stderr, "Warning: releasing the state lock: %v\n", err)
	}
	s.lock = nil
}

// displayPath shows p relative to the working directory when it is inside.
func displayPath(env *Env, p string) string {
	if env.WorkDir == "" {
		return p
	}
	if rel, err := filepath.Rel(env.WorkDir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// stateLocator finds an engagement's state for the state verbs without
// loading the whole configuration unless it must.
type stateLocator struct {
	Chdir     string // -chdir
	StatePath string // -state
	vars      varFlags
	// loaded is the configuration store loaded to find a computed state
	// path, kept so the verb does not load it a second time.
	loaded *schema.Config
}

func (l *stateLocator) register(fs *flag.FlagSet) {
	fs.StringVar(&l.Chdir, "chdir", "", "")
	fs.StringVar(&l.StatePath, "state", "", "")
	l.vars.register(fs)
}

// folder is the engagement folder as the user gave it (default ".").
func (l *stateLocator) folder() string {
	if l.Chdir == "" {
		return "."
	}
	return l.Chdir
}

// dir is the engagement folder, absolute.
func (l *stateLocator) dir(env *Env) string {
	return resolvePath(env, l.folder())
}

// store returns the state store: -state, else the engagement's state
// attribute when it is a literal, else the loaded configuration's.
func (l *stateLocator) store(env *Env) (state.Store, error) {
	if l.StatePath != "" {
		return state.Store{Path: resolvePath(env, l.StatePath)}, nil
	}
	dir := l.dir(env)
	if p, ok := literalStatePath(dir); ok {
		return state.Store{Path: p}, nil
	}
	cfg, err := l.config(env)
	if err != nil {
		return state.Store{}, err
	}
	l.loaded = cfg
	return state.Store{Path: engagementStatePath(cfg)}, nil
}

// config loads the engagement, printing its diagnostics.
func (l *stateLocator) config(env *Env) (*schema.Config, error) {
	d := l.folder()
	cfg, diags := loadConfig(env, d, l.vars.Vars, l.vars.VarFiles)
	if diags.HasErrors() {
		printDiags(env, diags, filesOf(cfg), true)
		return nil, fmt.Errorf("the engagement in %s did not load", d)
	}
	return cfg, nil
}

// literalStatePath reads engagement { state = "..." } from the *.hcl
// files of dir without evaluating anything. ok is false when the
// attribute is an expression that needs the full configuration.
func literalStatePath(dir string) (string, bool) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	engagementSchema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "engagement", LabelNames: []string{"name"}}}}
	attrSchema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "state"}}}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		f, diags := schema.ParseHCL(src, name)
		if diags.HasErrors() || f == nil {
			continue
		}
		content, _, _ := f.Body.PartialContent(engagementSchema)
		for _, b := range content.Blocks {
			attrs, _, _ := b.Body.PartialContent(attrSchema)
			a, ok := attrs.Attributes["state"]
			if !ok {
				return filepath.Join(dir, defaultStateName), true
			}
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
				return "", false
			}
			sp := v.AsString()
			if !filepath.IsAbs(sp) {
				sp = filepath.Join(dir, sp)
			}
			return sp, true
		}
	}
	return filepath.Join(dir, defaultStateName), true
}

// stateRef resolves a state reference given to diff or show: a history
// serial ("3"), "current", or a path.
func resolveStateRef(env *Env, store state.Store, current *state.State, ref string) (string, error) {
	if ref == "current" || ref == "" {
		return store.Path, nil
	}
	if serial, err := parseSerial(ref); err == nil {
		if current != nil && serial == current.Serial {
			return store.Path, nil
		}
		lineage := ""
		if current != nil {
			lineage = current.Lineage
		}
		return store.HistoryPath(serial, lineage)
	}
	p := resolvePath(env, ref)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%q is neither a history serial nor a state file: %w", ref, err)
	}
	return p, nil
}

func parseSerial(s string) (uint64, error) {
	var n uint64
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}
