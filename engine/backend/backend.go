// Package backend is where an engagement's runs keep what outlives them:
// the current state, its history, the lock that stops two runs from
// sharing it, and the response cache; the quota and delivery ledgers of
// later work plug in here too (ledgers.go).
//
// The engine and the CLI see only the interfaces of this package. Each
// backend owns its storage and its locking: Local (this package) keeps
// files beside the engagement exactly as reconform always has (the state
// file, .reconform/history, .reconform/cache, an OS-released lock file);
// engine/backend/pg keeps rows in PostgreSQL under advisory locks.
//
// A run uses a backend in one shape, whatever it is:
//
//	sess, err := b.Open(ctx, backend.OpenOptions{Lock: true, Operation: "apply"})
//	defer sess.Close()             // releases the lock
//	prev := sess.Previous()        // read under the lock
//	...                            // plan, walk (b.Cache()), merge
//	res, err := sess.Commit(ctx, backend.Commit{State: next})
package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// Backend holds one engagement's state, history, lock and cache.
type Backend interface {
	// Location names where the state lives, for messages: the state
	// file's path, or "pg schema reconform, engagement acme".
	Location() string
	// Init prepares the storage and checks it can be used: the pg backend
	// connects and applies its migrations. Safe to run again.
	Init(ctx context.Context) error
	// Open starts a session: it takes the lock (unless opts.Lock is
	// false), then reads the current state. The wait for a lock held by
	// another run ends with ctx.
	Open(ctx context.Context, opts OpenOptions) (Session, error)
	// Read reads the current state without the lock; nil, nil when there
	// is none yet.
	Read(ctx context.Context) (*state.State, error)
	// History lists the kept states, oldest first. How they are kept is
	// the backend's affair (whole files, or changes: issue 15).
	History(ctx context.Context) ([]HistoryEntry, error)
	// ReadHistory reads one kept state.
	ReadHistory(ctx context.Context, e HistoryEntry) (*state.State, error)
	// Log lists every kept state, the current one included (Current),
	// oldest serial first, with what each entry holds: reconform state
	// history.
	Log(ctx context.Context) ([]HistoryEntry, error)
	// LockHolder says who holds the lock now; nil when nobody does.
	LockHolder(ctx context.Context) (*LockInfo, error)
	// ForceUnlock removes the lock with the given ID (the ID must match, so
	// a lock taken since the user looked is never removed).
	ForceUnlock(ctx context.Context, id string) error
	// Cache is the response cache of the engagement's providers.
	Cache() Cache
	// Close releases what the backend holds (connections).
	Close() error
}

// OpenOptions say how a session locks.
type OpenOptions struct {
	// Lock takes the engagement's lock for the session (-lock, default
	// true); without it the commit still refuses to replace a state that
	// changed since it was read.
	Lock bool
	// Operation names the verb in the lock ("apply", "state rm").
	Operation string
	// Version is reconform's version, recorded with the lock.
	Version string
	// Timeout is how long to wait for a lock another run holds (0: do
	// not wait).
	Timeout time.Duration
}

// Session is one locked use of a backend: the state as read at its start,
// and at most one commit.
type Session interface {
	// Previous is the state read when the session opened; nil when there
	// was none. It is never modified by the session.
	Previous() *state.State
	// Lock is the lock the session holds; nil without one.
	Lock() *LockInfo
	// Commit writes the session's result in one step: a crash at any
	// point leaves the previous state or the new one, never a mix; and it
	// refuses to replace a state that changed since Previous was read.
	Commit(ctx context.Context, c Commit) (Committed, error)
	// Close releases the lock. Safe to call more than once.
	Close() error
}

// Commit is what a session writes.
type Commit struct {
	// State is the new state, built from the session's Previous. Its
	// lineage and serial are set by the commit: kept from Previous and
	// moved on by one (or made, for a first state), unless Exact.
	State *state.State
	// Exact writes State with its own lineage and serial: state push, a
	// migration, a rescued state. The caller checks them first.
	Exact bool
	// Parts are written in the same step as the state (the delivery ledger
	// of issue 14 records pending notifications here). A backend stores
	// the parts it knows how to (see Part); a commit carrying one it does
	// not know fails before anything is written.
	Parts []Part
	// Keep is the engagement's history_keep: after the commit the
	// history is pruned to it (zero: everything is kept). Pruning never
	// removes what a kept state needs to be rebuilt.
	Keep schema.HistoryKeep
	// Now is the commit's time, for the history (zero: the clock).
	Now time.Time
}

