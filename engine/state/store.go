package state

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/internal/oslock"
	"github.com/reconform/reconform/schema"
)

// Store is a state file on disk with its history and lock beside it:
// <dir>/<name> and <dir>/.reconform/{history/,<name>.lock}.
type Store struct {
	Path string
}

// MetaDir is the .reconform directory beside the state.
func (st Store) MetaDir() string { return filepath.Join(filepath.Dir(st.Path), ".reconform") }

// HistoryDir holds every replaced state.
func (st Store) HistoryDir() string { return filepath.Join(st.MetaDir(), "history") }

// Read reads the current state; (nil, nil) when there is none yet.
func (st Store) Read() (*State, error) {
	s, err := ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return s, err
}

// Write replaces the state with next, which must have been built from
// prev (nil for a first write; prev is what Read returned under the lock).
// It sets next's lineage (kept from prev, made once otherwise) and serial
// (prev's + 1), except when next's content equals what is on disk: then
// nothing is written and written is false. The replaced file is kept in
// history. The write is atomic: a crash at any point leaves either the
// previous state or the new one, never a mix.
func (st Store) Write(prev, next *State) (written bool, err error) {
	return st.WriteWith(prev, next, WriteOptions{})
}

// WriteOptions tune WriteWith.
type WriteOptions struct {
	// Exact keeps next's own serial and lineage (state push, a migration)
	// instead of moving them on from prev's; a missing lineage is made.
	Exact bool
	// Keep prunes the history after the write (zero: keep everything);
	// a failure to prune is a *PruneError, with the state written.
	Keep schema.HistoryKeep
	// Now is when the write happens, for the history (zero: the clock).
	Now time.Time
	// BeforeRename runs once the new state is on disk and checked, just
	// before it replaces the old one, under the write lock; next's serial
	// is final by then. What a commit writes beside the state goes here:
	// if it fails, nothing is replaced.
	BeforeRename func(next *State) error
}

