package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStateHistory(t *testing.T) {
	dir := twoRunDir(t)
	r := runCLI(t, dir, nil, "state", "history", "-state", "acme.rfstate", "-json")
	if r.Code != exitOK {
		t.Fatalf("state history -json: %d %s", r.Code, r.Stderr)
	}
	var out struct {
		Entries []historyJSON `json:"entries"`
		Bytes   int64         `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	e := out.Entries
	if len(e) != 2 || e[0].Serial != 1 || e[0].Kind != "snapshot" || e[1].Kind != "delta" || !e[1].Current || e[0].Current ||
		e[1].Added == nil || *e[1].Added+*e[1].Changed+*e[1].Removed == 0 || out.Bytes != e[0].Bytes+e[1].Bytes || e[0].Time == nil {
		t.Fatalf("entries: %s", r.Stdout)
	}
	r = runCLI(t, dir, nil, "state", "history", "-state", "acme.rfstate")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "delta (current)") || !strings.Contains(r.Stdout, "2 states kept in") {
		t.Fatalf("state history: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// No state: an error saying so; -json: an empty list.
	empty := t.TempDir()
	if r := runCLI(t, empty, nil, "state", "history", "-state", "none.rfstate"); r.Code != exitError || !strings.Contains(r.Stderr, "no state") {
		t.Fatalf("no state: %d %s", r.Code, r.Stderr)
	}
}

// TestHistoryKeepPrunesOnApply: the quickstart applied four times with
// history_keep = 2 keeps the current state and two before it, each
// rebuildable, and diff -serial compares the oldest with the current.
func TestHistoryKeepPrunesOnApply(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, dir, nil, "init", "qs"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	p := filepath.Join(dir, "qs", "main.hcl")
	src, _ := os.ReadFile(p)
	i := strings.Index(string(src), "{\n")
	os.WriteFile(p, []byte(string(src[:i+2])+"  history_keep = 2\n"+string(src[i+2:])), 0o644)
	for n := 0; n < 4; n++ {
		// -refresh: every apply a new run (not the cache's answers), so
		// every apply writes a new serial.
		if r := runCLI(t, dir, nil, "apply", "-auto-approve", "-refresh", "qs"); r.Code != exitOK {
			t.Fatalf("apply %d: %s", n, r.Stderr)
		}
	}
	r := runCLI(t, dir, nil, "state", "history", "-json", "qs")
	var out struct{ Entries []historyJSON }
	json.Unmarshal([]byte(r.Stdout), &out)
	if len(out.Entries) != 3 || out.Entries[0].Serial != 2 || out.Entries[0].Kind != "snapshot" || !out.Entries[2].Current {
		t.Fatalf("history after 4 applies keeping 2: %s %s", r.Stdout, r.Stderr)
	}
	for _, s := range []string{"2", "3"} {
		if r := runCLI(t, dir, nil, "show", "-json", s, "qs"); r.Code != exitOK || !json.Valid([]byte(r.Stdout)) {
			t.Fatalf("show %s: %d %s", s, r.Code, r.Stderr)
		}
	}
	if r := runCLI(t, dir, nil, "diff", "-serial", "2", "-serial", "4", "-json", "qs"); r.Code != exitOK || !json.Valid([]byte(r.Stdout)) {
		t.Fatalf("diff -serial 2 -serial 4: %d %s", r.Code, r.Stderr)
	}
	if r := runCLI(t, dir, nil, "show", "1", "qs"); r.Code != exitError || !strings.Contains(r.Stderr, "no state with serial 1") {
		t.Fatalf("show of a pruned serial: %d %s", r.Code, r.Stderr)
	}
}
