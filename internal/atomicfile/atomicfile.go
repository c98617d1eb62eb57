// Package atomicfile replaces a file's content so that a reader, or a
// crash, sees either the old content or the new, never half of it.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// Write writes path through a temporary file in the same directory:
// write fills it, it is synced and closed, then renamed over path and the
// directory synced. On any error path is untouched and the temporary
// file removed.
func Write(path string, opts Options, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(name)
		}
	}()
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
	if err := tmp.Close(); err != nil {
		return err
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
	return SyncDir(dir)
}

// WriteFile is Write for content already in memory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, Options{Perm: perm}, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
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
