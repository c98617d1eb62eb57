package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docFiles are the files docs/monitoring.md shows, by name, as written
// there (each after a <!-- file: NAME --> line).
func docFiles(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "monitoring.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)<!-- file: (\\S+) -->\n```[^\n]*\n(.*?)```\n").FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestMonitoringExamplesAreTheDocs: docs/examples/ holds exactly the
// files monitoring.md shows, so what is tested is what is documented.
func TestMonitoringExamplesAreTheDocs(t *testing.T) {
	files := docFiles(t)
	if len(files) < 7 {
		t.Fatalf("monitoring.md shows %d files", len(files))
	}
	for name, body := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
		if err != nil || string(got) != body {
			t.Errorf("docs/examples/%s differs from monitoring.md (copy the block): %v", name, err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join("..", "..", "docs", "examples"))
	for _, e := range ents {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("docs/examples/%s is not in monitoring.md", e.Name())
		}
	}
}

// TestNightlyWrapper runs the wrapper every schedule uses, with this
// binary as reconform, on the watch example: applied (0), then a failed
// error check (3), then a failed run (1).
func TestNightlyWrapper(t *testing.T) {
	hook := newReceiver(t, "", false)
	dir := watchEngagement(t, nil)
	script := filepath.Join("..", "..", "docs", "examples", "reconform-nightly")
	abs, _ := filepath.Abs(script)
	self, _ := filepath.Abs(os.Args[0])
	run := func(extra ...string) (int, string) {
		cmd := exec.Command("sh", abs, dir)
		cmd.Env = append(os.Environ(), "RECONFORM_TEST_AS_CLI=1", "RECONFORM="+self, "WATCH_WEBHOOK_URL="+hook.srv.URL)
		cmd.Env = append(cmd.Env, extra...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String()
	}
	// A first state is drift with -detailed-exitcode (everything is
	// new): applied, exit 0.
	if code, out := run(); code != 0 || !strings.Contains(out, "reconform-nightly: "+dir+": applied, drift reported") {
		t.Fatalf("first night: %d\n%s", code, out)
	}
	if code, out := run("RECONFORM_VAR_snapshot=2"); code != 3 || !strings.Contains(out, "a check failed") || !strings.Contains(out, "DMARC policy is none") {
		t.Fatalf("second night: %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(dir, "broken.hcl"), []byte("query {"), 0o644)
	if code, out := run(); code != 1 || !strings.Contains(out, "the run failed (exit 1)") {
		t.Fatalf("broken config: %d\n%s", code, out)
	}
	if n := len(hook.got()); n != 2 {
		t.Errorf("%d deliveries, want the baseline and the second night's", n)
	}
}

// TestSystemdUnits verifies the units with systemd-analyze, when it is
// there, with the paths pointed at this test's folder.
func TestSystemdUnits(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the units are not verified")
	}
	files := docFiles(t)
	dir := t.TempDir()
	unit := strings.NewReplacer("/usr/local/bin/reconform-nightly", "/bin/true", "/etc/reconform/%i.env", dir+"/%i.env",
		"/srv/recon/engagements/%i", dir, "User=reconform", "User=root", "Group=reconform", "Group=root").Replace(files["reconform-nightly@.service"])
	os.WriteFile(filepath.Join(dir, "reconform-nightly@.service"), []byte(unit), 0o644)
	os.WriteFile(filepath.Join(dir, "reconform-nightly@.timer"), []byte(files["reconform-nightly@.timer"]), 0o644)
	os.WriteFile(filepath.Join(dir, "acme.env"), nil, 0o600)
	cmd := exec.Command(sa, "verify", "--man=no", "./reconform-nightly@acme.service", "./reconform-nightly@acme.timer")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if !strings.Contains(unit, "ExecStart=/bin/true /tmp") && !strings.Contains(unit, "ExecStart=/bin/true "+dir) {
		t.Errorf("ExecStart not rewritten:\n%s", unit)
	}
}

// TestCronLine checks the cron.d line's fields.
func TestCronLine(t *testing.T) {
	var line string
	for _, l := range strings.Split(docFiles(t)["cron.d-reconform"], "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			line = l
		}
	}
	f := strings.Fields(line)
	if len(f) < 7 {
		t.Fatalf("cron line %q", line)
	}
	field := regexp.MustCompile(`^(\*|\d+(-\d+)?(,\d+(-\d+)?)*)(/\d+)?$`)
	for i := 0; i < 5; i++ {
		if !field.MatchString(f[i]) {
			t.Errorf("field %d %q", i, f[i])
		}
	}
	if f[5] != "reconform" || !strings.Contains(line, "/usr/local/bin/reconform-nightly ") {
		t.Errorf("user or command in %q", line)
	}
}

// TestYAMLExamples parses the CronJob and the workflow (with Python's
// yaml when it is there) and checks what the page promises of them.
func TestYAMLExamples(t *testing.T) {
	files := docFiles(t)
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil || exec.Command(py, "-c", "import yaml").Run() != nil {
		t.Skip("no python3 with yaml: the YAML examples are not parsed")
	}
	parse := func(name string) map[string]any {
		cmd := exec.Command(py, "-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))")
		cmd.Stdin = strings.NewReader(files[name])
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s is not YAML: %v", name, err)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	cj := parse("cronjob.yaml")
	spec := cj["spec"].(map[string]any)
	pod := spec["jobTemplate"].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	if cj["kind"] != "CronJob" || cj["apiVersion"] != "batch/v1" || spec["concurrencyPolicy"] != "Forbid" || pod["restartPolicy"] != "Never" {
		t.Errorf("cronjob: %v", cj)
	}
	wf := parse("reconform-nightly.yml")
	on, _ := wf["on"].(map[string]any)
	if on == nil {
		on, _ = wf["true"].(map[string]any) // YAML 1.1 reads the key on as true; GitHub does not
	}
	if on["schedule"] == nil || wf["concurrency"] == nil {
		t.Errorf("workflow: %v", wf)
	}
	if !strings.Contains(files["reconform-nightly.yml"], "sh docs/examples/reconform-nightly engagements/acme") {
		t.Error("the workflow does not run the wrapper")
	}
	// What the Dockerfile copies exists.
	for _, p := range []string{"docs/examples/reconform-nightly", "cmd/reconform"} {
		if !strings.Contains(files["Dockerfile"], p) {
			t.Errorf("Dockerfile does not copy %s", p)
		}
		if _, err := os.Stat(filepath.Join("..", "..", p)); err != nil {
			t.Error(err)
		}
	}
}
