package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/check"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/notify"
	notifyall "github.com/reconform/reconform/engine/notify/all"
	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/schema"
)

// This file is the watch stages of a run: checks evaluated on the merged
// state and its drift, notifications recorded in the commit's delivery
// ledger, and delivered after the commit (DESIGN.md, "Runs that outlive
// one machine").

// runFailure says why a run failed, for run_failed notifications ("" when
// it did not).
func runFailure(run *schema.RunResult) string {
	switch {
	case run.Interrupted:
		return "the run was interrupted"
	case nothingSucceeded(run):
		return "every query failed"
	}
	return ""
}

// evaluateChecks sets next's check results from the drift r.
func (s *stateSession) evaluateChecks(next *state.State, r *diff.Result) {
	next.Checks = check.Evaluate(s.cfg, next, r)
}

// notifyParts are the commit parts that record the run's notifications
// as pending in the delivery ledger: none when the engagement has no
// notify block or the run has nothing to say.
func (s *stateSession) notifyParts(next *state.State, r *diff.Result, failure string) ([]backend.Part, error) {
	if len(s.cfg.Notifiers) == 0 {
		return nil, nil
	}
	dl, ok := s.b.(backend.DeliveryLedger)
	if !ok {
		return nil, fmt.Errorf("the %s backend keeps no delivery ledger", s.b.Location())
	}
	c, err := notify.NewContent(notify.Run{Prev: s.prev, Next: next, Drift: r, Failure: failure})
	if err != nil || c == nil {
		return nil, err
	}
	s.content = c
	ev, err := c.Event(s.notifiers())
	if err != nil || ev == nil {
		return nil, err
	}
	body := notify.RedactJSON(ev.Body, s.cfg.Secrets())
	ev.Body = body
	s.recorded = len(ev.Notifiers)
	return []backend.Part{dl.DeliveryPart([]ledger.Event{*ev})}, nil
}

// notifiers are the notify blocks, sorted by address.
func (s *stateSession) notifiers() []*schema.NotifyBlock {
	var out []*schema.NotifyBlock
	for _, a := range s.cfg.NotifierAddresses() {
		out = append(out, s.cfg.Notifiers[a])
	}
	return out
}

// checksFailed reports whether an error-severity check of the committed
// state did not pass: apply exits 3.
func (s *stateSession) checksFailed() bool {
	return s.next != nil && check.Failed(s.next.Checks)
}

// printChecks prints the check results after the drift: text, or one
// {"type":"check"} event per check with -json.
func printChecks(env *Env, results []state.CheckResult, asJSON, noColor bool) {
	if len(results) == 0 {
		return
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		for i := range results {
			enc.Encode(struct {
				Check any    `json:"check"`
				Type  string `json:"type"`
			}{state.CheckJSON(&results[i]), "check"})
		}
		return
	}
	fmt.Fprintln(env.Stdout)
	check.Text(env.Stdout, results, check.TextOptions{Color: useColor(env, noColor)})
}

// deliverer is the delivery stage over the backend's ledger.
func newDeliverer(env *Env, cfg *schema.Config, b backend.Backend) (*notify.Deliverer, error) {
	dl, ok := b.(backend.DeliveryLedger)
	if !ok {
		return nil, fmt.Errorf("the %s backend keeps no delivery ledger", b.Location())
	}
	secrets := cfg.Secrets()
	logger := env.Logger.Named("notify")
	chs, errs := notifyall.Channels(cfg.Notifiers, notify.Options{Logger: logger, UserAgent: version.UserAgent(), Secrets: secrets})
	host, _ := os.Hostname()
	return &notify.Deliverer{
		Ledger: dl.Deliveries(), Notifiers: cfg.Notifiers, Channels: chs, ChannelErrors: errs,
		Holder:  fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8]),
		Secrets: secrets, Logger: logger,
	}, nil
}

