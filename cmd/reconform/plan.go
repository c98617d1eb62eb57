package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/engine"
	"github.com/reconform/reconform/internal/ansi"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "plan",
		Synopsis: "Show the queries an apply would run and what they cost",
		Usage: `Usage: reconform plan [options] [DIR]

  Loads the engagement in DIR (default: the current directory) and shows
  the query graph an apply would run: the instances of every block known
  now, the blocks known only after apply (with instances predicted from the
  previous state, marked as predictions), the subjects dropped and why
  (out of scope, active ops under passive_only), which queries are active,
  and per provider the requests against budget and rate limit, with an
  estimate of wall time. For providers with a vendor quota (quota, or the
  vendor's free tier), what each window has left in the quota ledger
  (shared by every engagement using the key), which queries will be
  deferred, and with verify_every whether the quota keeps every subject
  verified that often. Nothing is sent to any provider.

  With -out, the plan is saved; "reconform apply FILE" then runs exactly
  it, refuses if the configuration changed or the state moved on since
  (another apply ran, or this plan was applied already), and never exceeds
  its scope or budgets. "reconform show FILE" prints a saved plan.

  With -target, only the blocks (or module instances) named and the blocks
  whose findings they read are planned; the findings of the others are
  kept as they are.

Options:
  -out=FILE           Save the plan to FILE for a later "reconform apply FILE".
  -target=ADDRESS     Plan only this block or module instance and what it
                      reads, e.g. -target='module.footprint["acme.example"]'
                      or -target=query.history; repeatable.
  -json               Print the plan as JSON.
  -no-color           Print without terminal colours.
  -detailed-exitcode  Exit 0 when no apply is due, 2 when one is, 1 on an
                      error. An apply is due on a first run, after the
                      configuration changed, or when a query the plan knows
                      has no answer in the state or its answer is no longer
                      fresh (older than the provider's cache_ttl; for a
                      data file, the file changed since it was read).
  -lock=false         Do not lock the state while reading it.
  -lock-timeout=D     Wait up to D for the state lock.
  -var 'name=value'   Set a variable; repeatable.
  -var-file=FILE      Set variables from an HCL file; repeatable.`,
		Run:  runPlan,
		JSON: true,
	})
}

func runPlan(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, commands["plan"])
	out := fs.String("out", "", "")
	asJSON := fs.Bool("json", false, "")
	noColor := fs.Bool("no-color", false, "")
	var vf varFlags
	vf.register(fs)
	var tf targetFlags
	tf.register(fs)
	sopts := addStateFlags(fs)
	dir, done, code := parseFolderArgs(env, fs, args)
	if done {
		return code
	}
	targets, err := tf.parse()
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	cfg, ok := loadEngagement(env, dir, vf.Vars, vf.VarFiles, *noColor)
	if !ok {
		return exitError
	}

	sopts.JSON, sopts.NoColor = *asJSON, *noColor
	sess, err := openState(ctx, env, cfg, sopts)
	if err != nil {
		return openFailed(env, err)
	}
	defer sess.Close()

	lineage, serial := sess.stateAt()
	quotas, _ := sess.quotas(ctx, false)
	plan, pdiags := engine.MakePlan(ctx, cfg, engine.PlanOptions{
		Registry: all.Registrations(), Previous: sess.PreviousFindings(), Now: time.Now(),
		Targets: targets, StateLineage: lineage, StateSerial: serial,
		Quotas: quotas, Verified: sess.verified(), Cache: sess.Backend().Cache(),
		PreviousConfigHash: sess.previousConfigHash(),
	})
	if pdiags.HasErrors() {
		printDiags(env, pdiags, cfg.Files, *noColor)
		return exitError
	}
	printDiags(env, pdiags, cfg.Files, *noColor)

	if *asJSON {
		// One line: a JSON document that NDJSON readers (jq -c, line by
		// line parsers, log shippers) take as well.
		if err := json.NewEncoder(env.Stdout).Encode(plan); err != nil {
			fmt.Fprintln(env.Stderr, "Error: writing plan:", err)
			return exitError
		}
	} else {
		renderPlan(env.Stdout, plan, useColor(env, *noColor))
		renderChanges(env.Stdout, plan)
		if len(plan.Targets) > 0 {
			fmt.Fprint(env.Stdout, "\n"+targetingWarning(palette{on: useColor(env, *noColor)}, plan.Targets))
		}
	}
	if *out != "" {
		if err := engine.WritePlanFile(resolvePath(env, *out), plan); err != nil {
			fmt.Fprintln(env.Stderr, "Error:", err)
			return exitError
		}
		if !*asJSON {
			fmt.Fprintf(env.Stdout, "\nSaved the plan to: %s\n\nTo run exactly these queries, run:\n  %s\n", *out, hintCommand(env, "apply", *out))
		}
	}
	if sopts.DetailedExitCode && plan.Changes.Any() {
		return exitDrift
	}
	return exitOK
}

