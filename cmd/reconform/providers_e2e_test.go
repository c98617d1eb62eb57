package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/fakevendors"
	"github.com/reconform/reconform/providers/all"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// Distinctive credentials: if any of them shows up in a file, a log line
// or the output, a secret leaked.
var e2eSecrets = map[string]string{
	"SECURITYTRAILS_API_KEY":        "canary-st-4c1f9a77e2",
	"SECURITYTRAILS_DENIED_API_KEY": "canary-stdenied-83be01d5aa",
	"VIRUSTOTAL_API_KEY":            "canary-vt-0d6e5b3c91",
	"CIRCL_USERNAME":                "canary-circl-user-52aa",
	"CIRCL_PASSWORD":                "canary-circl-pw-7be3f0c2",
	"ROBTEX_API_KEY":                "canary-robtex-19f04c8d6b",
	"HACKERTARGET_API_KEY":          "canary-ht-a71c2e9f30",
	"DNSDUMPSTER_API_KEY":           "canary-dd-6e09b4d1c8",
	"DNSDB_API_KEY":                 "canary-dnsdb-f3a8c5e017",
}

// e2eVendors are fake servers for every provider of testdata/e2e, keyed by
// the engagement's endpoint variable, with the endpoint to use.
type e2eVendors struct {
	endpoints map[string]string // variable name -> endpoint
}

func startE2EVendors(t *testing.T) e2eVendors {
	t.Helper()
	fixtures := func(parts ...string) fs.FS {
		return os.DirFS(filepath.Join(append([]string{"..", "..", "testdata"}, parts...)...))
	}
	s := e2eSecrets
	start := func(h interface {
		ServeHTTP(w http.ResponseWriter, r *http.Request)
	}) *httptest.Server {
		return fakevendors.Start(t, h)
	}
	st := start(&fakevendors.SecurityTrails{Fixtures: fixtures("providers", "securitytrails"), Key: s["SECURITYTRAILS_API_KEY"]})
	// The "denied" instance's key is not the one this server accepts: 403.
	denied := start(&fakevendors.SecurityTrails{Fixtures: fixtures("providers", "securitytrails"), Key: "another-account"})
	vt := start(&fakevendors.VirusTotal{Fixtures: fixtures("providers", "virustotal"), Key: s["VIRUSTOTAL_API_KEY"]})
	circl := start(&fakevendors.CIRCL{Fixtures: fixtures("e2e", "vendors", "circl"), Username: s["CIRCL_USERNAME"], Password: s["CIRCL_PASSWORD"]})
	robtex := start(&fakevendors.Robtex{Fixtures: fixtures("providers", "robtex"), Key: s["ROBTEX_API_KEY"]})
	ht := start(&fakevendors.HackerTarget{Fixtures: fixtures("providers", "hackertarget"), Key: s["HACKERTARGET_API_KEY"]})
	down := start(&fakevendors.HackerTarget{Fixtures: fixtures("providers", "hackertarget"), Hook: fakevendors.Always(500, "Internal Server Error")})
	dd := start(&fakevendors.DNSDumpster{Fixtures: fixtures("providers", "dnsdumpster"), Key: s["DNSDUMPSTER_API_KEY"]})
	dnsdb := start(&fakevendors.DNSDB{Fixtures: fixtures("providers", "dnsdb"), Key: s["DNSDB_API_KEY"]})
	crtsh := start(&fakevendors.CrtSh{Fixtures: fixtures("providers", "crtsh")})
	return e2eVendors{endpoints: map[string]string{
		"securitytrails_endpoint": st.URL + "/v1",
		"denied_endpoint":         denied.URL + "/v1",
		"virustotal_endpoint":     vt.URL + "/api/v3",
		"circl_endpoint":          circl.URL + "/pdns/query",
		"robtex_endpoint":         robtex.URL,
		"hackertarget_endpoint":   ht.URL,
		"down_endpoint":           down.URL,
		"dnsdumpster_endpoint":    dd.URL,
		"dnsdb_endpoint":          dnsdb.URL + "/dnsdb/v2",
		"crtsh_endpoint":          crtsh.URL,
	}}
}

// e2eInstance is one provider instance of testdata/e2e/engagement.
type e2eInstance struct {
	address, typ, endpointVar string
	attrs                     map[string]string // attribute -> env var
	ops                       []schema.Op
}

