package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reconform/reconform/providers/dns/dnstest"
)

// echoHandler answers like a careless mirror: its errors repeat the
// request path, query and headers, with percent-escapes lower-cased.
func echoHandler(calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		var hdr []string
		for k, vs := range r.Header {
			hdr = append(hdr, k+"="+strings.Join(vs, ","))
		}
		sort.Strings(hdr)
		uri := r.URL.RequestURI()
		echo := fmt.Sprintf("Cannot GET %s (raw %s) path=%s headers=%s", uri, strings.ToLower(uri), r.URL.Path, strings.Join(hdr, ";"))
		if n == 1 {
			http.Error(w, echo, http.StatusBadGateway) // retried
			return
		}
		http.Error(w, echo, http.StatusNotFound)
	}
}

// An endpoint set from env() that holds a secret path is never printed nor
// stored, in any part, even when the server echoes it back in its errors:
// not in the state, the history, show, report or the trace log.
func TestSecretEndpointEchoedByTheServer(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(echoHandler(&calls))
	defer srv.Close()
	const token = "T0kEn+q9/Zz="
	// As the user writes it: the token escaped for a path.
	endpoint := srv.URL + "/relay/T0kEn%2Bq9%2FZz%3D/longsecretwordpath"
	dir := writeTree(t, map[string]string{"main.hcl": `
engagement "echo" {}
scope { domains = ["acme.example"] }
provider "crtsh" {
  endpoint = env("CRT_ENDPOINT")
  cache_ttl = "0s"
}
target "domain" "apex" { name = "acme.example" }
query "subs" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = [target.domain.apex]
}
`})
	environ := []string{
		"CRT_ENDPOINT=" + endpoint,
		"RECONFORM_LOG=trace",
		"RECONFORM_LOG_PATH=" + filepath.Join(dir, "reconform.log"),
	}
	var outputs []string
	step := func(args ...string) cliResult {
		t.Helper()
		r := runCLIWithLog(t, dir, environ, args...)
		outputs = append(outputs, r.Stdout, r.Stderr)
		return r
	}
	step("apply", "-auto-approve")
	step("apply", "-auto-approve") // a second run: history
	for _, args := range [][]string{
		{"show"}, {"show", "-json"}, {"show", "1"}, {"state", "list"},
		{"report"}, {"report", "-format=json"}, {"report", "-format=html"}, {"report", "-format=csv"},
		{"diff"},
	} {
		step(args...)
	}
	if calls.Load() < 2 {
		t.Fatalf("the server saw %d requests; the test proves nothing", calls.Load())
	}

	forms := []string{token, "T0kEn%2Bq9", "T0kEn%2bq9", "T0kEn+q9", "longsecretwordpath", "/relay/T0kEn"}
	logData, _ := os.ReadFile(filepath.Join(dir, "reconform.log"))
	if !bytes.Contains(logData, []byte("request")) {
		t.Fatalf("the trace log has no request lines; the check proves little:\n%s", logData)
	}
	files := checkFilesHoldNone(t, dir, forms, func(rel string) bool { return rel == "main.hcl" })
	if files < 3 {
		t.Errorf("only %d files written; expected a state, a history and a log", files)
	}
	for i, out := range outputs {
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("%q found in output %d:\n%s", f, i, out)
			}
		}
	}
}

