package providers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
)

// recorder is a server that keeps every request it receives, to check what
// of ours reached it.
type recorder struct {
	mu   sync.Mutex
	seen []string // method, URL and every header of each request
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	b.WriteString(r.Method + " " + r.URL.String() + "\n")
	for k, vs := range r.Header {
		b.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	rec.mu.Lock()
	rec.seen = append(rec.seen, b.String())
	rec.mu.Unlock()
	w.Write([]byte("ok"))
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.seen...)
}

// A redirect to another host is never followed: neither our key headers
// nor a key in the query string (sent on as Referer) may reach it.
func TestHTTPClientRefusesRedirectToAnotherHost(t *testing.T) {
	other := &recorder{}
	elsewhere := httptest.NewServer(other)
	defer elsewhere.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/collect"+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer api.Close()

	cfg, _ := providertest.Config(t, "vendor", api.URL, nil)
	c := providers.NewHTTPClient(cfg, providers.HTTPOptions{Secrets: []string{secret}})
	header := http.Header{"Apikey": {secret}, "X-Api-Key": {secret}, "Authorization": {"Bearer " + secret}}
	_, err := c.Get(context.Background(), api.URL+"/v1/x?apikey="+secret, header)
	providertest.CheckFinalError(t, err, providers.KindBadInput, "redirect", "another host")
	providertest.CheckNoSecret(t, secret, err)
	if got := other.requests(); len(got) != 0 {
		t.Errorf("the other host received %d requests: %q", len(got), got)
	}
}

// A redirect from https to http is refused too: the key would travel in
// clear text.
func TestHTTPClientRefusesSchemeDowngrade(t *testing.T) {
	plain := &recorder{}
	srvPlain := httptest.NewServer(plain)
	defer srvPlain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srvPlain.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer tlsSrv.Close()
	cfg, _ := providertest.Config(t, "vendor", tlsSrv.URL, nil)
	c := providers.NewHTTPClient(cfg, providers.HTTPOptions{Secrets: []string{secret}})
	c.TrustForTests(tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs)
	_, err := c.Get(context.Background(), tlsSrv.URL+"/v1/x?key="+secret, http.Header{"Apikey": {secret}})
	providertest.CheckFinalError(t, err, providers.KindBadInput, "redirect")
	if got := plain.requests(); len(got) != 0 {
		t.Errorf("the plain-text server received %q", got)
	}
}

// A redirect within the API's own host is followed with the key headers
// (the vendor moved a path), but never with a Referer, which would repeat
// a key carried in the query string.
func TestHTTPClientFollowsSameHostRedirectWithoutReferer(t *testing.T) {
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusFound)
	})
	mux.Handle("/new", rec)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg, _ := providertest.Config(t, "vendor", srv.URL, nil)
	c := providers.NewHTTPClient(cfg, providers.HTTPOptions{Secrets: []string{secret}})
	resp, err := c.Get(context.Background(), srv.URL+"/old?key="+secret, http.Header{"Apikey": {secret}})
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("body %q, err %v", resp.Body, err)
	}
	got := rec.requests()
	if len(got) != 1 {
		t.Fatalf("requests at /new: %q", got)
	}
	if strings.Contains(got[0], "Referer") {
		t.Errorf("a Referer was sent: %s", got[0])
	}
	if !strings.Contains(got[0], "Apikey: "+secret) {
		t.Errorf("the key header was dropped on a same-host redirect: %s", got[0])
	}
}

// A keyless protocol built on redirects (RDAP bootstrap) may follow them
// to another host, but never with a header holding a secret, and never to
// an address that repeats one (a server echoing our secret endpoint path).
func TestHTTPClientRedirectElsewhereCarriesNoSecret(t *testing.T) {
	other := &recorder{}
	elsewhere := httptest.NewServer(other)
	defer elsewhere.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := elsewhere.URL + "/registry"
		if r.URL.Query().Get("echo") != "" {
			target += r.URL.Path
		}
		http.Redirect(w, r, target, http.StatusFound)
	}))
	defer api.Close()
	cfg, _ := providertest.Config(t, "rdap", api.URL, nil)
	cfg.Secrets = []string{"T0KENpath99"}
	c := providers.NewHTTPClient(cfg, providers.HTTPOptions{Secrets: []string{secret}, RedirectElsewhere: true})
	resp, err := c.Get(context.Background(), api.URL+"/x", http.Header{"X-Api-Key": {secret}, "Accept": {"application/rdap+json"}})
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("body %q, err %v", resp.Body, err)
	}
	got := other.requests()
	if len(got) != 1 || strings.Contains(got[0], secret) || !strings.Contains(got[0], "Accept: application/rdap+json") {
		t.Errorf("the other host received %q", got)
	}
	_, err = c.Get(context.Background(), api.URL+"/T0KENpath99/x?echo=1", nil)
	providertest.CheckFinalError(t, err, providers.KindBadInput, "secret")
	if len(other.requests()) != 1 {
		t.Errorf("a redirect repeating a secret was followed: %q", other.requests())
	}
}
