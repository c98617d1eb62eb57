package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:           "run-all",
		OwnsInterrupts: true,
		Synopsis:       "Apply many engagements; with a shared backend, several runners share the list",
		Usage: `Usage: reconform run-all [options] DIR...

  Applies the engagement in each DIR, as "reconform apply -auto-approve"
  would, several at a time, and prints one line per engagement and a
  summary.

  An engagement whose lock another run holds is skipped, and so is one
  that another runner applied since this run-all started (or within
  -fresh before it): several machines can run the same list at once,
  sharing a pg backend, and each engagement is applied once.

  Exit codes: 0 when every engagement was applied or skipped, 1 when one
  failed (or on Ctrl-C), 3 when none failed and a check of severity
  "error" failed in one, 2 with -detailed-exitcode when none failed and
  one drifted.

Options:
  -parallelism=N      Apply at most N engagements at once (default 4).
  -fresh=D            Skip an engagement whose last apply finished less
                      than D before this run-all started (default 10m;
                      0: only those applied since it started).
  -detailed-exitcode  Exit 2 when an engagement drifted.
  -refresh            Ignore cached answers (implied by -detailed-exitcode,
                      as for apply; -refresh=false to allow them).
  -json               One JSON object per engagement and one for the
                      summary, a line each.
  -no-notify          Send no notification (they stay pending).
  -no-color           Accepted for symmetry; run-all prints no colour.`,
		Run:  runRunAll,
		JSON: true,
	})
}