// stateAt is the lineage and serial of the state the session read (empty
// and 0 when there is none yet).
// previousConfigHash is the config hash of the state read ("" for none).
func (s *stateSession) previousConfigHash() string {
	if s.prev == nil {
		return ""
	}
	return s.prev.ConfigHash
}

func (s *stateSession) stateAt() (string, uint64) {
	if s.prev == nil {
		return "", 0
	}
	return s.prev.Lineage, s.prev.Serial
}

func filesOf(cfg *schema.Config) map[string]*hcl.File {
	if cfg == nil {
		return nil
	}
	return cfg.Files
}

// useColor is the one decision on colour for every verb (internal/ansi):
// only on a terminal, without -no-color (the verb's or the global one),
// and without NO_COLOR in the environment.
func useColor(env *Env, noColor bool) bool {
	return ansi.Enabled(env.Terminal, noColor || env.NoColor, env.Getenv("NO_COLOR"))
}

// palette colours the CLI's own output, through internal/ansi.
type palette struct{ on bool }

func (p palette) bold(s string) string   { return ansi.Palette{On: p.on}.Paint(s, ansi.Bold) }
func (p palette) green(s string) string  { return ansi.Palette{On: p.on}.Paint(s, ansi.Green) }
func (p palette) yellow(s string) string { return ansi.Palette{On: p.on}.Paint(s, ansi.Yellow) }
func (p palette) red(s string) string    { return ansi.Palette{On: p.on}.Paint(s, ansi.Red) }
func (p palette) dim(s string) string    { return ansi.Palette{On: p.on}.Paint(s, ansi.Dim) }

// instanceLine is one planned or predicted instance: "+" will run, "~" is
// a prediction, "!" marks an active (target-touching) query.
func instanceLine(c palette, in engine.Instance) string {
	s := in.Query.Key() // provider op subject [rrtypes] params, as everywhere else
	mark := c.green("+")
	if in.Predicted {
		mark = c.yellow("~")
	}
	if in.Depth > 0 {
		s += fmt.Sprintf(" (depth %d)", in.Depth)
	}
	if in.Active {
		mark = c.red("!")
		s += " " + c.red("(active: touches the target)")
	}
	return "    " + mark + " " + s
}

