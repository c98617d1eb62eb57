package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/engine"
)

// engagementCopy copies testdata/engagements/<name> into a temporary folder,
// so runs can write state, locks and caches beside it.
func engagementCopy(t *testing.T, name string) string {
	t.Helper()
	return folderCopy(t, filepath.Join("testdata", "engagements", name))
}

// modulesCopy copies the modules fixture (testdata/config/valid/modules,
// with its data), which validate checks too.
func modulesCopy(t *testing.T) string {
	t.Helper()
	return folderCopy(t, filepath.Join(configFixtures, "valid", "modules"))
}

// folderCopy copies the folder src, subfolders included, into a temporary
// folder of the same name.
func folderCopy(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestPlanGolden(t *testing.T) {
	dir := engagementCopy(t, "basic")
	r := runCLI(t, filepath.Dir(dir), nil, "plan", "basic")
	if r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	checkGolden(t, "plan_basic.txt", r.Stdout)
	for _, want := range []string{
		"= file.sonar resolutions acme.example [A,MX] (same query as query.again; runs once)",
		"(known after apply: its subjects come from findings)",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	if strings.Contains(r.Stdout, "not-a-real-key") {
		t.Error("plan prints the API key")
	}
}

func TestPlanDetailedExitCode(t *testing.T) {
	dir := engagementCopy(t, "basic")
	r := runCLI(t, dir, nil, "plan", "-detailed-exitcode")
	if r.Code != exitDrift {
		t.Errorf("code %d, want 2 (queries to run); stderr %s", r.Code, r.Stderr)
	}
}

// TestPlanDetailedExitCodeMeansAnApplyIsDue: 2 on a first run, 0 once the
// state answers every known query freshly, 2 again when a data file
// changes, when the configuration changes, or when an answer is older than
// its provider's cache_ttl; 1 on an error.
func TestPlanDetailedExitCodeMeansAnApplyIsDue(t *testing.T) {
	dir := initEngagement(t)
	environ := []string{"XDG_STATE_HOME=" + t.TempDir()}
	plan := func() cliResult {
		return runCLI(t, dir, environ, "-chdir=qs", "plan", "-detailed-exitcode", "-no-color")
	}
	if r := plan(); r.Code != exitDrift || !strings.Contains(r.Stdout, "An apply is due: there is no state yet.") {
		t.Fatalf("first run: %d %s", r.Code, r.Stdout)
	}
	if r := runCLI(t, dir, environ, "-chdir=qs", "apply", "-auto-approve"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	if r := plan(); r.Code != exitOK || !strings.Contains(r.Stdout, "No changes: the state answers all 15 known queries") {
		t.Fatalf("after apply: %d %s", r.Code, r.Stdout)
	}
	data := filepath.Join(dir, "qs", "data", "sample.csv")
	later := time.Now().Add(time.Hour)
	os.Chtimes(data, later, later)
	if r := plan(); r.Code != exitDrift || !strings.Contains(r.Stdout, "changed since read: data/sample.csv") {
		t.Errorf("data file changed: %d %s", r.Code, r.Stdout)
	}
	os.Chtimes(data, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	main := filepath.Join(dir, "qs", "main.hcl")
	b, _ := os.ReadFile(main)
	os.WriteFile(main, append(b, []byte("\ntarget \"domain\" \"extra\" { name = \"extra.acme.example\" }\n")...), 0o644)
	if r := plan(); r.Code != exitDrift || !strings.Contains(r.Stdout, "the configuration changed since the last apply") {
		t.Errorf("config changed: %d %s", r.Code, r.Stdout)
	}
	os.WriteFile(main, []byte("nonsense"), 0o644)
	if r := plan(); r.Code != exitError {
		t.Errorf("bad config: %d", r.Code)
	}
}

// TestFirstPlanSaysWhatItCannotKnow: with no previous state the plan names
// the blocks known only after apply and bounds them by the budgets and
// the pivot depth; without a budget it says what does bound them.
func TestFirstPlanSaysWhatItCannotKnow(t *testing.T) {
	dir := initEngagement(t)
	r := runCLI(t, dir, nil, "-chdir=qs", "plan", "-no-color")
	for _, want := range []string{
		"Not known before the first run (no previous state to predict from): the subjects of query.host_records, pivot.neighbours come from findings.",
		"2 queries now, and more from pivots and dependent queries (pivot depth 2, file.sample has no budget), which only the findings kept bound",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("no %q in:\n%s", want, r.Stdout)
		}
	}
	main := filepath.Join(dir, "qs", "main.hcl")
	b, _ := os.ReadFile(main)
	os.WriteFile(main, []byte(strings.Replace(string(b), `path = "data/sample.csv"`, "path = \"data/sample.csv\"\n  budget = 50\n  rate = \"10/s\"", 1)), 0o644)
	r = runCLI(t, dir, nil, "-chdir=qs", "plan", "-no-color")
	if want := "2 queries now, up to 48 more requests from pivots and dependent queries (pivot depth 2, budgets: file.sample 48 of 50 left); at most 5s in all."; !strings.Contains(r.Stdout, want) {
		t.Errorf("no %q in:\n%s", want, r.Stdout)
	}
	r = runCLI(t, dir, nil, "-chdir=qs", "plan", "-json")
	var p engine.Plan
	if err := json.Unmarshal([]byte(strings.Split(r.Stdout, "\n")[0]), &p); err != nil || p.AfterApply == nil || !p.AfterApply.Bounded || p.AfterApply.MaxMore != 48 || p.AfterApply.MaxDepth != 2 || !p.Changes.FirstRun {
		t.Errorf("plan -json after_apply: %v %+v %+v", err, p.AfterApply, p.Changes)
	}
}

func TestPlanJSONAndOut(t *testing.T) {
	dir := engagementCopy(t, "basic")
	r := runCLI(t, dir, []string{"SECURITYTRAILS_API_KEY=SEKRIT-123"}, "plan", "-json", "-out", "saved.plan")
	if r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	// NDJSON: the plan on one line, then (here: no quota ledger without
	// HOME) the diagnostics document on one more.
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	var p engine.Plan
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
		t.Fatalf("plan -json is not JSON: %v\n%s", err, r.Stdout)
	}
	for _, l := range lines[1:] {
		if !json.Valid([]byte(l)) || !strings.Contains(l, `"type":"diagnostics"`) {
			t.Errorf("plan -json: a line that is not a diagnostics document: %s", l)
		}
	}
	if len(p.Instances) != 6 || p.ConfigHash == "" {
		t.Errorf("plan: %d instances, hash %q", len(p.Instances), p.ConfigHash)
	}
	data, err := os.ReadFile(filepath.Join(dir, "saved.plan"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "SEKRIT-123") || strings.Contains(r.Stdout, "SEKRIT-123") {
		t.Error("the saved plan holds the API key")
	}
}

func TestPlanConfigErrors(t *testing.T) {
	dir := engagementCopy(t, "basic")
	if err := os.WriteFile(filepath.Join(dir, "bad.hcl"), []byte("query \"x\" {\n  op = \"resolutions\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "plan")
	if r.Code != exitError || r.Stderr == "" {
		t.Errorf("code %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestGraphGolden(t *testing.T) {
	dir := engagementCopy(t, "basic")
	r := runCLI(t, dir, nil, "graph")
	if r.Code != exitOK {
		t.Fatalf("graph: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	checkGolden(t, "graph_basic.dot", r.Stdout)
}

func TestPlanPredictsFromPreviousState(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	if r := runCLI(t, dir, nil, "apply", "-auto-approve"); r.Code != exitOK {
		t.Fatalf("apply: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	r := runCLI(t, dir, nil, "plan", "-no-color")
	if r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	checkGolden(t, "plan_predicted.txt", r.Stdout)
	for _, want := range []string{
		"predicted from the previous state (a guess, not a promise):",
		"~ file.sonar reverse_ip 203.0.113.10 (depth 1)",
		"pivot.expand: file.sonar reverse_ip 198.51.100.7 (predicted): out of scope: not inside any scope CIDR",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, r.Stdout)
		}
	}
}

// An engagement without query or pivot blocks plans nothing, and says so
// instead of printing an empty table.
func TestPlanNothingToRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("engagement \"empty\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "plan", "-no-color")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "nothing to run") || strings.Contains(r.Stdout, "PROVIDER") {
		t.Errorf("code %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}
