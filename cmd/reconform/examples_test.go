package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExamplesValidate checks every engagement under examples/: it must
// validate with no keys in the environment, and be formatted canonically.
func TestExamplesValidate(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(root, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			r := runCLI(t, ".", nil, "validate", "-no-color", dir)
			if r.Code != exitOK {
				t.Errorf("validate %s: exit %d\nstdout:\n%s\nstderr:\n%s", dir, r.Code, r.Stdout, r.Stderr)
			}
			r = runCLI(t, ".", nil, "fmt", "-check", dir)
			if r.Code != exitOK {
				t.Errorf("fmt -check %s: exit %d: %s%s", dir, r.Code, r.Stdout, r.Stderr)
			}
		})
	}
	if n < 6 {
		t.Errorf("found %d examples, want the quickstart and one per seed provider", n)
	}
}
