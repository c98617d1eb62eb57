package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedDatasetIsCurrent fails when the generator and the committed
// fleet data disagree; regenerate with
// go run ./internal/fleetgen -out examples/fleet/data
func TestCommittedDatasetIsCurrent(t *testing.T) {
	files, again := Files(), Files()
	for name, want := range files {
		if !bytes.Equal(want, again[name]) {
			t.Errorf("%s: the generator is not deterministic", name)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", "examples", "fleet", "data", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("examples/fleet/data/%s is stale: run go run ./internal/fleetgen", name)
		}
	}
}
