package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffVerb(t *testing.T) {
	dir := twoRunDir(t)
	// The engagement names its state; the verbs find it without loading
	// the rest of the configuration.
	os.WriteFile(filepath.Join(dir, "acme.hcl"), []byte(`engagement "acme" {
  state = "acme.rfstate"
}
`), 0o644)
	tests := []struct {
		name   string
		args   []string
		golden string
		code   int
	}{
		{"default: newest history vs current", []string{"diff", "-no-color"}, "state/diff.txt", exitOK},
		{"serials", []string{"diff", "-no-color", "1", "2"}, "state/diff.txt", exitOK},
		{"serial and current", []string{"diff", "-no-color", "1", "current"}, "state/diff.txt", exitOK},
		{"paths", []string{"diff", "-no-color", ".reconform/history/000001-" + lineagePrefix(t, dir) + ".rfstate", "acme.rfstate"}, "state/diff.txt", exitOK},
		{"detailed exit code", []string{"diff", "-detailed-exitcode", "-no-color"}, "state/diff.txt", exitDrift},
		{"json", []string{"diff", "-json"}, "state/diff.json", exitOK},
		{"markdown", []string{"diff", "-markdown"}, "state/diff.md", exitOK},
		{"reverse", []string{"diff", "-no-color", "2", "1"}, "state/diff_reverse.txt", exitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, dir, nil, tc.args...)
			if r.Code != tc.code {
				t.Fatalf("code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.Code, tc.code, r.Stdout, r.Stderr)
			}
			checkGolden(t, tc.golden, hideLineage(t, dir, r.Stdout))
		})
	}
	// The DIR as a trailing argument or -chdir, from elsewhere.
	parent := filepath.Dir(dir)
	for _, args := range [][]string{{"diff", "-no-color", filepath.Base(dir)}, {"diff", "-no-color", "-chdir", filepath.Base(dir)}} {
		r := runCLI(t, parent, nil, args...)
		if r.Code != exitOK {
			t.Fatalf("%v: %d %s", args, r.Code, r.Stderr)
		}
		checkGolden(t, "state/diff.txt", r.Stdout)
	}
}

func lineagePrefix(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".reconform", "history", "000001-*.rfstate"))
	if len(m) != 1 {
		t.Fatalf("history: %v", m)
	}
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m[0]), "000001-"), ".rfstate")
}

func TestDiffVerbErrors(t *testing.T) {
	empty := t.TempDir()
	if r := runCLI(t, empty, nil, "diff"); r.Code != exitError || !strings.Contains(r.Stderr, "no state") {
		t.Errorf("no state: %d %q", r.Code, r.Stderr)
	}
	one := t.TempDir()
	commitRun(t, one, firstRun(), &stateOptions{Lock: true})
	os.Rename(filepath.Join(one, "acme.rfstate"), filepath.Join(one, "reconform.rfstate"))
	if r := runCLI(t, one, nil, "diff"); r.Code != exitOK || !strings.Contains(r.Stdout, "Only one state so far") {
		t.Errorf("one state: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// -json with one state is still JSON: the report of a first run.
	if r := runCLI(t, one, nil, "diff", "-json"); r.Code != exitOK || !json.Valid([]byte(r.Stdout)) || !strings.Contains(r.Stdout, `"old": null`) {
		t.Errorf("one state, -json: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	dir := twoRunDir(t)
	for _, args := range [][]string{
		{"diff", "-state", "acme.rfstate", "9"},
		{"diff", "-state", "acme.rfstate", "nosuchfile"},
		{"diff", "-json", "-markdown"},
		{"diff", "-state", "acme.rfstate", "1", "2", "3"},
	} {
		r := runCLI(t, dir, nil, args...)
		errs := r.Stderr
		if wantsJSON(args) { // with -json the error comes as JSON on stdout
			errs = r.Stdout
			if !strings.Contains(r.Stdout, `"type":"diagnostics"`) || r.Stderr != "" {
				errs = ""
			}
		}
		if r.Code != exitError || errs == "" {
			t.Errorf("%v: code %d, stdout %q, stderr %q", args, r.Code, r.Stdout, r.Stderr)
		}
	}
}

// TestDiffIgnoreRules loads the engagement for its ignore rules.
func TestDiffIgnoreRules(t *testing.T) {
	dir := twoRunDir(t)
	os.WriteFile(filepath.Join(dir, "acme.hcl"), []byte(`engagement "acme" {
  state = "acme.rfstate"
  ignore {
    name   = "new.acme.example"
    reason = "a test host that comes and goes"
  }
}

provider "crtsh" {}

query "names" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = ["acme.example"]
}
`), 0o644)
	r := runCLI(t, dir, nil, "diff", "-no-color")
	if r.Code != exitOK || strings.Contains(r.Stdout, "new.acme.example") || !strings.Contains(r.Stdout, "2 ignored by rules") {
		t.Fatalf("code %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
}