var e2eInstances = []e2eInstance{
	{"securitytrails", "securitytrails", "securitytrails_endpoint", map[string]string{"api_key": "SECURITYTRAILS_API_KEY"},
		[]schema.Op{schema.OpResolutions, schema.OpSubdomains, schema.OpReverseIP, schema.OpNSReverse, schema.OpMXReverse}},
	{"virustotal", "virustotal", "virustotal_endpoint", map[string]string{"api_key": "VIRUSTOTAL_API_KEY"},
		[]schema.Op{schema.OpResolutions, schema.OpSubdomains, schema.OpReverseIP}},
	{"circl", "circl", "circl_endpoint", map[string]string{"username": "CIRCL_USERNAME", "password": "CIRCL_PASSWORD"},
		[]schema.Op{schema.OpResolutions, schema.OpReverseIP}},
	{"robtex", "robtex", "robtex_endpoint", map[string]string{"api_key": "ROBTEX_API_KEY"},
		[]schema.Op{schema.OpResolutions, schema.OpReverseIP, schema.OpNSReverse}},
	{"hackertarget", "hackertarget", "hackertarget_endpoint", map[string]string{"api_key": "HACKERTARGET_API_KEY"},
		[]schema.Op{schema.OpResolutions, schema.OpSubdomains, schema.OpReverseIP, schema.OpNSReverse}},
	{"dnsdumpster", "dnsdumpster", "dnsdumpster_endpoint", map[string]string{"api_key": "DNSDUMPSTER_API_KEY"},
		[]schema.Op{schema.OpSubdomains}},
	{"dnsdb", "dnsdb", "dnsdb_endpoint", map[string]string{"api_key": "DNSDB_API_KEY"},
		[]schema.Op{schema.OpResolutions, schema.OpSubdomains, schema.OpReverseIP, schema.OpNSReverse, schema.OpMXReverse}},
	{"crtsh", "crtsh", "crtsh_endpoint", nil, []schema.Op{schema.OpSubdomains}},
}

// e2eSubjects are the engagement's subjects per op.
var e2eSubjects = map[schema.Op]string{
	schema.OpResolutions: "example.com",
	schema.OpSubdomains:  "example.com",
	schema.OpReverseIP:   "203.0.113.10",
	schema.OpNSReverse:   "ns1.example.net",
	schema.OpMXReverse:   "mx1.example.com",
}

// expectedByProvider asks every provider directly, through its own client,
// what the fakes serve for the engagement's queries: finding identities
// per provider address.
func expectedByProvider(t *testing.T, v e2eVendors) map[string][]string {
	t.Helper()
	regs := all.Registrations()
	out := map[string][]string{}
	for _, inst := range e2eInstances {
		attrs := map[string]string{}
		for attr, env := range inst.attrs {
			attrs[attr] = e2eSecrets[env]
		}
		cfg, _ := providertest.Config(t, inst.typ, v.endpoints[inst.endpointVar], attrs)
		cfg.Address = inst.address
		p, err := regs[inst.typ].New(context.Background(), cfg)
		if err != nil {
			t.Fatalf("%s: %v", inst.address, err)
		}
		ids := map[string]bool{}
		for _, op := range inst.ops {
			sub, _ := schema.ParseSubject(e2eSubjects[op])
			ans, err := p.Query(context.Background(), schema.Query{Provider: inst.address, Op: op, Subject: sub})
			if err != nil {
				t.Fatalf("%s %s %s: %v", inst.address, op, sub, err)
			}
			if len(ans.Findings) == 0 {
				t.Errorf("%s %s %s: the fake served nothing; the end-to-end run would prove little", inst.address, op, sub)
			}
			for _, f := range ans.Findings {
				ids[f.ID()] = true
			}
		}
		for id := range ids {
			out[inst.address] = append(out[inst.address], id)
		}
		sort.Strings(out[inst.address])
	}
	return out
}

// The fakes answer every provider's client: a check of the end-to-end
// fixture set that runs even before apply exists.
func TestE2EFakesServeEveryProvider(t *testing.T) {
	expectedByProvider(t, startE2EVendors(t))
}

