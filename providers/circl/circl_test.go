package circl

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

const (
	testUser     = "partner-42"
	testPassword = "CIRCL-CANARY-pw-3e8b1d6f0a"
)

var fixtures = filepath.Join("..", "..", "testdata", "providers", "circl")

// fake is CIRCL Passive DNS as documented by PyPDNS and the service page:
// HTTP Basic auth (401 otherwise), COF NDJSON, the dribble request headers
// (page size, cursor = offset, rrtype filter) and x-dribble-cursor only
// while more records remain. docMode serves the v2 documentation's
// variant: owner and value swapped, numbers as strings.
type fake struct {
	t       *testing.T
	docMode bool
	mu      sync.Mutex
	hits    int
	headers []http.Header
	faults  []http.HandlerFunc
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits++
	f.headers = append(f.headers, r.Header.Clone())
	var fault http.HandlerFunc
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.mu.Unlock()
	if fault != nil {
		fault(w, r)
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != testUser || pass != testPassword {
		w.Header().Set("WWW-Authenticate", `Basic realm="pdns"`)
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	value, ok := strings.CutPrefix(r.URL.Path, "/pdns/query/")
	if !ok || value == "" {
		http.NotFound(w, r)
		return
	}
	dir := "classic"
	if f.docMode {
		dir = "v2doc"
	}
	data, err := os.ReadFile(filepath.Join(fixtures, dir, value+".ndjson"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		f.t.Errorf("fixture: %v", err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	if rt := r.Header.Get("dribble-filter-rrtype"); rt != "" {
		var kept [][]byte
		for _, l := range lines {
			if bytes.Contains(l, []byte(`"rrtype":"`+rt+`"`)) {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	start, end := 0, len(lines)
	if c := r.Header.Get("dribble-paginate-count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 {
			http.Error(w, "bad dribble-paginate-count", http.StatusBadRequest)
			return
		}
		if cur := r.Header.Get("dribble-paginate-cursor"); cur != "" {
			if start, err = strconv.Atoi(cur); err != nil || start < 0 || start > len(lines) {
				http.Error(w, "bad cursor", http.StatusBadRequest)
				return
			}
		}
		end = min(start+n, len(lines))
		if end < len(lines) {
			w.Header().Set("x-dribble-cursor", strconv.Itoa(end))
		}
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	for _, l := range lines[start:end] {
		w.Write(l)
		w.Write([]byte("\n"))
	}
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func setup(t *testing.T, fk *fake, password string, pageSize, maxPages int) (providers.Provider, *providertest.Gate, *providertest.LogBuffer) {
	t.Helper()
	fk.t = t
	base := providertest.Serve(t, fk)
	cfg, gate := providertest.Config(t, "circl", base+"/pdns/query/", map[string]string{"username": testUser, "password": password})
	if pageSize > 0 {
		cfg.Attrs["page_size"] = cty.NumberIntVal(int64(pageSize))
	}
	if maxPages > 0 {
		cfg.Attrs["max_pages"] = cty.NumberIntVal(int64(maxPages))
	}
	cfg.MaxBodyBytes = 64 << 10
	p, logs := providertest.Build(t, New, cfg)
	return p, gate, logs
}

func query(op schema.Op, subject string, rrtypes ...string) schema.Query {
	return providertest.Query("circl", op, subject, rrtypes...)
}

func rec(name, typ, value string, first, last, count int64) schema.Finding {
	return schema.Finding{Name: name, Type: typ, Value: value,
		FirstSeen: time.Unix(first, 0).UTC(), LastSeen: time.Unix(last, 0).UTC(), Count: count,
		Sources: []string{"circl"}}
}

func TestQuery(t *testing.T) {
	forward := []schema.Finding{
		rec("example.com", "A", "198.51.100.7", 1500000000, 1609459199, 33),
		rec("example.com", "A", "203.0.113.10", 1609459200, 1717200000, 412),
		rec("example.com", "AAAA", "2001:db8::10", 1690000000, 1717200000, 2),
		rec("example.com", "MX", "mx1.example.com", 1500000000, 1717200000, 50),
		rec("example.com", "NS", "ns1.example.net", 1400000000, 1717200000, 9),
		rec("example.com", "NS", "ns2.example.net", 1400000000, 1717200000, 9),
		rec("example.com", "SOA", "ns1.example.net hostmaster.example.net 2024010101 7200 3600 1209600 3600", 1400000000, 1717200000, 0),
		rec("example.com", "TXT", "v=spf1 -all", 1640995200, 1717200000, 7),
	}
	tests := []struct {
		name         string
		docMode      bool
		pageSize     int
		maxPages     int
		q            schema.Query
		want         []schema.Finding
		wantRequests int
		wantWarning  string
		check        func(t *testing.T, hs []http.Header)
	}{
		{
			name: "forward over three pages of three, COF variants",
			q:    query(schema.OpResolutions, "example.com"), pageSize: 3,
			want: forward, wantRequests: 3,
			check: func(t *testing.T, hs []http.Header) {
				var cursors []string
				for _, h := range hs {
					cursors = append(cursors, h.Get("dribble-paginate-cursor"))
					if h.Get("dribble-paginate-count") != "3" || h.Get("dribble-disable-active-query") != "1" {
						t.Errorf("dribble headers: %v", h)
					}
				}
				if diff := cmp.Diff([]string{"", "3", "6"}, cursors); diff != "" {
					t.Errorf("cursors (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "forward in one page with the default page size",
			q:    query(schema.OpResolutions, "example.com"), want: forward, wantRequests: 1,
		},
		{
			name: "max_pages caps paging and warns",
			q:    query(schema.OpResolutions, "example.com"), pageSize: 3, maxPages: 1,
			want:         []schema.Finding{forward[0], forward[1], forward[4], forward[5]},
			wantRequests: 1, wantWarning: "fetched 1 pages",
		},
		{
			name: "one rrtype is filtered by the server",
			q:    query(schema.OpResolutions, "example.com", "MX"),
			want: forward[3:4], wantRequests: 1,
			check: func(t *testing.T, hs []http.Header) {
				if got := hs[0].Get("dribble-filter-rrtype"); got != "MX" {
					t.Errorf("dribble-filter-rrtype = %q", got)
				}
			},
		},
		{
			name: "several rrtypes are filtered here",
			q:    query(schema.OpResolutions, "example.com", "AAAA", "TXT"),
			want: []schema.Finding{forward[2], forward[7]}, wantRequests: 1,
		},
		{
			name: "reverse IP, repeated record counted once",
			q:    query(schema.OpReverseIP, "203.0.113.10"),
			want: []schema.Finding{
				rec("example.com", "A", "203.0.113.10", 1609459200, 1717200000, 412),
				rec("www.example.com", "A", "203.0.113.10", 1609459300, 1717100000, 80),
			},
			wantRequests: 1,
		},
		{
			name: "doc mode: swapped owner and value, string numbers, CRLF",
			q:    query(schema.OpResolutions, "example.com"), docMode: true, pageSize: 2,
			want: []schema.Finding{
				rec("example.com", "A", "203.0.113.10", 1609459200, 1717200000, 412),
				rec("example.com", "MX", "mx1.example.com", 1500000000, 1717200000, 50),
				rec("example.com", "NS", "ns1.example.net", 1400000000, 1717200000, 9),
			},
			wantRequests: 2,
		},
		{
			name: "doc mode reverse IP",
			q:    query(schema.OpReverseIP, "203.0.113.10"), docMode: true,
			want: []schema.Finding{
				rec("shop.example.org", "A", "203.0.113.10", 1550000000, 1560000000, 3),
				rec("www.example.com", "A", "203.0.113.10", 1609459300, 1717100000, 80),
			},
			wantRequests: 1,
		},
		{name: "nothing known", q: query(schema.OpResolutions, "nx.example"), wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &fake{docMode: tt.docMode}
			p, gate, logs := setup(t, fk, testPassword, tt.pageSize, tt.maxPages)
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
			if w := strings.Join(ans.Warnings, "\n"); !strings.Contains(w, tt.wantWarning) || tt.wantWarning == "" && w != "" {
				t.Errorf("warnings %q, want %q", w, tt.wantWarning)
			}
			if tt.check != nil {
				tt.check(t, fk.headers)
			}
			providertest.CheckNoSecret(t, testPassword, ans, logs.String())
		})
	}
}

func TestQueryErrors(t *testing.T) {
	tooMany := providertest.Respond(http.StatusTooManyRequests, "Too Many Requests", "Retry-After", "3")
	tests := []struct {
		name         string
		password     string
		pageSize     int
		budget       int
		faults       []http.HandlerFunc
		q            schema.Query
		wantKind     providers.ErrorKind
		wantMsg      []string
		wantFindings int
		wantWarning  string
		wantHits     int
	}{
		{
			name: "bad password", password: "wrong-" + testPassword,
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindAuth, wantHits: 1,
			wantMsg: []string{"HTTP 401", `provider "circl"`, "username and password", "CIRCL_PASSWORD"},
		},
		{
			name: "quota exhausted", faults: []http.HandlerFunc{tooMany, tooMany, tooMany},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindRateLimited, wantHits: 3,
			wantMsg: []string{"quota", "HTTP 429", "gave up after 3 attempts"},
		},
		{
			name: "429 with Retry-After then success", faults: []http.HandlerFunc{tooMany},
			q: query(schema.OpReverseIP, "203.0.113.10"), wantFindings: 2, wantHits: 2,
		},
		{
			name: "5xx then success", faults: []http.HandlerFunc{providertest.Respond(http.StatusInternalServerError, "Internal Server Error"), providertest.Respond(http.StatusBadGateway, "<html>bad gateway</html>")},
			q: query(schema.OpReverseIP, "203.0.113.10"), wantFindings: 2, wantHits: 3,
		},
		{
			name: "truncated body", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, `{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","count":412,"time_first":1609459200,"time_last":17172`)},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"could not read the response", "line 1"},
		},
		{
			name: "malformed body", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, "example.com A 203.0.113.10\n")},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
		},
		{
			name: "records of the wrong shape are skipped with a warning", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK,
				`{"rrname":"example.com","rrtype":"A","rdata":{"x":1},"time_first":1,"time_last":2}`+"\n"+
					`{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","count":"x"}`+"\n"+
					`{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","count":"5","time_first":"1609459200","time_last":"1717200000"}`+"\n")},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 1, wantHits: 1, wantWarning: "skipped 2 records",
		},
		{
			name: "COF framed as one JSON array", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK,
				`[{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","count":5,"time_first":1609459200,"time_last":1717200000},`+"\n"+
					`{"rrname":"www.example.com","rrtype":"CNAME","rdata":"example.com","count":2,"time_first":1609459200,"time_last":1717200000}]`)},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 2, wantHits: 1,
		},
		{
			name: "truncated JSON array", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, `[{"rrname":"example.com","rrtype":"A","rdata":"203.0.11`)},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
		},
		{
			name: "x-dribble-errors become warnings", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK,
				`{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","count":5,"time_first":1609459200,"time_last":1717200000}`+"\n",
				"x-dribble-errors", `{"rrtype": "unknown rrtype filter"}`)},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 1, wantHits: 1, wantWarning: "unknown rrtype filter",
		},
		{
			name: "empty x-dribble-errors object is no warning", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK,
				`{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","count":5,"time_first":1609459200,"time_last":1717200000}`+"\n",
				"x-dribble-errors", `{ }`)},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 1, wantHits: 1,
		},
		{
			name: "damaged line echoing the password", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, "user partner-42 password "+testPassword+"\n", "x-dribble-errors", testPassword)},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"REDACTED"},
		},
		{
			name: "HTML page with status 200", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, "<!doctype html>\n<html><body>Login</body></html>")},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"HTML page"},
		},
		{
			name: "oversized body is bounded", faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, strings.Repeat(`{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","time_first":1,"time_last":2}`+"\n", 1000))},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"larger than"},
		},
		{
			name: "budget spent between pages", pageSize: 2, budget: 2,
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindBudget, wantHits: 2,
		},
		{
			name: "404 on a later page fails the query", pageSize: 3, faults: []http.HandlerFunc{nil, providertest.Respond(http.StatusNotFound, "Not Found")},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindTransient, wantHits: 2,
			wantMsg: []string{"page 2"},
		},
		{
			name: "CIDR is not supported", q: query(schema.OpReverseIP, "203.0.113.0/24"),
			wantKind: providers.KindUnsupported, wantMsg: []string{"CIDR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &fake{faults: tt.faults}
			pw := tt.password
			if pw == "" {
				pw = testPassword
			}
			p, gate, logs := setup(t, fk, pw, tt.pageSize, 0)
			gate.Budget = tt.budget
			ans, err := p.Query(context.Background(), tt.q)
			if fk.count() != tt.wantHits || gate.Count() != tt.wantHits {
				t.Errorf("server saw %d requests, gate charged %d; want %d", fk.count(), gate.Count(), tt.wantHits)
			}
			providertest.CheckNoSecret(t, testPassword, err, ans, logs.String())
			if tt.wantKind == "" {
				providertest.CheckAnswer(t, ans, err, tt.wantFindings, tt.wantWarning)
				return
			}
			providertest.CheckError(t, err, tt.wantKind, tt.wantMsg...)
		})
	}
}

