package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// exitInterrupted is the exit code of a command stopped by SIGINT or
// SIGTERM, as shells report a process killed by SIGINT (128 + 2).
const exitInterrupted = 130

// errInterrupted is the cause of a context cancelled by an interrupt.
var errInterrupted = errors.New("interrupted")

// watchCommandInterrupts makes every command cancellable: the first
// SIGINT or SIGTERM cancels ctx (commands stop at their next step and
// write nothing half-done), a second one ends the process at once through
// env.HardExit. apply has its own handling (a grace period for in-flight
// queries) and is not watched here.
func watchCommandInterrupts(ctx context.Context, env *Env) (context.Context, func()) {
	if env.Interrupts == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case _, ok := <-env.Interrupts:
				if !ok {
					return
				}
				if n == 1 {
					cancel(errInterrupted)
					continue
				}
				if env.HardExit != nil {
					fmt.Fprintln(env.Stderr, "\nTwo interrupts received. Stopping now.")
					env.HardExit(exitInterrupted)
				}
				return
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}

// interrupted reports whether ctx was cancelled by an interrupt, and says
// so on stderr.
func interrupted(ctx context.Context, env *Env) bool {
	if ctx.Err() == nil {
		return false
	}
	fmt.Fprintln(env.Stderr, "\nInterrupted; nothing was written.")
	return true
}

// interruptible runs step and returns its error, or ctx's as soon as ctx
// is cancelled: a step that reads or renders a large state (a second or
// more for a million findings) does not hold the command past Ctrl-C. An
// abandoned step goes on in the background until the process exits, so
// it must not commit anything: callers write their results after it, and
// its output goes through a cutWriter.
func interruptible(ctx context.Context, step func() error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	done := make(chan error, 1)
	go func() { done <- step() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cutWriter passes writes on until cut, then refuses them: the output of
// a step abandoned by interruptible stops there, even while a write to a
// stalled terminal or pipe is still blocked.
type cutWriter struct {
	w   io.Writer
	mu  sync.Mutex
	cut atomic.Bool
}

func newCutWriter(ctx context.Context, w io.Writer) *cutWriter {
	c := &cutWriter{w: w}
	context.AfterFunc(ctx, func() { c.cut.Store(true) })
	return c
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.cut.Load() {
		return 0, errInterrupted
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut.Load() {
		return 0, errInterrupted
	}
	return c.w.Write(p)
}