// runAllResult is what happened to one engagement.
type runAllResult struct {
	Dir        string `json:"dir"`
	Engagement string `json:"engagement,omitempty"`
	// Status is applied (no drift), drift, first (a first state),
	// skipped_locked, skipped_fresh or failed.
	Status  string  `json:"status"`
	Serial  uint64  `json:"serial,omitempty"`
	Summary string  `json:"summary,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
	// ChecksFailed names the error-severity checks that did not pass.
	ChecksFailed []string `json:"checks_failed,omitempty"`
}

func runRunAll(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["run-all"])
	parallelism := fs.Int("parallelism", 4, "")
	fresh := fs.Duration("fresh", 10*time.Minute, "")
	detailed := fs.Bool("detailed-exitcode", false, "")
	refresh := fs.Bool("refresh", false, "")
	asJSON := fs.Bool("json", false, "")
	noNotify := fs.Bool("no-notify", false, "")
	fs.Bool("no-color", false, "")
	dirs, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	if len(dirs) == 0 {
		return usageError(env, commands["run-all"], "run-all needs at least one engagement folder.")
	}
	if *parallelism < 1 {
		fmt.Fprintf(env.Stderr, "Error: -parallelism must be at least 1, got %d.\n", *parallelism)
		return exitError
	}
	if *fresh < 0 {
		fmt.Fprintln(env.Stderr, "Error: -fresh cannot be negative.")
		return exitError
	}
	if *detailed && !flagSet(fs, "refresh") {
		*refresh = true
	}
	start := time.Now()
	if *asJSON {
		writeVersionEvent(env.Stdout)
	}

	// Ctrl-C: no engagement starts after it; those running stop as apply
	// does (a grace for in-flight queries, what was found is saved).
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	hardStop := make(chan struct{})
	stopSignals := watchInterrupts(env, cancel, hardStop, *asJSON)
	defer stopSignals()

	var (
		mu      sync.Mutex
		results = make([]runAllResult, len(dirs))
		wg      sync.WaitGroup
		sem     = make(chan struct{}, *parallelism)
	)
	print := func(r runAllResult) {
		mu.Lock()
		defer mu.Unlock()
		if *asJSON {
			json.NewEncoder(env.Stdout).Encode(struct {
				Type string `json:"type"`
				runAllResult
			}{"engagement", r})
			return
		}
		fmt.Fprintln(env.Stdout, runAllLine(r))
	}
	for i, dir := range dirs {
		wg.Add(1)
		sem <- struct{}{} // in the order given: every runner walks the list alike
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if runCtx.Err() != nil {
				results[i] = runAllResult{Dir: dir, Status: "failed", Error: "not started: interrupted"}
			} else {
				t := time.Now()
				results[i] = runOne(runCtx, env, dir, runOneOptions{start: start, fresh: *fresh, refresh: *refresh, hardStop: hardStop, noNotify: *noNotify})
				results[i].Seconds = time.Since(t).Round(time.Millisecond).Seconds()
			}
			print(results[i])
		}()
	}
	wg.Wait()

	counts := map[string]int{}
	checksFailed := 0
	for _, r := range results {
		counts[r.Status]++
		if len(r.ChecksFailed) > 0 {
			checksFailed++
		}
	}
	took := time.Since(start).Round(time.Millisecond)
	if *asJSON {
		json.NewEncoder(env.Stdout).Encode(map[string]any{"type": "summary", "engagements": len(results), "counts": counts, "seconds": took.Seconds()})
	} else {
		var parts []string
		for _, k := range []struct{ key, what string }{
			{"drift", "drifted"}, {"first", "first states"}, {"applied", "without drift"},
			{"skipped_locked", "skipped (locked by another run)"}, {"skipped_fresh", "skipped (applied by another runner)"}, {"failed", "failed"},
		} {
			if n := counts[k.key]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, k.what))
			}
		}
		if checksFailed > 0 {
			parts = append(parts, fmt.Sprintf("%d with failed checks", checksFailed))
		}
		fmt.Fprintf(env.Stdout, "\nrun-all: %d engagements in %s: %s.\n", len(results), took, strings.Join(parts, ", "))
	}
	switch {
	case counts["failed"] > 0 || runCtx.Err() != nil:
		return exitError
	case checksFailed > 0:
		return exitCheckFailed
	case *detailed && (counts["drift"] > 0 || counts["first"] > 0):
		return exitDrift
	}
	return exitOK
}

// runAllLine is an engagement's line.
func runAllLine(r runAllResult) string {
	var what string
	switch r.Status {
	case "drift":
		what = fmt.Sprintf("drift: %s (serial %d)", r.Summary, r.Serial)
	case "first":
		what = fmt.Sprintf("first state: %s (serial %d)", r.Summary, r.Serial)
	case "applied":
		what = fmt.Sprintf("%s (serial %d)", r.Summary, r.Serial)
	case "skipped_locked", "skipped_fresh":
		what = "skipped: " + r.Summary
	default:
		what = "failed: " + r.Error
	}
	if len(r.ChecksFailed) > 0 {
		what += "; checks failed: " + strings.Join(r.ChecksFailed, ", ")
	}
	return fmt.Sprintf("%-24s %s", r.Dir, what)
}

type runOneOptions struct {
	start    time.Time
	fresh    time.Duration
	refresh  bool
	hardStop chan struct{}
	noNotify bool
}

// runOne applies one engagement as apply -auto-approve would, its output
// kept to itself.
func runOne(ctx context.Context, env *Env, dir string, o runOneOptions) runAllResult {
	res := runAllResult{Dir: dir}
	var out bytes.Buffer
	benv := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Environ: env.Environ, WorkDir: env.WorkDir, Logger: env.Logger.Named("run-all")}
	failed := func(err string) runAllResult {
		res.Status, res.Error = "failed", err
		return res
	}
	cfg, diags := loadConfig(benv, dir, nil, nil)
	if diags.HasErrors() || cfg == nil {
		return failed("the engagement did not load: " + firstError(diags))
	}
	res.Engagement = cfg.Engagement.Name
	sopts := &stateOptions{Lock: true, Operation: "run-all", DetailedExitCode: true, NoColor: true}
	sess, err := openState(ctx, benv, cfg, sopts)
	if err != nil {
		var le *backend.LockedError
		if errors.As(err, &le) {
			res.Status = "skipped_locked"
			res.Summary = fmt.Sprintf("locked by %s (%s since %s)", le.Info.Who, le.Info.Operation, le.Info.Created.UTC().Format(time.RFC3339))
			return res
		}
		return failed(oneLine(err.Error()))
	}
	defer sess.Close()
	if prev := sess.prev; freshRun(prev, o.start, o.fresh) {
		res.Status, res.Serial = "skipped_fresh", prev.Serial
		res.Summary = fmt.Sprintf("applied %s ago by another runner (serial %d, finished %s)",
			time.Since(prev.Run.FinishedAt).Round(time.Second), prev.Serial, prev.Run.FinishedAt.UTC().Format(time.RFC3339))
		return res
	}
	registry := all.Registrations()
	plan, pdiags := engine.MakePlan(ctx, cfg, engine.PlanOptions{Registry: registry, Previous: sess.PreviousFindings(), Now: time.Now()})
	if pdiags.HasErrors() {
		return failed("planning: " + firstError(pdiags))
	}
	run, err := engine.Apply(ctx, cfg, plan, engine.ApplyOptions{
		Registry: registry, Refresh: o.refresh, Cache: sess.Backend().Cache(), HardStop: o.hardStop, Logger: env.Logger.Named("engine"),
	})
	if err != nil {
		return failed(oneLine(err.Error()))
	}
	code := sess.Commit(context.WithoutCancel(ctx), run, runFailure(run))
	if code != exitError {
		sess.Deliver(context.WithoutCancel(ctx), o.noNotify)
		if sess.checksFailed() {
			for _, c := range sess.next.Checks {
				if c.Severity == schema.SeverityError && c.Failed() {
					res.ChecksFailed = append(res.ChecksFailed, c.Name)
				}
			}
		}
	}
	res.Serial = sess.serial
	switch {
	case code == exitError:
		return failed(lastErrorLine(out.String()))
	case run.Interrupted:
		return failed(fmt.Sprintf("interrupted; what was found is saved (serial %d)", sess.serial))
	case nothingSucceeded(run):
		return failed(fmt.Sprintf("every query failed; the previous findings are kept as unverified (serial %d)", sess.serial))
	case sess.prev == nil:
		res.Status = "first"
		res.Summary = fmt.Sprintf("%d findings", len(sess.drift.Added))
	case code == exitDrift:
		res.Status, res.Summary = "drift", sess.drift.Summary()
	default:
		res.Status, res.Summary = "applied", sess.drift.Summary()
	}
	return res
}

// freshRun reports whether prev was written by a run that succeeded and
// finished after start-fresh: another runner's apply of this round.
func freshRun(prev *state.State, start time.Time, fresh time.Duration) bool {
	if prev == nil || prev.Run.Interrupted || prev.Run.FinishedAt.IsZero() {
		return false
	}
	if prev.Run.Instances[schema.StatusOK]+prev.Run.Instances[schema.StatusCached] == 0 && prev.Run.Instances[schema.StatusFailed] > 0 {
		return false
	}
	return !prev.Run.FinishedAt.Before(start.Add(-fresh))
}

// firstError is the first error of diags, on one line with its place.
func firstError(diags interface {
	Errs() []error
}) string {
	if errs := diags.Errs(); len(errs) > 0 {
		return oneLine(errs[0].Error())
	}
	return "unknown error"
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ":")
}

// lastErrorLine is the first "Error:" line of a verb's output.
func lastErrorLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "Error: "); ok {
			return oneLine(rest)
		}
	}
	return "see the engagement's own apply"
}
