package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// cliResult is what one in-process run of the CLI printed.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs reconform in-process with dir as the working directory and
// environ as the whole environment (nothing from the test process leaks
// in). Relative paths in args resolve against dir.
func runCLI(t *testing.T, dir string, environ []string, args ...string) cliResult {
	t.Helper()
	return runCLIInput(t, dir, environ, "", args...)
}

// runCLIInput is runCLI with stdin as the standard input.
func runCLIInput(t *testing.T, dir string, environ []string, stdin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{
		Stdin:   strings.NewReader(stdin),
		Stdout:  &stdout,
		Stderr:  &stderr,
		Environ: environ,
		WorkDir: dir,
	}
	code := run(context.Background(), env, args)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// checkGolden compares got with testdata/golden/<name>, or rewrites it
// with -update.
func checkGolden(t *testing.T, name string, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func TestUsageListsCommands(t *testing.T) {
	r := runCLI(t, t.TempDir(), nil, "-help")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "version") {
		t.Fatalf("help: code %d, stdout %q", r.Code, r.Stdout)
	}
	r = runCLI(t, t.TempDir(), nil, "no-such-verb")
	if r.Code != exitError || !strings.Contains(r.Stderr, "unknown command") {
		t.Fatalf("unknown verb: code %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestEveryVerbHasHelp(t *testing.T) {
	for name, c := range commands {
		t.Run(name, func(t *testing.T) {
			if !strings.HasPrefix(strings.TrimSpace(c.Usage), "Usage: reconform "+name) {
				t.Errorf("usage of %s does not start with its synopsis line: %q", name, c.Usage)
			}
			r := runCLI(t, t.TempDir(), nil, name, "-help")
			if r.Code != exitOK || r.Stdout == "" {
				t.Errorf("%s -help: code %d, stdout %q, stderr %q", name, r.Code, r.Stdout, r.Stderr)
			}
		})
	}
}

// Every verb accepts -no-color (scripts pass it to all of them).
func TestEveryVerbAcceptsNoColor(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			args := []string{name, "-no-color", "-help"}
			if name == "state" {
				args = []string{name, "list", "-no-color", "-help"}
			}
			r := runCLI(t, t.TempDir(), nil, args...)
			if r.Code != exitOK || strings.Contains(r.Stderr, "flag provided but not defined") {
				t.Errorf("%s -no-color: code %d, stderr %q", name, r.Code, r.Stderr)
			}
		})
	}
	r := runCLI(t, t.TempDir(), nil, "version", "-no-color")
	if r.Code != exitOK {
		t.Errorf("version -no-color: code %d, stderr %q", r.Code, r.Stderr)
	}
}
