package providertest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// The hostile-server kit: every HTTP provider is run against servers that
// try to get its credentials out or to hang it, and must give nothing
// away and return. Each case serves the provider's requests at an
// endpoint whose path is itself a secret (as an endpoint set from env()
// is), with canary credentials in every sensitive attribute, and checks
// that no form of any canary (plain, query- or path-escaped in either
// case, base64 as in Basic auth) shows in the provider's error, answer or
// log, nor reached another host.
//
//	redirect     a 302 to another host, which records what it receives
//	echo/<code>  error bodies repeating the request's path, query and
//	             headers (400, 401, 403, 404, 429, 500, 503, and a 200 of
//	             plain text), lower-casing their escapes as some servers do
//	huge         a body far over max_response_bytes, streamed until the
//	             client hangs up: refused, and not read to the end
//	slow         a body trickling in slower than the request timeout
//	shape/<n>    HostileOptions.WrongShapes: 200 bodies of the wrong shape
//	             that must be an error, never "nothing found"

// HostileOptions tune the kit for one provider.
type HostileOptions struct {
	// Attrs are non-secret attributes the provider needs besides its
	// credentials (every required non-sensitive string attribute gets a
	// placeholder when not given).
	Attrs map[string]string
	// Query is what to ask; zero picks one of the provider's ops.
	Query schema.Query
	// WrongShapes are 200 bodies (JSON or text) that look like an answer
	// but lack what a real answer has; each must make Query fail. A hook
	// for the providers' own tests of their wire format.
	WrongShapes []string
}

// Canaries are the credentials the kit configures: distinctive, with
// characters every escaping changes.
const (
	CanaryKey  = "CANARY-k3y+Zq/9=w"
	canaryPath = "s3cretPATH-c4nary9"
)

// IsHTTP reports whether a provider type speaks HTTP (its default
// endpoint is a URL), and so runs the kit.
func IsHTTP(reg providers.Registration) bool {
	return strings.HasPrefix(reg.Schema.DefaultEndpoint, "http")
}

// RunHostile runs every case of the kit against the provider.
func RunHostile(t *testing.T, reg providers.Registration, opts HostileOptions) {
	t.Helper()
	t.Run("redirect", func(t *testing.T) {
		other := &hostileRecorder{}
		elsewhere := httptest.NewServer(other)
		defer elsewhere.Close()
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/collect"+r.URL.Path+"?"+r.URL.RawQuery, http.StatusFound)
		})
		run := runHostileCase(t, reg, opts, h, 0)
		if run.err == nil {
			t.Errorf("a redirect to another host gave an answer: %+v", run.ans)
		}
		got := other.all()
		for _, form := range run.forms {
			if strings.Contains(got, form) {
				t.Errorf("the other host received %q:\n%s", form, got)
			}
		}
		if n := other.count.Load(); n > 0 {
			t.Errorf("the other host received %d requests (redirects elsewhere must not be followed)", n)
		}
	})
	for _, code := range []int{400, 401, 403, 404, 429, 500, 503, 200} {
		t.Run(fmt.Sprintf("echo/%d", code), func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if code == 429 {
					w.Header().Set("Retry-After", "0")
				}
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(code)
				fmt.Fprint(w, echo(r))
			})
			runHostileCase(t, reg, opts, h, 0)
		})
	}
	t.Run("huge", func(t *testing.T) {
		var written atomic.Int64
		const total = 64 << 20
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			chunk := []byte(strings.Repeat(`{"hostname":"a.acme.example"},`, 1024))
			w.Write([]byte("["))
			for written.Load() < total {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		})
		run := runHostileCase(t, reg, opts, h, 0)
		if run.err == nil {
			t.Errorf("a body of %d MiB over the limit gave an answer", total>>20)
		}
		if written.Load() >= total {
			t.Errorf("the client read the whole oversized body (%d bytes)", written.Load())
		}
	})
	t.Run("slow", func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			flusher, _ := w.(http.Flusher)
			for i := 0; i < 400; i++ {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				if flusher != nil {
					flusher.Flush()
				}
				select {
				case <-r.Context().Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		})
		run := runHostileCase(t, reg, opts, h, 300*time.Millisecond)
		if run.err == nil {
			t.Errorf("a body slower than the timeout gave an answer")
		}
	})
	for i, body := range opts.WrongShapes {
		t.Run(fmt.Sprintf("shape/%d", i), func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, body)
			})
			run := runHostileCase(t, reg, opts, h, 0)
			if run.err == nil {
				t.Errorf("the wrong-shaped body %.80q gave an answer with %d findings instead of an error", body, len(run.ans.Findings))
			}
		})
	}
}

// hostileRun is what one case produced.
type hostileRun struct {
	ans   providers.Answer
	err   error
	forms []string // every form of every canary
}

