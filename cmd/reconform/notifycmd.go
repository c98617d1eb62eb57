package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/notify"
	notifyall "github.com/reconform/reconform/engine/notify/all"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/schema"
)

func init() {
	register(&command{
		Name:     "notify",
		Synopsis: "Test notifiers, show and send pending notifications",
		Usage: `Usage: reconform notify <subcommand> [options] [args]

  The engagement's notify blocks are sent what each apply changes, once
  each: every delivery is recorded as pending in the delivery ledger with
  the state, and marked delivered when the receiver took it. These
  subcommands look at and act on that ledger (see docs/monitoring.md).

Subcommands:
  test NAME [DIR]
      Send a test message to the notifier NAME ("secops", or
      "slack.secops" when two types share the name), with its retries.
      Nothing is recorded.
  status [-json] [DIR]
      List pending deliveries (with their attempts and last error) and
      count those delivered.
  deliver [DIR]
      Send what is pending now (what "apply -no-notify" left, or what a
      receiver that was down missed), as the next apply would.

Options:
  -no-color           No terminal colours.
  -var 'name=value'   Set a variable; repeatable.
  -var-file=FILE      Set variables from an HCL file; repeatable.`,
		Run:  runNotify,
		JSON: true,
	})
}

func runNotify(ctx context.Context, env *Env, args []string) int {
	usage := strings.TrimSpace(commands["notify"].Usage)
	for len(args) > 0 && (args[0] == "-no-color" || args[0] == "--no-color") {
		args = args[1:] // accepted before the subcommand too, as scripts pass it
	}
	if len(args) == 0 {
		return usageError(env, commands["notify"], "notify needs a subcommand: test, status or deliver.")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, usage)
		return exitOK
	case "test":
		return runNotifyTest(ctx, env, args[1:])
	case "status":
		return runNotifyStatus(ctx, env, args[1:])
	case "deliver":
		return runNotifyDeliver(ctx, env, args[1:])
	}
	msg := fmt.Sprintf("unknown notify subcommand %q", args[0])
	if s := didYouMean(args[0], []string{"test", "status", "deliver"}); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return usageError(env, commands["notify"], "%s; the subcommands are test, status and deliver.", msg)
}

// notifyConfig loads the engagement of a notify subcommand: the folder is
// the one positional argument after the others the subcommand takes.
func notifyConfig(env *Env, args []string, want int, json *bool) (*schema.Config, []string, bool) {
	fs := newFlagSet(env, commands["notify"])
	noColor := fs.Bool("no-color", false, "")
	if json != nil {
		fs.BoolVar(json, "json", false, "")
	}
	var vf varFlags
	vf.register(fs)
	positional, done, _ := parseInterleaved(fs, args)
	if done {
		return nil, nil, false
	}
	if len(positional) < want || len(positional) > want+1 {
		fmt.Fprintln(env.Stderr, "Error: wrong number of arguments; see reconform notify -help.")
		return nil, nil, false
	}
	dir := "."
	if len(positional) == want+1 {
		dir = positional[want]
	}
	cfg, ok := loadEngagement(env, dir, vf.Vars, vf.VarFiles, *noColor)
	if !ok {
		return nil, nil, false
	}
	if len(cfg.Notifiers) == 0 {
		fmt.Fprintf(env.Stderr, "Error: the engagement in %s declares no notify blocks.\n", dir)
		return nil, nil, false
	}
	return cfg, positional[:want], true
}

func runNotifyTest(ctx context.Context, env *Env, args []string) int {
	cfg, names, ok := notifyConfig(env, args, 1, nil)
	if !ok {
		return exitError
	}
	n, err := cfg.NotifierByName(names[0])
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	secrets := cfg.Secrets()
	ch, err := notifyall.New(n, notify.Options{Logger: env.Logger.Named("notify"), UserAgent: version.UserAgent(), Secrets: secrets})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	d := &notify.Deliverer{Secrets: secrets, Logger: env.Logger.Named("notify")}
	attempts, err := d.Send(ctx, n, ch, notify.TestMessage(n, cfg.Engagement.Name, time.Now()))
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %s: the test message was not delivered after %d %s: %v\n", n.Address, attempts, plural(attempts, "attempt", "attempts"), err)
		return exitError
	}
	fmt.Fprintf(env.Stdout, "Sent a test message to %s.\n", n.Address)
	return exitOK
}

func runNotifyDeliver(ctx context.Context, env *Env, args []string) int {
	cfg, _, ok := notifyConfig(env, args, 0, nil)
	if !ok {
		return exitError
	}
	b, err := openBackend(ctx, env, cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer b.Close()
	d, err := newDeliverer(env, cfg, b)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	results, err := d.Deliver(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	if len(results) == 0 {
		fmt.Fprintln(env.Stdout, "Nothing is pending.")
		return exitOK
	}
	printDeliveries(env, results, false)
	for _, r := range results {
		if r.Pending > 0 {
			return exitError
		}
	}
	return exitOK
}

// deliveryStatus is one notifier's line of notify status.
type deliveryStatus struct {
	Delivered   int       `json:"delivered"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Notifier    string    `json:"notifier"`
	Oldest      time.Time `json:"oldest_pending,omitzero"`
	Pending     int       `json:"pending"`
	// Unknown is set for deliveries of a notifier no longer declared:
	// they stay in the ledger, never sent.
	Unknown bool `json:"undeclared,omitempty"`
}

func runNotifyStatus(ctx context.Context, env *Env, args []string) int {
	var asJSON bool
	cfg, _, ok := notifyConfig(env, args, 0, &asJSON)
	if !ok {
		return exitError
	}
	b, err := openBackend(ctx, env, cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitError
	}
	defer b.Close()
	dl, ok := b.(backend.DeliveryLedger)
	if !ok {
		fmt.Fprintf(env.Stderr, "Error: the %s backend keeps no delivery ledger.\n", b.Location())
		return exitError
	}
	list, err := dl.Deliveries().List(ctx)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", notify.RedactError(err, cfg.Secrets()))
		return exitError
	}
	by := map[string]*deliveryStatus{}
	for _, a := range cfg.NotifierAddresses() {
		by[a] = &deliveryStatus{Notifier: a}
	}
	for _, d := range list {
		st := by[d.Notifier]
		if st == nil {
			st = &deliveryStatus{Notifier: d.Notifier, Unknown: true}
			by[d.Notifier] = st
		}
		if !d.Pending() {
			st.Delivered++
			continue
		}
		st.Pending++
		if st.Oldest.IsZero() || d.Created.Before(st.Oldest) {
			st.Oldest = d.Created
		}
		if d.LastAttempt.After(st.LastAttempt) {
			st.LastAttempt, st.LastError = d.LastAttempt, d.LastError
		}
	}
	var out []deliveryStatus
	for _, a := range sortedKeys(by) {
		out = append(out, *by[a])
	}
	if asJSON {
		writeIndented(env.Stdout, map[string]any{"format_version": jsonFormatVersion, "notifiers": out})
		return exitOK
	}
	for _, st := range out {
		line := fmt.Sprintf("%-24s %d pending, %d delivered", st.Notifier, st.Pending, st.Delivered)
		if st.Pending > 0 {
			line += fmt.Sprintf(" (oldest %s", st.Oldest.UTC().Format("2006-01-02 15:04 UTC"))
			if st.LastError != "" {
				line += "; last error: " + st.LastError
			}
			line += ")"
		}
		if st.Unknown {
			line += " — no such notify block any more; its pending deliveries are kept, never sent"
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return exitOK
}