func TestOrientation(t *testing.T) {
	const (
		aClassic  = `{"rrname":"example.com","rrtype":"A","rdata":"203.0.113.10","time_first":1,"time_last":2}`
		aSwapped  = `{"rrname":"203.0.113.10","rrtype":"A","rdata":"example.com","time_first":1,"time_last":2}`
		mxSwapped = `{"rrname":"10 mx1.example.com","rrtype":"MX","rdata":"example.com","time_first":1,"time_last":2}`
		cname     = `{"rrname":"www.example.com","rrtype":"CNAME","rdata":"example.com","time_first":1,"time_last":2}`
		nsSwapped = `{"rrname":"ns1.example.net","rrtype":"NS","rdata":"example.com","time_first":1,"time_last":2}`
		nsClassic = `{"rrname":"example.com","rrtype":"NS","rdata":"ns1.example.net","time_first":1,"time_last":2}`
	)
	subject := schema.Subject{Kind: schema.SubjectDomain, Value: "example.com"}
	for _, tt := range []struct {
		name  string
		lines []string
		want  []string
	}{
		{"classic answer keeps a CNAME to the subject as served", []string{aClassic, cname},
			[]string{"example.com A 203.0.113.10", "www.example.com CNAME example.com"}},
		{"swapped answer turns every record round", []string{aSwapped, mxSwapped, nsSwapped},
			[]string{"example.com A 203.0.113.10", "example.com MX mx1.example.com", "example.com NS ns1.example.net"}},
		{"no syntactic evidence: the subject decides", []string{nsSwapped, nsClassic},
			[]string{"example.com NS ns1.example.net"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pg, err := parse([]byte(strings.Join(tt.lines, "\n")))
			if err != nil || pg.skipped != 0 {
				t.Fatalf("parse: %v, %d skipped", err, pg.skipped)
			}
			recs := pg.recs
			mode := orientation(recs)
			var got []string
			for _, r := range recs {
				for _, f := range r.findings(subject, mode) {
					got = append(got, f.ID())
				}
			}
			got = slices.Compact(slices.Sorted(slices.Values(got)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewNeedsCredentials(t *testing.T) {
	for attr, attrs := range map[string]map[string]string{
		`username is empty; set it, e.g. username = env("CIRCL_USERNAME")`: {"password": testPassword},
		`password is empty; set it, e.g. password = env("CIRCL_PASSWORD")`: {"username": testUser},
	} {
		cfg, _ := providertest.Config(t, "circl", "http://127.0.0.1:1", attrs)
		_, err := New(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), `provider "circl": `+attr) {
			t.Errorf("New: %v, want %q", err, attr)
		}
		providertest.CheckNoSecret(t, testPassword, err)
	}
}

// FuzzParseCOF feeds raw bodies to the COF parser and the orientation logic.
func FuzzParseCOF(f *testing.F) {
	for _, dir := range []string{"classic", "v2doc"} {
		entries, _ := os.ReadDir(filepath.Join(fixtures, dir))
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(fixtures, dir, e.Name())); err == nil {
				f.Add(data)
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(realData, "circl")); err == nil {
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join(realData, "circl", e.Name())); err == nil && !strings.HasSuffix(e.Name(), ".md") {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"rrname":"10 a.example","rrtype":15,"rdata":["b.example"],"time_first_ms":"5"}`))
	f.Add([]byte("{}\nnull\n[]\n{\"error\":\"Quota exceeded\"}\n"))
	subjects := []schema.Subject{{Kind: schema.SubjectDomain, Value: "example.com"}, {Kind: schema.SubjectIP, Value: "203.0.113.10"}}
	p := &Provider{cfg: providers.Config{Address: "circl"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		p.classify(&providers.Response{StatusCode: http.StatusOK, Body: body, Header: http.Header{}})
		pg, err := parse(body)
		if err != nil {
			return
		}
		recs := pg.recs
		orientation(recs)
		for _, r := range recs {
			for _, s := range subjects {
				r.findings(s, true)
				r.findings(s, false)
			}
		}
	})
}
