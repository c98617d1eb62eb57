package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/engine/state"
)

// hideLineage replaces the state's random lineage in output.
func hideLineage(t *testing.T, dir, out string) string {
	t.Helper()
	st, err := state.ReadFile(filepath.Join(dir, "acme.rfstate"))
	if err != nil {
		t.Fatal(err)
	}
	out = strings.ReplaceAll(out, st.Lineage, "LINEAGE")
	return strings.ReplaceAll(out, st.Lineage[:8], "LINEAGE")
}

func TestShowVerb(t *testing.T) {
	dir := twoRunDir(t)
	r := runCLI(t, dir, nil, "show", "-state", "acme.rfstate")
	if r.Code != exitOK {
		t.Fatalf("show: %d %s", r.Code, r.Stderr)
	}
	checkGolden(t, "state/show.txt", hideLineage(t, dir, r.Stdout))
	r = runCLI(t, dir, nil, "show", "-state", "acme.rfstate", "1")
	if r.Code != exitOK {
		t.Fatalf("show 1: %d %s", r.Code, r.Stderr)
	}
	checkGolden(t, "state/show_serial1.txt", hideLineage(t, dir, r.Stdout))
	r = runCLI(t, dir, nil, "show", "-json", "acme.rfstate")
	file, _ := os.ReadFile(filepath.Join(dir, "acme.rfstate"))
	if r.Code != exitOK || r.Stdout != string(file) {
		t.Fatalf("show -json is not the state file: %d %s", r.Code, r.Stderr)
	}
	if r := runCLI(t, t.TempDir(), nil, "show"); r.Code != exitError {
		t.Errorf("show without a state: %d", r.Code)
	}
}
