package main

import (
	"testing"

	"github.com/reconform/reconform/engine/diff"
)

// The generated pair drifts by about the share asked for, in every kind.
func TestGenerateDrift(t *testing.T) {
	old, new := generate(40_000, 1)
	r := diff.Compare(old, new, nil)
	for name, got := range map[string]int{"added": len(r.Added), "removed": len(r.Removed), "changed": len(r.Changed),
		"historical": len(r.WentHistorical) + len(r.BecameCurrent)} {
		if got < 50 || got > 150 {
			t.Errorf("%s: %d of 40,000, want about 100 (0.25%% each)", name, got)
		}
	}
}
