// Package oslock takes advisory locks on open files that the operating
// system releases when the holder's process ends, however it ends
// (SIGKILL, SIGPIPE, a crash): a lock held this way can never be left
// behind by a dead run.
//
// The locks belong to the open file (flock(2) semantics): two opens of the
// same path conflict even within one process, and closing the file
// releases its lock.
package oslock

import (
	"context"
	"errors"
	"os"
	"time"
)

// ErrHeld is returned by TryLock when another open file holds the lock.
var ErrHeld = errors.New("held by another process")

// Supported reports whether this platform has OS-released locks; without
// them TryLock always succeeds and callers rely on their own records.
const Supported = supported

// TryLock takes an exclusive lock on f without waiting: ErrHeld when
// another open file holds it.
func TryLock(f *os.File) error { return tryLock(f) }

// Unlock releases f's lock; closing f does too.
func Unlock(f *os.File) error { return unlock(f) }

// Wait takes f's lock, polling until it is free or ctx ends. The poll
// starts at 2ms and backs off to 50ms: the locks it waits for are held for
// the length of a rename.
func Wait(ctx context.Context, f *os.File) error {
	wait := 2 * time.Millisecond
	for {
		err := TryLock(f)
		if !errors.Is(err, ErrHeld) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}