// runHostileCase configures the provider at a server running h and asks
// it one query, failing the test if a canary shows anywhere or the query
// does not return.
func runHostileCase(t *testing.T, reg providers.Registration, opts HostileOptions, h http.Handler, timeout time.Duration) hostileRun {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	endpoint := srv.URL + "/" + canaryPath
	cfg, _ := Config(t, reg.Schema.Type, endpoint, nil)
	if timeout > 0 {
		cfg.Timeout = timeout
	}
	block := &schema.ProviderBlock{Type: reg.Schema.Type, Address: reg.Schema.Type, Attrs: map[string]cty.Value{}, Sensitive: map[string]bool{}}
	var secrets []string
	for _, a := range reg.Schema.Attributes {
		switch {
		case a.Sensitive:
			v := CanaryKey
			if a.Name != "api_key" {
				v = CanaryKey + "-" + a.Name
			}
			cfg.Attrs[a.Name] = cty.StringVal(v)
			block.Sensitive[a.Name] = true
			secrets = append(secrets, v)
		case opts.Attrs[a.Name] != "":
			cfg.Attrs[a.Name] = cty.StringVal(opts.Attrs[a.Name])
		case a.Required && a.Type == cty.String:
			cfg.Attrs[a.Name] = cty.StringVal("hostile-kit-user")
		}
	}
	for name, v := range cfg.Attrs {
		block.Attrs[name] = v
	}
	// The endpoint is sensitive as one set from env() is; the engine
	// passes the config's secrets, URL parts included.
	block.Attrs["endpoint"], block.Sensitive["endpoint"] = cty.StringVal(endpoint), true
	cfg.Secrets = (&schema.Config{Providers: map[string]*schema.ProviderBlock{block.Address: block}}).Secrets()
	secrets = append(secrets, canaryPath)
	logs := CaptureLog(&cfg)
	p, err := reg.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	q := opts.Query
	if q.Op == "" {
		q = hostileQuery(reg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var run hostileRun
	done := make(chan struct{})
	go func() {
		defer close(done)
		run.ans, run.err = p.Query(ctx, q)
	}()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("Query did not return")
	}
	if ctx.Err() != nil {
		t.Errorf("Query returned only when its context ended (%v)", run.err)
	}
	for _, s := range secrets {
		run.forms = append(run.forms, leakForms(s)...)
	}
	if user, ok := cfg.Attrs["username"]; ok {
		for _, s := range secrets {
			run.forms = append(run.forms, base64.StdEncoding.EncodeToString([]byte(user.AsString()+":"+s)))
		}
	}
	for _, form := range run.forms {
		CheckNoSecret(t, form, run.err, run.ans, logs.String())
	}
	return run
}

// hostileQuery picks a query the provider answers: resolutions of a name
// when it has them, else its first op, about a subject of the right kind.
func hostileQuery(reg providers.Registration) schema.Query {
	var ops []string
	for op := range reg.Schema.Ops {
		ops = append(ops, string(op))
	}
	sort.Strings(ops)
	op := schema.Op(ops[0])
	if _, ok := reg.Schema.Ops[schema.OpResolutions]; ok {
		op = schema.OpResolutions
	}
	subject := "acme.example"
	if op == schema.OpReverseIP {
		subject = "203.0.113.10"
	}
	return Query(reg.Schema.Type, op, subject)
}

// leakForms are the ways a secret may travel: as it is, escaped for a
// query or a path (upper- and lower-case hex), with '+' for spaces.
func leakForms(s string) []string {
	forms := map[string]bool{s: true}
	for _, e := range []string{url.QueryEscape(s), url.PathEscape(s)} {
		forms[e] = true
		forms[lowerEscapes(e)] = true
	}
	out := make([]string, 0, len(forms))
	for f := range forms {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// lowerEscapes lower-cases the hex digits of percent-escapes.
func lowerEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lower(b[i+1]), lower(b[i+2])
		}
	}
	return string(b)
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// echo is an error body repeating everything of the request: the method,
// the path and query as sent and with lower-cased escapes, every header.
func echo(r *http.Request) string {
	var hdr []string
	for k, vs := range r.Header {
		hdr = append(hdr, k+": "+strings.Join(vs, ","))
	}
	sort.Strings(hdr)
	uri := r.URL.RequestURI()
	return fmt.Sprintf("Cannot %s %s (normalised %s) path=%s query=%s headers: %s",
		r.Method, uri, lowerEscapes(uri), r.URL.Path, r.URL.RawQuery, strings.Join(hdr, "; "))
}

// hostileRecorder keeps every request it receives.
type hostileRecorder struct {
	mu    sync.Mutex
	seen  strings.Builder
	count atomic.Int32
}

func (h *hostileRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.count.Add(1)
	h.mu.Lock()
	fmt.Fprintf(&h.seen, "%s %s\n", r.Method, r.URL.RequestURI())
	for k, vs := range r.Header {
		fmt.Fprintf(&h.seen, "%s: %s\n", k, strings.Join(vs, ","))
	}
	h.mu.Unlock()
	w.Write([]byte(`{}`))
}

func (h *hostileRecorder) all() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen.String()
}
