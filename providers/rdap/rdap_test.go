package rdap

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

const realDir = "../../testdata/real/rdap"

func realBody(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestShippedBootstrap(t *testing.T) {
	b, err := ShippedBootstrap()
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() < 1000 || b.Publication.IsZero() {
		t.Fatalf("shipped bootstrap knows %d suffixes, published %v; want IANA's full file", b.Len(), b.Publication)
	}
	for domain, want := range map[string]string{
		"google.com":       "https://rdap.verisign.com/com/v1/",
		"acme.net":         "https://rdap.verisign.com/net/v1/",
		"ACME.ORG.":        "https://rdap.publicinterestregistry.org/rdap/",
		"nic.cz":           "https://rdap.nic.cz/",
		"shop.example.dev": "https://pubapi.registry.google/rdap/",
	} {
		got := b.Lookup(domain)
		if len(got) == 0 || got[0] != want {
			t.Errorf("Lookup(%q) = %v, want %s first", domain, got, want)
		}
	}
	if got := b.Lookup("acme.example"); got != nil {
		t.Errorf("Lookup(acme.example) = %v: .example has no registry", got)
	}
}

func TestParseBootstrap(t *testing.T) {
	b, err := ParseBootstrap([]byte(`{"version":"1.0","publication":"2024-05-01T00:00:00Z","services":[
		[["com","net"],["http://rdap.example/com/","https://rdap.example/com"]],
		[["co.example"],["https://deeper.example/"]],
		[["example"],["https://shallow.example/"]],
		[["empty"],[]]]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Lookup("a.com"); !cmp.Equal(got, []string{"https://rdap.example/com/", "http://rdap.example/com/"}) {
		t.Errorf("https first, trailing slash: got %v", got)
	}
	if got := b.Lookup("acme.co.example"); len(got) == 0 || got[0] != "https://deeper.example/" {
		t.Errorf("longest match: got %v", got)
	}
	if got := b.Lookup("acme.example"); len(got) == 0 || got[0] != "https://shallow.example/" {
		t.Errorf("label match: got %v", got)
	}
	if got := b.Lookup("acme.empty"); got != nil {
		t.Errorf("a service without URLs answers nothing: got %v", got)
	}
	for name, body := range map[string]string{
		"not json":       `{`,
		"wrong version":  `{"version":"2.0","services":[[["com"],["https://x.example/"]]]}`,
		"not a pair":     `{"version":"1.0","services":[[["com"]]]}`,
		"not strings":    `{"version":"1.0","services":[[[1],["https://x.example/"]]]}`,
		"bad url":        `{"version":"1.0","services":[[["com"],["ftp://x.example/"]]]}`,
		"no services":    `{"version":"1.0","services":[]}`,
		"bad published":  `{"version":"1.0","publication":"yesterday","services":[[["com"],["https://x.example/"]]]}`,
		"html not json":  `<html>404</html>`,
		"services wrong": `{"version":"1.0","services":{"com":"https://x.example/"}}`,
	} {
		if _, err := ParseBootstrap([]byte(body)); err == nil {
			t.Errorf("%s: ParseBootstrap accepted %s", name, body)
		}
	}
}

// registry is an httptest RDAP service: it answers /domain/<name> with the
// body and status registered for the name, and records the requests.
type registry struct {
	mu       sync.Mutex
	answers  map[string]answer
	requests []*http.Request
}

type answer struct {
	status int
	body   string
}

func (r *registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req)
	r.mu.Unlock()
	name := strings.TrimPrefix(req.URL.Path, "/rdap/domain/")
	a, ok := r.answers[name]
	if !ok {
		a = answer{http.StatusNotFound, `{"errorCode":404,"title":"Not Found"}`}
	}
	w.Header().Set("Content-Type", "application/rdap+json")
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

func (r *registry) paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.requests {
		out = append(out, req.URL.Path)
	}
	return out
}

// newRegistry serves the real bodies and writes a bootstrap file sending
// .com, .design, .fr and .cz to the server: the provider finds it the way
// it finds a real registry.
func newRegistry(t *testing.T) (*registry, providers.Config, *providertest.Gate) {
	t.Helper()
	reg := &registry{answers: map[string]answer{
		"google.com":        {200, realBody(t, "verisign-com-google.com.json")},
		"jsiqpmcurt.com":    {404, realBody(t, "verisign-com-notfound.empty")},
		"jsiqpmcurt.design": {404, realBody(t, "centralnic-design-notfound.json")},
		"airport.fr":        {200, realBody(t, "afnic-fr-airport.fr.json")},
		"example.cz":        {200, realBody(t, "cznic-example.cz.json")},
	}}
	url := providertest.Serve(t, reg)
	cfg, gate := providertest.Config(t, "rdap", "", nil)
	bootstrap := fmt.Sprintf(`{"version":"1.0","publication":"2026-07-23T02:00:03Z","services":[[["com","design"],["%[1]s/rdap/"]],[["fr","cz"],["%[1]s/rdap"]]]}`, url)
	if err := os.WriteFile(filepath.Join(cfg.Dir, "dns.json"), []byte(bootstrap), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.Attrs["bootstrap"] = cty.StringVal("dns.json")
	return reg, cfg, gate
}

func at(s string) func() time.Time {
	return func() time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
}

func TestRegistrationRealBodies(t *testing.T) {
	tests := []struct {
		subject, now string
		want         []schema.Fact
		path         string
	}{
		{"google.com", "2021-12-17T16:41:13Z", []schema.Fact{
			{Subject: "google.com", Kind: KindRegistrar, Value: "MarkMonitor Inc."},
			{Subject: "google.com", Kind: KindRegistration, Value: Registered},
			{Subject: "google.com", Kind: KindExpires, Value: "2028-09-14"},
		}, "/rdap/domain/google.com"},
		// A name server's host is asked about by its registrable domain.
		{"ns1.google.com", "2021-12-17T16:41:13Z", []schema.Fact{
			{Subject: "google.com", Kind: KindRegistrar, Value: "MarkMonitor Inc."},
			{Subject: "google.com", Kind: KindRegistration, Value: Registered},
			{Subject: "google.com", Kind: KindExpires, Value: "2028-09-14"},
		}, "/rdap/domain/google.com"},
		{"jsiqpmcurt.com", "2021-12-17T16:41:13Z", []schema.Fact{{Subject: "jsiqpmcurt.com", Kind: KindRegistration, Value: Unregistered}}, "/rdap/domain/jsiqpmcurt.com"},
		{"mx.jsiqpmcurt.design", "2021-12-17T16:41:13Z", []schema.Fact{{Subject: "jsiqpmcurt.design", Kind: KindRegistration, Value: Unregistered}}, "/rdap/domain/jsiqpmcurt.design"},
		{"airport.fr", "2022-12-29T10:27:54Z", []schema.Fact{
			{Subject: "airport.fr", Kind: KindRegistrar, Value: "PG"},
			{Subject: "airport.fr", Kind: KindRegistration, Value: Registered},
			{Subject: "airport.fr", Kind: KindExpires, Value: "2023-01-27"},
		}, "/rdap/domain/airport.fr"},
		// The same answer read after its expiration date.
		{"airport.fr", "2026-12-01T00:00:00Z", []schema.Fact{
			{Subject: "airport.fr", Kind: KindRegistrar, Value: "PG"},
			{Subject: "airport.fr", Kind: KindRegistration, Value: Expired},
			{Subject: "airport.fr", Kind: KindExpires, Value: "2023-01-27"},
		}, "/rdap/domain/airport.fr"},
		{"example.cz", "2017-09-11T00:00:00Z", []schema.Fact{
			{Subject: "example.cz", Kind: KindRegistrar, Value: "REG-INTERNET-CZ"},
			{Subject: "example.cz", Kind: KindRegistration, Value: Registered},
			{Subject: "example.cz", Kind: KindExpires, Value: "2019-08-30"},
		}, "/rdap/domain/example.cz"},
	}
	for _, tc := range tests {
		t.Run(tc.subject+"@"+tc.now, func(t *testing.T) {
			reg, cfg, gate := newRegistry(t)
			p, err := NewWithClock(context.Background(), cfg, at(tc.now))
			if err != nil {
				t.Fatal(err)
			}
			ans, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, tc.subject))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ans.Facts); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
			if len(ans.Findings) != 0 || len(ans.Warnings) != 0 {
				t.Errorf("findings %v, warnings %v; want none", ans.Findings, ans.Warnings)
			}
			if got := reg.paths(); !cmp.Equal(got, []string{tc.path}) || gate.Count() != 1 || ans.Requests != 1 {
				t.Errorf("requests %v (gate %d, answer %d), want one to %s", got, gate.Count(), ans.Requests, tc.path)
			}
			if accept := reg.requests[0].Header.Get("Accept"); !strings.Contains(accept, "application/rdap+json") {
				t.Errorf("Accept = %q, want application/rdap+json", accept)
			}
		})
	}
}

// A redirector (rdap.org) answering 404 "not in the bootstrap" knows
// nothing about the domain: a warning, not "unregistered".
func TestRegistrationRedirectorUnknownTLD(t *testing.T) {
	url := providertest.Serve(t, providertest.Respond(404, realBody(t, "rdaporg-unknown-tld.json"), "Content-Type", "application/rdap+json"))
	cfg, _ := providertest.Config(t, "rdap", url, nil)
	p, _ := providertest.Build(t, New, cfg)
	ans, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, "test.fr"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Facts) != 0 || len(ans.Warnings) != 1 || !strings.Contains(ans.Warnings[0], "registration is unknown") {
		t.Fatalf("facts %v warnings %v; want one warning and no verdict", ans.Facts, ans.Warnings)
	}
}

// endpoint sends every query to one service (a mirror), following its
// redirect to the registry as a bootstrap redirector does.
func TestRegistrationEndpointRedirect(t *testing.T) {
	registryURL := providertest.Serve(t, providertest.Respond(200, realBody(t, "verisign-com-google.com.json")))
	redirector := providertest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, registryURL+"/com/v1"+r.URL.Path, http.StatusFound)
	}))
	cfg, gate := providertest.Config(t, "rdap", redirector+"/", nil)
	p, err := NewWithClock(context.Background(), cfg, at("2024-01-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	ans, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, "google.com"))
	if err != nil {
		t.Fatal(err)
	}
	if !hasFact(ans.Facts, "google.com", KindRegistration, Registered) || gate.Count() != 1 {
		t.Fatalf("facts %v, %d gated requests", ans.Facts, gate.Count())
	}
}

func TestRegistrationNoRegistry(t *testing.T) {
	_, cfg, gate := newRegistry(t)
	p, _ := providertest.Build(t, New, cfg)
	ans, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, "acme.example"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ans.Facts) != 0 || len(ans.Warnings) != 1 || !strings.Contains(ans.Warnings[0], "no service for .example") || gate.Count() != 0 {
		t.Fatalf("facts %v warnings %v requests %d; want a warning and nothing sent", ans.Facts, ans.Warnings, gate.Count())
	}
}

func TestRegistrationErrors(t *testing.T) {
	tests := map[string]struct {
		handler http.Handler
		subject string
		kind    providers.ErrorKind
		msg     string
	}{
		"bad request with error object": {providertest.Respond(400, `{"errorCode":400,"title":"Invalid domain name"}`), "acme.com", providers.KindBadInput, "Invalid domain name"},
		"server errors":                 {providertest.Respond(503, "busy"), "acme.com", providers.KindTransient, "gave up"},
		"not json":                      {providertest.Respond(200, "<html>hello</html>"), "acme.com", providers.KindMalformed, "not an RDAP object"},
		"wrong object":                  {providertest.Respond(200, `{"objectClassName":"nameserver","ldhName":"ns1.acme.com"}`), "acme.com", providers.KindMalformed, "nameserver"},
		"error inside 200":              {providertest.Respond(200, `{"errorCode":429,"title":"slow down"}`), "acme.com", providers.KindMalformed, "slow down"},
		"empty 200":                     {providertest.Respond(200, ""), "acme.com", providers.KindMalformed, "empty body"},
		"no registrable domain":         {providertest.Respond(200, "{}"), "co.uk", providers.KindBadInput, "public suffix"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			url := providertest.Serve(t, tc.handler)
			cfg, _ := providertest.Config(t, "rdap", url, nil)
			p, _ := providertest.Build(t, New, cfg)
			q := providertest.Query("rdap", schema.OpRegistration, "acme.com")
			if s, err := schema.ParseSubject(tc.subject); err == nil {
				q.Subject = s
			} else {
				q.Subject = schema.Subject{Kind: schema.SubjectDomain, Value: tc.subject}
			}
			_, err := p.Query(context.Background(), q)
			providertest.CheckFinalError(t, err, tc.kind, tc.msg)
		})
	}
}

// 429 with Retry-After is waited for and retried.
func TestRegistrationRateLimited(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	url := providertest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			return
		}
		w.WriteHeader(404)
	}))
	cfg, gate := providertest.Config(t, "rdap", url, nil)
	p, _ := providertest.Build(t, New, cfg)
	ans, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, "gone.com"))
	if err != nil {
		t.Fatal(err)
	}
	if !hasFact(ans.Facts, "gone.com", KindRegistration, Unregistered) || gate.Count() != 2 {
		t.Fatalf("facts %v after %d requests", ans.Facts, gate.Count())
	}
}

func TestRegistrationBudget(t *testing.T) {
	_, cfg, gate := newRegistry(t)
	gate.Budget = 1
	p, _ := providertest.Build(t, New, cfg)
	if _, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, "google.com")); err != nil {
		t.Fatal(err)
	}
	_, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, "airport.fr"))
	providertest.CheckFinalError(t, err, providers.KindBudget)
}

func TestRegistrationUnsupported(t *testing.T) {
	cfg, _ := providertest.Config(t, "rdap", "", nil)
	p, _ := providertest.Build(t, New, cfg)
	_, err := p.Query(context.Background(), providertest.Query("rdap", schema.OpResolutions, "acme.com"))
	providertest.CheckFinalError(t, err, providers.KindUnsupported)
	_, err = p.Query(context.Background(), providertest.Query("rdap", schema.OpRegistration, "192.0.2.1"))
	providertest.CheckFinalError(t, err, providers.KindUnsupported)
}

func TestNewRejectsBadConfig(t *testing.T) {
	cfg, _ := providertest.Config(t, "rdap", "ftp://mirror.example", nil)
	if _, err := New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("ftp endpoint: err = %v", err)
	}
	cfg, _ = providertest.Config(t, "rdap", "", map[string]string{"bootstrap": "missing.json"})
	if _, err := New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "bootstrap") {
		t.Errorf("missing bootstrap: err = %v", err)
	}
	cfg, _ = providertest.Config(t, "rdap", "", map[string]string{"bootstrap": "bad.json"})
	os.WriteFile(filepath.Join(cfg.Dir, "bad.json"), []byte(`{"version":"1.0","services":[]}`), 0o644)
	if _, err := New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "no services") {
		t.Errorf("empty bootstrap: err = %v", err)
	}
}

// Registry text reaches terminals: control characters are dropped and
// the length bounded.
func TestParseCleansText(t *testing.T) {
	body := `{"objectClassName":"domain","ldhName":"acme.com","entities":[{"roles":["registrar"],"vcardArray":["vcard",[["fn",{},"text","Evil\u001b[31m Registrar\nLtd ` + strings.Repeat("x", 300) + `"]]]}]}`
	facts, _, err := Parse("acme.com", 200, []byte(body), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facts {
		if f.Kind == KindRegistrar && (strings.ContainsAny(f.Value, "\x1b\n") || len(f.Value) > maxValue || !strings.HasPrefix(f.Value, "Evil [31m Registrar Ltd")) {
			t.Fatalf("registrar = %q", f.Value)
		}
	}
}

func TestParseStatusMeansExpired(t *testing.T) {
	body := `{"objectClassName":"domain","ldhName":"acme.com","status":["redemption period"],"events":[{"eventAction":"expiration","eventDate":"2099-01-01T00:00:00Z"}]}`
	facts, _, err := Parse("acme.com", 200, []byte(body), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !hasFact(facts, "acme.com", KindRegistration, Expired) {
		t.Fatalf("facts %v: a domain in redemption is expired", facts)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"verisign-com-google.com.json", "centralnic-design-notfound.json", "afnic-fr-airport.fr.json", "cznic-example.cz.json", "rdaporg-unknown-tld.json"} {
		b, err := os.ReadFile(filepath.Join(realDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(200, b)
		f.Add(404, b)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		facts, warning, err := Parse("acme.com", status, body, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil && (len(facts) > 0 || warning != "") {
			t.Fatalf("error %v with facts %v / warning %q", err, facts, warning)
		}
		for _, f := range facts {
			if f.Subject != "acme.com" || f.Value == "" || len(f.Value) > maxValue || strings.ContainsAny(f.Value, "\x00\n\x1b") {
				t.Fatalf("bad fact %+v", f)
			}
		}
	})
}

func hasFact(facts []schema.Fact, subject, kind, value string) bool {
	for _, f := range facts {
		if f.Subject == subject && f.Kind == kind && f.Value == value {
			return true
		}
	}
	return false
}
