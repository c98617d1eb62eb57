package robtex

import (
	"context"
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

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

const testKey = "RBX-CANARY-a7d3e9f1c5b2"

var fixtures = filepath.Join("..", "..", "testdata", "providers", "robtex")

// fake is the Robtex pDNS API as recorded: NDJSON with CRLF line ends,
// repeated lines kept as served, an empty 200 for unknown names, the Pro
// API requiring ?key=, and a rate limit answered either with 429 +
// Retry-After or with 200 {"status":"ratelimited"}.
type fake struct {
	t   *testing.T
	pro bool
	// limitFrom answers this request (1-based) and every later one as
	// rate limited (0: never); limitWith429 picks the 429 style over the
	// 200 body.
	limitFrom    int
	limitWith429 bool
	mu           sync.Mutex
	hits         int
	uris         []string
	faults       []http.HandlerFunc
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits++
	n := f.hits
	f.uris = append(f.uris, r.URL.RequestURI())
	var fault http.HandlerFunc
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	if fault != nil {
		fault(w, r)
		return
	}
	if f.pro && r.URL.Query().Get("key") != testKey {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"status":"error","error":"invalid key"}`)
		return
	}
	if f.limitFrom > 0 && n >= f.limitFrom {
		if f.limitWith429 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ratelimited"}`)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "pdns" || (parts[1] != "forward" && parts[1] != "reverse") {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body>404 Not Found</body></html>")
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "max-age=60, public")
	data, err := os.ReadFile(filepath.Join(fixtures, parts[1], parts[2]+".ndjson"))
	if errors.Is(err, os.ErrNotExist) {
		return // unknown names: 200 with an empty body
	}
	if err != nil {
		f.t.Errorf("fixture: %v", err)
	}
	w.Write(data)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func setup(t *testing.T, fk *fake, key string) (providers.Provider, *providertest.Gate, *providertest.LogBuffer) {
	t.Helper()
	fk.t = t
	base := providertest.Serve(t, fk)
	attrs := map[string]string{"endpoint": base}
	if key != "" {
		attrs["api_key"] = key
	}
	cfg, gate := providertest.Config(t, "robtex", base+"/", attrs)
	cfg.MaxBodyBytes = 64 << 10
	p, logs := providertest.Build(t, New, cfg)
	return p, gate, logs
}

func query(op schema.Op, subject string, rrtypes ...string) schema.Query {
	return providertest.Query("robtex", op, subject, rrtypes...)
}

func rec(name, typ, value string, first, last, count int64) schema.Finding {
	return schema.Finding{Name: name, Type: typ, Value: value,
		FirstSeen: time.Unix(first, 0).UTC(), LastSeen: time.Unix(last, 0).UTC(), Count: count,
		Sources: []string{"robtex"}}
}

func TestQuery(t *testing.T) {
	forward := []schema.Finding{
		rec("example.com", "A", "198.51.100.7", 1450000000, 1599999999, 120),
		rec("example.com", "A", "203.0.113.10", 1600000000, 1717200000, 18),
		rec("example.com", "AAAA", "2001:db8::10", 1690000000, 1717200000, 2),
		rec("example.com", "MX", "mx1.example.com", 1500000000, 1717200000, 4),
		rec("example.com", "NS", "ns1.example.net", 1500000000, 1717200000, 4),
		rec("example.com", "NS", "ns2.example.net", 1500000000, 1717200000, 4),
	}
	tests := []struct {
		name     string
		fk       *fake
		key      string
		q        schema.Query
		want     []schema.Finding
		wantURIs []string
	}{
		{
			name: "forward: CRLF lines, a repeated line counted once",
			q:    query(schema.OpResolutions, "example.com"), want: forward,
			wantURIs: []string{"/pdns/forward/example.com"},
		},
		{
			name: "forward restricted to NS",
			q:    query(schema.OpResolutions, "example.com", "NS"), want: forward[4:],
		},
		{
			name: "reverse IP: duplicates removed",
			q:    query(schema.OpReverseIP, "203.0.113.10"),
			want: []schema.Finding{
				rec("example.com", "A", "203.0.113.10", 1600000000, 1717200000, 18),
				rec("shop.example.org", "A", "203.0.113.10", 1550000000, 1560000000, 2),
				rec("www.example.com", "A", "203.0.113.10", 1600000100, 1717100000, 33),
			},
			wantURIs: []string{"/pdns/reverse/203.0.113.10"},
		},
		{
			name: "ns_reverse keeps the NS records pointing at the server",
			q:    query(schema.OpNSReverse, "ns1.example.net"),
			want: []schema.Finding{
				rec("example.com", "NS", "ns1.example.net", 1500000000, 1717200000, 4),
				rec("example.org", "NS", "ns1.example.net", 1510000000, 1717000000, 7),
			},
		},
		{
			name: "pro API sends the key",
			fk:   &fake{pro: true}, key: testKey,
			q: query(schema.OpResolutions, "example.com"), want: forward,
			wantURIs: []string{"/pdns/forward/example.com?key=" + testKey},
		},
		{name: "unknown name: empty body", q: query(schema.OpResolutions, "nx.example")},
		{name: "unknown IP: empty body", q: query(schema.OpReverseIP, "192.0.2.1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := tt.fk
			if fk == nil {
				fk = &fake{}
			}
			p, gate, logs := setup(t, fk, tt.key)
			ans, err := p.Query(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if ans.Requests != 1 || gate.Count() != 1 || fk.count() != 1 {
				t.Errorf("requests: answer %d, gate %d, server %d; want 1", ans.Requests, gate.Count(), fk.count())
			}
			if tt.wantURIs != nil {
				if diff := cmp.Diff(tt.wantURIs, fk.uris); diff != "" {
					t.Errorf("requests (-want +got):\n%s", diff)
				}
			}
			if len(ans.Warnings) > 0 {
				t.Errorf("warnings: %q", ans.Warnings)
			}
			providertest.CheckNoSecret(t, testKey, err, ans.Findings, ans.Warnings, logs.String())
		})
	}
}

func TestQueryErrors(t *testing.T) {
	ratelimitedBody := providertest.Respond(http.StatusOK, `{"status":"ratelimited"}`+"\r\n")
	tests := []struct {
		name         string
		fk           *fake
		key          string
		budget       int
		q            schema.Query
		wantKind     providers.ErrorKind
		wantMsg      []string
		wantFindings int
		wantWarning  string
		wantHits     int
	}{
		{
			name: "bad pro key", fk: &fake{pro: true}, key: "wrong-" + testKey,
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindAuth, wantHits: 1,
			wantMsg: []string{"HTTP 401", `provider "robtex"`, "api_key", "ROBTEX_API_KEY"},
		},
		{
			name: "ratelimited body until retries run out", fk: &fake{limitFrom: 1},
			q:        query(schema.OpResolutions, "example.com"),
			wantKind: providers.KindRateLimited, wantHits: 3,
			wantMsg: []string{"Robtex rate limit", "lower rate", "gave up after 3 attempts"},
		},
		{
			name: "429 until retries run out", fk: &fake{limitFrom: 1, limitWith429: true},
			q:        query(schema.OpReverseIP, "203.0.113.10"),
			wantKind: providers.KindRateLimited, wantHits: 3,
			wantMsg: []string{"Robtex rate limit", "Pro key", "gave up after 3 attempts"},
		},
		{
			name: "ratelimited body then success", fk: &fake{faults: []http.HandlerFunc{ratelimitedBody}},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 6, wantHits: 2,
		},
		{
			name: "429 with Retry-After then success", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusTooManyRequests, "", "Retry-After", "2")}},
			q: query(schema.OpReverseIP, "203.0.113.10"), wantFindings: 3, wantHits: 2,
		},
		{
			name: "5xx then success", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusBadGateway, "<html>502</html>"), providertest.Respond(http.StatusInternalServerError, "")}},
			q: query(schema.OpReverseIP, "203.0.113.10"), wantFindings: 3, wantHits: 3,
		},
		{
			name: "truncated body", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK,
				"{\"rrname\":\"example.com\",\"rrdata\":\"203.0.113.10\",\"rrtype\":\"A\",\"time_first\":1600000000,\"time_last\":1717200000,\"count\":18}\r\n{\"rrname\":\"example.com\",\"rrda")}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"could not read the response", "line 2"},
		},
		{
			name: "malformed body", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, "rrname,rrdata\nexample.com,203.0.113.10\n")}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
		},
		{
			name: "records without data are skipped with a warning", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK,
				"{\"rrname\":\"example.com\",\"rrtype\":\"A\"}\r\n{\"rrname\":\"example.com\",\"rrtype\":\"A\",\"rrdata\":{\"ip\":1}}\r\n{\"rrname\":\"example.com\",\"rrdata\":\"203.0.113.10\",\"rrtype\":\"A\",\"time_first\":\"1600000000\",\"time_last\":1717200000,\"count\":\"18\"}\r\n")}},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 1, wantHits: 1, wantWarning: "skipped 2 records",
		},
		{
			name: "damaged line echoing the pro key", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, "key="+testKey+"\r\n")}}, key: testKey,
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"REDACTED"},
		},
		{
			name: "HTML page with status 200", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, "<!DOCTYPE html><html><title>Attention Required! | Cloudflare</title></html>")}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"HTML page"},
		},
		{
			name: "oversized body is bounded", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, strings.Repeat(`{"rrname":"example.com","rrdata":"203.0.113.10","rrtype":"A"}`+"\r\n", 2000))}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"larger than"},
		},
		{
			name: "a retry needs budget too", budget: 1, fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusTooManyRequests, "", "Retry-After", "1")}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindBudget, wantHits: 1,
		},
		{
			name: "CIDR is not offered", q: query(schema.OpReverseIP, "203.0.113.0/24"),
			wantKind: providers.KindUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := tt.fk
			if fk == nil {
				fk = &fake{}
			}
			p, gate, logs := setup(t, fk, tt.key)
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

func TestProEndpointByDefault(t *testing.T) {
	cfg, _ := providertest.Config(t, "robtex", Schema.DefaultEndpoint, map[string]string{"api_key": testKey})
	p, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*Provider).endpoint; got != proEndpoint {
		t.Errorf("endpoint with a key = %q, want %q", got, proEndpoint)
	}
	cfg, _ = providertest.Config(t, "robtex", Schema.DefaultEndpoint, nil)
	p, err = New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.(*Provider).endpoint; got != Schema.DefaultEndpoint {
		t.Errorf("endpoint without a key = %q, want the free API", got)
	}
}

// FuzzParsePDNS feeds raw bodies to the NDJSON parser and the classifier.
func FuzzParsePDNS(f *testing.F) {
	for _, dir := range []string{"forward", "reverse"} {
		entries, _ := os.ReadDir(filepath.Join(fixtures, dir))
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(fixtures, dir, e.Name())); err == nil {
				f.Add(data)
			}
		}
	}
	if entries, err := os.ReadDir(realData); err == nil {
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(realData, e.Name())); err == nil && !strings.HasSuffix(e.Name(), ".md") {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"status":"ratelimited"}`))
	f.Add([]byte("{}\r\nnull\r\n[]\r\n"))
	f.Add([]byte("{\"rrname\":\"a.example\",\"rdata\":[\"1.2.3.4\",\"\"],\"rrtype\":1,\"count\":\"3\"}\r\n\r\n"))
	p := &Provider{cfg: providers.Config{Address: "robtex"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		parse(body, "robtex")
		p.classify(&providers.Response{StatusCode: http.StatusOK, Body: body, Header: http.Header{}})
	})
}
