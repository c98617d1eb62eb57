package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:           "apply",
		OwnsInterrupts: true,
		Synopsis:       "Run the queries under rate limits and budgets, update the state",
		Usage: `Usage: reconform apply [options] [DIR | PLANFILE]

  Runs the engagement in DIR (default: the current directory): shows the
  plan, asks for confirmation, then runs every query as soon as its inputs
  are known, under the providers' rate limits and budgets, pivoting to a
  fixpoint. Findings are merged into the state file and the drift since
  the previous run is printed.

  A vendor's quota is never overspent: every request is reserved in the
  quota ledger before it is sent (see "reconform quota"); when what is left
  cannot cover the run, the subjects verified longest ago go first and the
  rest are deferred to the next window, their findings kept unverified.

  Given a PLANFILE saved by "reconform plan -out", apply runs that plan
  without asking again (the reviewed plan is the approval). It refuses if
  the configuration or variables changed since, if the state moved on
  since the plan was made (another apply ran) or the plan was applied
  already, and never exceeds the plan's scope or budgets.

  With -target, only the blocks (or module instances) named and the blocks
  they read run; the findings of the others are kept as they are. The
  engagement's outputs are printed at the end and saved in the state
  (see "reconform output").

  The engagement's check blocks are evaluated on the new state and its
  drift, saved with it and printed; its notify blocks are sent what
  changed, once each, after the state is saved (see docs/monitoring.md).

  Ctrl-C stops new queries and lets those in flight finish for a short
  grace period; the findings so far are still saved. A second Ctrl-C stops
  at once.

Options:
  -auto-approve       Do not ask for confirmation (needed without a terminal).
  -parallelism=N      Run at most N queries at once (default 10).
  -refresh            Ignore cached answers; every query is sent again.
                      Implied by -detailed-exitcode: a drift check asks the
                      world, not yesterday's cache (-refresh=false to allow
                      cached answers anyway).
  -json               Print NDJSON progress events and a JSON drift report.
  -no-color           Print without terminal colours.
  -detailed-exitcode  Exit 2 when the state drifted, 0 when not, 1 on error.
                      A failed check of severity "error" exits 3 with or
                      without it.
  -no-notify          Send no notification; what this run notifies is
                      recorded and stays pending for the next run (or
                      "reconform notify deliver").
  -target=ADDRESS     Run only this block or module instance and what it
                      reads; repeatable. Not with a PLANFILE (it has its own).
  -lock=false         Do not lock the state.
  -lock-timeout=D     Wait up to D for the state lock.
  -var 'name=value'   Set a variable; repeatable.
  -var-file=FILE      Set variables from an HCL file; repeatable.`,
		Run:  runApply,
		JSON: true,
	})
}

