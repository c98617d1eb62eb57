package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitScaffoldsARunnableEngagement(t *testing.T) {
	work := t.TempDir()
	r := runCLI(t, work, nil, "init", "-domain", "Contoso.Example", "My Engagement")
	if r.Code != exitOK {
		t.Fatalf("init: exit %d: %s", r.Code, r.Stderr)
	}
	dir := filepath.Join(work, "My Engagement")
	for _, f := range []string{"main.hcl", "data/sample.csv", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("init did not write %s: %v", f, err)
		}
	}
	hcl, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	if !strings.Contains(string(hcl), `engagement "my-engagement"`) || !strings.Contains(string(hcl), `"contoso.example"`) {
		t.Errorf("main.hcl does not use the name and domain:\n%s", hcl)
	}
	if r := runCLI(t, work, nil, "validate", "My Engagement"); r.Code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := runCLI(t, work, nil, "fmt", "-check", "My Engagement"); r.Code != exitOK {
		t.Errorf("the starter is not canonically formatted: %s%s", r.Stdout, r.Stderr)
	}
	r = runCLI(t, work, nil, "apply", "-auto-approve", "My Engagement")
	if r.Code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "vpn.contoso.example") && !strings.Contains(r.Stdout, "Findings:") {
		t.Errorf("apply found nothing:\n%s", r.Stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "my-engagement.rfstate")); err != nil {
		t.Errorf("no state written: %v", err)
	}
}

func TestInitNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	mine := []byte("# my own engagement\n")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), mine, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "init")
	if r.Code != exitError || !strings.Contains(r.Stderr, "main.hcl") || !strings.Contains(r.Stderr, "never overwrites") {
		t.Fatalf("init over an existing main.hcl: exit %d, stderr %q", r.Code, r.Stderr)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "main.hcl"))
	if string(got) != string(mine) {
		t.Errorf("main.hcl was changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "sample.csv")); err == nil {
		t.Errorf("init wrote some files before refusing")
	}
}

func TestInitRejectsBadArguments(t *testing.T) {
	if r := runCLI(t, t.TempDir(), nil, "init", "-domain", "not a domain"); r.Code != exitError {
		t.Errorf("bad domain: exit %d", r.Code)
	}
	if r := runCLI(t, t.TempDir(), nil, "init", "a", "b"); r.Code != exitError {
		t.Errorf("two folders: exit %d", r.Code)
	}
}
