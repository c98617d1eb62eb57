package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/reconform/reconform/internal/oslock"
)

// LockInfo is what a lock says about who holds the state.
type LockInfo struct {
	ID        string    `json:"id"`
	Path      string    `json:"path"`
	Who       string    `json:"who"`
	Operation string    `json:"operation"`
	Created   time.Time `json:"created"`
	Host      string    `json:"host,omitempty"`
	PID       int       `json:"pid,omitempty"`
	Version   string    `json:"version,omitempty"`
	// OSLock is set by reconform versions whose lock the operating system
	// releases when the holder dies; a lock file without it was written by
	// an older reconform, which only honoured the file's existence.
	OSLock bool `json:"os_lock,omitempty"`
}

// LockPath is the lock file of the state: .reconform/<state name>.lock.
func (st Store) LockPath() string {
	return filepath.Join(st.MetaDir(), filepath.Base(st.Path)+".lock")
}

// Lock is a held state lock: an open lock file holding an OS lock, so the
// lock ends with the process that holds it, however it ends.
type Lock struct {
	f    *os.File
	path string
	Info LockInfo
}

// LockedError says the state is locked by someone else.
type LockedError struct {
	// Where names the lock: the lock file, or a backend's description.
	Where string
	Info  LockInfo
	// Command, when set, is the force-unlock command that works from the
	// user's folder (the CLI knows which -chdir it needs); otherwise the
	// hint names the ID alone.
	Command string
	// Note is a backend's own sentence about how the lock ends.
	Note string
}

func (e *LockedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the state is locked by another run (%s):\n", e.Where)
	fmt.Fprintf(&b, "  ID:        %s\n", e.Info.ID)
	if e.Info.Who != "" {
		fmt.Fprintf(&b, "  Who:       %s\n", e.Info.Who)
	}
	if e.Info.Operation != "" {
		fmt.Fprintf(&b, "  Operation: %s\n", e.Info.Operation)
	}
	if !e.Info.Created.IsZero() {
		fmt.Fprintf(&b, "  Created:   %s\n", e.Info.Created.UTC().Format(time.RFC3339))
	}
	if e.Note != "" {
		b.WriteString(e.Note + "\n")
	}
	cmd := e.Command
	if cmd == "" {
		cmd = "reconform force-unlock " + e.Info.ID
	}
	fmt.Fprintf(&b, "Wait for that run to finish, or retry with -lock-timeout=5m. The lock ends with that run, even a killed one; only if it hangs, end it or remove the lock with: %s", cmd)
	return b.String()
}

// errLockHeld: another open lock file holds the OS lock.
var errLockHeld = errors.New("lock held")

// AcquireLock takes the state's lock for operation, retrying until timeout
// (0: try once) or ctx ends. The lock is an OS lock on the lock file
// (flock): the operating system releases it when the holder's process
// ends, so a killed, crashed or SIGPIPEd run never blocks the next one.
// The file also says who holds the lock, for the others' error messages.
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
		OSLock:    oslock.Supported,
	}
	info.Host, _ = os.Hostname()
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	deadline := time.Now().Add(timeout)
	wait := 50 * time.Millisecond
	for {
		l, err := st.tryLock(data)
		if err == nil {
			l.Info = info
			return l, nil
		}
		if !errors.Is(err, errLockHeld) {
			return nil, fmt.Errorf("taking the state lock %s: %w", st.LockPath(), err)
		}
		if timeout <= 0 || time.Now().After(deadline) {
			return nil, st.lockedError()
		}
		t := time.NewTimer(min(wait, time.Until(deadline)+time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the state lock: %w", ctx.Err())
		case <-t.C:
		}
		if wait < time.Second {
			wait *= 2
		}
	}
}

// tryLock takes the lock file's OS lock and writes data into it.
func (st Store) tryLock(data []byte) (*Lock, error) {
	path := st.LockPath()
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := oslock.TryLock(f); err != nil {
			f.Close()
			if errors.Is(err, oslock.ErrHeld) {
				return nil, errLockHeld
			}
			return nil, err
		}
		// The holder removes the file when it lets go; if that happened
		// between our open and our lock, we hold a lock on a removed file:
		// start again on the path as it is now.
		if !samePath(f, path) {
			f.Close()
			if attempt > 100 {
				return nil, fmt.Errorf("the lock file keeps being replaced")
			}
			continue
		}
		old, _ := io.ReadAll(f)
		if len(old) > 0 && heldByOlderReconform(old) {
			f.Close()
			return nil, errLockHeld
		}
		err = f.Truncate(0)
		if err == nil {
			_, err = f.WriteAt(data, 0)
		}
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return &Lock{f: f, path: path}, nil
	}
}

