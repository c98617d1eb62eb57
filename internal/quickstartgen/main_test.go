package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedDatasetIsCurrent fails when the generator and the committed
// quickstart data disagree; regenerate with
// go run ./internal/quickstartgen -out examples/quickstart/data
func TestCommittedDatasetIsCurrent(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Files()
	for name, want := range files {
		if !bytes.Equal(want, again[name]) {
			t.Errorf("%s: the generator is not deterministic", name)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", "data", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("examples/quickstart/data/%s is stale: run go run ./internal/quickstartgen", name)
		}
	}
}
