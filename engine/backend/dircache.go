package backend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// DirCache is the local response cache: one file per entry,
// <Dir>/<first two characters of the key>/<key>.json, replaced atomically
// (a temporary file, then a rename).
type DirCache struct {
	Dir string
}

func (c *DirCache) path(key string) (string, error) {
	if len(key) < 2 || filepath.Base(key) != key {
		return "", fmt.Errorf("cache key %q is not a file name", key)
	}
	return filepath.Join(c.Dir, key[:2], key+".json"), nil
}

// Get reads the entry's file.
func (c *DirCache) Get(_ context.Context, key string) ([]byte, bool) {
	p, err := c.path(key)
	if err != nil {
		return nil, false
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	return data, true
}

// Put replaces the entry's file. No fsync: a cache entry lost in a crash
// is a miss.
func (c *DirCache) Put(_ context.Context, key string, entry []byte, _ time.Time) error {
	p, err := c.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(entry); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
