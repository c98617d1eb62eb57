package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanModulesGolden pins the plan of an engagement with modules:
// module instances by address, a count instance with its own provider, a
// module with no instances, queries with for_each over module outputs; then
// the plan predicted from a state, and plans restricted with -target.
func TestPlanModulesGolden(t *testing.T) {
	dir := modulesCopy(t)
	r := runCLI(t, dir, nil, "plan", "-no-color")
	if r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	checkGolden(t, "plan_modules.txt", r.Stdout)

	if r := runCLI(t, dir, nil, "apply", "-auto-approve", "-no-color"); r.Code != exitOK {
		t.Fatalf("apply: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	r = runCLI(t, dir, nil, "plan", "-no-color")
	if r.Code != exitOK {
		t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	checkGolden(t, "plan_modules_predicted.txt", r.Stdout)

	r = runCLI(t, dir, nil, "plan", "-no-color", `-target=query.mail_records["acme.example"]`, "-target=module.archive")
	if r.Code != exitOK {
		t.Fatalf("plan -target: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	checkGolden(t, "plan_modules_target.txt", r.Stdout)
}

func TestTargetErrors(t *testing.T) {
	dir := modulesCopy(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "-target=query."}, "invalid -target"},
		{[]string{"plan", "-target=module.nothere"}, "No block matches -target"},
		{[]string{"plan", "-target=target.ip.office"}, "names a target block"},
		{[]string{"plan", `-target=module.footprint["nope.example"]`}, "module.footprint[\"acme.example\"]"},
	} {
		r := runCLI(t, dir, nil, c.args...)
		if r.Code != exitError || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%q: code %d, stderr lacks %q:\n%s", c.args, r.Code, c.want, r.Stderr)
		}
	}
	if r := runCLI(t, dir, nil, "plan", "-out=p.plan"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	r := runCLI(t, dir, nil, "apply", "-target=query.office", "p.plan")
	if r.Code != exitError || !strings.Contains(r.Stderr, "-target cannot be used with a saved plan") {
		t.Errorf("apply -target PLANFILE: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
}

// A targeted apply runs only the blocks selected and what they read; the
// findings of the others are kept as they were, neither verified nor
// unverified, and the instances it did not run keep their last status.
func TestApplyTargetKeepsTheRest(t *testing.T) {
	dir := modulesCopy(t)
	if r := runCLI(t, dir, nil, "apply", "-auto-approve"); r.Code != exitOK {
		t.Fatalf("apply: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	before := readStateJSON(t, dir)
	// The archive loses a record; only the archive module runs.
	if err := os.WriteFile(filepath.Join(dir, "data", "archive.ndjson"),
		[]byte(`{"rrname":"initech.example","rrtype":"A","rdata":"203.0.113.30","count":5,"time_first":1500000000,"time_last":1600000000}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "apply", "-auto-approve", "-no-color", "-target=module.archive[0]")
	if r.Code != exitOK {
		t.Fatalf("apply -target: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"Resource targeting is in effect", "Applied changes may be incomplete", "- old.initech.example HOST  (no longer reported)", "Summary: 1 removed."} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("apply -target output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "module.footprint") {
		t.Errorf("a run targeting the archive planned the footprints:\n%s", r.Stdout)
	}
	after := readStateJSON(t, dir)
	if after.Run.Targets == nil || after.Run.Targets[0] != "module.archive[0]" {
		t.Errorf("the state's run does not record the targets: %+v", after.Run)
	}
	if len(after.Instances) != len(before.Instances) {
		t.Errorf("%d instances after the partial run, %d before: the untargeted ones must be kept", len(after.Instances), len(before.Instances))
	}
	for _, f := range after.Findings {
		if f.Unverified != "" {
			t.Errorf("%s %s %s became unverified in a partial run: %s", f.Name, f.Type, f.Value, f.Unverified)
		}
	}
	if len(after.Findings) != len(before.Findings)-1 {
		t.Errorf("%d findings after, %d before: only the archive's removed record should go", len(after.Findings), len(before.Findings))
	}
	r = runCLI(t, dir, nil, "show", "-no-color")
	if !strings.Contains(r.Stdout, "Targets:    module.archive[0] (the last run was partial)") {
		t.Errorf("show does not say the last run was partial:\n%s", r.Stdout)
	}
}

type stateJSON struct {
	Instances []struct{ Key, Status string }
	Findings  []struct {
		Name, Type, Value, Unverified string
		Blocks                        []string
	}
	Outputs []struct {
		Name      string
		Sensitive bool
		Secret    bool
		Value     json.RawMessage
	}
	Run struct {
		Plan    string
		Targets []string
	}
}

func readStateJSON(t *testing.T, dir string) stateJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "reconform.rfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var st stateJSON
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// A saved plan records the state it was made against: it is refused once
// another apply moved the state on, and when applied a second time
// (hashicorp/terraform#4055); a refused plan changes nothing.
func TestSavedPlanGuardsTheState(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	work := filepath.Dir(dir)
	plan := func(name string) {
		if r := runCLI(t, work, nil, "plan", "-out", name, "fileonly"); r.Code != exitOK {
			t.Fatalf("plan: code %d, stderr:\n%s", r.Code, r.Stderr)
		}
	}
	plan("first.plan") // against no state
	plan("second.plan")
	if r := runCLI(t, work, nil, "apply", "first.plan"); r.Code != exitOK {
		t.Fatalf("apply: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	state := filepath.Join(dir, "reconform.rfstate")
	before, _ := os.ReadFile(state)
	for _, c := range []struct{ plan, want string }{
		{"first.plan", "Saved plan already applied"},
		{"second.plan", "the plan was made before there was a state; the state is now at serial 1"},
	} {
		r := runCLI(t, work, nil, "apply", c.plan)
		if r.Code != exitError || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("apply %s: code %d, stderr lacks %q:\n%s", c.plan, r.Code, c.want, r.Stderr)
		}
	}
	plan("third.plan") // against serial 1
	if r := runCLI(t, work, nil, "apply", "-auto-approve", "fileonly"); r.Code != exitOK {
		t.Fatalf("apply: %s", r.Stderr)
	}
	r := runCLI(t, work, nil, "apply", "third.plan")
	if r.Code != exitError || !strings.Contains(r.Stderr, "made against state serial 1; the state is now at serial 2") {
		t.Errorf("apply of a plan the state moved past: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	if after, _ := os.ReadFile(state); bytes.Equal(before, after) {
		t.Error("the state should have moved with the direct apply")
	}
	if st := readStateJSON(t, dir); st.Run.Plan != "" {
		t.Errorf("a direct apply recorded plan %q", st.Run.Plan)
	}
}

// show PLANFILE renders the plan, not a state (it used to print
// "Serial: 0" and every instance as not complete).
func TestShowPlanFile(t *testing.T) {
	dir := modulesCopy(t)
	if r := runCLI(t, dir, nil, "plan", "-out=saved.plan", "-target=module.archive"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	r := runCLI(t, dir, nil, "show", "-no-color", "saved.plan")
	if r.Code != exitOK {
		t.Fatalf("show: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"Saved plan: saved.plan", "State:      none yet", "module.archive[0].query.records", "Plan: 3 queries to run", "Resource targeting is in effect"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("show PLANFILE lacks %q:\n%s", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "Serial:") || strings.Contains(r.Stdout, "did not complete") {
		t.Errorf("show PLANFILE read the plan as a state:\n%s", r.Stdout)
	}
	r = runCLI(t, dir, nil, "show", "-json", "saved.plan")
	var p struct {
		FormatVersion int      `json:"format_version"`
		ID            string   `json:"id"`
		Targets       []string `json:"targets"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &p); err != nil || p.FormatVersion != 2 || p.ID == "" || len(p.Targets) != 1 {
		t.Errorf("show -json PLANFILE: %v %+v\n%s", err, p, r.Stdout)
	}
}

func TestOutputVerb(t *testing.T) {
	dir := modulesCopy(t)
	extra := "variable \"token\" {\n  type      = string\n  default   = \"tok-SECRET-1\"\n  sensitive = true\n}\n\n" +
		"output \"token\" {\n  value     = var.token\n  sensitive = true\n}\n\n" +
		"output \"internal\" {\n  value     = \"vpn.acme.example\"\n  sensitive = true\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "outputs.hcl"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "output")
	if r.Code != exitError || !strings.Contains(r.Stderr, "no state") {
		t.Errorf("output before any apply: code %d, stderr %q", r.Code, r.Stderr)
	}
	if r := runCLI(t, dir, nil, "apply", "-auto-approve", "-no-color"); r.Code != exitOK || !strings.Contains(r.Stdout, "internal = (sensitive value)") {
		t.Fatalf("apply: code %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	state, _ := os.ReadFile(filepath.Join(dir, "reconform.rfstate"))
	if bytes.Contains(state, []byte("tok-SECRET-1")) {
		t.Error("an output derived from a sensitive variable was stored")
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"output"}, exitOK, "token = (sensitive value)"},
		{[]string{"output"}, exitOK, "owners = [\n  \"red team\",\n  \"blue team\",\n]"},
		{[]string{"output", "internal"}, exitOK, "\"vpn.acme.example\""},
		{[]string{"output", "-raw", "internal"}, exitOK, "vpn.acme.example"},
		{[]string{"output", "-json", "owners"}, exitOK, `["red team","blue team"]`},
		{[]string{"output", "-json"}, exitOK, `"sensitive": true`},
		{[]string{"output", "token"}, exitError, "derived from a secret"},
		{[]string{"output", "nope"}, exitError, "Output \"nope\" not found"},
		{[]string{"output", "-raw", "owners"}, exitError, "-raw prints only strings"},
	} {
		r := runCLI(t, dir, nil, c.args...)
		if r.Code != c.code || !strings.Contains(r.Stdout+r.Stderr, c.want) {
			t.Errorf("%q: code %d, want %d and %q in:\n%s%s", c.args, r.Code, c.code, c.want, r.Stdout, r.Stderr)
		}
	}
}

func TestConsole(t *testing.T) {
	dir := modulesCopy(t)
	// Before any apply, findings are not known.
	r := runCLIInput(t, dir, nil, "module.footprint[\"acme.example\"].owner\nmodule.footprint[\"acme.example\"].hosts\n", "console")
	if r.Code != exitOK || r.Stdout != "\"red team\"\n(known after apply)\n" {
		t.Errorf("console without state: code %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := runCLI(t, dir, nil, "apply", "-auto-approve"); r.Code != exitOK {
		t.Fatal(r.Stderr)
	}
	in := strings.Join([]string{
		`module.footprint["acme.example"].mail_hosts`,
		`length([`,
		`  for f in facts : f`,
		`  if f.kind == "mail_provider"`,
		`])`,
		`in_scope("www.acme.example")`,
		`target.ip.office[1].value`,
		`query.office.findings[0].name`,
		`exit`,
		`"never evaluated"`,
	}, "\n")
	r = runCLIInput(t, dir, nil, in, "console")
	want := "[\n  \"mx.acme.example\",\n]\n2\ntrue\n\"203.0.113.11\"\n\"acme.example\"\n"
	if r.Code != exitOK || r.Stdout != want {
		t.Errorf("console: code %d\nstdout %q\nwant   %q\nstderr %s", r.Code, r.Stdout, want, r.Stderr)
	}
	r = runCLIInput(t, dir, nil, "var.nope\n1 +\n", "console", "-no-color")
	if r.Code != exitError || !strings.Contains(r.Stderr, "Unsupported attribute") || !strings.Contains(r.Stderr, "<console-input-1>") {
		t.Errorf("console errors: code %d, stderr:\n%s", r.Code, r.Stderr)
	}
}
