package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeCommands returns the reconform commands of a README, in order: the
// indented lines "go run ./cmd/reconform ARGS", split into ARGS.
func readmeCommands(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\s+go run \./cmd/reconform (.+)$`)
	var cmds [][]string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		cmds = append(cmds, strings.Fields(m[1]))
	}
	return cmds
}

// copyExample copies an example folder, leaving out state and .reconform.
func copyExample(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".reconform" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasSuffix(path, ".rfstate") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestQuickstartREADME runs the quickstart README's commands word for word
// on a copy of the example, so that they cannot rot: the first apply
// builds the state, the second prints the month's drift.
func TestQuickstartREADME(t *testing.T) {
	repo := filepath.Join("..", "..")
	cmds := readmeCommands(t, filepath.Join(repo, "examples", "quickstart", "README.md"))
	if len(cmds) < 2 || cmds[0][0] != "apply" || cmds[1][0] != "apply" {
		t.Fatalf("the README should start with two apply commands, found %q", cmds)
	}
	// The drift is about facts too: use the real analysis, not the facts
	// the state tests pin.
	pinned := deriveFacts
	deriveFacts = nil
	t.Cleanup(func() { deriveFacts = pinned })

	work := t.TempDir()
	copyExample(t, filepath.Join(repo, "examples", "quickstart"), filepath.Join(work, "examples", "quickstart"))

	first := runCLI(t, work, nil, cmds[0]...)
	if first.Code != exitOK {
		t.Fatalf("%q: exit %d\nstdout:\n%s\nstderr:\n%s", cmds[0], first.Code, first.Stdout, first.Stderr)
	}
	second := runCLI(t, work, nil, cmds[1]...)
	if second.Code != exitOK {
		t.Fatalf("%q: exit %d\nstdout:\n%s\nstderr:\n%s", cmds[1], second.Code, second.Stdout, second.Stderr)
	}
	for _, want := range []string{
		"sso.northwind.example A 203.0.113.23",              // a new host
		"northwind.example A: 203.0.113.10 -> 203.0.113.40", // the IP move
		"northwind-example.mail.protection.outlook.com",     // the new MX
		"mail_provider: google-workspace -> microsoft-365",
		"dmarc_policy: reject -> none",
		"MS=ms84523197", // a new SaaS token
		"saas = docusign",
		"legacy.northwind.example A 192.0.2.50", // the removed host
		"went historical",
	} {
		if !strings.Contains(second.Stdout, want) {
			t.Errorf("the drift report does not show %q:\n%s", want, second.Stdout)
		}
	}
	if strings.Contains(first.Stdout, "Drift of") {
		t.Errorf("the first run has nothing to drift from:\n%s", first.Stdout)
	}

	// Shared-hosting neighbours and the out-of-scope sibling are reported
	// but never pivoted from.
	b, err := os.ReadFile(filepath.Join(work, "examples", "quickstart", "reconform.rfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Instances []struct {
			Key    string `json:"key"`
			Status string `json:"status"`
		} `json:"instances"`
		Findings []struct {
			Name string `json:"name"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range st.Findings {
		names[f.Name] = true
	}
	if !names["bakery-10.example"] || !names["northwind-labs.example"] {
		t.Errorf("the neighbours and the sibling domain should be findings")
	}
	for _, in := range st.Instances {
		if in.Status == "ok" && (strings.Contains(in.Key, "bakery-10.example") || strings.Contains(in.Key, "northwind-labs.example")) {
			t.Errorf("pivoted from an out-of-scope name: %s", in.Key)
		}
	}

	// The README's other commands work on the resulting state.
	for _, cmd := range cmds[2:] {
		r := runCLI(t, work, nil, cmd...)
		if r.Code != exitOK {
			t.Errorf("%q: exit %d\nstderr:\n%s", cmd, r.Code, r.Stderr)
		}
	}
}
