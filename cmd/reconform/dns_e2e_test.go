package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/providers/dns/dnstest"
	"github.com/reconform/reconform/schema"
)

// outOfScope are the names of testdata/dns/engagement that must never
// reach the DNS server: literal subjects, names in the passive history,
// an excluded subdomain and a CNAME target a pivot follows.
var outOfScope = []string{"outside.example", "nowhere.example", "partner.other.example", "excluded.acme.example", "shop.saas.example"}

// TestDNSEndToEnd verifies a passive history with live DNS against an
// in-process authoritative server, and checks the scope guard from the
// server's side: it counts every question it receives.
func TestDNSEndToEnd(t *testing.T) {
	srv := dnstest.Start(t, filepath.Join("..", "..", "testdata", "dns", "zone.db"))
	testDNSEngagement(t, srv.Addr, srv)
}

// TestDNSEndToEndNSD runs the same engagement against NSD, when installed.
func TestDNSEndToEndNSD(t *testing.T) {
	addr := dnstest.StartNSD(t, []dnstest.Zone{{Name: "acme.example", File: filepath.Join("..", "..", "testdata", "dns", "zone.db")}})
	testDNSEngagement(t, addr, nil)
}

// TestDNSEndToEndBIND runs the same engagement against BIND 9, when
// installed, and proves from BIND's own query log that no out-of-scope
// name reached it.
func TestDNSEndToEndBIND(t *testing.T) {
	addr, queryLog := dnstest.StartBIND(t, []dnstest.Zone{{Name: "acme.example", File: filepath.Join("..", "..", "testdata", "dns", "zone.db")}})
	testDNSEngagement(t, addr, nil)
	data, err := os.ReadFile(queryLog)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	for _, m := range regexp.MustCompile(`query: (\S+) IN \S+`).FindAllStringSubmatch(string(data), -1) {
		asked = append(asked, strings.ToLower(m[1]))
	}
	checkNamesInScope(t, asked)
}

// TestDNSEndToEndKnot runs the same engagement against Knot DNS, when
// installed.
func TestDNSEndToEndKnot(t *testing.T) {
	addr := dnstest.StartKnot(t, []dnstest.Zone{{Name: "acme.example", File: filepath.Join("..", "..", "testdata", "dns", "zone.db")}})
	testDNSEngagement(t, addr, nil)
}

