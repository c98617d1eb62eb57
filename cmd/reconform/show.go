package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/check"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "show",
		Synopsis: "Show a state or a saved plan",
		Usage: `Usage: reconform show [options] [STATE | PLANFILE] [DIR]

  Prints a state in a form for people: the last run (when, how it ended,
  requests per provider, failed instances), every finding grouped by name
  with its currency and sources, the derived facts and the outputs.

  STATE is a history serial (3), "current" or a path to a state file
  (default: the engagement's current state). DIR is the engagement folder
  (default: the current directory).

  Given a PLANFILE saved by "reconform plan -out", prints the plan as plan
  printed it, with the state it was made against.

Options:
  -chdir=DIR    The engagement folder (same as a DIR argument).
  -state=PATH   The state file (default: the engagement's state).
  -json         Print the state file itself (canonical JSON), or the plan
                as JSON.
  -no-color     No terminal colours.`,
		Run:  runShow,
		JSON: true,
	})
}

func runShow(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["show"])
	asJSON := fs.Bool("json", false, "")
	noColor := fs.Bool("no-color", false, "")
	var loc stateLocator
	loc.register(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	refs, err := takeDirArg(env, &loc, positional)
	if err == nil && len(refs) > 1 {
		err = fmt.Errorf("show takes one state, got %d", len(refs))
	}
	if err == nil && len(refs) == 1 {
		if p := resolvePath(env, refs[0]); engine.IsPlanFile(p) && engine.SniffPlan(p) {
			return showPlan(env, p, refs[0], *asJSON, *noColor)
		}
	}
	var st *state.State
	var path string
	if err == nil {
		err = interruptible(ctx, func() (err error) {
			st, path, err = readStateRef(ctx, env, &loc, refs)
			return err
		})
	}
	if interrupted(ctx, env) {
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	out := newCutWriter(ctx, env.Stdout)
	err = interruptible(ctx, func() error {
		if *asJSON {
			return state.Encode(out, st)
		}
		return renderState(out, st, path)
	})
	if interrupted(ctx, env) {
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	return exitOK
}

// showPlan prints a saved plan: for people as plan printed it, with
// where it came from and the state it was made against; or as JSON.
func showPlan(env *Env, path, shown string, asJSON, noColor bool) int {
	p, err := engine.ReadPlanFile(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if asJSON {
		if err := engine.WritePlan(env.Stdout, p); err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		return exitOK
	}
	w := env.Stdout
	fmt.Fprintf(w, "Saved plan: %s\n", shown)
	fmt.Fprintf(w, "Made:       %s by reconform %s\n", p.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), p.Version)
	if p.StateLineage == "" {
		fmt.Fprintf(w, "State:      none yet (the plan is for a first run)\n")
	} else {
		fmt.Fprintf(w, "State:      serial %d (lineage %s); apply refuses the plan once the state moves on\n", p.StateSerial, p.StateLineage)
	}
	if p.ConfigDir != "" {
		fmt.Fprintf(w, "Folder:     %s\n", displayPath(env, p.ConfigDir))
	}
	fmt.Fprintln(w)
	c := palette{on: useColor(env, noColor)}
	renderPlan(w, p, c.on)
	if len(p.Targets) > 0 {
		fmt.Fprint(w, "\n"+targetingWarning(c, p.Targets))
	}
	return exitOK
}

// readStateRef reads the current state, or the one refs[0] names, and
// says where it came from.
func readStateRef(ctx context.Context, env *Env, loc *stateLocator, refs []string) (*state.State, string, error) {
	b, err := loc.open(ctx, env)
	if err != nil {
		return nil, "", err
	}
	defer b.Close()
	ref := ""
	if len(refs) == 1 {
		ref = refs[0]
	}
	var current *state.State
	if ref != "" && ref != "current" {
		// A serial is looked up in the current lineage when there is one.
		current, _ = b.Read(ctx)
	}
	r, err := resolveStateRef(ctx, env, b, current, ref)
	if err != nil {
		return nil, "", err
	}
	st, err := readRef(ctx, b, r, current)
	if err != nil {
		if r.current && (errors.Is(err, backend.ErrNoState) || isNotExist(err)) {
			return nil, "", noStateError(env, b.Location())
		}
		return nil, "", err
	}
	return st, r.label(env, b), nil
}

// renderState writes the human view of a state.
func renderState(w io.Writer, st *state.State, path string) error {
	ew := &errWriter{w: w}
	cur, hist := st.CountCurrency()
	ew.printf("State:      %s\n", path)
	ew.printf("Engagement: %s\n", st.Engagement)
	ew.printf("Serial:     %d (lineage %s)\n", st.Serial, st.Lineage)
	run := st.Run
	if !run.FinishedAt.IsZero() {
		took := ""
		if !run.StartedAt.IsZero() {
			took = fmt.Sprintf(", took %s", run.FinishedAt.Sub(run.StartedAt).Round(time.Second))
		}
		interrupted := ""
		if run.Interrupted {
			interrupted = ", INTERRUPTED"
		}
		ew.printf("Last run:   %s%s%s\n", run.FinishedAt.UTC().Format("2006-01-02 15:04:05 UTC"), took, interrupted)
	}
	if len(run.Instances) > 0 {
		var parts []string
		total := 0
		for _, status := range sortedKeys(run.Instances) {
			parts = append(parts, fmt.Sprintf("%d %s", run.Instances[status], status))
			total += run.Instances[status]
		}
		ew.printf("Instances:  %d (%s)\n", total, strings.Join(parts, ", "))
	}
	if len(run.Requests) > 0 {
		var parts []string
		for _, p := range sortedKeys(run.Requests) {
			parts = append(parts, fmt.Sprintf("%s %d", p, run.Requests[p]))
		}
		ew.printf("Requests:   %s\n", strings.Join(parts, ", "))
	}
	ew.printf("Findings:   %d (%d current, %d historical", len(st.Findings), cur, hist)
	if n := st.UnverifiedCount(); n > 0 {
		ew.printf(", %d unverified", n)
	}
	ew.printf(")\nFacts:      %d\n", len(st.Facts))
	if len(st.Checks) > 0 {
		ew.printf("Checks:     %s\n", check.Summary(st.Checks))
	}

	var failed []schema.InstanceResult
	for _, in := range st.Instances {
		if !in.Status.Succeeded() {
			failed = append(failed, in)
		}
	}
	if len(failed) > 0 {
		ew.printf("\nInstances that did not complete:\n")
		for _, in := range failed {
			ew.printf("  %s  %s", in.Key, in.Status)
			if in.Reason != "" {
				ew.printf(": %s", in.Reason)
			}
			ew.printf("\n")
		}
	}
	if len(run.Targets) > 0 {
		ew.printf("Targets:    %s (the last run was partial)\n", strings.Join(run.Targets, ", "))
	}
	for _, warn := range run.Warnings {
		ew.printf("Warning: %s\n", warn)
	}

	if len(st.Findings) > 0 {
		ew.printf("\nFindings:\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		name := ""
		for i := range st.Findings {
			f := &st.Findings[i]
			if f.Name != name {
				name = f.Name
				fmt.Fprintf(tw, "  %s\n", name)
			}
			note := string(f.Currency)
			if f.Unverified != "" {
				note += ", unverified: " + f.Unverified
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", f.Type, displayValue(f.Value), seenRange(f), note, strings.Join(f.Sources, ","))
		}
		tw.Flush()
	}
	if len(st.Facts) > 0 {
		ew.printf("\nFacts:\n")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		for _, f := range st.Facts {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Subject, f.Kind, f.Value)
		}
		tw.Flush()
	}
	if len(st.Outputs) > 0 {
		ew.printf("\nOutputs:\n")
		printOutputList(ew, st.Outputs)
	}
	if len(st.Checks) > 0 {
		ew.printf("\n")
		check.Text(ew, st.Checks, check.TextOptions{})
	}
	return ew.err
}

func displayValue(v string) string {
	if v == "" {
		return "-"
	}
	return v
}

func seenRange(f *state.Finding) string {
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02") }
	switch {
	case f.FirstSeen.IsZero() && f.LastSeen.IsZero():
		return "-"
	case f.FirstSeen.IsZero():
		return "..." + day(f.LastSeen)
	case f.LastSeen.IsZero():
		return day(f.FirstSeen) + "..."
	}
	return day(f.FirstSeen) + ".." + day(f.LastSeen)
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
