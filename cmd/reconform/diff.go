package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/reconform/reconform/engine/backend"
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
		Run:  runDiff,
		JSON: true,
	})
}

func runDiff(ctx context.Context, env *Env, args []string) int {
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
	b, err := loc.open(ctx, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v.\n", err)
		return exitError
	}
	defer b.Close()
	var pair *state.Pair
	interruptible(ctx, func() error {
		pair, done, code = loadDiffStates(ctx, env, b, refs)
		return nil
	})
	if interrupted(ctx, env) {
		return exitInterrupted
	}
	if done {
		return code
	}
	oldState, newState := pair.Old, pair.New
	if oldState == nil && !*asJSON && !*asMarkdown {
		fmt.Fprintf(env.Stdout, "Only one state so far (serial %d): nothing to compare with. See it with: %s\n", newState.Serial, hintCommand(env, append([]string{"show"}, loc.hintArgs(env)...)...))
		return exitOK
	}
	// With -json or -markdown and one state, the report is that of a
	// first run (everything added), so a pipeline always gets its format.
	if oldState != nil && oldState.Lineage != newState.Lineage {
		fmt.Fprintf(env.Stderr, "Warning: the two states have different lineages (%s, %s): they come from different state files.\n",
			oldState.Lineage, newState.Lineage)
	}

	var r *diff.Result
	out := newCutWriter(ctx, env.Stdout)
	err = interruptible(ctx, func() error {
		r = diff.ComparePair(pair, ignoreRules(env, &loc))
		switch {
		case *asJSON:
			return diff.JSON(out, r)
		case *asMarkdown:
			return diff.Markdown(out, r)
		default:
			return diff.Text(out, r, diff.TextOptions{Color: useColor(env, *noColor)})
		}
	})
	if interrupted(ctx, env) {
		return exitInterrupted
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

// loadDiffStates reads the two states to compare; done is set (with the
// exit code) when there is nothing to compare. Large states load
// concurrently; two state files are read side by side, keeping only the
// findings that may differ (state.ReadPairFiles).
func loadDiffStates(ctx context.Context, env *Env, b backend.Backend, refs []string) (pair *state.Pair, done bool, code int) {
	fail := func(err error) (*state.Pair, bool, int) {
		if errors.Is(err, backend.ErrNoState) || isNotExist(err) {
			err = noStateError(env, b.Location())
		}
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return nil, true, exitError
	}
	two := func(old, new *state.State) (*state.Pair, bool, int) {
		return &state.Pair{Old: old, New: new}, false, exitOK
	}
	if len(refs) == 0 {
		// Optimistically read the newest history entry while the current
		// state loads; it is almost always the previous one.
		hist, _ := b.History(ctx)
		var guess *backend.HistoryEntry
		if len(hist) > 0 {
			guess = &hist[len(hist)-1]
		}
		current, prev, cerr, perr := readTwo(ctx, b, stateRef{current: true}, guess)
		if cerr != nil {
			return fail(cerr)
		}
		if perr != nil || prev == nil || prev.Lineage != current.Lineage || prev.Serial >= current.Serial {
			if prev, perr = backend.Previous(ctx, b, current); perr != nil {
				return fail(perr)
			}
			if prev == nil {
				return two(nil, current) // only one state so far
			}
		}
		return two(prev, current)
	}
	// Serials are looked up in the current state's lineage.
	var current *state.State
	for _, ref := range refs {
		if _, err := parseSerial(ref); err == nil || ref == "current" {
			var err error
			if current, err = b.Read(ctx); err != nil {
				return fail(err)
			}
			break
		}
	}
	rs := []stateRef{{}, {current: true}}
	for i, ref := range refs {
		r, err := resolveStateRef(ctx, env, b, current, ref)
		if err != nil {
			return fail(fmt.Errorf("%v.", err))
		}
		rs[i] = r
	}
	if current != nil && rs[0].current && rs[1].current {
		return two(current, current)
	}
	if oldPath, newPath := stateFile(b, rs[0], current), stateFile(b, rs[1], current); oldPath != "" && newPath != "" {
		p, err := state.ReadPairFiles(oldPath, newPath)
		if err != nil {
			return fail(err)
		}
		return p, false, exitOK
	}
	var old, new *state.State
	var oerr, nerr error
	switch {
	case current != nil && rs[1].current:
		new = current
		old, oerr = readRef(ctx, b, rs[0], current)
	case current != nil && rs[0].current:
		old = current
		new, nerr = readRef(ctx, b, rs[1], current)
	default:
		second := rs[1]
		old, new, oerr, nerr = readTwoRefs(ctx, b, rs[0], second)
	}
	if err := errors.Join(oerr, nerr); err != nil {
		return fail(err)
	}
	return two(old, new)
}

// stateFile is the file a reference names when it is one not read yet:
// a path, or the current state of a local backend.
func stateFile(b backend.Backend, r stateRef, current *state.State) string {
	if r.path != "" {
		return r.path
	}
	if l, ok := b.(*backend.Local); ok && r.current && current == nil {
		if _, err := os.Stat(l.Location()); err == nil {
			return l.Location()
		}
	}
	return ""
}

// readTwo reads a state and, when guess is set, a history entry
// concurrently.
func readTwo(ctx context.Context, b backend.Backend, a stateRef, guess *backend.HistoryEntry) (sa, sb *state.State, errA, errB error) {
	if guess == nil {
		sa, errA = readRef(ctx, b, a, nil)
		return sa, nil, errA, nil
	}
	return readTwoRefs(ctx, b, a, stateRef{entry: *guess})
}

// readTwoRefs reads two states concurrently.
func readTwoRefs(ctx context.Context, b backend.Backend, a, c stateRef) (sa, sc *state.State, errA, errC error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc, errC = readRef(ctx, b, c, nil)
	}()
	sa, errA = readRef(ctx, b, a, nil)
	<-done
	return sa, sc, errA, errC
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

// ignoreRules are the engagement's ignore rules, or none (with a warning)
// when the engagement does not load; a state can be read without it.
func ignoreRules(env *Env, loc *stateLocator) []schema.IgnoreRule {
	cfg := quietConfig(env, loc, "its ignore rules")
	if cfg == nil {
		return nil
	}
	return cfg.Engagement.Ignore
}
