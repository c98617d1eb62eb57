package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestApplyRefusesWithoutTerminal(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	r := runCLI(t, dir, nil, "apply")
	if r.Code != exitError || !strings.Contains(r.Stderr, "No terminal to confirm on") || !strings.Contains(r.Stderr, "-auto-approve") {
		t.Errorf("code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "reconform.rfstate")); err == nil {
		t.Error("a refused apply wrote a state")
	}
}

// runApplyPrompt runs apply as if on a terminal, answering answer.
func runApplyPrompt(t *testing.T, dir, answer string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(answer + "\n"), Stdout: &stdout, Stderr: &stderr, WorkDir: dir, StdinTerminal: true}
	code := run(context.Background(), env, []string{"apply", "-no-color"})
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

func TestApplyAsks(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	r := runApplyPrompt(t, dir, "no")
	if r.Code != exitError || !strings.Contains(r.Stdout, "Only 'yes' will be accepted") || !strings.Contains(r.Stdout, "Apply cancelled.") {
		t.Errorf("answer no: code %d, stdout:\n%s", r.Code, r.Stdout)
	}
	r = runApplyPrompt(t, dir, "yes")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Apply complete! Queries: 2 ok, 1 skipped. Requests: 2. Findings: 5.") {
		t.Errorf("answer yes: code %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

func TestApplyAutoApproveWritesState(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	r := runCLI(t, dir, nil, "apply", "-auto-approve", "-parallelism", "2")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Apply complete!") {
		t.Fatalf("code %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "reconform.rfstate")); err != nil {
		t.Errorf("no state written: %v", err)
	}
	r = runCLI(t, dir, nil, "apply", "-auto-approve", "-parallelism", "0")
	if r.Code != exitError {
		t.Errorf("-parallelism 0 accepted")
	}
}

func TestApplySavedPlan(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	work := filepath.Dir(dir)
	if r := runCLI(t, work, nil, "plan", "-out", "acme.plan", "fileonly"); r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	// The reviewed plan is the approval: no prompt, no terminal needed.
	r := runCLI(t, work, nil, "apply", "acme.plan")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Apply complete!") || strings.Contains(r.Stdout, "Do you want") {
		t.Fatalf("apply plan: code %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}

	// Change the configuration: the plan is refused and nothing runs.
	f, err := os.OpenFile(filepath.Join(dir, "main.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nquery \"more\" {\n  provider = provider.file.sonar\n  op       = \"resolutions\"\n  subjects = [\"www.acme.example\"]\n}\n")
	f.Close()
	before, _ := os.ReadFile(filepath.Join(dir, "reconform.rfstate"))
	r = runCLI(t, work, nil, "apply", "acme.plan")
	if r.Code != exitError || !strings.Contains(r.Stderr, "Saved plan is stale") {
		t.Errorf("stale plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "reconform.rfstate"))
	if !bytes.Equal(before, after) {
		t.Error("a refused plan changed the state")
	}
}

// A plan made with -var carries the values: applying it needs no -var
// again, and a different -var makes it stale.
func TestApplySavedPlanKeepsVariables(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	work := filepath.Dir(dir)
	vars := "variable \"apex\" {\n  type = string\n}\n\nvariable \"extra\" {\n  type    = list(string)\n  default = []\n}\n\n" +
		"variable \"token\" {\n  type      = string\n  default   = \"\"\n  sensitive = true\n}\n\n" +
		"query \"vars\" {\n  provider = provider.file.sonar\n  op       = \"resolutions\"\n  subjects = concat([var.apex], var.extra)\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "vars.hcl"), []byte(vars), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, work, nil, "plan", "-var", "apex=acme.example", "-var", `extra=["www.acme.example"]`, "-var", "token=s3cr3t", "-out", "acme.plan", "fileonly")
	if r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	saved, _ := os.ReadFile(filepath.Join(work, "acme.plan"))
	if bytes.Contains(saved, []byte("s3cr3t")) {
		t.Error("the plan holds the value of a sensitive variable")
	}
	r = runCLI(t, work, nil, "apply", "acme.plan")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Apply complete!") {
		t.Fatalf("apply plan without -var: code %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	r = runCLI(t, work, nil, "apply", "-var", "apex=other.example", "acme.plan")
	if r.Code != exitError || !strings.Contains(r.Stderr, "Saved plan is stale") {
		t.Errorf("apply plan with another -var: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
}

// When no query succeeds (here: the only provider has no API key), apply
// still saves the state but exits 1: a cron job must not read "no drift".
func TestApplyEveryQueryFailedIsAnError(t *testing.T) {
	dir := t.TempDir()
	hcl := "engagement \"acme\" {}\n\nprovider \"securitytrails\" {\n  api_key  = env(\"RECONFORM_TEST_UNSET_KEY\")\n  endpoint = \"http://127.0.0.1:1\"\n}\n\n" +
		"query \"apex\" {\n  provider = provider.securitytrails\n  op       = \"resolutions\"\n  subjects = [\"acme.example\"]\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"apply", "-auto-approve"}, {"apply", "-auto-approve", "-detailed-exitcode"}} {
		r := runCLI(t, dir, nil, args...)
		if r.Code != exitError || !strings.Contains(r.Stderr, "every query failed") {
			t.Errorf("%v: code %d, stderr:\n%s", args, r.Code, r.Stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "reconform.rfstate")); err != nil {
		t.Errorf("no state written: %v", err)
	}
}

func TestApplyFileThatIsNotAPlan(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a plan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "apply", "-auto-approve", "notes.txt")
	if r.Code != exitError || !strings.Contains(r.Stderr, "not a saved plan") {
		t.Errorf("code %d, stderr:\n%s", r.Code, r.Stderr)
	}
}

func TestApplyJSONEvents(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	r := runCLI(t, dir, nil, "apply", "-auto-approve", "-json")
	if r.Code != exitOK {
		t.Fatalf("code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	types := map[string]int{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		if !strings.HasPrefix(line, `{"type":`) {
			continue
		}
		var e struct{ Type string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("bad event line %q: %v", line, err)
		}
		types[e.Type]++
	}
	for _, want := range []string{"instance_queued", "instance_started", "instance_finished", "finding", "summary"} {
		if types[want] == 0 {
			t.Errorf("no %s event in:\n%s", want, r.Stdout)
		}
	}
}

func TestApplySavedPlanAfterTheFolderMoved(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	if r := runCLI(t, dir, nil, "plan", "-out", "acme.plan"); r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	moved := filepath.Join(t.TempDir(), "checkout")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, moved, nil, "apply", "acme.plan")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Apply complete!") {
		t.Errorf("code %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestApplyTwoInterrupts presses Ctrl-C twice while a query hangs: the run
// stops at once, the hung query ends cancelled, and the state is written.
func TestApplyTwoInterrupts(t *testing.T) {
	dir := engagementCopy(t, "slow")
	interrupts := make(chan os.Signal, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case interrupts <- os.Interrupt:
			interrupts <- os.Interrupt
		default:
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, WorkDir: dir, Interrupts: interrupts,
		Environ: []string{"RECONFORM_VAR_endpoint=" + srv.URL}}
	code := run(context.Background(), env, []string{"apply", "-auto-approve", "-parallelism=1", "-no-color"})
	if code != exitError || !strings.Contains(stdout.String(), "Apply interrupted.") || !strings.Contains(stderr.String(), "Two interrupts received") {
		t.Fatalf("code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "3 cancelled") {
		t.Errorf("stdout lacks the cancelled queries:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "reconform.rfstate")); err != nil {
		t.Errorf("no state written after the interrupt: %v", err)
	}
}

// A drift check must see the world, not the cache: -detailed-exitcode
// refreshes, while a plain re-run within the TTL costs no requests.
func TestApplyDetailedExitcodeRefreshesTheCache(t *testing.T) {
	var mu sync.Mutex
	body := "www.acme.example,203.0.113.10\n"
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	dir := t.TempDir()
	hcl := `engagement "drift" {}
scope { domains = ["acme.example"] }
provider "hackertarget" { endpoint = "` + srv.URL + `" }
target "domain" "apex" { name = "acme.example" }
query "hosts" {
  provider = provider.hackertarget
  op       = "subdomains"
  subjects = [target.domain.apex]
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return requests }
	if r := runCLI(t, dir, nil, "apply", "-auto-approve", "-no-color"); r.Code != exitOK {
		t.Fatalf("first run: code %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	mu.Lock()
	body = "www.acme.example,203.0.113.20\napi.acme.example,203.0.113.30\n"
	mu.Unlock()

	before := count()
	if r := runCLI(t, dir, nil, "apply", "-auto-approve", "-no-color"); r.Code != exitOK {
		t.Fatalf("cached re-run: code %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if count() != before {
		t.Errorf("a re-run within the cache TTL sent %d requests", count()-before)
	}
	r := runCLI(t, dir, nil, "apply", "-auto-approve", "-no-color", "-detailed-exitcode")
	if r.Code != exitDrift || !strings.Contains(r.Stdout, "api.acme.example") {
		t.Fatalf("drift check: code %d, want %d\n%s%s", r.Code, exitDrift, r.Stdout, r.Stderr)
	}
	if count() == before {
		t.Error("-detailed-exitcode answered from the cache")
	}
}
