package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const unformatted = "engagement \"acme\" {\ndescription=\"ACME\"\n  max_depth=2\n}\n"
const formatted = "engagement \"acme\" {\n  description = \"ACME\"\n  max_depth   = 2\n}\n"

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFmtCheckWriteIdempotent(t *testing.T) {
	dir := writeTree(t, map[string]string{"main.hcl": unformatted, "ok.hcl": formatted, "notes.txt": unformatted})

	r := runCLI(t, dir, nil, "fmt", "-check")
	if r.Code != exitError || r.Stdout != "main.hcl\n" {
		t.Errorf("-check: code %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if readFile(t, filepath.Join(dir, "main.hcl")) != unformatted {
		t.Fatal("-check changed the file")
	}

	r = runCLI(t, dir, nil, "fmt")
	if r.Code != exitOK || r.Stdout != "main.hcl\n" {
		t.Errorf("fmt: code %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if got := readFile(t, filepath.Join(dir, "main.hcl")); got != formatted {
		t.Errorf("formatted file:\n%s", got)
	}
	if readFile(t, filepath.Join(dir, "notes.txt")) != unformatted {
		t.Error("fmt touched a file that is not *.hcl")
	}

	r = runCLI(t, dir, nil, "fmt")
	if r.Code != exitOK || r.Stdout != "" {
		t.Errorf("second fmt: code %d stdout %q", r.Code, r.Stdout)
	}
	r = runCLI(t, dir, nil, "fmt", "-check", ".")
	if r.Code != exitOK || r.Stdout != "" {
		t.Errorf("-check after fmt: code %d stdout %q", r.Code, r.Stdout)
	}
}

func TestFmtDiff(t *testing.T) {
	dir := writeTree(t, map[string]string{"eng/main.hcl": unformatted + "\n" + formatted + "\nquery \"q\"{\nop=\"x\"\n}\n"})
	r := runCLI(t, dir, nil, "fmt", "-check", "-diff", "eng")
	if r.Code != exitError {
		t.Errorf("code %d", r.Code)
	}
	checkGolden(t, "fmt_diff.txt", r.Stdout)
}

func TestFmtRecursiveAndFile(t *testing.T) {
	files := map[string]string{"a.hcl": unformatted, "sub/b.hcl": unformatted, ".hidden/c.hcl": unformatted}
	dir := writeTree(t, files)
	r := runCLI(t, dir, nil, "fmt", "-check")
	if r.Stdout != "a.hcl\n" {
		t.Errorf("not recursive: %q", r.Stdout)
	}
	r = runCLI(t, dir, nil, "fmt", "-check", "-recursive")
	if r.Stdout != "a.hcl\n"+filepath.Join("sub", "b.hcl")+"\n" {
		t.Errorf("recursive: %q", r.Stdout)
	}
	r = runCLI(t, dir, nil, "fmt", filepath.Join("sub", "b.hcl"))
	if r.Code != exitOK || readFile(t, filepath.Join(dir, "sub", "b.hcl")) != formatted || readFile(t, filepath.Join(dir, "a.hcl")) != unformatted {
		t.Errorf("single file: code %d %q", r.Code, r.Stderr)
	}
	r = runCLI(t, dir, nil, "fmt", "-list=false", "-recursive")
	if r.Code != exitOK || r.Stdout != "" || readFile(t, filepath.Join(dir, "a.hcl")) != formatted {
		t.Errorf("-list=false: code %d %q", r.Code, r.Stdout)
	}
	if readFile(t, filepath.Join(dir, ".hidden", "c.hcl")) != unformatted {
		t.Error("fmt -recursive went into a hidden folder")
	}
}

func TestFmtSyntaxError(t *testing.T) {
	broken := "engagement \"a\" {\n  x = \n"
	dir := writeTree(t, map[string]string{"bad.hcl": broken, "good.hcl": unformatted})
	r := runCLI(t, dir, nil, "fmt", "-no-color")
	if r.Code != exitError || !strings.Contains(r.Stderr, "bad.hcl line 2") {
		t.Errorf("code %d stderr %q", r.Code, r.Stderr)
	}
	if readFile(t, filepath.Join(dir, "bad.hcl")) != broken {
		t.Error("a file with a syntax error was rewritten")
	}
	if readFile(t, filepath.Join(dir, "good.hcl")) != formatted {
		t.Error("the other files should still be formatted")
	}
}

func runWithStdin(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, WorkDir: t.TempDir()}
	code := run(context.Background(), env, args)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

func TestFmtStdin(t *testing.T) {
	r := runWithStdin(t, unformatted, "fmt", "-")
	if r.Code != exitOK || r.Stdout != formatted {
		t.Errorf("code %d stdout %q", r.Code, r.Stdout)
	}
	r = runWithStdin(t, unformatted, "fmt", "-check", "-")
	if r.Code != exitError || r.Stdout != "" {
		t.Errorf("-check: code %d stdout %q", r.Code, r.Stdout)
	}
	r = runWithStdin(t, formatted, "fmt", "-check", "-")
	if r.Code != exitOK {
		t.Errorf("-check formatted: code %d", r.Code)
	}
	r = runWithStdin(t, "a = {", "fmt", "-")
	if r.Code != exitError || r.Stdout != "" || !strings.Contains(r.Stderr, "<stdin>") {
		t.Errorf("syntax error: code %d stdout %q stderr %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestFmtMissingPath(t *testing.T) {
	r := runCLI(t, t.TempDir(), nil, "fmt", "nope.hcl")
	if r.Code != exitError || !strings.Contains(r.Stderr, "nope.hcl") {
		t.Errorf("code %d stderr %q", r.Code, r.Stderr)
	}
}
