package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestExamplesValidate checks every engagement under examples/: it must
// validate with no keys in the environment, and be formatted canonically.
func TestExamplesValidate(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(root, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			r := runCLI(t, ".", nil, "validate", "-no-color", dir)
			if r.Code != exitOK {
				t.Errorf("validate %s: exit %d\nstdout:\n%s\nstderr:\n%s", dir, r.Code, r.Stdout, r.Stderr)
			}
			r = runCLI(t, ".", nil, "fmt", "-check", "-recursive", dir)
			if r.Code != exitOK {
				t.Errorf("fmt -check %s: exit %d: %s%s", dir, r.Code, r.Stdout, r.Stderr)
			}
		})
	}
	if n < 6 {
		t.Errorf("found %d examples, want the quickstart and one per seed provider", n)
	}
}

// shellWords splits a README command line as a shell would for the
// quoting the READMEs use: words separated by spaces, single quotes
// keeping what they enclose.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestFleetREADME runs the fleet README's commands word for word on a
// copy of the example: one module over three apexes, outputs, drift per
// module instance, -target, the console, and a saved plan that runs once.
func TestFleetREADME(t *testing.T) {
	repo := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(repo, "examples", "fleet", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	for _, m := range regexp.MustCompile(`(?m)^\s+go run \./cmd/reconform (.+)$`).FindAllStringSubmatch(string(b), -1) {
		cmds = append(cmds, shellWords(m[1]))
	}
	if len(cmds) != 9 {
		t.Fatalf("the README has %d reconform commands, this test knows 9: %q", len(cmds), cmds)
	}
	pinned := deriveFacts
	deriveFacts = nil // the mail move is a fact: the real analysis
	t.Cleanup(func() { deriveFacts = pinned })
	work := t.TempDir()
	copyExample(t, filepath.Join(repo, "examples", "fleet"), filepath.Join(work, "examples", "fleet"))
	run := func(i int, stdin string, wantCode int) cliResult {
		t.Helper()
		r := runCLIInput(t, work, nil, stdin, cmds[i]...)
		if r.Code != wantCode {
			t.Fatalf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmds[i], r.Code, wantCode, r.Stdout, r.Stderr)
		}
		return r
	}
	contains := func(what, out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, out)
			}
		}
	}

	first := run(0, "", exitOK)
	contains("the first apply", first.Stdout,
		`module.footprint["fabrikam.example"].query.apex`, "Outputs:",
		`"wingtip.example"  = "google-workspace"`, "shared_addresses = [\n  \"203.0.113.50\",\n]")
	second := run(1, "", exitOK)
	contains("the drift", second.Stdout,
		"+ vpn.fabrikam.example A 203.0.113.12",
		"www.tailspin.example A: 203.0.113.50 -> 203.0.113.60",
		"wingtip.example mail_provider: google-workspace -> microsoft-365",
		"By module instance:",
		`module.footprint["fabrikam.example"]: 2 added`,
		`module.footprint["tailspin.example"]: 1 changed`,
		`module.footprint["wingtip.example"]: 1 added, 1 changed, 2 went historical`,
		"shared_addresses = []")

	// A finding two module instances report is one finding with both.
	var st struct {
		Findings []struct {
			Name, Type, Value string
			Blocks            []string
		}
		Outputs []struct{ Name string }
	}
	data, err := os.ReadFile(filepath.Join(work, "examples", "fleet", "reconform.rfstate"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	shared := 0
	for _, f := range st.Findings {
		if f.Name == "www.fabrikam.example" && f.Type == "A" {
			contains("the shared finding's blocks", strings.Join(f.Blocks, "\n"),
				`module.footprint["fabrikam.example"].pivot.neighbours`, `module.footprint["tailspin.example"].pivot.neighbours`)
			shared++
		}
	}
	if shared != 1 || len(st.Outputs) != 3 {
		t.Errorf("www.fabrikam.example A appears %d times (want once), %d outputs saved (want 3)", shared, len(st.Outputs))
	}

	contains("output", run(2, "", exitOK).Stdout, "hosts = {", "mail = {", `"vpn.fabrikam.example"`)
	contains("output mail", run(3, "", exitOK).Stdout, `"wingtip.example"  = "microsoft-365"`)
	plan := run(4, "", exitOK).Stdout
	contains("the targeted plan", plan, `module.footprint["wingtip.example"].query.apex`, "Resource targeting is in effect")
	if strings.Contains(plan, "fabrikam") || strings.Contains(plan, "tailspin") {
		t.Errorf("a plan targeting wingtip plans other apexes:\n%s", plan)
	}
	console := run(5, "module.footprint[\"wingtip.example\"].hosts\n[for f in facts : f.value if f.kind == \"mail_provider\"]\n", exitOK)
	contains("the console", console.Stdout, "\"api.wingtip.example\",", "\"microsoft-365\",")

	run(6, "", exitOK)
	contains("show PLANFILE", run(7, "", exitOK).Stdout, "Saved plan: examples/fleet/april.plan", "State:      serial 2", "Plan: ")
	run(8, "", exitOK)
	again := run(8, "", exitError)
	contains("a second apply of the plan", again.Stderr, "Saved plan already applied")
}

// TestWatchREADME runs the watch README's reconform commands word for
// word on a copy of the example, with a receiver that checks signatures
// where the README's receiver would listen, down when the README stops it.
func TestWatchREADME(t *testing.T) {
	repo := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(repo, "examples", "watch", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds [][]string
	for _, m := range regexp.MustCompile(`(?m)^\s+go run \./cmd/reconform (.+)$`).FindAllStringSubmatch(string(b), -1) {
		cmds = append(cmds, shellWords(m[1]))
	}
	if len(cmds) != 7 {
		t.Fatalf("the README has %d reconform commands, this test knows 7: %q", len(cmds), cmds)
	}
	pinned := deriveFacts
	deriveFacts = nil // DMARC and the mail provider are facts: the real analysis
	t.Cleanup(func() { deriveFacts = pinned })
	const secret = "change-me"
	hook := newReceiver(t, secret, false)
	work := t.TempDir()
	copyDir(t, filepath.Join(repo, "examples", "watch"), filepath.Join(work, "examples", "watch"))
	copyDir(t, filepath.Join(repo, "examples", "quickstart", "data"), filepath.Join(work, "examples", "quickstart", "data"))
	os.RemoveAll(filepath.Join(work, "examples", "watch", "receiver"))
	environ := []string{"WATCH_WEBHOOK_URL=" + hook.srv.URL + "/reconform", "WATCH_WEBHOOK_SECRET=" + secret}
	run := func(i, wantCode int, wants ...string) {
		t.Helper()
		r := runCLI(t, work, environ, cmds[i]...)
		if r.Code != wantCode {
			t.Fatalf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmds[i], r.Code, wantCode, r.Stdout, r.Stderr)
		}
		for _, w := range wants {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("%q lacks %q:\n%s", cmds[i], w, r.Stdout)
			}
		}
	}
	run(0, exitOK, "First state of northwind-watch: 49 findings", "Checks: 4 passed.", "webhook.local: delivered (1 message)")
	run(1, exitCheckFailed, "FAIL  dmarc_enforced (error)", "warn  mx_on_approved_provider (warning)", "webhook.local: delivered (1 message)")
	run(2, exitCheckFailed)
	run(3, exitCheckFailed, "DMARC policy is none on: northwind.example")
	run(4, exitOK, "webhook.local", "0 pending, 2 delivered")
	if n := len(hook.got()); n != 2 {
		t.Fatalf("%d deliveries after the repeated run, want 2", n)
	}
	hook.set(true)
	run(5, exitOK, "webhook.local: 1 delivery pending after 2 attempts")
	hook.set(false)
	run(6, exitOK, "webhook.local: delivered (1 message)")
	if n := len(hook.got()); n != 3 {
		t.Errorf("%d deliveries in all, want 3", n)
	}
}
