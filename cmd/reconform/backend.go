package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/backend/pg"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// defaultStateName is the state file of an engagement that names none.
const defaultStateName = "reconform.rfstate"

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

// engagementCacheDir is the local response cache of an engagement.
func engagementCacheDir(cfg *schema.Config) string {
	return filepath.Join(cfg.Dir, ".reconform", "cache")
}

// openBackend opens the backend the engagement declares: local files by
// default.
func openBackend(ctx context.Context, env *Env, cfg *schema.Config) (backend.Backend, error) {
	bb := cfg.Engagement.Backend
	if bb == nil || bb.Type == "local" {
		return backend.NewLocal(engagementStatePath(cfg), engagementCacheDir(cfg)), nil
	}
	if bb.Type != "pg" {
		return nil, fmt.Errorf("backend %q is not available in this build", bb.Type)
	}
	b, err := pg.New(pg.Config{
		ConnString: bb.String("conn_str"),
		Schema:     bb.String("schema_name"),
		Engagement: cfg.Engagement.Name,
		RescueDir:  filepath.Join(cfg.Dir, ".reconform", "rescue"),
		Secrets:    cfg.Secrets(),
	})
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, shortRange(bb.DeclRange))
	}
	return b, nil
}

// shortRange is file:line of a declaration.
func shortRange(r hcl.Range) string {
	if r.Filename == "" {
		return "the backend block"
	}
	return fmt.Sprintf("the backend block at %s:%d", filepath.Base(r.Filename), r.Start.Line)
}

// stateLocator finds an engagement's backend for the state verbs without
// loading the whole configuration unless it must.
type stateLocator struct {
	Chdir     string // -chdir
	StatePath string // -state
	vars      varFlags
	// loaded is the configuration loaded to find the backend, kept so the
	// verb does not load it a second time.
	loaded *schema.Config
}

func (l *stateLocator) register(fs *flag.FlagSet) {
	fs.StringVar(&l.Chdir, "chdir", "", "")
	fs.StringVar(&l.StatePath, "state", "", "")
	l.vars.register(fs)
}

// hintArgs are the arguments that name this state in a hint command
// (hintCommand): -state=PATH, or the engagement folder.
func (l *stateLocator) hintArgs(env *Env) []string {
	if l.StatePath != "" {
		return []string{"-state=" + displayPath(env, resolvePath(env, l.StatePath))}
	}
	if rel := folderArg(env, l.dir(env)); rel != "" {
		return []string{"-chdir=" + rel}
	}
	return nil
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

// open returns the backend: a local state file given with -state; else
// the engagement's state attribute when it is a literal and it declares
// no other backend; else the loaded configuration's backend. The caller
// closes it.
func (l *stateLocator) open(ctx context.Context, env *Env) (backend.Backend, error) {
	if l.StatePath != "" {
		return backend.NewLocal(resolvePath(env, l.StatePath), ""), nil
	}
	dir := l.dir(env)
	if p, ok := literalStatePath(dir); ok {
		return backend.NewLocal(p, filepath.Join(dir, ".reconform", "cache")), nil
	}
	cfg, err := l.config(env)
	if err != nil {
		return nil, err
	}
	l.loaded = cfg
	return openBackend(ctx, env, cfg)
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
// attribute is an expression that needs the full configuration, or when
// the engagement declares a backend other than local.
func literalStatePath(dir string) (string, bool) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
	engagementSchema := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "engagement", LabelNames: []string{"name"}}}}
	attrSchema := &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "state"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}},
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		// schema.ParseHCL bounds the nesting before parsing.
		f, diags := schema.ParseHCL(src, name)
		if diags.HasErrors() || f == nil {
			continue
		}
		content, _, _ := f.Body.PartialContent(engagementSchema)
		for _, b := range content.Blocks {
			attrs, _, _ := b.Body.PartialContent(attrSchema)
			for _, bb := range attrs.Blocks {
				if len(bb.Labels) != 1 || bb.Labels[0] != "local" {
					return "", false
				}
			}
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

// withUnlockHint fills a lock error's force-unlock command with the
// -chdir (or -state) it needs to work from the user's folder.
func withUnlockHint(env *Env, err error, dir, statePath string) error {
	var le *state.LockedError
	if !errors.As(err, &le) {
		return err
	}
	where := ""
	switch {
	case statePath != "":
		where = "-state=" + displayPath(env, statePath)
	case dir != "":
		if rel := folderArg(env, dir); rel != "" {
			where = "-chdir=" + rel
		}
	}
	le.Command = hintCommand(env, "force-unlock", where, le.Info.ID)
	return err
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lockWaitContext returns a context that the first SIGINT or SIGTERM
// cancels until stop is called, for the lock wait of a verb that reads
// env.Interrupts itself (apply, whose watcher starts with the run): the
// wait must end on Ctrl-C rather than run out its timeout. The other
// verbs' contexts are cancelled by an interrupt already (main.go), and
// reading the channel here too would take their second interrupt.
func lockWaitContext(ctx context.Context, env *Env, ownsInterrupts bool) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	if env.Interrupts == nil || !ownsInterrupts {
		return ctx, cancel
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case _, ok := <-env.Interrupts:
			if ok {
				cancel()
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel()
	}
}

// lockWaitError rewords the end of a lock wait cut short by Ctrl-C.
func lockWaitError(err error) error {
	if errors.Is(err, context.Canceled) {
		return errLockWaitInterrupted
	}
	return err
}

var errLockWaitInterrupted = errors.New("interrupted while waiting for the state lock; nothing was run")

// openFailed prints why a state could not be opened and returns the exit
// code: exitInterrupted for a Ctrl-C during the lock wait.
func openFailed(env *Env, err error) int {
	fmt.Fprintf(env.Stderr, "Error: %v\n", err)
	if errors.Is(err, errLockWaitInterrupted) {
		return exitInterrupted
	}
	return exitError
}

// isNotExist reports whether err says a file is missing.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
