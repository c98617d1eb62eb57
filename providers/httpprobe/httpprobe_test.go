package httpprobe

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dns/dnstest"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// webHost is an httptest server standing for the hosted services: it
// answers by Host header, as a shared front end does, and records every
// request.
type webHost struct {
	mu    sync.Mutex
	pages map[string]page
	seen  []*http.Request
}

type page struct {
	status int
	body   string
	header []string
}

func (h *webHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.seen = append(h.seen, r)
	h.mu.Unlock()
	p, ok := h.pages[r.Host]
	if !ok {
		p = page{status: 421, body: "unknown host"}
	}
	for i := 0; i+1 < len(p.header); i += 2 {
		w.Header().Set(p.header[i], p.header[i+1])
	}
	w.WriteHeader(p.status)
	w.Write([]byte(p.body))
}

func (h *webHost) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.seen {
		out = append(out, r.Host+r.URL.Path)
	}
	return out
}

func newWebHost() *webHost {
	return &webHost{pages: map[string]page{
		"pages.acme.example": {404, `<!DOCTYPE html><html><head><title>Site not found &middot; GitHub Pages</title></head><body><div class="container"><h1>404</h1><p><strong>There isn't a GitHub Pages site here.</strong></p></div></body></html>`, nil},
		"docs.acme.example":  {200, `<!doctype html><html><head><title>ACME docs</title></head><body><h1>ACME documentation</h1></body></html>`, nil},
		"shop.acme.example":  {404, `<html><body><h1>Sorry, this shop is currently unavailable.</h1></body></html>`, nil},
		"moved.acme.example": {302, "", []string{"Location", "http://elsewhere.example/claim"}},
	}}
}

func probe(t *testing.T, endpoint string, attrs map[string]string) (providers.Provider, *providertest.Gate) {
	t.Helper()
	cfg, gate := providertest.Config(t, "httpprobe", endpoint, attrs)
	p, _ := providertest.Build(t, New, cfg)
	return p, gate
}

func TestFingerprint(t *testing.T) {
	tests := []struct {
		name string
		want []schema.Fact
	}{
		{"pages.acme.example", []schema.Fact{
			{Subject: "pages.acme.example", Kind: KindFingerprint, Value: "github-pages"},
			{Subject: "pages.acme.example", Kind: KindStatus, Value: "404"},
		}},
		{"shop.acme.example", []schema.Fact{
			{Subject: "shop.acme.example", Kind: KindFingerprint, Value: "shopify"},
			{Subject: "shop.acme.example", Kind: KindStatus, Value: "404"},
		}},
		// A served site: a status, no fingerprint.
		{"docs.acme.example", []schema.Fact{{Subject: "docs.acme.example", Kind: KindStatus, Value: "200"}}},
		// A redirect is reported, never followed.
		{"moved.acme.example", []schema.Fact{{Subject: "moved.acme.example", Kind: KindStatus, Value: "302"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			host := newWebHost()
			url := providertest.Serve(t, host)
			p, gate := probe(t, url, nil)
			ans, err := p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, ans.Facts); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
			if got := host.requests(); !cmp.Equal(got, []string{tc.name + "/"}) || gate.Count() != 1 || ans.Requests != 1 {
				t.Errorf("requests %v (gated %d), want exactly one GET of %s/", got, gate.Count(), tc.name)
			}
			if ua := host.seen[0].UserAgent(); ua != "reconform/test" {
				t.Errorf("User-Agent = %q", ua)
			}
		})
	}
}

func TestFingerprintPathAndEndpointForms(t *testing.T) {
	host := newWebHost()
	url := providertest.Serve(t, host)
	hostport := strings.TrimPrefix(url, "http://")
	for _, endpoint := range []string{url, hostport, url + "/ignored/path"} {
		p, _ := probe(t, endpoint, map[string]string{"path": "/.well-known/x"})
		if _, err := p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, "docs.acme.example")); err != nil {
			t.Fatalf("endpoint %s: %v", endpoint, err)
		}
	}
	for _, r := range host.requests() {
		if r != "docs.acme.example/.well-known/x" {
			t.Errorf("request %s, want docs.acme.example/.well-known/x", r)
		}
	}
}