func TestProvidersEndToEnd(t *testing.T) {
	if _, ok := commands["apply"]; !ok {
		t.Skip("the apply command has not landed yet")
	}
	vendors := startE2EVendors(t)
	want := expectedByProvider(t, vendors)

	dir := filepath.Join(t.TempDir(), "engagement")
	copyDir(t, filepath.Join("..", "..", "testdata", "e2e", "engagement"), dir)
	environ := []string{
		"RECONFORM_LOG=trace",
		"RECONFORM_LOG_PATH=" + filepath.Join(dir, "reconform.log"),
		"HOME=" + t.TempDir(),
	}
	for name, endpoint := range vendors.endpoints {
		environ = append(environ, "RECONFORM_VAR_"+name+"="+endpoint)
	}
	for name, secret := range e2eSecrets {
		environ = append(environ, name+"="+secret)
	}
	var outputs []string
	runStep := func(args ...string) cliResult {
		t.Helper()
		r := runCLIWithLog(t, dir, environ, args...)
		outputs = append(outputs, r.Stdout, r.Stderr)
		t.Logf("reconform %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
		return r
	}

	if r := runStep("plan", "-out=e2e.rfplan"); r.Code == exitError {
		t.Fatalf("plan failed")
	}
	// The reviewed plan is what runs; the saved plan file holds no key.
	if r := runStep("apply", "e2e.rfplan"); r.Code == exitError && !strings.Contains(r.Stdout+r.Stderr, "failed") {
		t.Fatalf("apply of the saved plan failed")
	}

	st, err := state.ReadFile(filepath.Join(dir, "e2e.rfstate"))
	if err != nil {
		t.Fatalf("reading the state: %v", err)
	}

	// Failures fail only their instances.
	status := map[string]schema.InstanceStatus{}
	for _, in := range st.Instances {
		status[in.Query.Provider+" "+string(in.Query.Op)] = in.Status
		failing := in.Query.Provider == "securitytrails.denied" || in.Query.Provider == "hackertarget.down"
		switch {
		case failing && in.Status != schema.StatusFailed:
			t.Errorf("%s: status %s, want failed", in.Key, in.Status)
		case failing && in.Query.Provider == "securitytrails.denied" && !strings.Contains(in.Reason, "api_key"):
			t.Errorf("%s: reason %q does not say which attribute to fix", in.Key, in.Reason)
		case !failing && !in.Status.Succeeded():
			t.Errorf("%s: status %s (%s), want ok", in.Key, in.Status, in.Reason)
		}
	}
	for _, inst := range e2eInstances {
		for _, op := range inst.ops {
			if _, ok := status[inst.address+" "+string(op)]; !ok {
				t.Errorf("no instance of %s %s in the state", inst.address, op)
			}
		}
	}
	for _, p := range []string{"securitytrails.denied subdomains", "hackertarget.down subdomains"} {
		if _, ok := status[p]; !ok {
			t.Errorf("no instance of %s in the state", p)
		}
	}

	// The findings are what the fakes serve, provider by provider.
	got := map[string][]string{}
	for _, f := range st.Findings {
		for _, src := range f.Sources {
			got[src] = append(got[src], f.ID())
		}
	}
	for src := range got {
		sort.Strings(got[src])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings per provider (-served +state):\n%s", diff)
	}
	// A few values spelled out, quirks included.
	for _, id := range []string{
		"vpn.example.com AAAA 2001:db8::443", // hackertarget hostsearch
		"example.com MX mx1.example.com",     // dnslookup, dnsdumpster, dnsdb
		"status.example.com A 192.0.2.80",    // dnsdumpster cname entry
		"dev.example.com HOST ",              // dnsdumpster page 2, crt.sh wildcard
		"example.org MX mx1.example.com",     // dnsdb rdata lookup
		"shop.example.org A 203.0.113.10",    // reverse IP
		"example.com TXT v=spf1 include:_spf.example.net -all",
	} {
		if !slices.ContainsFunc(st.Findings, func(f state.Finding) bool { return f.ID() == id }) {
			t.Errorf("finding %q missing from the state", id)
		}
	}

	// A second run reads the cache and keeps history; still nothing leaks.
	runStep("apply", "-auto-approve")
	if _, err := state.ReadFile(filepath.Join(dir, "e2e.rfstate")); err != nil {
		t.Fatalf("reading the state after the second run: %v", err)
	}

	checkNoSecrets(t, dir, outputs)
}

// runCLIWithLog is runCLI with the logger main builds from RECONFORM_LOG
// and RECONFORM_LOG_PATH, so that what a real run logs is checked too.
func runCLIWithLog(t *testing.T, dir string, environ []string, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: environ, WorkDir: dir}
	logger, closeLog, err := newLogger(env)
	if err != nil {
		t.Fatal(err)
	}
	defer closeLog()
	env.Logger = logger
	code := run(context.Background(), env, args)
	return cliResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

// checkNoSecrets fails if any credential, in any encoding a client could
// write it, appears in a file under dir or in the captured outputs.
func checkNoSecrets(t *testing.T, dir string, outputs []string) {
	t.Helper()
	var forms []string
	for _, s := range e2eSecrets {
		forms = append(forms, s, url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s)))
	}
	basic := e2eSecrets["CIRCL_USERNAME"] + ":" + e2eSecrets["CIRCL_PASSWORD"]
	forms = append(forms, base64.StdEncoding.EncodeToString([]byte(basic)))
	files := checkFilesHoldNone(t, dir, forms, nil)
	for _, want := range []string{"e2e.rfstate", "e2e.rfplan", "reconform.log"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("expected %s under the engagement folder: %v", want, err)
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "reconform.log"))
	for _, want := range []string{"hackertarget", "dnsdb", "request"} {
		if !bytes.Contains(log, []byte(want)) {
			t.Errorf("the trace log does not mention %q; the secrets check of logs proves little", want)
		}
	}
	t.Logf("checked %d files", files)
	for i, out := range outputs {
		for _, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("secret %.12s... found in output %d", f, i)
			}
		}
	}
}

// checkFilesHoldNone fails the test for every form found in a file under
// dir (skip, when set, leaves files out by their path relative to dir),
// and returns how many files it read.
func checkFilesHoldNone(t *testing.T, dir string, forms []string, skip func(rel string) bool) int {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if skip != nil && skip(rel) {
			return nil
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range forms {
			if i := bytes.Index(data, []byte(f)); i >= 0 {
				t.Errorf("%.12q... found in %s: ...%.160q...", f, rel, data[max(0, i-60):min(len(data), i+60)])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		target := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
