package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/engine/state"
)

func TestStateListShow(t *testing.T) {
	dir := twoRunDir(t)
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"list", []string{"state", "list", "-state", "acme.rfstate"}, "state/list.txt"},
		{"list type", []string{"state", "list", "-state", "acme.rfstate", "-type", "a"}, "state/list_a.txt"},
		{"list name", []string{"state", "list", "-state", "acme.rfstate", "-name", "www.*"}, "state/list_www.txt"},
		{"list unverified", []string{"state", "list", "-state", "acme.rfstate", "-unverified"}, "state/list_unverified.txt"},
		{"show id words", []string{"state", "show", "-state", "acme.rfstate", "mail.acme.example", "A", "203.0.113.25"}, "state/show_mail.txt"},
		{"show id quoted", []string{"state", "show", "-state", "acme.rfstate", "mail.acme.example A 203.0.113.25"}, "state/show_mail.txt"},
		{"show name", []string{"state", "show", "-state", "acme.rfstate", "WWW.acme.example."}, "state/show_www.txt"},
		{"show json", []string{"state", "show", "-json", "-state", "acme.rfstate", "www.acme.example", "A"}, "state/show_www.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, dir, nil, tc.args...)
			if r.Code != exitOK {
				t.Fatalf("code %d: %s", r.Code, r.Stderr)
			}
			checkGolden(t, tc.golden, r.Stdout)
		})
	}
	if r := runCLI(t, dir, nil, "state", "show", "-state", "acme.rfstate", "nothing.example"); r.Code != exitError {
		t.Errorf("show of a missing finding: %d", r.Code)
	}
	if r := runCLI(t, dir, nil, "state", "frobnicate"); r.Code != exitError {
		t.Errorf("unknown subcommand: %d", r.Code)
	}
}

func TestStateRm(t *testing.T) {
	dir := twoRunDir(t)
	path := filepath.Join(dir, "acme.rfstate")
	before, _ := os.ReadFile(path)
	r := runCLI(t, dir, nil, "state", "rm", "-state", "acme.rfstate", "new.acme.example A 203.0.113.20", "nothing.example A 1.2.3.4")
	if r.Code != exitError {
		t.Fatalf("rm with a missing ID: %d", r.Code)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatalf("a failed rm changed the state")
	}
	r = runCLI(t, dir, nil, "state", "rm", "-state", "acme.rfstate", "new.acme.example", "a", "203.0.113.20")
	if r.Code != exitOK {
		t.Fatalf("rm: %d %s", r.Code, r.Stderr)
	}
	st, err := state.ReadFile(path)
	if err != nil || st.Serial != 3 || st.FindingByID("new.acme.example A 203.0.113.20") != nil || len(st.Findings) != 4 {
		t.Fatalf("after rm: %v serial %d, %d findings", err, st.Serial, len(st.Findings))
	}
	hist, _ := state.Store{Path: path}.History()
	if len(hist) != 2 || hist[1].Serial != 2 {
		t.Fatalf("history after rm: %+v", hist)
	}
	var kept strings.Builder
	if err := (state.Store{Path: path}).HistoryText(&kept, hist[1]); err != nil || kept.String() != string(before) {
		t.Errorf("history does not hold the state before rm")
	}
	// The diff of the last change is the removal.
	r = runCLI(t, dir, nil, "diff", "-state", "acme.rfstate", "-no-color")
	if !strings.Contains(r.Stdout, "- new.acme.example A 203.0.113.20") {
		t.Errorf("diff after rm:\n%s", r.Stdout)
	}
	// rm waits for nobody: a held lock refuses it.
	l, _ := state.Store{Path: path}.AcquireLock(context.Background(), "apply", "test", 0)
	defer l.Unlock()
	r = runCLI(t, dir, nil, "state", "rm", "-state", "acme.rfstate", "www.acme.example A 198.51.100.7")
	if r.Code != exitError || !strings.Contains(r.Stderr, "locked") {
		t.Errorf("rm under a lock: %d %s", r.Code, r.Stderr)
	}
}

func TestForceUnlock(t *testing.T) {
	dir := t.TempDir()
	st := state.Store{Path: filepath.Join(dir, "reconform.rfstate")}
	l, err := st.AcquireLock(context.Background(), "apply", "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, dir, nil, "force-unlock", "-force", "not-the-id"); r.Code != exitError || !strings.Contains(r.Stderr, l.Info.ID) {
		t.Errorf("wrong ID: %d %s", r.Code, r.Stderr)
	}
	// A wrong ID is refused before any question.
	if r := runCLI(t, dir, nil, "force-unlock", "not-the-id"); r.Code != exitError || !strings.Contains(r.Stderr, l.Info.ID) || strings.Contains(r.Stdout, "Only 'yes'") {
		t.Errorf("wrong ID without -force: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// Without a terminal and without -force it refuses, saying how.
	if r := runCLI(t, dir, nil, "force-unlock", l.Info.ID); r.Code != exitError || !strings.Contains(r.Stderr, "-force") {
		t.Errorf("no terminal: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// On a terminal it asks; an empty answer cancels.
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader("\n"), Stdout: &stdout, Stderr: &stderr, WorkDir: dir, StdinTerminal: true}
	if code := run(context.Background(), env, []string{"force-unlock", l.Info.ID}); code != exitError || !strings.Contains(stdout.String(), "cancelled") {
		t.Errorf("unconfirmed: %d %s", code, stdout.String())
	}
	if r := runCLI(t, dir, nil, "force-unlock", "-force", l.Info.ID); r.Code != exitOK {
		t.Errorf("force-unlock: %d %s", r.Code, r.Stderr)
	}
	if info, _ := st.ReadLock(); info != nil {
		t.Errorf("still locked")
	}
	if r := runCLI(t, dir, nil, "force-unlock", "-force", l.Info.ID); r.Code != exitError || !strings.Contains(r.Stderr, "not locked") {
		t.Errorf("not locked: %d %s", r.Code, r.Stderr)
	}
}

func TestStateListMissingFolder(t *testing.T) {
	r := runCLI(t, t.TempDir(), nil, "state", "list", "no-such-folder")
	if r.Code != exitError || !strings.Contains(r.Stderr, "there is no folder no-such-folder") {
		t.Errorf("code %d, stderr %q", r.Code, r.Stderr)
	}
}
