package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/schema"
)

// stateOptions are the apply/plan flags about the state file.
type stateOptions struct {
	DetailedExitCode bool
	Lock             bool
	LockTimeout      time.Duration
	// Set by the calling verb from its own flags.
	JSON, NoColor bool
	// Operation names the verb in the lock ("apply", "plan"); optional.
	Operation string
	// OwnsInterrupts: the verb reads env.Interrupts itself (apply), so the
	// lock wait watches them too.
	OwnsInterrupts bool
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
	env  *Env
	cfg  *schema.Config
	opts *stateOptions
	b    backend.Backend
	sess backend.Session
	prev *state.State
	// Set by Commit: the drift it found and the serial it left.
	drift  *diff.Result
	serial uint64
	// next is the state Commit wrote; outputErrors is set when an output
	// could not be evaluated.
	next         *state.State
	outputErrors bool
	// content is what the run notifies; recorded how many deliveries
	// its commit recorded as pending.
	content  *notify.Content
	recorded int
}

// openState opens the engagement's backend, locks the state and reads the
// previous one. Ctrl-C ends a wait for the lock.
func openState(ctx context.Context, env *Env, cfg *schema.Config, opts *stateOptions) (*stateSession, error) {
	if opts == nil {
		opts = &stateOptions{Lock: true}
	}
	b, err := openBackend(ctx, env, cfg)
	if err != nil {
		return nil, err
	}
	wctx, stop := lockWaitContext(ctx, env, opts.OwnsInterrupts)
	sess, err := b.Open(wctx, backend.OpenOptions{Lock: opts.Lock, Operation: opts.Operation, Version: version.Version, Timeout: opts.LockTimeout})
	stop()
	if err != nil {
		b.Close()
		return nil, withUnlockHint(env, lockWaitError(err), cfg.Dir, "")
	}
	return &stateSession{env: env, cfg: cfg, opts: opts, b: b, sess: sess, prev: sess.Previous()}, nil
}

// Backend is the session's backend (its response cache is the run's).
func (s *stateSession) Backend() backend.Backend { return s.b }

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
//
// Before the commit it evaluates the checks over the merged state and its
// drift (their results are part of the state), and records what the run
// notifies as pending in the delivery ledger, in the same commit
// (failure says why the run failed, "" when it did not). Delivery is
// Deliver's, after the commit.
func (s *stateSession) Commit(ctx context.Context, run *schema.RunResult, failure string) int {
	next := state.Merge(s.prev, run, mergeOptions(s.cfg, run.FinishedAt))
	if next.Engagement == "" {
		next.Engagement = s.cfg.Engagement.Name
	}
	s.setOutputs(next)
	s.next = next
	where := displayPath(s.env, s.b.Location())
	if s.prev != nil {
		// What the commit will make them, so the drift names the new side.
		next.Lineage, next.Serial = s.prev.Lineage, s.prev.Serial+1
	}
	r := diff.Compare(s.prev, next, s.cfg.Engagement.Ignore)
	s.evaluateChecks(next, r)
	parts, err := s.notifyParts(next, r, failure)
	if err != nil {
		// The run's result matters more than its notification.
		fmt.Fprintf(s.env.Stderr, "Warning: notifications of this run could not be recorded: %v\n", notify.RedactError(err, s.cfg.Secrets()))
		parts = nil
	}
	res, err := s.sess.Commit(ctx, backend.Commit{State: next, Parts: parts})
	if err != nil {
		var rescue *backend.RescueError
		if errors.As(err, &rescue) {
			fmt.Fprintf(s.env.Stderr, "Error: the state could not be committed to %s: %v\nNothing this run found is lost: it was saved to %s. Once the backend is reachable again, put it in place with:\n  %s\n",
				where, rescue.Err, displayPath(s.env, rescue.Path), pushCommand(s.env, s.cfg.Dir, rescue.Path))
		} else {
			fmt.Fprintf(s.env.Stderr, "Error: writing the state %s: %v\nThe previous state is unchanged.\n", where, err)
		}
		s.notifyUnrecorded(ctx, next, "the state could not be committed to "+s.b.Location())
		s.next = nil
		return exitError
	}
	written := res.Written
	if !written && s.recorded > 0 {
		// An unchanged state writes nothing, parts included; a run that
		// changed nothing has nothing new to say, but say so if it did.
		fmt.Fprintf(s.env.Stderr, "Warning: the state did not change, so this run's %d notification(s) were not recorded.\n", s.recorded)
		s.recorded = 0
	}
	if r.New != nil {
		r.New.Serial, r.New.Lineage = res.Serial, res.Lineage
	}
	s.drift, s.serial = r, res.Serial
	switch {
	case s.opts.JSON:
		// apply -json is a stream of one JSON event a line.
		err = diff.JSONEvent(s.env.Stdout, r)
	case s.prev == nil:
		printFirstState(s.env, next, where, s.showCommand())
	default:
		fmt.Fprintln(s.env.Stdout)
		err = diff.Text(s.env.Stdout, r, diff.TextOptions{Color: useColor(s.env, s.opts.NoColor)})
		if written {
			fmt.Fprintf(s.env.Stdout, "State saved to %s (serial %d; serial %d kept in history).\n", where, next.Serial, s.prev.Serial)
		} else {
			fmt.Fprintf(s.env.Stdout, "State unchanged (%s, serial %d).\n", where, next.Serial)
		}
	}
	if err != nil {
		fmt.Fprintf(s.env.Stderr, "Error: printing the drift: %v\n", err)
		return exitError
	}
	printChecks(s.env, next.Checks, s.opts.JSON, s.opts.NoColor)
	if s.opts.DetailedExitCode && r.HasDrift() {
		return exitDrift
	}
	return exitOK
}