// testDNSEngagement runs testdata/dns/engagement against the server at
// addr; srv, when not nil, is that server, and the questions it received
// are checked against the scope.
func testDNSEngagement(t *testing.T, addr string, srv *dnstest.Server) {
	if _, ok := commands["apply"]; !ok {
		t.Skip("the apply command has not landed yet")
	}
	dir := copyDNSEngagement(t)
	environ := []string{"RECONFORM_VAR_resolver=" + addr, "HOME=" + t.TempDir()}
	step := func(args ...string) cliResult {
		t.Helper()
		r := runCLI(t, dir, environ, args...)
		t.Logf("reconform %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
		return r
	}

	if r := step("validate"); r.Code != exitOK {
		t.Fatalf("validate: exit %d", r.Code)
	}
	plan := step("plan")
	if plan.Code == exitError {
		t.Fatalf("plan failed")
	}
	if srv != nil && len(srv.Queries()) != 0 {
		t.Fatalf("plan sent DNS questions: %v", srv.Queries())
	}
	// The plan marks the active instance and names the refused subject.
	if !regexp.MustCompile(`(?m)^.*!.*dns resolve acme\.example`).MatchString(plan.Stdout) {
		t.Errorf("plan does not mark the active instance dns resolve acme.example with !")
	}
	if !regexp.MustCompile(`(?m)^Refused \(active lookups outside the scope.*\n(  - .*\n)*  - refused: outside\.example is out of scope \(not under any scope domain\)`).MatchString(plan.Stdout) {
		t.Errorf("plan does not list outside.example under Refused as out of scope")
	}

	r := step("apply", "-auto-approve")
	if r.Code == exitError {
		t.Fatalf("apply failed")
	}
	// The apply summary lists every refusal, also those only the run
	// could know: a pivot's CNAME target and a name from the history.
	for _, name := range []string{"outside.example", "nowhere.example", "shop.saas.example", "partner.other.example", "excluded.acme.example"} {
		if !strings.Contains(r.Stdout, "  - refused: "+name+" is out of scope (") {
			t.Errorf("apply summary does not say %s was refused as out of scope", name)
		}
	}
	if !regexp.MustCompile(`Apply complete! Queries: .*skipped \(\d+ refused as out of scope\)`).MatchString(r.Stdout) {
		t.Errorf("apply summary does not count the refusals")
	}

	if srv != nil {
		checkAskedInScope(t, srv)
	}

	st, err := state.ReadFile(filepath.Join(dir, "acme.rfstate"))
	if err != nil {
		t.Fatal(err)
	}
	// Resolve instances are marked active; the out-of-scope ones were
	// skipped for scope and every other one answered.
	resolved := 0
	for _, in := range st.Instances {
		if in.Query.Op != schema.OpResolve {
			continue
		}
		resolved++
		if !in.Active {
			t.Errorf("instance %s is not marked active", in.Key)
		}
		if slices.Contains(outOfScope, in.Query.Subject.Value) {
			if in.Status != schema.StatusSkipped || !strings.Contains(in.Reason, "scope") {
				t.Errorf("instance %s: %s (%s), want skipped for scope", in.Key, in.Status, in.Reason)
			}
		} else if in.Status != schema.StatusOK {
			t.Errorf("instance %s: %s (%s), want ok", in.Key, in.Status, in.Reason)
		}
	}
	if resolved < 10 {
		t.Errorf("only %d resolve instances in the state", resolved)
	}

	// Findings from live DNS are active and current; the history's stay
	// passive; absence is a fact, not an error.
	byID := map[string]state.Finding{}
	for _, f := range st.Findings {
		byID[f.ID()] = f
	}
	for id, active := range map[string]bool{
		"acme.example NS ns1.acme.example":              true,
		"web.acme.example A 203.0.113.20":               true,
		"acme.example A 203.0.113.10":                   true, // in the history and live
		"acme.example MX mail.oldhost.example":          false,
		"old.acme.example A 198.51.100.7":               false,
		"partner.other.example A 192.0.2.1":             false,
		"dangling.acme.example CNAME gone.acme.example": true,
	} {
		f, ok := byID[id]
		if !ok {
			t.Errorf("finding %s missing", id)
			continue
		}
		if f.Active != active {
			t.Errorf("finding %s: active %v, want %v", id, f.Active, active)
		}
	}
	facts := map[string]bool{}
	stillResolves := map[string]string{}
	for _, f := range st.Facts {
		facts[f.ID()] = true
		if f.Kind == "still_resolves" {
			stillResolves[f.Subject] = f.Value
		}
	}
	for _, id := range []string{
		"old.acme.example dns_status nxdomain",
		"acme.example dns_status noerror",
		"dangling.acme.example dangling_cname gone.acme.example",
	} {
		if !facts[id] {
			t.Errorf("fact %s missing", id)
		}
	}

	// Which historical records still resolve: analysis.Verify over the
	// run, its instances' findings rebuilt from the state (which keeps,
	// per finding, the instances that reported it).
	want := map[string]string{
		"acme.example A 198.51.100.99":                  "no",
		"acme.example A 203.0.113.10":                   "yes",
		"acme.example MX mail.oldhost.example":          "no",
		"acme.example MX mx1.acme.example":              "yes",
		"www.acme.example A 203.0.113.20":               "yes", // through www CNAME web
		"old.acme.example A 198.51.100.7":               "no",  // NXDOMAIN now
		"dangling.acme.example CNAME gone.acme.example": "yes",
		"external.acme.example CNAME shop.saas.example": "yes",
	}
	instances := append([]schema.InstanceResult(nil), st.Instances...)
	for i := range instances {
		for _, f := range st.Findings {
			if slices.Contains(f.Instances, instances[i].Key) {
				instances[i].FindingIDs = append(instances[i].FindingIDs, f.ID())
			}
		}
	}
	verified := map[string]string{}
	for _, f := range analysis.Verify(st.SchemaFindings(), instances) {
		verified[f.Subject] = f.Value
	}
	if d := cmp.Diff(want, verified); d != "" {
		t.Errorf("analysis.Verify (-want +got):\n%s", d)
	}
	// The same facts in the state, once the merge passes the run's
	// instances to analysis.Derive.
	if len(stillResolves) == 0 {
		t.Log("no still_resolves facts in the state: the merge does not pass the run's instances to analysis.Derive yet")
	} else if d := cmp.Diff(want, stillResolves); d != "" {
		t.Errorf("still_resolves facts in the state (-want +got):\n%s", d)
	}

	// Nothing changed on the server: a second run shows no drift.
	if r := step("apply", "-auto-approve", "-detailed-exitcode"); r.Code != exitOK {
		t.Errorf("second apply: exit %d, want %d (no drift)", r.Code, exitOK)
	}
	if srv == nil {
		return
	}

	// The web server moves: the drift says www's old address no longer
	// resolves.
	zone, err := os.ReadFile(filepath.Join("..", "..", "testdata", "dns", "zone.db"))
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.Replace(string(zone), "web         IN A    203.0.113.20", "web         IN A    203.0.113.21", 1)
	if moved == string(zone) {
		t.Fatal("zone.db no longer has web's A record where this test expects it")
	}
	movedPath := filepath.Join(t.TempDir(), "moved.db")
	if err := os.WriteFile(movedPath, []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	srv2 := dnstest.Start(t, movedPath)
	environ[0] = "RECONFORM_VAR_resolver=" + srv2.Addr
	r = step("apply", "-auto-approve", "-detailed-exitcode")
	if r.Code != exitDrift {
		t.Errorf("apply after the move: exit %d, want %d (drift)", r.Code, exitDrift)
	}
	if !regexp.MustCompile(`www\.acme\.example A 203\.0\.113\.20[^\n]*still_resolves[^\n]*yes[^\n]*no`).MatchString(r.Stdout) {
		t.Errorf("the drift does not show www.acme.example A 203.0.113.20 still_resolves going from yes to no")
	}
}

// TestDNSRefusedInPassiveEngagement: the same engagement with passive_only
// = true does not validate, and nothing is sent.
func TestDNSRefusedInPassiveEngagement(t *testing.T) {
	srv := dnstest.Start(t, filepath.Join("..", "..", "testdata", "dns", "zone.db"))
	dir := copyDNSEngagement(t)
	path := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), "passive_only = false", "passive_only = true", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := []string{"RECONFORM_VAR_resolver=" + srv.Addr, "HOME=" + t.TempDir()}
	for _, args := range [][]string{{"validate"}, {"plan"}, {"apply", "-auto-approve"}} {
		r := runCLI(t, dir, environ, args...)
		if r.Code != exitError || !strings.Contains(r.Stdout+r.Stderr, "passive") {
			t.Errorf("%s: exit %d, want %d and a message about passive_only:\n%s%s", args[0], r.Code, exitError, r.Stdout, r.Stderr)
		}
	}
	if len(srv.Queries()) != 0 {
		t.Errorf("a passive engagement sent DNS questions: %v", srv.Queries())
	}
}

// checkAskedInScope checks the questions srv received: never an
// out-of-scope name, and every in-scope name the engagement leads to.
func checkAskedInScope(t *testing.T, srv *dnstest.Server) {
	t.Helper()
	var names []string
	for _, q := range srv.Queries() {
		names = append(names, strings.Fields(q)[0])
	}
	checkNamesInScope(t, names)
}

// checkNamesInScope checks the names a DNS server was asked: never one
// out of scope, and every in-scope name the engagement must verify.
func checkNamesInScope(t *testing.T, names []string) {
	t.Helper()
	asked := map[string]bool{}
	for _, n := range names {
		asked[n] = true
	}
	for _, name := range outOfScope {
		if asked[name] {
			t.Errorf("out-of-scope %s reached the DNS server", name)
		}
	}
	for name := range asked {
		if name != "acme.example" && !strings.HasSuffix(name, ".acme.example") || name == "excluded.acme.example" {
			t.Errorf("out-of-scope %s reached the DNS server", name)
		}
	}
	for _, name := range []string{"acme.example", "_dmarc.acme.example", "www.acme.example", "web.acme.example", "old.acme.example", "dangling.acme.example", "gone.acme.example"} {
		if !asked[name] {
			t.Errorf("in-scope %s was never asked; asked: %v", name, names)
		}
	}

}

// copyDNSEngagement copies testdata/dns/engagement to a temporary folder.
func copyDNSEngagement(t *testing.T) string {
	t.Helper()
	from := filepath.Join("..", "..", "testdata", "dns", "engagement")
	dir := t.TempDir()
	for _, name := range []string{"main.hcl", "history.csv"} {
		data, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
