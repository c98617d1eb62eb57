package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWithMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("content %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	assertOnly(t, dir, "f")
}

func TestWriteFailureLeavesOld(t *testing.T) {
	boom := errors.New("boom")
	for name, opts := range map[string]struct {
		opts  Options
		write func(io.Writer) error
	}{
		"write":        {write: func(io.Writer) error { return boom }},
		"beforeRename": {opts: Options{BeforeRename: func() error { return boom }}, write: func(w io.Writer) error { _, err := w.Write([]byte("new")); return err }},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := Write(path, opts.opts, opts.write); !errors.Is(err, boom) {
				t.Fatalf("err %v, want boom", err)
			}
			if got, _ := os.ReadFile(path); string(got) != "old" {
				t.Errorf("content %q, want old", got)
			}
			assertOnly(t, dir, "f")
		})
	}
}

func assertOnly(t *testing.T, dir, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		t.Errorf("directory holds %v, want only %s (temporary file left behind?)", entries, name)
	}
}