func runApply(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["apply"])
	autoApprove := fs.Bool("auto-approve", false, "")
	parallelism := fs.Int("parallelism", engine.DefaultParallelism, "")
	refresh := fs.Bool("refresh", false, "")
	asJSON := fs.Bool("json", false, "")
	noColor := fs.Bool("no-color", false, "")
	noNotify := fs.Bool("no-notify", false, "")
	var vf varFlags
	vf.register(fs)
	var tf targetFlags
	tf.register(fs)
	sopts := addStateFlags(fs)
	positional, done, code := parseInterleaved(fs, args)
	if done {
		return code
	}
	targets, err := tf.parse()
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	// A drift check answered from the cache could only ever say "no
	// drift": with the default 24h TTL a nightly job would compare against
	// its own previous answers. So -detailed-exitcode refreshes unless the
	// user says otherwise.
	if sopts.DetailedExitCode && !flagSet(fs, "refresh") {
		*refresh = true
	}
	if len(positional) > 1 {
		return usageError(env, commands["apply"], "apply takes at most one folder or plan file, got %d arguments.", len(positional))
	}
	if *parallelism < 1 {
		fmt.Fprintf(env.Stderr, "Error: -parallelism must be at least 1, got %d.\n", *parallelism)
		return exitError
	}
	target := "."
	if *asJSON && !*autoApprove && (len(positional) == 0 || !engine.IsPlanFile(resolvePath(env, positional[0]))) {
		fmt.Fprintln(env.Stderr, "Error: apply -json cannot ask for confirmation; add -auto-approve or apply a saved plan.")
		return exitError
	}
	if len(positional) == 1 {
		target = positional[0]
	}

	// A saved plan names the folder it was made from.
	var saved *engine.Plan
	dir := target
	targetPath := resolvePath(env, target)
	isPlan := engine.IsPlanFile(targetPath)
	if st, err := os.Stat(targetPath); err == nil && !st.IsDir() && !isPlan {
		fmt.Fprintf(env.Stderr, "Error: %s is a file but not a saved plan; give the engagement folder, or a plan made with \"reconform plan -out=FILE\".\n", target)
		return exitError
	}
	if isPlan {
		p, err := engine.ReadPlanFile(targetPath)
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
			return exitError
		}
		if len(targets) > 0 {
			fmt.Fprintln(env.Stderr, "Error: -target cannot be used with a saved plan: the plan was made with its own targets (if any), and it is what runs. Make a new plan with -target instead.")
			return exitError
		}
		saved = p
		// The folder the plan was made from; when it has moved (a plan
		// made in one CI job, applied in another checkout), the current
		// folder. The config hash check below catches any difference.
		dir = p.ConfigDir
		if st, err := os.Stat(dir); dir == "" || err != nil || !st.IsDir() {
			dir = "."
		}
	}
	varFiles := vf.VarFiles
	if saved != nil && saved.VarFile() != "" {
		// The plan was made with these values (-var, -var-file,
		// RECONFORM_VAR_); they come first, so options given now still
		// win, and a different value makes the plan stale below.
		tmp, err := os.MkdirTemp("", "reconform-plan-vars")
		if err != nil {
			fmt.Fprintf(env.Stderr, "Error: reading the plan's variables: %v\n", err)
			return exitError
		}
		defer os.RemoveAll(tmp)
		path := filepath.Join(tmp, "plan-variables.hcl")
		if err := os.WriteFile(path, []byte(saved.VarFile()), 0o600); err != nil {
			fmt.Fprintf(env.Stderr, "Error: reading the plan's variables: %v\n", err)
			return exitError
		}
		varFiles = append([]string{path}, varFiles...)
	}
	cfg, ok := loadEngagement(env, dir, vf.Vars, varFiles, *noColor)
	if !ok {
		return exitError
	}
	if saved != nil && saved.ConfigHash != cfg.Hash {
		fmt.Fprintf(env.Stderr, `Error: Saved plan is stale

The configuration or its variables changed since %s was made (plan %s,
now %s), so it no longer describes what would run. Nothing was sent.
Make a new plan with "reconform plan -out=FILE" and review it again.
`, target, shortHash(saved.ConfigHash), shortHash(cfg.Hash))
		return exitError
	}

	sopts.JSON, sopts.NoColor, sopts.OwnsInterrupts = *asJSON, *noColor, true
	sess, err := openState(ctx, env, cfg, sopts)
	if err != nil {
		return openFailed(env, err)
	}
	defer sess.Close()

	if saved != nil {
		if code, ok := checkSavedPlan(env, saved, sess, target); !ok {
			return code
		}
	}
	registry := all.Registrations()
	quotas, err := sess.quotas(ctx, true)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v; nothing was sent (a quota that cannot be counted could be overspent).\n", err)
		return exitError
	}
	verified := sess.verified()
	plan := saved
	if plan == nil {
		lineage, serial := sess.stateAt()
		p, pdiags := engine.MakePlan(ctx, cfg, engine.PlanOptions{
			Registry: registry, Previous: sess.PreviousFindings(), Now: time.Now(), Parallelism: *parallelism,
			Targets: targets, StateLineage: lineage, StateSerial: serial,
			Quotas: quotas, Verified: verified, Cache: sess.Backend().Cache(), Refresh: *refresh,
		})
		printDiags(env, pdiags, cfg.Files, *noColor)
		if pdiags.HasErrors() {
			return exitError
		}
		plan = p
		if !*asJSON {
			renderPlan(env.Stdout, plan, useColor(env, *noColor))
			fmt.Fprintln(env.Stdout)
			if len(plan.Targets) > 0 {
				fmt.Fprintln(env.Stdout, targetingWarning(palette{on: useColor(env, *noColor)}, plan.Targets))
			}
		}
		if !*autoApprove {
			if code, ok := confirm(env); !ok {
				return code
			}
		}
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	hardStop := make(chan struct{})
	stopSignals := watchInterrupts(env, cancel, hardStop, *asJSON)
	defer stopSignals()

	view := newProgress(env, *asJSON, *noColor)
	run, err := engine.Apply(runCtx, cfg, plan, engine.ApplyOptions{
		Registry:    registry,
		Parallelism: *parallelism,
		Refresh:     *refresh,
		Cache:       sess.Backend().Cache(),
		Events:      view.Event,
		HardStop:    hardStop,
		Logger:      env.Logger.Named("engine"),
		Quotas:      quotas,
		Verified:    verified,
	})
	view.Close()
	if err != nil {
		if errors.Is(err, engine.ErrPlanStale) {
			fmt.Fprintln(env.Stderr, "Error: the saved plan is stale; make a new plan.")
		} else {
			fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		}
		return exitError
	}
	if !*asJSON {
		printRunSummary(env, run, plan)
		printQuotaLeft(ctx, env.Stdout, quotas)
	}
	// The state is written even after an interrupt: what was found is kept.
	code = sess.Commit(context.WithoutCancel(ctx), run, runFailure(run))
	if code != exitError {
		// After the commit: what is pending is in the ledger, so a crash
		// from here loses nothing.
		sess.Deliver(context.WithoutCancel(ctx), *noNotify)
		printAppliedOutputs(env, sess.next, *asJSON)
		if sess.outputErrors {
			code = exitError
		}
	}
	if len(plan.Targets) > 0 && !*asJSON {
		fmt.Fprint(env.Stdout, partialApplyWarning(palette{on: useColor(env, *noColor)}))
	}
	if run.Interrupted && code == exitOK {
		code = exitError
	}
	if code != exitError && nothingSucceeded(run) {
		// A nightly job must not report "no drift" when no source answered.
		fmt.Fprintln(env.Stderr, "Error: every query failed (see the failures above); nothing was verified, and the previous findings are kept as unverified.")
		code = exitError
	}
	if code != exitError && sess.checksFailed() {
		code = exitCheckFailed
	}
	return code
}