// A name that does not resolve is a result (http_status nxdomain), asked
// of the resolver as the absolute name: no search domain is tried, which
// would send names nobody put in scope.
func TestFingerprintNXDOMAIN(t *testing.T) {
	srv := dnstest.Start(t, filepath.Join("..", "..", "testdata", "takeover", "world.db"))
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
	}}
	cfg, gate := providertest.Config(t, "httpprobe", "", nil)
	p, err := NewWithResolver(context.Background(), cfg, resolver)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, "old.acme.example"))
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.Fact{{Subject: "old.acme.example", Kind: KindStatus, Value: "nxdomain"}}
	if diff := cmp.Diff(want, ans.Facts); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	if gate.Count() != 1 {
		t.Errorf("gated %d requests, want 1", gate.Count())
	}
	for _, q := range srv.Queries() {
		if !strings.HasPrefix(q, "old.acme.example ") {
			t.Errorf("the resolver was asked %q: only old.acme.example may be asked", q)
		}
	}
	if len(srv.Queries()) == 0 {
		t.Errorf("the resolver was never asked")
	}
}

func TestFingerprintErrors(t *testing.T) {
	// A port nothing listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	p, _ := probe(t, closed, nil)
	_, err = p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, "docs.acme.example"))
	providertest.CheckFinalError(t, err, providers.KindTransient, "docs.acme.example")

	p, _ = probe(t, closed, nil)
	_, err = p.Query(context.Background(), providertest.Query("httpprobe", schema.OpResolve, "docs.acme.example"))
	providertest.CheckFinalError(t, err, providers.KindUnsupported)
	_, err = p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, "203.0.113.10"))
	providertest.CheckFinalError(t, err, providers.KindUnsupported)
}

func TestFingerprintBudget(t *testing.T) {
	host := newWebHost()
	cfg, gate := providertest.Config(t, "httpprobe", providertest.Serve(t, host), nil)
	gate.Budget = 1
	p, _ := providertest.Build(t, New, cfg)
	if _, err := p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, "docs.acme.example")); err != nil {
		t.Fatal(err)
	}
	_, err := p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, "pages.acme.example"))
	providertest.CheckFinalError(t, err, providers.KindBudget)
	if len(host.requests()) != 1 {
		t.Errorf("%d requests sent, want 1", len(host.requests()))
	}
}

// The body read is bounded: a fingerprint beyond the bound is not seen.
func TestFingerprintBodyBound(t *testing.T) {
	host := &webHost{pages: map[string]page{"big.acme.example": {404, strings.Repeat("x", 2048) + "There isn't a GitHub Pages site here.", nil}}}
	cfg, _ := providertest.Config(t, "httpprobe", providertest.Serve(t, host), nil)
	cfg.MaxBodyBytes = 1024
	p, _ := providertest.Build(t, New, cfg)
	ans, err := p.Query(context.Background(), providertest.Query("httpprobe", schema.OpFingerprint, "big.acme.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ans.Facts {
		if f.Kind == KindFingerprint {
			t.Fatalf("fingerprint %v found beyond the body bound", f)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for attr, value := range map[string]string{"scheme": "ftp", "path": "no-slash"} {
		cfg, _ := providertest.Config(t, "httpprobe", "", map[string]string{attr: value})
		if _, err := New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), attr) {
			t.Errorf("%s = %q: err = %v", attr, value, err)
		}
	}
	cfg, _ := providertest.Config(t, "httpprobe", "http://[::1", nil)
	if _, err := New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("bad endpoint: err = %v", err)
	}
}

func TestSchemaIsActive(t *testing.T) {
	if !Schema.IsActive() || !Schema.Ops[schema.OpFingerprint].Active {
		t.Fatal("the fingerprint op must be declared active: it sends requests to the target")
	}
}