// Committed says what a commit did.
type Committed struct {
	// Written is false when the new state's content equals the current
	// one: nothing was written and the serial did not move.
	Written bool
	// Serial and Lineage are the current state's after the commit.
	Serial  uint64
	Lineage string
	// Warning is set when the commit succeeded but the history could not
	// be pruned (it is pruned again by the next commit).
	Warning string
}

// HistoryEntry is one kept state.
type HistoryEntry struct {
	Serial uint64
	// Lineage is the state's lineage, or its first 8 characters when that
	// is all the backend knows without reading the state (local history
	// file names).
	Lineage string
	// Path is the local file that holds it ("" for other backends).
	Path string
	// Rev is the backend's own reference to it (the pg revision); 0 for
	// the local backend.
	Rev int64

	// What Log says of an entry (History may leave these unset).
	//
	// Current marks the current state.
	Current bool
	// Kind is how the entry is kept: "snapshot" (the whole state),
	// "delta" (the changes from the entry before it), "full" (a whole
	// state file, as reconform 0.1 kept them).
	Kind string
	// Time is when the state was written.
	Time time.Time
	// Bytes is what the entry takes in the backend (a local file's size;
	// in pg, the bytes of the rows its commit wrote); StateBytes is the
	// size of the state's JSON, when known.
	Bytes, StateBytes int64
	// Findings is the state's count of findings (-1: not known).
	Findings int
	// Changes are the findings added, changed and removed from the state
	// before (nil: not known).
	Changes *state.ChangeCounts
}

// SameLineage reports whether the entry belongs to lineage.
func (e HistoryEntry) SameLineage(lineage string) bool {
	return e.Lineage != "" && len(e.Lineage) <= len(lineage) && lineage[:len(e.Lineage)] == e.Lineage
}

// LockInfo says who holds an engagement's lock: ID, who, host, operation
// and since when. Every backend reports its holders in this shape.
type LockInfo = state.LockInfo

// LockedError says another run holds the lock. Its Command field, set by
// the CLI, is the force-unlock command that works from the user's folder.
type LockedError = state.LockedError

// Cache stores provider answers as opaque entries under keys that never
// contain a secret (engine/cache.go makes both). A cache never fails a
// run: a miss is a miss, whatever caused it, and a failed Put is only
// logged by the caller.
type Cache interface {
	// Get returns the entry stored under key.
	Get(ctx context.Context, key string) ([]byte, bool)
	// Put stores entry under key; stored is when the answer was received
	// (backends may prune by it).
	Put(ctx context.Context, key string, entry []byte, stored time.Time) error
}

// RescueError says a commit could not reach its backend, and where the
// run's result was saved instead: nothing the run found is lost, and
// "reconform state push" puts it in place once the backend is back.
type RescueError struct {
	// Path is the rescue file: a state file, written atomically.
	Path string
	// Err is why the commit failed (redacted of every secret).
	Err error
}

func (e *RescueError) Error() string {
	return fmt.Sprintf("the state could not be committed (%v); the run's result was saved to %s: push it once the backend is reachable with: reconform state push %s", e.Err, e.Path, e.Path)
}

func (e *RescueError) Unwrap() error { return e.Err }

// ErrNoState is returned by Backend verbs that need a state when the
// backend has none yet.
var ErrNoState = errors.New("no state yet")

// Previous returns the newest kept state of the current state's lineage
// with a lower serial: what the last commit replaced. It is nil when there
// is none (a first state, or a history that was removed).
func Previous(ctx context.Context, b Backend, current *state.State) (*state.State, error) {
	if current == nil {
		return nil, nil
	}
	hist, err := b.History(ctx)
	if err != nil {
		return nil, err
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if h := hist[i]; h.SameLineage(current.Lineage) && h.Serial < current.Serial {
			return b.ReadHistory(ctx, h)
		}
	}
	return nil, nil
}

// FindSerial finds the kept state with the given serial. When states of
// several lineages share the serial (the state was recreated), the one of
// lineage (the current state's, if known) wins.
func FindSerial(hist []HistoryEntry, serial uint64, lineage string) (HistoryEntry, error) {
	var matches []HistoryEntry
	for _, h := range hist {
		if h.Serial == serial {
			matches = append(matches, h)
		}
	}
	switch {
	case len(matches) == 0:
		return HistoryEntry{}, fmt.Errorf("no state with serial %d in the history", serial)
	case len(matches) == 1:
		return matches[0], nil
	}
	for _, m := range matches {
		if lineage != "" && m.SameLineage(lineage) {
			return m, nil
		}
	}
	return HistoryEntry{}, fmt.Errorf("several states with serial %d in the history (from different lineages); give the file path instead", serial)
}
