// Package atomicfile replaces a file's content so that a reader, or a
// crash, sees either the old content or the new, never half of it.
//
// A temporary file is locked (internal/oslock) from the moment it exists
// until it has been renamed into place, so RemoveStale can tell the
// leftovers of a killed writer from the file of a live one.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/reconform/reconform/internal/oslock"
)

// Options tune Write.
type Options struct {
	// Perm is the new file's permission bits; 0 leaves the temporary
	// file's 0600.
	Perm os.FileMode
	// BeforeRename, when set, runs once the new content is on disk and
	// just before it replaces path (the state keeps the old file in its
	// history there). Its error is returned as is and path is left alone.
	BeforeRename func() error
}

// TempPattern is the name pattern of Write's temporary files for path
// (os.CreateTemp's form: the * is replaced by a random number).
func TempPattern(path string) string { return "." + filepath.Base(path) + ".tmp-*" }

// Write writes path through a temporary file in the same directory:
// write fills it, it is synced, then renamed over path and the directory
// synced. On any error path is untouched and the temporary file removed.
func Write(path string, opts Options, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, TempPattern(path))
	if err != nil {
		return err
	}
	name := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(name)
		}
		tmp.Close()
	}()
	// Held until the file is closed, after the rename: RemoveStale leaves
	// a locked temporary file alone.
	if err := oslock.TryLock(tmp); err != nil {
		return err
	}
	if err := write(tmp); err != nil {
		return err
	}
	if opts.Perm != 0 {
		if err := tmp.Chmod(opts.Perm); err != nil {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if runtime.GOOS == "windows" {
		// Windows renames no open file; it has no OS locks here either.
		if err := tmp.Close(); err != nil {
			return err
		}
	}
	if opts.BeforeRename != nil {
		if err := opts.BeforeRename(); err != nil {
			return err
		}
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	renamed = true
	if err := tmp.Close(); err != nil && runtime.GOOS != "windows" {
		return err
	}
	return SyncDir(dir)
}

// WriteFile is Write for content already in memory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, Options{Perm: perm}, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// StaleAge is how old a temporary file must be before RemoveStale may
// remove it: a writer locks its file the instant it is created, so only a
// file both unlocked and this old can be a dead writer's.
const StaleAge = time.Minute

// RemoveStale removes the temporary files Write left for path when its
// writer was killed before the rename: files of Write's naming that no
// live writer holds and that are older than StaleAge. It returns how many
// it removed. Platforms without OS locks remove nothing.
func RemoveStale(path string) (int, error) {
	if !oslock.Supported {
		return 0, nil
	}
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), TempPattern(path)))
	if err != nil {
		return 0, err
	}
	prefix := strings.TrimSuffix(TempPattern(path), "*")
	removed := 0
	var errs []error
	for _, m := range matches {
		suffix := strings.TrimPrefix(filepath.Base(m), prefix)
		if suffix == "" || strings.Trim(suffix, "0123456789") != "" {
			continue // not a name os.CreateTemp makes from our pattern
		}
		ok, err := removeIfStale(m)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

func removeIfStale(name string) (bool, error) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || time.Since(fi.ModTime()) < StaleAge {
		return false, err
	}
	if err := oslock.TryLock(f); err != nil {
		if errors.Is(err, oslock.ErrHeld) {
			return false, nil // a live writer's
		}
		return false, err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("removing a stale temporary file: %w", err)
	}
	return true, nil
}

// SyncDir makes a rename or link in dir durable. File systems that
// cannot sync a directory are not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// RemoveStaleIn removes the temporary files Write left in dir for any
// file whose name ends with suffix, when their writers were killed: as
// RemoveStale, for a folder of files whose names are not known ahead
// (history entries).
func RemoveStaleIn(dir, suffix string) (int, error) {
	if !oslock.Supported {
		return 0, nil
	}
	matches, err := filepath.Glob(filepath.Join(dir, ".*"+suffix+".tmp-*"))
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	for _, m := range matches {
		_, tail, ok := strings.Cut(filepath.Base(m), suffix+".tmp-")
		if !ok || tail == "" || strings.Trim(tail, "0123456789") != "" {
			continue
		}
		ok, err := removeIfStale(m)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}
