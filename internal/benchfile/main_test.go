package main

import (
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/internal/fdnsgen"
)

// TestPhasesOnATinyFile runs every measured phase in-process on a small
// generated dump; the real benchmark is go run ./internal/benchfile.
func TestPhasesOnATinyFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "fdns.json.gz")
	if err := fdnsgen.WriteFile(data, fdnsgen.Options{Lines: 3000, Seed: 5}, true); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, ".reconform")
	for _, phase := range []string{"gunzip", "kgunzip", "build", "persist", "reuse"} {
		r, err := runPhase(phase, data, work)
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		if phase != "gunzip" && phase != "kgunzip" && r.Lines != 3000 {
			t.Errorf("%s: %d lines", phase, r.Lines)
		}
	}
}
