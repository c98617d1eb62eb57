package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
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

func TestRemoveStaleOnlyTakesDeadWritersOldFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.rfstate")
	old := time.Now().Add(-2 * StaleAge)
	mk := func(name string, age time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, age, age)
		return p
	}
	dead := mk(".s.rfstate.tmp-123", old)
	young := mk(".s.rfstate.tmp-456", time.Now())
	notOurs := mk(".s.rfstate.tmp-x1", old)
	other := mk(".t.rfstate.tmp-789", old)
	// A live writer: its temp file is locked while it writes.
	live, cleaned := make(chan struct{}), make(chan struct{})
	released := make(chan error, 1)
	known := map[string]bool{dead: true, young: true, notOurs: true}
	go func() {
		released <- Write(path, Options{BeforeRename: func() error {
			tmps, _ := filepath.Glob(filepath.Join(dir, ".s.rfstate.tmp-*"))
			for _, p := range tmps {
				if !known[p] {
					os.Chtimes(p, old, old) // old enough, but locked
				}
			}
			close(live)
			<-cleaned
			return nil
		}}, func(w io.Writer) error { _, err := w.Write([]byte("new")); return err })
	}()
	<-live
	n, err := RemoveStale(path)
	if err != nil {
		t.Fatal(err)
	}
	// The writer's own file was made old too, but it is locked: kept.
	if n != 1 {
		t.Errorf("removed %d files, want 1", n)
	}
	close(cleaned)
	if err := <-released; err != nil {
		t.Fatalf("the live writer lost its file: %v", err)
	}
	for p, want := range map[string]bool{dead: false, young: true, notOurs: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Errorf("content %q", got)
	}
}
