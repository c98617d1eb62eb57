package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/providers/dns/dnstest"
)

// takeoverServers are the services testdata/takeover/engagement talks
// to, on 127.0.0.1: an RDAP registry answering with real registry bodies,
// the DNS of testdata/takeover/world.db, and a web front end answering
// by Host header as a hosted service does. Each records what reached it.
type takeoverServers struct {
	dns  *dnstest.Server
	rdap *recorder
	web  *recorder
}

type recorder struct {
	mu    sync.Mutex
	hosts []string // Host header or RDAP domain of every request
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts = append(r.hosts, s)
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.hosts...)
	sort.Strings(out)
	return slices.Compact(out)
}

func startTakeoverServers(t *testing.T) (*takeoverServers, []string) {
	t.Helper()
	real := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "real", "rdap", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// Verisign's google.com answer, its expiration moved a year past now so
	// that the test does not expire with the recording.
	registered := strings.Replace(real("verisign-com-google.com.json"), "2028-09-14T04:00:00Z", time.Now().UTC().AddDate(1, 0, 0).Format(time.RFC3339), 1)
	answers := map[string]struct {
		status int
		body   string
	}{
		"awsdns-01.org":  {200, registered},
		"google.com":     {200, registered},
		"lapsed-dns.com": {200, real("afnic-fr-airport.fr.json")}, // expired 2023-01-27
		"gone-mail.com":  {404, real("verisign-com-notfound.empty")},
	}
	s := &takeoverServers{
		dns:  dnstest.Start(t, filepath.Join("..", "..", "testdata", "takeover", "world.db")),
		rdap: &recorder{},
		web:  &recorder{},
	}
	rdap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		domain := strings.TrimPrefix(r.URL.Path, "/domain/")
		s.rdap.add(domain)
		a, ok := answers[domain]
		if !ok {
			a.status, a.body = 404, real("centralnic-design-notfound.json")
		}
		w.Header().Set("Content-Type", "application/rdap+json")
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}))
	t.Cleanup(rdap.Close)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.web.add(r.Host)
		switch r.Host {
		case "pages.acme.example":
			w.WriteHeader(404)
			fmt.Fprint(w, `<!DOCTYPE html><html><head><title>Site not found &middot; GitHub Pages</title></head><body><h1>404</h1><p><strong>There isn't a GitHub Pages site here.</strong></p></body></html>`)
		case "docs.acme.example":
			fmt.Fprint(w, `<!doctype html><html><head><title>ACME docs</title></head><body>Welcome</body></html>`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, "<html><body><h1>404 Not Found</h1></body></html>")
		}
	}))
	t.Cleanup(web.Close)
	environ := []string{
		"RECONFORM_VAR_resolver=" + s.dns.Addr,
		"RECONFORM_VAR_web=" + web.URL,
		"RECONFORM_VAR_rdap=" + rdap.URL,
		"HOME=" + t.TempDir(),
	}
	return s, environ
}

