package backend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/reconform/reconform/engine/state"
)

// Local is the default backend: files beside the engagement, exactly as
// reconform has always kept them. The state file (engine/state's
// canonical JSON), .reconform/history/<serial>-<lineage prefix>.rfstate
// for every replaced state, .reconform/<state>.lock held with an OS lock,
// and the response cache under .reconform/cache.
type Local struct {
	Store state.Store
	cache *DirCache
}

// NewLocal is the local backend of the state file at statePath, with its
// response cache in cacheDir ("": .reconform/cache beside the state).
func NewLocal(statePath, cacheDir string) *Local {
	l := &Local{Store: state.Store{Path: statePath}}
	if cacheDir == "" {
		cacheDir = filepath.Join(l.Store.MetaDir(), "cache")
	}
	l.cache = &DirCache{Dir: cacheDir}
	return l
}

// Location is the state file's path.
func (l *Local) Location() string { return l.Store.Path }

// Init has nothing to prepare: the files are made by the first commit.
func (l *Local) Init(context.Context) error { return nil }

// Read reads the state file.
func (l *Local) Read(context.Context) (*state.State, error) { return l.Store.Read() }

// History lists .reconform/history: the states before the current one.
func (l *Local) History(context.Context) ([]HistoryEntry, error) {
	hist, err := l.Store.History()
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, len(hist))
	for i, h := range hist {
		out[i] = localEntry(h)
	}
	return out, nil
}

// Log lists .reconform/history with the current state.
func (l *Local) Log(context.Context) ([]HistoryEntry, error) {
	hist, current, err := l.Store.Log()
	if err != nil {
		return nil, err
	}
	out := make([]HistoryEntry, 0, len(hist)+1)
	for i, h := range hist {
		e := localEntry(h)
		e.Current = i == current
		out = append(out, e)
	}
	if current < 0 {
		// A state an older reconform wrote has no entry yet: the state
		// file stands for itself until the next commit writes one.
		if cur, err := l.Store.Read(); err == nil && cur != nil {
			e := HistoryEntry{Serial: cur.Serial, Lineage: cur.Lineage, Path: l.Store.Path, Current: true, Kind: "file", Findings: len(cur.Findings)}
			if fi, err := os.Stat(l.Store.Path); err == nil {
				e.Bytes, e.StateBytes, e.Time = fi.Size(), fi.Size(), fi.ModTime().UTC()
			}
			at := len(out)
			for at > 0 && out[at-1].Serial > e.Serial {
				at--
			}
			out = slices.Insert(out, at, e)
		}
	}
	return out, nil
}

func localEntry(h state.HistoryEntry) HistoryEntry {
	lineage := h.Lineage
	if lineage == "" {
		lineage = h.LineagePrefix
	}
	return HistoryEntry{Serial: h.Serial, Lineage: lineage, Path: h.Path, Kind: h.Kind, Time: h.Written,
		Bytes: h.Bytes, StateBytes: h.StateBytes, Findings: h.Findings, Changes: h.Changes}
}

// ReadHistory rebuilds a kept state from its entry.
func (l *Local) ReadHistory(_ context.Context, e HistoryEntry) (*state.State, error) {
	if e.Path == "" {
		return nil, fmt.Errorf("history entry of serial %d has no file", e.Serial)
	}
	if e.Path == l.Store.Path {
		return l.Store.Read()
	}
	return l.Store.ReadHistory(state.HistoryEntry{Serial: e.Serial, Path: e.Path, Kind: e.Kind})
}

// LockHolder reads the lock file when a live run holds it.
func (l *Local) LockHolder(context.Context) (*LockInfo, error) {
	held, err := l.Store.LockHeld()
	if err != nil || !held {
		return nil, err
	}
	return l.Store.ReadLock()
}

// ForceUnlock removes the lock file.
func (l *Local) ForceUnlock(_ context.Context, id string) error { return l.Store.ForceUnlock(id) }

// Cache is the .reconform/cache folder.
func (l *Local) Cache() Cache { return l.cache }

// Close has nothing to release.
func (l *Local) Close() error { return nil }

// Open locks the state file and reads it.
func (l *Local) Open(ctx context.Context, opts OpenOptions) (Session, error) {
	s := &localSession{b: l}
	if opts.Lock {
		op := opts.Operation
		if op == "" {
			op = "run"
		}
		lock, err := l.Store.AcquireLock(ctx, op, opts.Version, opts.Timeout)
		if err != nil {
			return nil, err
		}
		s.lock = lock
	}
	prev, err := l.Store.Read()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.prev = prev
	return s, nil
}

type localSession struct {
	b    *Local
	lock *state.Lock
	prev *state.State
}

func (s *localSession) Previous() *state.State { return s.prev }

func (s *localSession) Lock() *LockInfo {
	if s.lock == nil {
		return nil
	}
	return &s.lock.Info
}

func (s *localSession) Commit(_ context.Context, c Commit) (Committed, error) {
	var parts []LocalPart
	for _, p := range c.Parts {
		lp, ok := p.(LocalPart)
		if !ok {
			return Committed{}, fmt.Errorf("the local backend cannot store the %s", p.PartName())
		}
		parts = append(parts, lp)
	}
	opts := state.WriteOptions{Exact: c.Exact, Keep: c.Keep, Now: c.Now}
	if len(parts) > 0 {
		opts.BeforeRename = func(next *state.State) error {
			for _, p := range parts {
				if err := p.WriteLocal(s.b.Store.MetaDir(), next.Serial); err != nil {
					return fmt.Errorf("writing the %s: %w", p.PartName(), err)
				}
			}
			return nil
		}
	}
	written, err := s.b.Store.WriteWith(s.prev, c.State, opts)
	var pe *state.PruneError
	warning := ""
	if errors.As(err, &pe) && written {
		warning, err = pe.Error(), nil
	}
	if err != nil {
		return Committed{}, err
	}
	return Committed{Written: written, Serial: c.State.Serial, Lineage: c.State.Lineage, Warning: warning}, nil
}

func (s *localSession) Close() error {
	if s == nil || s.lock == nil {
		return nil
	}
	err := s.lock.Unlock()
	s.lock = nil
	return err
}

// IsLocked reports whether err says another run holds the lock.
func IsLocked(err error) bool {
	var le *LockedError
	return errors.As(err, &le)
}