// checkSavedPlan refuses a saved plan made against another state than
// the one now under the lock, or applied already.
func checkSavedPlan(env *Env, saved *engine.Plan, sess *stateSession, target string) (int, bool) {
	lineage, serial := sess.stateAt()
	applied := ""
	if sess.prev != nil {
		applied = sess.prev.Run.Plan
	}
	err := saved.CheckState(lineage, serial, applied)
	var moved *engine.StateMovedError
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, engine.ErrPlanApplied):
		fmt.Fprintf(env.Stderr, `Error: Saved plan already applied

%s was applied already: the state (serial %d) records it as its last run.
A plan is applied once. Nothing was sent. Make a new plan with
"reconform plan -out=FILE" to run again.
`, target, serial)
	case errors.As(err, &moved):
		fmt.Fprintf(env.Stderr, `Error: Saved plan is stale

%s no longer matches the state:
  %s.

It was reviewed against findings that have changed since, so it is no
longer an approval of what would run. Nothing was sent. Make a new plan
with "reconform plan -out=FILE" and review it again.
`, target, err)
	default:
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
	}
	return exitError, false
}

// nothingSucceeded reports whether the run had failed instances and not one
// that succeeded.
func nothingSucceeded(run *schema.RunResult) bool {
	failed := false
	for _, in := range run.Instances {
		if in.Status.Succeeded() {
			return false
		}
		failed = failed || in.Status == schema.StatusFailed
	}
	return failed
}

// confirm asks for approval on a terminal; without one it refuses.
func confirm(env *Env) (int, bool) {
	if !env.StdinTerminal {
		fmt.Fprint(env.Stderr, `Error: No terminal to confirm on

apply asks before sending queries, and its input is not a terminal. Run
"reconform apply -auto-approve" to run without asking, or review a saved
plan first: "reconform plan -out=FILE", then "reconform apply FILE".
`)
		return exitError, false
	}
	fmt.Fprint(env.Stdout, "Do you want to perform these actions?\n  reconform will send the queries described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		fmt.Fprintln(env.Stdout, "\nApply cancelled.")
		return exitError, false
	}
	fmt.Fprintln(env.Stdout)
	return exitOK, true
}