func copyTakeoverEngagement(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "takeover", "engagement")
	for _, name := range []string{"main.hcl", "history.ndjson"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// takeoverFacts are the facts of the state of the given kinds, as
// "subject kind value".
func takeoverFacts(t *testing.T, path string, kinds ...string) []string {
	t.Helper()
	st, err := state.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range st.Facts {
		if slices.Contains(kinds, f.Kind) {
			out = append(out, f.ID())
		}
	}
	sort.Strings(out)
	return out
}

var takeoverKinds = []string{"takeover_candidate", "takeover_confirmed", "dangling_ns", "dangling_mx"}

// TestTakeoverEndToEnd runs testdata/takeover/engagement: every dangling
// record is found (candidates from the history, confirmations from live
// DNS and the HTTP probe, dangling NS and MX from the registry), no
// healthy one is, and nothing active reaches an out-of-scope name.
func TestTakeoverEndToEnd(t *testing.T) {
	srv, environ := startTakeoverServers(t)
	dir := copyTakeoverEngagement(t)
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
		t.Fatal("plan failed")
	}
	if !strings.Contains(plan.Stdout, "refused: shop.partner.example is out of scope") {
		t.Errorf("plan does not show the HTTP probe of shop.partner.example refused")
	}
	if len(srv.dns.Queries())+len(srv.web.seen())+len(srv.rdap.seen()) != 0 {
		t.Fatalf("plan sent requests: dns %v web %v rdap %v", srv.dns.Queries(), srv.web.seen(), srv.rdap.seen())
	}

	r := step("apply", "-auto-approve")
	if r.Code == exitError {
		t.Fatal("apply failed")
	}
	want := []string{
		"acme.example dangling_mx mx.gone-mail.com",
		"acme.example dangling_ns ns1.lapsed-dns.com",
		"help.acme.example takeover_candidate helpjuice",
		"old.acme.example takeover_candidate azure",
		"old.acme.example takeover_confirmed azure",
		"pages.acme.example takeover_confirmed github-pages",
	}
	if d := cmp.Diff(want, takeoverFacts(t, filepath.Join(dir, "acme.rfstate"), takeoverKinds...)); d != "" {
		t.Errorf("takeover facts (-want +got):\n%s", d)
	}

	// Active requests went to in-scope names only; RDAP asked the
	// registry about the third-party domains, never the target.
	for _, q := range srv.dns.Queries() {
		if name := strings.Fields(q)[0]; !strings.HasSuffix(name, ".acme.example") && !strings.HasSuffix(name, ".azurewebsites.net") && !strings.HasSuffix(name, ".github.io") && !strings.HasSuffix(name, ".helpjuice.com") && !strings.HasSuffix(name, ".cloudfront.net") {
			t.Errorf("DNS question for %s", name)
		}
		if strings.Contains(q, "partner") {
			t.Errorf("out-of-scope DNS question %q", q)
		}
	}
	wantWeb := []string{"app.acme.example", "docs.acme.example", "help.acme.example", "old.acme.example", "pages.acme.example", "promo.acme.example", "static.acme.example"}
	gotWeb := srv.web.seen()
	for _, h := range gotWeb {
		if !strings.HasSuffix(h, ".acme.example") {
			t.Errorf("HTTP probe of out-of-scope %s", h)
		}
	}
	// old.acme.example is NXDOMAIN: it cannot be fetched through the name,
	// but the endpoint stands in for the name's address, so it is asked.
	if d := cmp.Diff(wantWeb, gotWeb); d != "" {
		t.Errorf("HTTP probes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"awsdns-01.org", "gone-mail.com", "google.com", "lapsed-dns.com", "old-dns-host.net"}, srv.rdap.seen()); d != "" {
		t.Errorf("RDAP lookups (-want +got):\n%s", d)
	}

	// The report leads with the risks.
	rep := step("report", "-format", "md")
	if rep.Code != exitOK {
		t.Fatalf("report: exit %d", rep.Code)
	}
	risks, summary := strings.Index(rep.Stdout, "## Takeover risks"), strings.Index(rep.Stdout, "## Summary")
	if risks < 0 || risks > summary {
		t.Errorf("the report does not lead with Takeover risks")
	}
	for _, row := range []string{"| `old.acme.example` | **takeover confirmed** | `azure` |", "| `acme.example` | dangling NS | `ns1.lapsed-dns.com` | lapsed-dns.com is expired |"} {
		if !strings.Contains(rep.Stdout, row) {
			t.Errorf("report has no row %q", row)
		}
	}
}

// TestTakeoverPassiveEngagement: with passive_only = true the engagement
// does not validate, plan or apply while it declares active providers,
// and nothing reaches any server; without them the passive detection
// still finds the candidates and the dangling NS and MX, and nothing
// active is sent.
func TestTakeoverPassiveEngagement(t *testing.T) {
	srv, environ := startTakeoverServers(t)
	dir := copyTakeoverEngagement(t)
	path := filepath.Join(dir, "main.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	passive := strings.Replace(string(src), "passive_only = false", "passive_only = true", 1)
	if err := os.WriteFile(path, []byte(passive), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"validate"}, {"plan"}, {"apply", "-auto-approve"}} {
		r := runCLI(t, dir, environ, args...)
		if r.Code != exitError || !strings.Contains(r.Stdout+r.Stderr, "Active provider in a passive engagement") {
			t.Errorf("%s: exit %d, want %d and the active-provider diagnostic:\n%s%s", args[0], r.Code, exitError, r.Stdout, r.Stderr)
		}
	}
	if n := len(srv.dns.Queries()) + len(srv.web.seen()) + len(srv.rdap.seen()); n != 0 {
		t.Fatalf("a refused engagement sent %d requests", n)
	}

	// Drop the active providers and their queries: passive detection.
	cut := passive[:strings.Index(passive, `provider "dns"`)] + passive[strings.Index(passive, "query \"history\""):strings.Index(passive, "# Confirm live")]
	if err := os.WriteFile(path, []byte(cut), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, dir, environ, "apply", "-auto-approve"); r.Code == exitError {
		t.Fatalf("passive apply: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	want := []string{
		"acme.example dangling_mx mx.gone-mail.com",
		"acme.example dangling_ns ns1.lapsed-dns.com",
		"help.acme.example takeover_candidate helpjuice",
		"old.acme.example takeover_candidate azure",
	}
	if d := cmp.Diff(want, takeoverFacts(t, filepath.Join(dir, "acme.rfstate"), takeoverKinds...)); d != "" {
		t.Errorf("passive takeover facts (-want +got):\n%s", d)
	}
	if len(srv.dns.Queries())+len(srv.web.seen()) != 0 {
		t.Errorf("a passive engagement sent active requests: dns %v, web %v", srv.dns.Queries(), srv.web.seen())
	}
}

// TestTakeoverExampleOffline runs examples/takeover as its README says:
// offline, it finds the three dangling CNAMEs and nothing else.
func TestTakeoverExampleOffline(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "..", "examples", "takeover")
	for _, name := range []string{"main.hcl", filepath.Join("data", "pdns.ndjson")} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{"HOME=" + t.TempDir()}
	if r := runCLI(t, dir, environ, "apply", "-auto-approve"); r.Code == exitError {
		t.Fatalf("apply: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	want := []string{
		"assets.contoso.example takeover_candidate aws-s3",
		"legacy.contoso.example takeover_candidate azure",
		"support.contoso.example takeover_candidate helpjuice",
	}
	if d := cmp.Diff(want, takeoverFacts(t, filepath.Join(dir, "reconform.rfstate"), takeoverKinds...)); d != "" {
		t.Errorf("takeover facts (-want +got):\n%s", d)
	}
	r := runCLI(t, dir, environ, "report")
	if r.Code != exitOK || !strings.HasPrefix(r.Stdout[strings.Index(r.Stdout, "\n## "):], "\n## Takeover risks") {
		t.Errorf("the report does not lead with Takeover risks:\n%s", r.Stdout)
	}
}