// hintCommand is a reconform command line to print as a hint, that works
// from the folder the user ran reconform in: the global -chdir they gave
// first, then the words (quoted for a shell where they need it). Folder
// arguments are made with folderArgs, relative to the -chdir folder.
func hintCommand(env *Env, words ...string) string {
	var b strings.Builder
	b.WriteString("reconform")
	if env.Chdir != "" {
		b.WriteString(" -chdir=" + shellWord(env.Chdir))
	}
	for _, w := range words {
		if w != "" {
			b.WriteString(" " + shellWord(w))
		}
	}
	return b.String()
}

// folderArg is dir as a command's folder argument: relative to where
// paths start, "" when that is dir itself.
func folderArg(env *Env, dir string) string {
	if rel := displayPath(env, dir); rel != "." {
		return rel
	}
	return ""
}

// showCommand is "reconform show" with the folder it needs to work from
// the user's folder.
func (s *stateSession) showCommand() string {
	return hintCommand(s.env, "show", folderArg(s.env, s.cfg.Dir))
}

// pushCommand is the state push command for a rescue file, from the
// user's folder.
func pushCommand(env *Env, dir, file string) string {
	chdir := ""
	if rel := folderArg(env, dir); rel != "" {
		chdir = "-chdir=" + rel
	}
	return hintCommand(env, "state", "push", chdir, displayPath(env, file))
}

// printFirstState summarises a state that has nothing to be compared with.
func printFirstState(env *Env, st *state.State, where, show string) {
	cur, hist := st.CountCurrency()
	fmt.Fprintf(env.Stdout, "\nFirst state of %s: %d findings (%d current, %d historical), %d facts.\n",
		st.Engagement, len(st.Findings), cur, hist, len(st.Facts))
	if n := st.UnverifiedCount(); n > 0 {
		fmt.Fprintf(env.Stdout, "%d findings are unverified.\n", n)
	}
	fmt.Fprintf(env.Stdout, "State saved to %s (serial %d). Later runs report the drift from it; see it with: %s\n",
		where, st.Serial, show)
}

// Close releases the lock and the backend.
func (s *stateSession) Close() {
	if s == nil || s.sess == nil {
		return
	}
	if err := s.sess.Close(); err != nil {
		fmt.Fprintf(s.env.Stderr, "Warning: releasing the state lock: %v\n", err)
	}
	s.b.Close()
	s.sess = nil
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

// stateRef is a state a verb was asked for: the current one, a history
// entry, or a state file given by path.
type stateRef struct {
	current bool
	entry   backend.HistoryEntry
	path    string
}

// resolveStateRef resolves a state reference given to diff or show: a
// history serial ("3"), "current" (or ""), or a path. Serials are looked
// up in the lineage of current, when known.
func resolveStateRef(ctx context.Context, env *Env, b backend.Backend, current *state.State, ref string) (stateRef, error) {
	if ref == "current" || ref == "" {
		return stateRef{current: true}, nil
	}
	if serial, err := parseSerial(ref); err == nil {
		if current != nil && serial == current.Serial {
			return stateRef{current: true}, nil
		}
		lineage := ""
		if current != nil {
			lineage = current.Lineage
		}
		hist, err := b.History(ctx)
		if err != nil {
			return stateRef{}, err
		}
		e, err := backend.FindSerial(hist, serial, lineage)
		if err != nil {
			return stateRef{}, fmt.Errorf("%v of %s", err, displayPath(env, b.Location()))
		}
		return stateRef{entry: e}, nil
	}
	p := resolvePath(env, ref)
	if _, err := os.Stat(p); err != nil {
		return stateRef{}, fmt.Errorf("%q is neither a history serial nor a state file: %w", ref, err)
	}
	return stateRef{path: p}, nil
}

// readRef reads the state r names; current is the current state when
// already read.
func readRef(ctx context.Context, b backend.Backend, r stateRef, current *state.State) (*state.State, error) {
	switch {
	case r.current && current != nil:
		return current, nil
	case r.current:
		st, err := b.Read(ctx)
		if err == nil && st == nil {
			err = backend.ErrNoState
		}
		return st, err
	case r.path != "":
		return state.ReadFile(r.path)
	}
	return b.ReadHistory(ctx, r.entry)
}

// label names r in messages.
func (r stateRef) label(env *Env, b backend.Backend) string {
	switch {
	case r.current:
		return displayPath(env, b.Location())
	case r.path != "":
		return displayPath(env, r.path)
	case r.entry.Path != "":
		return displayPath(env, r.entry.Path)
	}
	return fmt.Sprintf("%s, serial %d", b.Location(), r.entry.Serial)
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