// watchInterrupts turns the first SIGINT into cancel (stop new work, grace
// for in-flight) and the second into hardStop (stop at once).
func watchInterrupts(env *Env, cancel func(), hardStop chan struct{}, quiet bool) (stop func()) {
	if env.Interrupts == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		count := 0
		for {
			select {
			case <-done:
				return
			case _, ok := <-env.Interrupts:
				if !ok {
					return
				}
				count++
				switch count {
				case 1:
					if !quiet {
						fmt.Fprintf(env.Stderr, "\nInterrupt received. No new queries will be sent; those in flight get up to %s to finish.\nThe findings so far will be saved. Interrupt again to stop at once.\n", engine.DefaultGrace)
					}
					cancel()
				case 2:
					if !quiet {
						fmt.Fprintln(env.Stderr, "\nTwo interrupts received. Stopping now.")
					}
					close(hardStop)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// printRunSummary prints how the run went and what did not succeed.
func printRunSummary(env *Env, run *schema.RunResult, plan *engine.Plan) {
	s := engine.Summarize(run)
	w := env.Stdout
	var notOK, refused []schema.InstanceResult
	for _, in := range run.Instances {
		if in.Status == schema.StatusFailed || in.Status == schema.StatusCancelled || in.Status == schema.StatusSkipped && in.Reason == "budget" {
			notOK = append(notOK, in)
		}
		if in.Status == schema.StatusSkipped && engine.IsRefused(in.Reason) {
			refused = append(refused, in)
		}
	}
	// Every refused active lookup is listed, also those a pivot or a
	// dependent query asked during the run, which no plan could show.
	if len(refused) > 0 {
		fmt.Fprintln(w, "\nRefused (active lookups outside the scope; no query was sent for these):")
		for _, in := range refused {
			fmt.Fprintln(w, refusalLine(in.Reason, in.Block, in.Query.Provider, in.Query.Op, false))
		}
	}
	var cut []schema.InstanceResult
	for _, in := range run.Instances {
		if in.Truncated {
			cut = append(cut, in)
		}
	}
	if len(cut) > 0 {
		// Like a spent budget: the run went on, but these answers are
		// not whole, and what they did not keep stays unverified.
		fmt.Fprintln(w, "\nQueries whose findings were cut by the engagement's limits:")
		for _, in := range cut {
			fmt.Fprintf(w, "  - %s: %s: %s\n", in.Block, in.Key, in.Reason)
		}
	}
	printDeferred(w, run.Instances)
	if len(notOK) > 0 {
		fmt.Fprintln(w, "\nQueries that did not complete:")
		for _, in := range notOK {
			fmt.Fprintf(w, "  - %s: %s: %s: %s\n", in.Block, in.Key, in.Status, in.Reason)
		}
	}
	head := "Apply complete!"
	if run.Interrupted {
		head = "Apply interrupted."
	}
	var parts []string
	for _, st := range []schema.InstanceStatus{schema.StatusOK, schema.StatusCached, schema.StatusFailed, schema.StatusSkipped, schema.StatusCancelled} {
		if n := s.ByStatus[st]; n > 0 {
			part := fmt.Sprintf("%d %s", n, st)
			if st == schema.StatusSkipped && len(refused) > 0 {
				part += fmt.Sprintf(" (%d refused as out of scope)", len(refused))
			}
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "none")
	}
	fmt.Fprintf(w, "\n%s Queries: %s. Requests: %d. Findings: %d.\n", head, strings.Join(parts, ", "), s.Requests, s.Findings)
	// Requests per provider against its budget, for quota planning.
	used := map[string]int{}
	for _, in := range run.Instances {
		used[in.Query.Provider] += in.Requests
	}
	var spent []string
	for _, pp := range plan.Providers {
		n := used[pp.Address]
		switch {
		case pp.Budget > 0:
			spent = append(spent, fmt.Sprintf("%s %d (budget %d)", pp.Address, n, pp.Budget))
		case n > 0:
			spent = append(spent, fmt.Sprintf("%s %d", pp.Address, n))
		}
	}
	if len(spent) > 0 {
		fmt.Fprintf(w, "Requests by provider: %s.\n", strings.Join(spent, ", "))
	}
	fmt.Fprintln(w)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
