package securitytrails

import (
	"context"
	"encoding/json"
	"errors"
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

// testKey is distinctive so that a leak anywhere is easy to find.
const testKey = "ST-CANARY-9f31c7d2e8a4b6"

var fixtures = filepath.Join("..", "..", "testdata", "providers", "securitytrails")

// fake is a SecurityTrails API v1 server built from the vendor's documented
// behaviour: APIKEY header or apikey query, 403 on a bad key, labels for
// subdomains, 1-based history pages with empty records past the end,
// /domains/list filter search with meta.total_pages and max_page, and a
// monthly usage counter answered with 429.
type fake struct {
	t            *testing.T
	monthlyLimit int
	mu           sync.Mutex
	hits         int
	paths        []string
	// faults answer the first requests, one each, before the normal route.
	faults []http.HandlerFunc
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits++
	n := f.hits
	f.paths = append(f.paths, r.Method+" "+r.URL.RequestURI())
	var fault http.HandlerFunc
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	if fault != nil {
		fault(w, r)
		return
	}
	key := r.Header.Get("Apikey")
	if key == "" {
		key = r.URL.Query().Get("apikey")
	}
	if key != testKey {
		writeJSON(w, http.StatusForbidden, `{"message":"Invalid authentication credentials"}`)
		return
	}
	if f.monthlyLimit > 0 && n > f.monthlyLimit {
		writeJSON(w, http.StatusTooManyRequests, `{"message":"You've exceeded the usage limits for your account."}`)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeJSON(w, http.StatusNotFound, `{"message":"no Route matched with those values"}`)
		return
	}
	page := r.URL.Query().Get("page")
	if page == "" {
		page = "1"
	}
	parts := strings.Split(path, "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "domain":
		f.serveFile(w, filepath.Join("domain", parts[1]+".json"), `{"message":"Domain not found"}`, http.StatusNotFound)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "domain" && parts[2] == "subdomains":
		f.serveFile(w, filepath.Join("subdomains", parts[1]+".json"), `{"message":"Domain not found"}`, http.StatusNotFound)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "history" && parts[2] == "dns":
		empty := fmt.Sprintf(`{"endpoint":"/v1/%s","type":%q,"pages":%s,"records":[]}`, path, parts[3], "0")
		f.serveFile(w, filepath.Join("history", parts[1]+"_"+parts[3]+"_p"+page+".json"), empty, http.StatusOK)
	case r.Method == http.MethodPost && path == "domains/list":
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			writeJSON(w, http.StatusBadRequest, `{"message":"Content-Type must be application/json"}`)
			return
		}
		var body struct {
			Filter map[string]string `json:"filter"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Filter) != 1 {
			writeJSON(w, http.StatusBadRequest, `{"message":"Invalid filter"}`)
			return
		}
		var name string
		for field, v := range body.Filter {
			name = field + "_" + strings.ReplaceAll(v, ":", "_")
		}
		empty := fmt.Sprintf(`{"endpoint":"/v1/domains/list","record_count":0,"meta":{"page":%s,"total_pages":0,"max_page":100},"records":[]}`, page)
		f.serveFile(w, filepath.Join("search", name+"_p"+page+".json"), empty, http.StatusOK)
	default:
		writeJSON(w, http.StatusNotFound, `{"message":"no Route matched with those values"}`)
	}
}

func (f *fake) serveFile(w http.ResponseWriter, name, missing string, missingStatus int) {
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if errors.Is(err, os.ErrNotExist) {
		writeJSON(w, missingStatus, missing)
		return
	}
	if err != nil {
		f.t.Errorf("fixture: %v", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, string(data))
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Via", "kong/0.14.1")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

// setup starts a fake and builds a provider against it.
func setup(t *testing.T, fk *fake, key string, maxPages int) (providers.Provider, *providertest.Gate, *providertest.LogBuffer) {
	t.Helper()
	fk.t = t
	base := providertest.Serve(t, fk)
	attrs := map[string]string{}
	if key != "" {
		attrs["api_key"] = key
	}
	cfg, gate := providertest.Config(t, "securitytrails", base+"/v1/", attrs)
	if maxPages > 0 {
		cfg.Attrs["max_pages"] = cty.NumberIntVal(int64(maxPages))
	}
	cfg.MaxBodyBytes = 64 << 10
	p, logs := providertest.Build(t, New, cfg)
	return p, gate, logs
}

func query(op schema.Op, subject string, rrtypes ...string) schema.Query {
	return providertest.Query("securitytrails", op, subject, rrtypes...)
}

func day(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func find(name, typ, value, first, last string, current bool) schema.Finding {
	return schema.Finding{Name: name, Type: typ, Value: value, FirstSeen: day(first), LastSeen: day(last),
		Sources: []string{"securitytrails"}, Current: current}
}

func TestQuery(t *testing.T) {
	// MX values are stored as each endpoint gives them: current with its
	// preference, history without (unless the record carries one), both
	// through the shared normaliser, which decides whether they are one
	// identity. SOA (the e-mail only) is not stored.
	mx := func(value, first, last string, current bool) schema.Finding {
		f := find("example.com", "MX", "", first, last, current)
		f.Value = schema.NewFinding("example.com", "MX", value).Value
		return f
	}
	allResolutions := providers.MergeFindings([]schema.Finding{
		find("example.com", "A", "198.51.100.7", "2015-07-01", "2023-05-01", false),
		find("example.com", "A", "198.51.100.99", "2016-02-01", "2019-01-14", false),
		find("example.com", "A", "203.0.113.10", "2021-03-04", "2024-11-20", true),
		find("example.com", "A", "203.0.113.11", "2023-05-02", "2024-11-20", false),
		find("example.com", "AAAA", "2001:db8::10", "2022-01-01", "2022-06-30", false),
		mx("1 aspmx.l.google.com", "2017-03-01", "2020-01-09", false),
		mx("10 mx1.example.com", "2020-01-10", "", true),
		mx("mx1.example.com", "2020-01-10", "2024-11-20", false),
		find("example.com", "NS", "ns1.example.net", "2019-06-01", "2024-11-20", true),
		find("example.com", "NS", "ns2.example.net", "2019-06-01", "2024-11-20", false),
		find("example.com", "TXT", "google-site-verification=abc123", "2022-02-02", "2024-11-20", false),
		find("example.com", "TXT", "v=spf1 -all", "2022-02-02", "2024-11-20", true),
	})
	tests := []struct {
		name         string
		q            schema.Query
		maxPages     int
		want         []schema.Finding
		wantRequests int
		wantPaths    []string
		wantWarning  string
	}{
		{
			name: "resolutions: current records and every history type, A history over two pages",
			q:    query(schema.OpResolutions, "example.com"),
			want: allResolutions, wantRequests: 7,
			wantPaths: []string{
				"GET /v1/domain/example.com",
				"GET /v1/history/example.com/dns/a?page=1",
				"GET /v1/history/example.com/dns/a?page=2",
				"GET /v1/history/example.com/dns/aaaa?page=1",
				"GET /v1/history/example.com/dns/mx?page=1",
				"GET /v1/history/example.com/dns/ns?page=1",
				"GET /v1/history/example.com/dns/txt?page=1",
			},
		},
		{
			name: "resolutions restricted to A",
			q:    query(schema.OpResolutions, "example.com", "A"),
			want: allResolutions[:4], wantRequests: 3,
		},
		{
			name: "resolutions: max_pages caps history and warns",
			q:    query(schema.OpResolutions, "example.com", "A"), maxPages: 1,
			want: []schema.Finding{
				find("example.com", "A", "198.51.100.7", "2019-01-15", "2023-05-01", false),
				find("example.com", "A", "203.0.113.10", "2021-03-04", "2024-11-20", true),
				find("example.com", "A", "203.0.113.11", "2023-05-02", "2024-11-20", false),
			},
			wantRequests: 2, wantWarning: "A history of example.com has 2 pages; fetched the first 1",
		},
		{
			name: "resolutions: aaaa {} current and history values as an object",
			q:    query(schema.OpResolutions, "example.com", "AAAA"),
			want: allResolutions[4:5], wantRequests: 2,
		},
		{
			name: "resolutions: nothing known (empty buckets, empty history)",
			q:    query(schema.OpResolutions, "empty.example"),
			want: nil, wantRequests: 6,
		},
		{
			name: "resolutions: 404 for the name is an empty answer",
			q:    query(schema.OpResolutions, "unknown.example", "TXT"),
			want: nil, wantRequests: 2,
		},
		{
			name: "subdomains: labels become full names",
			q:    query(schema.OpSubdomains, "example.com"),
			want: []schema.Finding{
				find("api.example.com", "HOST", "", "", "", false),
				find("dev.internal.example.com", "HOST", "", "", "", false),
				find("legacy.example.com", "HOST", "", "", "", false),
				find("mail.example.com", "HOST", "", "", "", false),
				find("www.example.com", "HOST", "", "", "", false),
			},
			wantRequests: 1,
			wantPaths:    []string{"GET /v1/domain/example.com/subdomains?children_only=false&include_inactive=true"},
		},
		{
			name: "subdomains: empty list",
			q:    query(schema.OpSubdomains, "empty.example"),
			want: nil, wantRequests: 1,
		},
		{
			name: "reverse_ip: two pages of domains/list, complete so current",
			q:    query(schema.OpReverseIP, "203.0.113.10"),
			want: []schema.Finding{
				find("blog.example.net", "A", "203.0.113.10", "", "", true),
				find("example.com", "A", "203.0.113.10", "", "", true),
				find("shop.example.org", "A", "203.0.113.10", "", "", true),
			},
			wantRequests: 2,
			wantPaths:    []string{"POST /v1/domains/list?page=1", "POST /v1/domains/list?page=2"},
		},
		{
			name: "reverse_ip: vendor max_page caps paging",
			q:    query(schema.OpReverseIP, "198.51.100.7"),
			want: []schema.Finding{
				find("a.example.com", "A", "198.51.100.7", "", "", false),
				find("b.example.com", "A", "198.51.100.7", "", "", false),
			},
			wantRequests: 2, wantWarning: "593 result pages (59251 names)",
		},
		{
			name: "reverse_ip: our max_pages caps paging",
			q:    query(schema.OpReverseIP, "198.51.100.7"), maxPages: 1,
			want:         []schema.Finding{find("a.example.com", "A", "198.51.100.7", "", "", false)},
			wantRequests: 1, wantWarning: "fetching 1",
		},
		{
			name:         "reverse_ip: IPv6 searches ipv6 and finds AAAA",
			q:            query(schema.OpReverseIP, "2001:db8::10"),
			want:         []schema.Finding{find("v6.example.com", "AAAA", "2001:db8::10", "", "", true)},
			wantRequests: 1,
		},
		{
			name:         "reverse_ip: nothing found",
			q:            query(schema.OpReverseIP, "192.0.2.1"),
			want:         nil,
			wantRequests: 1,
		},
		{
			name: "ns_reverse",
			q:    query(schema.OpNSReverse, "ns1.example.net"),
			want: []schema.Finding{
				find("example.com", "NS", "ns1.example.net", "", "", true),
				find("example.org", "NS", "ns1.example.net", "", "", true),
			},
			wantRequests: 1,
		},
		{
			name:         "mx_reverse",
			q:            query(schema.OpMXReverse, "mx1.example.com"),
			want:         []schema.Finding{find("example.com", "MX", "mx1.example.com", "", "", true)},
			wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &fake{}
			p, gate, logs := setup(t, fk, testKey, tt.maxPages)
			ans, err := p.Query(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if ans.Requests != tt.wantRequests || gate.Count() != tt.wantRequests || fk.count() != tt.wantRequests {
				t.Errorf("requests: answer %d, gate %d, server %d; want %d", ans.Requests, gate.Count(), fk.count(), tt.wantRequests)
			}
			if tt.wantPaths != nil {
				if diff := cmp.Diff(tt.wantPaths, fk.paths); diff != "" {
					t.Errorf("requests sent (-want +got):\n%s", diff)
				}
			}
			warnings := strings.Join(ans.Warnings, "\n")
			if tt.wantWarning == "" && warnings != "" || !strings.Contains(warnings, tt.wantWarning) {
				t.Errorf("warnings %q, want one containing %q", warnings, tt.wantWarning)
			}
			providertest.CheckNoSecret(t, testKey, ans, logs.String())
		})
	}
}

func TestQueryErrors(t *testing.T) {
	status := func(code int, body string, header ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			writeJSON(w, code, body)
		}
	}
	rateLimited := status(http.StatusTooManyRequests, `{"message":"API rate limit exceeded"}`, "Retry-After", "1")
	tests := []struct {
		name         string
		key          string
		monthly      int
		budget       int
		faults       []http.HandlerFunc
		q            schema.Query
		wantKind     providers.ErrorKind // "" means success
		wantMsg      []string
		wantFindings int
		wantWarning  string
		wantHits     int
	}{
		{
			name: "bad key", key: "wrong-" + testKey, q: query(schema.OpSubdomains, "example.com"),
			wantKind: providers.KindAuth, wantHits: 1,
			wantMsg: []string{"HTTP 403", "Invalid authentication credentials", `provider "securitytrails"`, "api_key", "SECURITYTRAILS_API_KEY"},
		},
		{
			name: "monthly quota exhausted is not retried", monthly: 1, q: query(schema.OpResolutions, "example.com", "A"),
			wantKind: providers.KindQuota, wantHits: 2,
			wantMsg: []string{"monthly quota", "exceeded the usage limits", "resets"},
		},
		{
			name: "429 with Retry-After then success", faults: []http.HandlerFunc{rateLimited},
			q: query(schema.OpSubdomains, "example.com"), wantFindings: 5, wantHits: 2,
		},
		{
			name: "429 until retries run out", faults: []http.HandlerFunc{rateLimited, rateLimited, rateLimited},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindRateLimited, wantHits: 3,
			wantMsg: []string{"HTTP 429", "API rate limit exceeded", "gave up after 3 attempts"},
		},
		{
			name: "5xx then success", faults: []http.HandlerFunc{status(http.StatusBadGateway, "<html><body>502 Bad Gateway</body></html>"), status(http.StatusServiceUnavailable, "")},
			q: query(schema.OpReverseIP, "203.0.113.10"), wantFindings: 3, wantHits: 4,
		},
		{
			name: "truncated body", faults: []http.HandlerFunc{status(http.StatusOK, `{"endpoint":"/v1/domain/example.com/subdomains","subdomains":["www","ap`)},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"not valid JSON"},
		},
		{
			name: "malformed body", faults: []http.HandlerFunc{status(http.StatusOK, `{"current_dns":["a"]}`)},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
		},
		{
			name: "an odd current type is skipped with a warning", faults: []http.HandlerFunc{status(http.StatusOK, `{"current_dns":{"a":{"values":[{"ip":7}]},"txt":{"values":[{"value":"v=spf1 -all"}]}}}`)},
			q: query(schema.OpResolutions, "example.com", "A", "TXT"), wantFindings: 6, wantHits: 4,
			wantWarning: "skipped the current A records of example.com",
		},
		{
			name: "malformed body echoing the key", faults: []http.HandlerFunc{status(http.StatusOK, `{"subdomains": "`+testKey+`", "apikey": "`+testKey+`"`)},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"REDACTED"},
		},
		{
			name: "HTML page with status 200", faults: []http.HandlerFunc{status(http.StatusOK, "<!DOCTYPE html><html><body>Maintenance</body></html>")},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"HTML page"},
		},
		{
			name: "oversized body is bounded", faults: []http.HandlerFunc{status(http.StatusOK, `{"subdomains":["`+strings.Repeat("a", 100<<10)+`"]}`)},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"larger than"},
		},
		{
			name: "bad request names the vendor's reason", faults: []http.HandlerFunc{status(http.StatusBadRequest, `{"message":"The requested domain is invalid"}`)},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindBadInput, wantHits: 1,
			wantMsg: []string{"The requested domain is invalid"},
		},
		{
			name:   "404 on a later history page keeps the earlier pages and warns",
			faults: []http.HandlerFunc{nil, nil, status(http.StatusNotFound, `{"message":"Not found"}`)},
			q:      query(schema.OpResolutions, "example.com", "A"), wantFindings: 3, wantHits: 3,
			wantWarning: "page 2 of 2 answered 404",
		},
		{
			name: "budget spent in the middle of a query", budget: 2, q: query(schema.OpResolutions, "example.com"),
			wantKind: providers.KindBudget, wantHits: 2, wantMsg: []string{"budget"},
		},
		{
			name: "CIDR reverse lookups are not offered", q: query(schema.OpReverseIP, "203.0.113.0/24"),
			wantKind: providers.KindUnsupported, wantHits: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &fake{monthlyLimit: tt.monthly, faults: tt.faults}
			key := tt.key
			if key == "" {
				key = testKey
			}
			p, gate, logs := setup(t, fk, key, 0)
			gate.Budget = tt.budget
			ans, err := p.Query(context.Background(), tt.q)
			if fk.count() != tt.wantHits || gate.Count() != tt.wantHits {
				t.Errorf("server saw %d requests, gate charged %d; want %d", fk.count(), gate.Count(), tt.wantHits)
			}
			providertest.CheckNoSecret(t, testKey, err, ans, logs.String())
			if tt.wantKind == "" {
				providertest.CheckAnswer(t, ans, err, tt.wantFindings, tt.wantWarning)
				return
			}
			providertest.CheckError(t, err, tt.wantKind, tt.wantMsg...)
		})
	}
}