// Deliver sends what the ledger holds pending (this run's notifications
// and any an earlier run could not deliver), after the commit. With
// noNotify it sends nothing and says what stays pending. A failed
// delivery stays pending and is reported; it does not change the exit
// code (the run itself succeeded).
func (s *stateSession) Deliver(ctx context.Context, noNotify bool) {
	if len(s.cfg.Notifiers) == 0 || s.next == nil {
		return
	}
	if noNotify {
		if !s.opts.JSON && s.recorded > 0 {
			fmt.Fprintf(s.env.Stdout, "\nNotifications: not sent (-no-notify); %d %s pending, sent by the next run or \"%s\".\n", s.recorded, plural(s.recorded, "delivery", "deliveries"), hintCommand(s.env, "notify", "deliver", folderArg(s.env, s.cfg.Dir)))
		}
		return
	}
	d, err := newDeliverer(s.env, s.cfg, s.b)
	if err == nil {
		var results []notify.Result
		results, err = d.Deliver(ctx)
		printDeliveries(s.env, results, s.opts.JSON)
	}
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "Warning: notifications: %v\nWhat is pending stays in the delivery ledger and is sent by the next run.\n", notify.RedactError(err, s.cfg.Secrets()))
	}
}

// notifyUnrecorded sends a run failure that could not be recorded (the
// commit failed) straight to the notifiers that want run_failed: best
// effort, outside the ledger, since there is nowhere to keep it.
func (s *stateSession) notifyUnrecorded(ctx context.Context, next *state.State, reason string) {
	var to []*schema.NotifyBlock
	for _, n := range s.notifiers() {
		if n.Subscribed(schema.NotifyRunFailed) {
			to = append(to, n)
		}
	}
	if len(to) == 0 {
		return
	}
	c, err := notify.NewContent(notify.Run{Prev: s.prev, Next: next, Failure: reason})
	if err != nil || c == nil {
		return
	}
	c.Events, c.Baseline, c.Drift, c.Checks = []string{schema.NotifyRunFailed}, nil, nil, nil
	d, err := newDeliverer(s.env, s.cfg, s.b)
	if err != nil {
		return
	}
	for _, n := range to {
		ch := d.Channels[n.Address]
		v, err := c.View(n)
		if ch == nil || err != nil {
			continue
		}
		if _, err := d.Send(ctx, n, ch, notify.BuildMessage(n, []*notify.View{v}, next.Run.FinishedAt)); err != nil {
			fmt.Fprintf(s.env.Stderr, "Warning: %s: the run failure could not be sent either: %v\n", n.Address, err)
		}
	}
}

// printDeliveries says what became of each notifier's deliveries.
func printDeliveries(env *Env, results []notify.Result, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetEscapeHTML(false)
		for _, r := range results {
			type out struct {
				Attempts  int    `json:"attempts"`
				Delivered int    `json:"delivered"`
				Error     string `json:"error,omitempty"`
				Messages  int    `json:"messages"`
				Notifier  string `json:"notifier"`
				Pending   int    `json:"pending"`
			}
			o := out{Attempts: r.Attempts, Delivered: r.Delivered, Messages: r.Messages, Notifier: r.Notifier, Pending: r.Pending}
			if r.Err != nil {
				o.Error = r.Err.Error()
			}
			enc.Encode(struct {
				Notification out    `json:"notification"`
				Type         string `json:"type"`
			}{o, "notification"})
		}
		return
	}
	if len(results) == 0 {
		return
	}
	fmt.Fprintln(env.Stdout, "\nNotifications:")
	for _, r := range results {
		switch {
		case r.Pending == 0 && r.Messages == 0:
			fmt.Fprintf(env.Stdout, "  %s: nothing to send after its filter\n", r.Notifier)
		case r.Pending == 0:
			fmt.Fprintf(env.Stdout, "  %s: delivered (%d %s)\n", r.Notifier, r.Messages, plural(r.Messages, "message", "messages"))
		default:
			fmt.Fprintf(env.Stdout, "  %s: %d %s pending after %d %s: %v; kept for the next run\n", r.Notifier, r.Pending,
				plural(r.Pending, "delivery", "deliveries"), r.Attempts, plural(r.Attempts, "attempt", "attempts"), r.Err)
		}
	}
}

// writeIndented writes v as indented JSON.
func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