// renderPlan prints a plan for people.
func renderPlan(w io.Writer, p *engine.Plan, color bool) {
	c := palette{on: color}
	mode := "passive only"
	if !p.PassiveOnly {
		mode = "active queries allowed in scope"
	}
	fmt.Fprintf(w, "Engagement %q (%s), config %s\n\n", p.Engagement, mode, shortHash(p.ConfigHash))
	if len(p.Blocks) == 0 {
		fmt.Fprintf(w, "No changes. The engagement has no query or pivot blocks, so there is nothing to run.\n")
		return
	}
	fmt.Fprintf(w, "reconform will run these queries:\n  %s will run   %s predicted from the previous state   %s active (touches the target)\n\n",
		c.green("+"), c.yellow("~"), c.red("!"))

	byBlock := map[string][]engine.Instance{}
	for _, in := range p.Instances {
		byBlock[in.Block] = append(byBlock[in.Block], in)
	}
	predicted := map[string][]engine.Instance{}
	for _, in := range p.Predictions {
		predicted[in.Block] = append(predicted[in.Block], in)
	}
	for _, b := range p.Blocks {
		head := fmt.Sprintf("  %s  %s via %s", c.bold(b.Address), b.Op, strings.Join(b.Providers, ", "))
		var notes []string
		if len(b.DependsOn) > 0 {
			notes = append(notes, "reads "+strings.Join(b.DependsOn, ", "))
		}
		if b.MaxDepth > 0 {
			notes = append(notes, fmt.Sprintf("max_depth %d", b.MaxDepth))
		}
		if b.Recursive {
			notes = append(notes, "recursive")
		}
		if len(notes) > 0 {
			head += c.dim(" (" + strings.Join(notes, "; ") + ")")
		}
		fmt.Fprintln(w, head)
		for _, in := range byBlock[b.Address] {
			fmt.Fprintln(w, instanceLine(c, in))
		}
		for _, in := range b.Shared {
			line := instanceLine(c, in)
			line = strings.Replace(line, "    "+c.green("+")+" ", "    = ", 1)
			fmt.Fprintf(w, "%s %s\n", line, c.dim("(same query as "+in.Block+"; runs once)"))
		}
		if b.KnownAfterApply {
			fmt.Fprintf(w, "    %s\n", c.dim("(known after apply: its subjects come from findings)"))
			if ps := predicted[b.Address]; len(ps) > 0 {
				fmt.Fprintf(w, "    predicted from the previous state (a guess, not a promise):\n")
				for _, in := range ps {
					fmt.Fprintln(w, "  "+instanceLine(c, in))
				}
			}
		} else if len(byBlock[b.Address]) == 0 && len(b.Shared) == 0 {
			fmt.Fprintf(w, "    %s\n", c.dim("(nothing to query)"))
		}
		fmt.Fprintln(w)
	}

	// Active lookups refused as out of scope come first, under their own
	// heading: a reviewer must see that they will not be sent, and why.
	var refused, dropped []engine.Dropped
	for _, d := range p.Dropped {
		if engine.IsRefused(d.Reason) {
			refused = append(refused, d)
		} else {
			dropped = append(dropped, d)
		}
	}
	if len(refused) > 0 {
		fmt.Fprintln(w, c.bold("Refused (active lookups outside the scope; no query will be sent for these):"))
		for _, d := range refused {
			fmt.Fprintln(w, refusalLine(d.Reason, d.Block, d.Provider, d.Op, d.Predicted))
		}
		fmt.Fprintln(w)
	}
	if len(dropped) > 0 {
		fmt.Fprintln(w, "Subjects dropped:")
		for _, d := range dropped {
			pred := ""
			if d.Predicted {
				pred = " (predicted)"
			}
			fmt.Fprintf(w, "  - %s: %s %s %s%s: %s\n", d.Block, d.Provider, d.Op, d.Subject.Value, pred, d.Reason)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, "Requests per provider:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  PROVIDER\tPLANNED\tPREDICTED\tBUDGET\tRATE\tESTIMATE")
	for _, pp := range p.Providers {
		budget := "unlimited"
		if pp.Budget > 0 {
			budget = fmt.Sprint(pp.Budget)
		}
		if pp.OverBudget {
			budget += " (exceeded)"
		}
		name := pp.Address
		if pp.Active {
			name += " (active)"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\t%s\n", name, pp.Requests, pp.Predicted, budget, pp.Rate, roundDuration(time.Duration(pp.Estimate)))
	}
	tw.Flush()
	fmt.Fprintln(w)
	renderPlanQuota(w, p, c)
	fmt.Fprintf(w, "Findings kept: %s per run, %s per query (max_findings, max_findings_per_query).\n\n",
		limitText(p.MaxFindings), limitText(p.MaxFindingsPerQuery))
	for _, msg := range p.Warnings {
		fmt.Fprintf(w, "%s %s\n", c.yellow("Warning:"), msg)
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	active := p.ActiveCount()
	activeNote := ""
	if active > 0 {
		activeNote = fmt.Sprintf(" (%d active)", active)
	}
	refusedNote := ""
	if len(refused) > 0 {
		refusedNote = fmt.Sprintf(", %d refused as out of scope", len(refused))
	}
	fmt.Fprintf(w, "%s %d %s to run%s, %d predicted after apply%s, %d %s dropped. Estimated wall time: at least %s.\n",
		c.bold("Plan:"), len(p.Instances), plural(len(p.Instances), "query", "queries"), activeNote,
		len(p.Predictions), refusedNote, len(dropped), plural(len(dropped), "subject", "subjects"), roundDuration(time.Duration(p.Estimate)))
	renderAfterApply(w, p, c)
}

// renderAfterApply says what the plan cannot know before the run and
// bounds it where the budgets do.
func renderAfterApply(w io.Writer, p *engine.Plan, c palette) {
	a := p.AfterApply
	if a == nil {
		return
	}
	known := fmt.Sprintf("%d %s now", len(p.Instances), plural(len(p.Instances), "query", "queries"))
	if a.Predicted == 0 && p.StateSerial == 0 {
		fmt.Fprintf(w, "Not known before the first run (no previous state to predict from): the subjects of %s come from findings.\n", strings.Join(a.Blocks, ", "))
	} else {
		fmt.Fprintf(w, "Known only after apply: the subjects of %s come from findings (%d predicted above from the previous state).\n", strings.Join(a.Blocks, ", "), a.Predicted)
	}
	depth := ""
	if a.MaxDepth > 0 {
		depth = fmt.Sprintf("pivot depth %d, ", a.MaxDepth)
	}
	if a.Bounded {
		var parts []string
		for _, b := range a.Budgets {
			parts = append(parts, fmt.Sprintf("%s %d of %d left", b.Provider, b.Left, b.Budget))
		}
		fmt.Fprintf(w, "%s, up to %d more %s from pivots and dependent queries (%sbudgets: %s); at most %s in all.\n",
			known, a.MaxMore, plural(a.MaxMore, "request", "requests"), depth, strings.Join(parts, ", "), roundDuration(time.Duration(a.MaxEstimate)))
		return
	}
	bounded := ""
	for _, b := range a.Budgets {
		bounded += fmt.Sprintf("; %s at most %d more (budget %d)", b.Provider, b.Left, b.Budget)
	}
	fmt.Fprintf(w, "%s, and more from pivots and dependent queries (%s%s %s no budget%s), which only the findings kept bound (max_findings: %s); a budget bounds them.\n",
		known, depth, strings.Join(a.Unbudgeted, ", "), plural(len(a.Unbudgeted), "has", "have"), bounded, limitText(p.MaxFindings))
}

// renderChanges says whether an apply is due (plan -detailed-exitcode).
func renderChanges(w io.Writer, p *engine.Plan) {
	ch := p.Changes
	var why []string
	switch {
	case ch.FirstRun:
		why = append(why, "there is no state yet")
	case ch.ConfigChanged:
		why = append(why, "the configuration changed since the last apply")
	}
	if ch.New > 0 && !ch.FirstRun {
		why = append(why, fmt.Sprintf("%d %s the state has no answer for", ch.New, plural(ch.New, "query", "queries")))
	}
	if ch.Stale > 0 {
		s := fmt.Sprintf("%d %s older than their freshness", ch.Stale, plural(ch.Stale, "answer", "answers"))
		if len(ch.ChangedFiles) > 0 {
			s += " (changed since read: " + strings.Join(ch.ChangedFiles, ", ") + ")"
		}
		why = append(why, s)
	}
	if len(why) == 0 {
		fmt.Fprintf(w, "No changes: the state answers all %d known %s and the answers are fresh; an apply now would learn nothing new.\n", ch.Fresh, plural(ch.Fresh, "query", "queries"))
		return
	}
	fmt.Fprintf(w, "An apply is due: %s.\n", strings.Join(why, "; "))
}

// refusalLine renders an active lookup refused as out of scope: the
// refusal first (it names the subject and the scope rule), then where it
// came from.
func refusalLine(reason, block, provider string, op schema.Op, predicted bool) string {
	pred := ""
	if predicted {
		pred = ", predicted"
	}
	return fmt.Sprintf("  - %s [%s: %s %s%s]", reason, block, provider, op, pred)
}

func hasKnownAfterApply(p *engine.Plan) bool {
	for _, b := range p.Blocks {
		if b.KnownAfterApply {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// roundDuration shows a duration to a sensible precision.
func roundDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}

// limitText is a findings bound as the plan shows it.
func limitText(n int) string {
	if n <= 0 {
		return "unlimited"
	}
	return fmt.Sprintf("at most %d", n)
}