func TestCurrentBucketShapes(t *testing.T) {
	body := `{"current_dns":{
		"a": {"first_seen":"2021-03-04","values":{"ip":"203.0.113.10"}},
		"aaaa": {},
		"mx": null,
		"ns": [{"nameserver":"ns1.example.net"}],
		"soa": {"first_seen":null,"values":[]},
		"txt": {"values":["v=spf1 -all"]}}}`
	var d domainResponse
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, typ := range historyTypes {
		var b bucket
		if err := json.Unmarshal(d.CurrentDNS[strings.ToLower(typ)], &b); err != nil && d.CurrentDNS[strings.ToLower(typ)] != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		for _, v := range b.Values {
			if f, ok := fuzzProvider.finding("example.com", typ, v); ok {
				got = append(got, f.ID())
			}
		}
	}
	want := []string{"example.com A 203.0.113.10", "example.com NS ns1.example.net", "example.com TXT v=spf1 -all"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestMinRequests(t *testing.T) {
	reg := Registration()
	for _, tt := range []struct {
		q    schema.Query
		want int
	}{
		{query(schema.OpResolutions, "example.com"), 6}, // current records + A, AAAA, MX, NS, TXT (no SOA)
		{query(schema.OpResolutions, "example.com", "A", "MX"), 3},
		{query(schema.OpSubdomains, "example.com"), 1},
		{query(schema.OpReverseIP, "203.0.113.10"), 1},
	} {
		if got := reg.MinRequestsFor(tt.q); got != tt.want {
			t.Errorf("MinRequestsFor(%s) = %d, want %d", tt.q.Key(), got, tt.want)
		}
	}
}

func TestNewNeedsKey(t *testing.T) {
	cfg, _ := providertest.Config(t, "securitytrails", "http://127.0.0.1:1", nil)
	_, err := New(context.Background(), cfg)
	want := `provider "securitytrails": api_key is empty; set it, e.g. api_key = env("SECURITYTRAILS_API_KEY")`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New without api_key: %v, want %q", err, want)
	}
}

func TestCancelled(t *testing.T) {
	p, _, _ := setup(t, &fake{}, testKey, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Query(ctx, query(schema.OpSubdomains, "example.com")); err == nil {
		t.Fatal("Query with a cancelled context succeeded")
	}
}

// seed adds the fixtures of one response kind to a fuzz corpus.
func seed(f *testing.F, dir string, extra ...string) {
	entries, _ := os.ReadDir(filepath.Join(fixtures, dir))
	for _, e := range entries {
		if data, err := os.ReadFile(filepath.Join(fixtures, dir, e.Name())); err == nil {
			f.Add(data)
		}
	}
	for _, x := range extra {
		f.Add([]byte(x))
	}
}

var fuzzProvider = &Provider{cfg: providers.Config{Address: "securitytrails"}}

// FuzzParseDomain feeds raw bodies to the current-records parser.
func FuzzParseDomain(f *testing.F) {
	seed(f, "domain", `{"current_dns":{"a":{"values":{"ip":"1.2.3.4"}},"mx":{"values":[{"hostname":"a","priority":"x"}]},"txt":{"values":"v"}}}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var d domainResponse
		if json.Unmarshal(body, &d) != nil {
			return
		}
		for typ, raw := range d.CurrentDNS {
			var b bucket
			if json.Unmarshal(raw, &b) != nil {
				continue
			}
			for _, v := range b.Values {
				fuzzProvider.finding("example.com", strings.ToUpper(typ), v)
			}
			parseDate(string(b.FirstSeen))
		}
	})
}

// FuzzParseHistory feeds raw bodies to the DNS history parser.
func FuzzParseHistory(f *testing.F) {
	seed(f, "history", `{"pages":"2","records":[{"values":{"ip":"1.2.3.4"}},{"values":"x"},{"values":[[{"host":"a"}]]}]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var h historyResponse
		if json.Unmarshal(body, &h) != nil {
			return
		}
		for _, r := range h.Records {
			parseDate(string(r.FirstSeen))
			for _, v := range r.Values {
				for _, typ := range historyTypes {
					fuzzProvider.finding("example.com", typ, v)
				}
			}
		}
	})
}

// FuzzParseSubdomains feeds raw bodies to the subdomain list parser.
func FuzzParseSubdomains(f *testing.F) {
	seed(f, "subdomains", `{"subdomains":["*", ".", "a..b", "x."],"meta":{"limit_reached":true}}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = subdomainsShape.Check(body)
		var s subdomainsResponse
		if json.Unmarshal(body, &s) != nil {
			return
		}
		capWarning("example.com", s)
		for _, l := range s.Subdomains {
			schema.ValidateDomain(schema.NewFinding(l+".example.com", schema.TypeHost, "").Name)
		}
	})
}

// FuzzParseSearch feeds raw bodies to the domain search parser.
func FuzzParseSearch(f *testing.F) {
	seed(f, "search", `{"meta":{"total_pages":"3","max_page":null},"records":[{"hostname":null}]}`)
	f.Fuzz(func(t *testing.T, body []byte) {
		var sr searchResponse
		if json.Unmarshal(body, &sr) != nil {
			return
		}
		for _, r := range sr.Records {
			schema.NewFinding(r.Hostname, "A", "203.0.113.10")
		}
	})
}