// WriteWith is Write with options.
//
// Whether the file is still the one prev was read from is checked at the
// rename, under a short OS lock on .reconform/<state>.write-lock that
// every writer takes for its check and rename: two runs started with
// -lock=false can both encode, but only the first to rename wins; the
// other is refused, its state unwritten, never silently lost.
func (st Store) WriteWith(prev, next *State, opts WriteOptions) (written bool, err error) {
	next.FormatVersion = FormatVersion
	// Leftovers of writers killed before their rename; a failure to
	// remove them costs disk space, not this write.
	atomicfile.RemoveStale(st.Path)
	TakeIdentity(prev, next, opts.Exact)
	if prev != nil {
		if err := st.unchangedSince(prev); err != nil {
			return false, err
		}
		same, err := st.sameAsDisk(next)
		if err != nil {
			return false, err
		}
		if same {
			return false, nil
		}
		if !opts.Exact {
			next.Serial = prev.Serial + 1
		}
	}
	if err := os.MkdirAll(st.MetaDir(), 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", st.MetaDir(), err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	hw, err := st.prepareHistory(prev, next, now)
	if err != nil {
		return false, err
	}
	defer hw.stop()
	if err := st.writeAtomic(next, prev, hw, opts.BeforeRename); err != nil {
		return false, err
	}
	if !opts.Keep.KeepsAll() {
		if _, err := st.Prune(opts.Keep, now); err != nil {
			return true, &PruneError{Err: err}
		}
	}
	return true, nil
}

// TakeIdentity gives next, about to replace prev (nil: none), its lineage
// and serial before a write: prev's (the serial moves on by one only once
// the content is known to differ), or a new lineage at serial 1 for a
// first state; with exact, next's own (a missing lineage made, serial at
// least 1). Every backend writes by this rule.
func TakeIdentity(prev, next *State, exact bool) {
	switch {
	case exact:
		if next.Lineage == "" {
			next.Lineage = uuid.NewString()
		}
		if next.Serial == 0 {
			next.Serial = 1
		}
	case prev != nil:
		next.Lineage, next.Serial = prev.Lineage, prev.Serial
	default:
		next.Lineage, next.Serial = uuid.NewString(), 1
	}
}

// WriteLockPath is the file whose OS lock writers hold around their check
// and rename.
func (st Store) WriteLockPath() string {
	return filepath.Join(st.MetaDir(), filepath.Base(st.Path)+".write-lock")
}

// unchangedSince checks that the file on disk is still the one prev was
// read from (prev nil: that there is still no file), so a write never
// silently discards another run's state.
func (st Store) unchangedSince(prev *State) error {
	now, err := os.Stat(st.Path)
	if prev == nil {
		if err == nil {
			return fmt.Errorf("refusing to overwrite %s: it appeared after the previous state was read, probably by a run started with -lock=false; nothing was written, run again", st.Path)
		}
		return nil
	}
	if prev.disk == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !os.SameFile(now, prev.disk) || !now.ModTime().Equal(prev.disk.ModTime()) || now.Size() != prev.disk.Size() {
		return fmt.Errorf("refusing to write %s: it changed since it was read (serial %d), probably by a run started with -lock=false; nothing was written, run again", st.Path, prev.Serial)
	}
	return nil
}

// sameAsDisk reports whether next encodes to the bytes of the current
// file. The encoding is compared as it is produced and stops at the first
// difference, so a changed state costs little here.
func (st Store) sameAsDisk(next *State) (bool, error) {
	f, err := os.Open(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	cw := &compareWriter{r: bufio.NewReaderSize(f, 1<<16)}
	err = Encode(cw, next)
	if errors.Is(err, errDiffers) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if cw.err != nil {
		return false, cw.err
	}
	_, err = cw.r.ReadByte()
	return err == io.EOF, nil // equal only if the file has nothing more
}

var errDiffers = errors.New("differs")

// compareWriter compares what is written with what r holds.
type compareWriter struct {
	r   *bufio.Reader
	buf []byte
	err error
}

func (c *compareWriter) Write(p []byte) (int, error) {
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	b := c.buf[:len(p)]
	if _, err := io.ReadFull(c.r, b); err != nil {
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			c.err = err
		}
		return 0, errDiffers
	}
	if !bytes.Equal(b, p) {
		return 0, errDiffers
	}
	return len(p), nil
}

// testHookAfterEntry runs between the history entry's write and the
// state's rename (a test crashes the process there).
var testHookAfterEntry func()

func (st Store) writeAtomic(next, prev *State, hw *historyWriter, before func(*State) error) error {
	var wl *os.File
	defer func() {
		if wl != nil {
			wl.Close() // releases the write lock, after the rename
		}
	}()
	var checkErr error
	err := atomicfile.Write(st.Path, atomicfile.Options{
		Perm: 0o644,
		BeforeRename: func() error {
			f, err := os.OpenFile(st.WriteLockPath(), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				checkErr = fmt.Errorf("taking the write lock: %w", err)
				return checkErr
			}
			wl = f
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := oslock.Wait(ctx, f); err != nil {
				checkErr = fmt.Errorf("taking the write lock %s: %w", st.WriteLockPath(), err)
				return checkErr
			}
			if checkErr = st.unchangedSince(prev); checkErr != nil {
				return checkErr
			}
			if before != nil {
				if checkErr = before(next); checkErr != nil {
					return checkErr
				}
			}
			// The new state's history entry, last before the state
			// replaces the old one: a crash between the two leaves an
			// entry past the current serial, which the history does not
			// list and the next commit supersedes.
			if checkErr = hw.finish(); checkErr == nil {
				checkErr = hw.commit()
			}
			if checkErr == nil && testHookAfterEntry != nil {
				testHookAfterEntry()
			}
			if checkErr != nil {
				checkErr = fmt.Errorf("writing the history: %w", checkErr)
			}
			return checkErr
		},
	}, func(w io.Writer) error { return Encode(io.MultiWriter(w, hw), next) })
	if checkErr != nil {
		return checkErr
	}
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}
