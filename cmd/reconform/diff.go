package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "diff",
		Synopsis: "Show the drift between two states of an engagement",
		Usage: `Usage: reconform diff [options] [OLD [NEW]] [DIR]

  Compares two states of the engagement by identity and prints the drift:
  findings added and removed, values that changed (an A record moving, an
  SPF edit, shown with a character diff), findings that became current or
  went historical, findings a run could not verify, and changed facts
  (mail provider, DMARC policy, SaaS, ...).

  With no OLD and NEW, compares the newest state kept in history with the
  current state: what the last apply changed. OLD and NEW are history
  serials (3), "current", or paths to state files; with only OLD, NEW is
  the current state. DIR is the engagement folder (default: the current
  directory); its ignore rules hide known churn from the report.

  Exit codes: 0 (with -detailed-exitcode: no drift), 1 error, 2 drift
  (with -detailed-exitcode).

Options:
  -chdir=DIR           The engagement folder (same as a DIR argument).
  -state=PATH          The state file (default: the engagement's state).
  -json                Print the drift as JSON (schema: docs/drift-json.md).
  -markdown            Print the drift as Markdown, for a pull request or chat.
  -no-color            No terminal colours.
  -detailed-exitcode   Exit 2 when there is drift.
  -var 'name=value'    Set a variable, when the engagement needs one to load.
  -var-file=FILE       Set variables from an HCL file.`,
		Run: runDiff,
	})
}

func runDiff(_ context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["diff"])
	asJSON := fs.Bool("json", false, "")
	asMarkdown := fs.Bool("markdown", false, "")
	noColor := fs.Bool("no-color", false, "")
	detailed := fs.Bool("detailed-exitcode", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	if *asJSON && *asMarkdown {
		fmt.Fprintln(env.Stderr, "Error: -json and -markdown are exclusive.")
		return exitError
	}
	refs, err := takeDirArg(env, &loc, positional)
	if err == nil && len(refs) > 2 {
		err = fmt.Errorf("diff takes at most two states, got %d", len(refs))
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v.\n", err)
		return exitError
	}
	store, err := loc.store(env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v.\n", err)
		return exitError
	}
	current, err := store.Read()
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}

	var oldPath, newPath string
	switch len(refs) {
	case 0:
		if current == nil {
			fmt.Fprintf(env.Stderr, "Error: there is no state at %s yet; run reconform apply first.\n", displayPath(env, store.Path))
			return exitError
		}
		newPath = store.Path
		oldPath = newestHistory(store, current)
		if oldPath == "" {
			fmt.Fprintf(env.Stdout, "Only one state so far (serial %d): nothing to compare with. See it with: reconform show\n", current.Serial)
			return exitOK
		}
	case 1:
		oldPath, err = resolveStateRef(env, store, current, refs[0])
		newPath = store.Path
	case 2:
		oldPath, err = resolveStateRef(env, store, current, refs[0])
		if err == nil {
			newPath, err = resolveStateRef(env, store, current, refs[1])
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v.\n", err)
		return exitError
	}
	oldState, err := state.ReadFile(oldPath)
	var newState *state.State
	if err == nil {
		if newPath == store.Path && current != nil {
			newState = current
		} else {
			newState, err = state.ReadFile(newPath)
		}
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if oldState.Lineage != newState.Lineage {
		fmt.Fprintf(env.Stderr, "Warning: the two states have different lineages (%s, %s): they come from different state files.\n",
			oldState.Lineage, newState.Lineage)
	}

	r := diff.Compare(oldState, newState, ignoreRules(env, &loc))
	switch {
	case *asJSON:
		err = diff.JSON(env.Stdout, r)
	case *asMarkdown:
		err = diff.Markdown(env.Stdout, r)
	default:
		err = diff.Text(env.Stdout, r, diff.TextOptions{Color: env.Terminal && !*noColor})
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if *detailed && r.HasDrift() {
		return exitDrift
	}
	return exitOK
}

// takeDirArg moves a positional argument that is a directory into
// loc.Chdir (the engagement DIR as a trailing argument) and returns the
// others.
func takeDirArg(env *Env, loc *stateLocator, positional []string) ([]string, error) {
	var rest []string
	for _, p := range positional {
		if fi, err := os.Stat(resolvePath(env, p)); err == nil && fi.IsDir() {
			if loc.Chdir != "" && loc.Chdir != p {
				return nil, fmt.Errorf("two engagement folders given: %q and %q", loc.Chdir, p)
			}
			loc.Chdir = p
			continue
		}
		rest = append(rest, p)
	}
	return rest, nil
}

// newestHistory is the newest kept state of the current lineage.
func newestHistory(store state.Store, current *state.State) string {
	hist, err := store.History()
	if err != nil {
		return ""
	}
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		if strings.HasPrefix(current.Lineage, h.LineagePrefix) && h.Serial < current.Serial {
			return h.Path
		}
	}
	return ""
}

// ignoreRules are the engagement's ignore rules, or none (with a warning)
// when the engagement does not load; a state can be read without it.
func ignoreRules(env *Env, loc *stateLocator) []schema.IgnoreRule {
	files, _ := filepath.Glob(filepath.Join(loc.dir(env), "*.hcl"))
	if len(files) == 0 {
		return nil
	}
	d := loc.Chdir
	if d == "" {
		d = "."
	}
	cfg, diags := loadConfig(env, d, loc.vars.Vars, loc.vars.VarFiles)
	if diags.HasErrors() || cfg == nil {
		why := "unknown error"
		if errs := diags.Errs(); len(errs) > 0 {
			why = errs[0].Error()
		}
		fmt.Fprintf(env.Stderr, "Warning: the engagement in %s did not load (%s), so its ignore rules are not applied; run reconform validate.\n", d, why)
		return nil
	}
	return cfg.Engagement.Ignore
}
