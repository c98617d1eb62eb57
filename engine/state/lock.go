package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// LockInfo is what a lock file says about who holds the state.
type LockInfo struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"`
	Who       string    `json:"who"`
	Operation string    `json:"operation"`
	Created   time.Time `json:"created"`
	Host      string    `json:"host,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Version   string    `json:"version,omitempty"`
}

// LockPath is the lock file of the state: .reconform/<state name>.lock.
func (st Store) LockPath() string {
	return filepath.Join(st.MetaDir(), filepath.Base(st.Path)+".lock")
}

// Lock is a held state lock.
type Lock struct {
	path string
	Info LockInfo
}

// LockedError says the state is locked by someone else.
type LockedError struct {
	LockPath string
	Info     LockInfo
	// Stale is set when the holder ran on this host and its process is
	// gone: the lock was left behind by a crash.
	Stale bool
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the state is locked by another run (lock file %s):\n", e.LockPath)
	fmt.Fprintf(&b, "  ID:        %s\n", e.Info.ID)
	fmt.Fprintf(&b, "  Who:       %s\n", e.Info.Who)
	fmt.Fprintf(&b, "  Operation: %s\n", e.Info.Operation)
	if !e.Info.Created.IsZero() {
		fmt.Fprintf(&b, "  Created:   %s\n", e.Info.Created.UTC().Format(time.RFC3339))
	}
	if e.Stale {
		fmt.Fprintf(&b, "The process that took it (pid %d on %s) is no longer running: the lock is stale.\n", e.Info.PID, e.Info.Host)
	}
	fmt.Fprintf(&b, "Wait for that run to finish, retry with -lock-timeout=5m, or, if no run holds it, remove it with: reconform force-unlock %s", e.Info.ID)
	return b.String()
}

// AcquireLock takes the state's lock for operation, retrying until timeout
// (0: try once) or ctx ends. The lock file is created with O_EXCL, so it
// works wherever the state lives and survives to say who held it when a
// run crashes; such a stale lock is removed with ForceUnlock.
func (st Store) AcquireLock(ctx context.Context, operation, version string, timeout time.Duration) (*Lock, error) {
	if err := os.MkdirAll(st.MetaDir(), 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", st.MetaDir(), err)
	}
	info := LockInfo{
		ID:        uuid.NewString(),
		Path:      st.Path,
		Who:       whoAmI(),
		Operation: operation,
		Created:   time.Now().UTC().Truncate(time.Second),
		PID:       os.Getpid(),
		Version:   version,
	}
	info.Host, _ = os.Hostname()
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	wait := 100 * time.Millisecond
	path := st.LockPath()
	for {
		err := createExclusive(path, append(data, '\n'))
		if err == nil {
			return &Lock{path: path, Info: info}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("taking the state lock %s: %w", path, err)
		}
		if timeout <= 0 || time.Now().After(deadline) {
			return nil, st.lockedError()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the state lock: %w", ctx.Err())
		case <-time.After(wait):
		}
		if wait < time.Second {
			wait *= 2
		}
	}
}

func createExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

func (st Store) lockedError() error {
	info, _ := st.ReadLock()
	e := &LockedError{LockPath: st.LockPath()}
	if info != nil {
		e.Info = *info
		host, _ := os.Hostname()
		e.Stale = info.PID > 0 && info.Host == host && !processAlive(info.PID)
	}
	return e
}

// ReadLock returns the current lock's information, or nil when unlocked.
func (st Store) ReadLock() (*LockInfo, error) {
	data, err := os.ReadFile(st.LockPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		// Being written this instant, or damaged: still a lock.
		return &LockInfo{ID: "(unreadable lock file)"}, nil
	}
	return &info, nil
}

// Unlock releases the lock if it is still ours (a force-unlock may have
// handed it to someone else meanwhile).
func (l *Lock) Unlock() error {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var info LockInfo
	if json.Unmarshal(data, &info) == nil && info.ID != l.Info.ID {
		return fmt.Errorf("the state lock %s now belongs to %s (ID %s); leaving it", l.path, info.Who, info.ID)
	}
	return os.Remove(l.path)
}

// ForceUnlock removes the lock with the given ID. The ID must match, so a
// lock taken since the user looked is never removed by mistake.
func (st Store) ForceUnlock(id string) error {
	info, err := st.ReadLock()
	if err != nil {
		return err
	}
	if info == nil {
		return fmt.Errorf("the state %s is not locked", st.Path)
	}
	if info.ID != id && info.ID != "(unreadable lock file)" {
		return fmt.Errorf("the lock on %s has ID %s, not %s; nothing was removed", st.Path, info.ID, id)
	}
	return os.Remove(st.LockPath())
}

func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if host, err := os.Hostname(); err == nil {
		name += "@" + host
	}
	return name
}

// processAlive reports whether a process with pid exists on this host.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