// samePath reports whether the open file f is still the file at path.
func samePath(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// heldByOlderReconform reports whether a lock file nobody holds an OS
// lock on was written by a reconform that took no OS lock, and whose
// process still runs on this host: that run holds the state.
func heldByOlderReconform(data []byte) bool {
	var info LockInfo
	if json.Unmarshal(data, &info) != nil || info.OSLock || info.PID <= 0 || info.PID == os.Getpid() {
		return false
	}
	host, _ := os.Hostname()
	return info.Host == host && processAlive(info.PID)
}

func (st Store) lockedError() error {
	e := &LockedError{Where: "lock file " + st.LockPath()}
	// The holder writes its details just after taking the lock: a file
	// read in that instant is empty, so look again briefly.
	for i := 0; i < 5; i++ {
		info, err := st.ReadLock()
		if err == nil && info != nil {
			e.Info = *info
			if !strings.HasPrefix(info.ID, UnreadablePrefix) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if e.Info.ID == "" {
		e.Info.ID = unreadableID(nil)
	}
	return e
}

// UnreadablePrefix starts the ID given to a lock file whose content is
// not a lock record (being written, damaged): the rest is a hash of the
// content, so force-unlock with that ID removes only that very file.
const UnreadablePrefix = "unreadable-"

func unreadableID(data []byte) string {
	sum := sha256.Sum256(data)
	return UnreadablePrefix + hex.EncodeToString(sum[:6])
}

// DecodeLockInfo reads a lock file's content. Content that is not a lock
// record, or whose ID could not be typed safely into a shell, gets an ID
// made from a hash of the content (UnreadablePrefix): every ID it returns
// can be pasted into "reconform force-unlock ID".
func DecodeLockInfo(data []byte) LockInfo {
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil || !safeID(info.ID) {
		return LockInfo{ID: unreadableID(data)}
	}
	return info
}

// safeID: letters, digits and - . _ only, as the UUIDs reconform makes.
func safeID(id string) bool {
	if id == "" || len(id) > 128 || id[0] == '-' {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}

// ReadLock returns what the lock file says, or nil when there is none.
// A file can outlive its holder (a killed run leaves it; the next run
// takes it over): LockHeld tells whether someone holds it.
func (st Store) ReadLock() (*LockInfo, error) {
	data, err := os.ReadFile(st.LockPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info := DecodeLockInfo(data)
	return &info, nil
}

// LockHeld reports whether a live run holds the lock: the OS lock is
// taken, or an older reconform's lock file names a live process here.
// It takes the OS lock for an instant to find out.
func (st Store) LockHeld() (bool, error) {
	f, err := os.Open(st.LockPath())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := oslock.TryLock(f); err != nil {
		if errors.Is(err, oslock.ErrHeld) {
			return true, nil
		}
		return false, err
	}
	data, _ := io.ReadAll(f)
	return heldByOlderReconform(data), nil
}

// Unlock releases the lock: the file is removed if it is still ours (a
// force-unlock may have handed it to someone else meanwhile), then the OS
// lock is let go.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	defer func() {
		l.f.Close()
		l.f = nil
	}()
	if !samePath(l.f, l.path) {
		info, _ := readLockAt(l.path)
		if info == nil {
			return nil // removed by a force-unlock
		}
		return fmt.Errorf("the state lock %s now belongs to %s (ID %s); leaving it", l.path, info.Who, info.ID)
	}
	return os.Remove(l.path)
}

func readLockAt(path string) (*LockInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	info := DecodeLockInfo(data)
	return &info, nil
}

// ForceUnlock removes the lock with the given ID. The ID must match, so a
// lock taken since the user looked is never removed by mistake. A lock
// file no live run holds is removed whatever its ID: it blocks nothing,
// and only confuses.
func (st Store) ForceUnlock(id string) error {
	info, err := st.ReadLock()
	if err != nil {
		return err
	}
	if info == nil {
		return fmt.Errorf("the state %s is not locked", st.Path)
	}
	if info.ID != id {
		if held, _ := st.LockHeld(); held {
			return fmt.Errorf("the lock on %s has ID %s, not %s; nothing was removed", st.Path, info.ID, id)
		}
	}
	err = os.Remove(st.LockPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
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