// Exclusions hold for every packet the dns provider sends, its automatic
// sub-lookups included: an excluded _dmarc name is never asked, nor is an
// IP excluded in IPv4-mapped form. Checked at the server, which counts
// every question it receives.
func TestExclusionsHoldForEveryPacket(t *testing.T) {
	srv := dnstest.Start(t, filepath.Join("..", "..", "testdata", "dns", "zone.db"), filepath.Join("..", "..", "testdata", "dns", "reverse-v4.db"))
	dir := writeTree(t, map[string]string{"main.hcl": `
engagement "live" {
  passive_only = false
}
scope {
  domains = ["acme.example"]
  cidrs   = ["203.0.113.0/24"]
  exclude = ["_dmarc.acme.example", "::ffff:203.0.113.0/120"]
}
provider "dns" {
  resolvers      = ["` + srv.Addr + `"]
  wildcard_check = true
}
target "domain" "apex" { name = "acme.example" }
target "ip" "web" { address = "203.0.113.20" }
query "live" {
  provider = provider.dns
  op       = "resolve"
  subjects = [target.domain.apex, target.ip.web]
}
`})
	if r := runCLI(t, dir, nil, "validate"); r.Code != exitOK {
		t.Fatalf("validate: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r := runCLI(t, dir, nil, "apply", "-auto-approve")
	if r.Code == exitError {
		t.Fatalf("apply: %s%s", r.Stdout, r.Stderr)
	}
	asked := srv.Queries()
	if len(asked) == 0 {
		t.Fatal("no question reached the server; the test proves nothing")
	}
	for _, q := range asked {
		if strings.HasPrefix(q, "_dmarc.") || strings.Contains(q, "in-addr.arpa") {
			t.Errorf("an excluded name was asked: %s", q)
		}
	}
	if !strings.Contains(r.Stdout, "refused: 203.0.113.20 is out of scope (excluded by scope rule \"203.0.113.0/24\")") {
		t.Errorf("apply does not say the excluded IP was refused:\n%s", r.Stdout)
	}
}

// The fan-out bounds are shown by plan and reported by apply like a spent
// budget: the run goes on, the cut queries are listed with their reason.
func TestFindingLimitsInPlanAndApply(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	hcl := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(hcl)
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte("max_depth = 2"), []byte("max_depth = 2\n  max_findings_per_query = 1\n  max_findings = 3"), 1)
	if err := os.WriteFile(hcl, src, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := runCLI(t, dir, nil, "plan")
	if plan.Code == exitError || !strings.Contains(plan.Stdout, "Findings kept: at most 3 per run, at most 1 per query (max_findings, max_findings_per_query).") {
		t.Errorf("plan does not show the bounds:\n%s%s", plan.Stdout, plan.Stderr)
	}
	r := runCLI(t, dir, nil, "apply", "-auto-approve")
	if r.Code == exitError {
		t.Fatalf("apply: %s%s", r.Stdout, r.Stderr)
	}
	for _, want := range []string{"Queries whose findings were cut by the engagement's limits:", "(max_findings_per_query = 1)", "Warning: "} {
		if !strings.Contains(r.Stdout+r.Stderr, want) {
			t.Errorf("apply output does not say %q:\n%s\n%s", want, r.Stdout, r.Stderr)
		}
	}
}

// A saved plan edited to hold a deeply nested variable value is refused
// with a diagnostic, not a crash.
func TestApplyEditedPlanWithDeepVariable(t *testing.T) {
	dir := engagementCopy(t, "fileonly")
	work := filepath.Dir(dir)
	vars := "variable \"extra\" {\n  type    = list(any)\n  default = []\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "vars.hcl"), []byte(vars), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, work, nil, "plan", "-var", `extra=["a"]`, "-out", "acme.plan", "fileonly"); r.Code != exitOK {
		t.Fatalf("plan: %s", r.Stderr)
	}
	path := filepath.Join(work, "acme.plan")
	saved, _ := os.ReadFile(path)
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	edited := bytes.Replace(saved, []byte(`"extra": "[\"a\"]"`), []byte(`"extra": "`+deep+`"`), 1)
	if bytes.Equal(edited, saved) {
		t.Fatalf("the plan does not hold the variable as expected:\n%s", saved)
	}
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, work, nil, "apply", "acme.plan")
	if r.Code != exitError || !strings.Contains(r.Stdout+r.Stderr, "Too deeply nested") {
		t.Errorf("code %d:\n%.500s\n%.500s", r.Code, r.Stdout, r.Stderr)
	}
}
