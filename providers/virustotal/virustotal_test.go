package virustotal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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

const testKey = "VT-CANARY-4c0ffee5d1e7a9b3c2f8e6d4a0b1c3e5f7a9b2c4d6e8f0a1b3c5d7e9f1a2b4c6"

var fixtures = filepath.Join("..", "..", "testdata", "providers", "virustotal")

// fake is a VirusTotal API v3 server as documented: x-apikey checked (401
// AuthenticationRequiredError / WrongCredentialsError), collections cut
// into pages with an opaque base64 JSON cursor in meta.cursor and
// links.next (on the real host name, as VirusTotal writes it), limit
// capped at 40, meta.count always, errors as {"error":{"code","message"}},
// and a quota counter answered with 429 QuotaExceededError.
type fake struct {
	t *testing.T
	// pageSize caps limit below 40 so small fixtures span pages.
	pageSize int
	// cursorOnlyInLinks omits meta.cursor, leaving only links.next.
	cursorOnlyInLinks bool
	quota             int    // requests allowed before 429; 0 = unlimited
	quotaMessage      string // the 429 message
	mu                sync.Mutex
	hits              int
	uris              []string
	faults            []http.HandlerFunc
}

func vtError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error": {"code": %q, "message": %q}}`, code, msg)
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
	switch key := r.Header.Get("X-Apikey"); {
	case key == "":
		vtError(w, http.StatusUnauthorized, "AuthenticationRequiredError", "X-Apikey header is missing")
		return
	case key != testKey:
		vtError(w, http.StatusUnauthorized, "WrongCredentialsError", "Wrong API key")
		return
	}
	if f.quota > 0 && n > f.quota {
		vtError(w, http.StatusTooManyRequests, "QuotaExceededError", f.quotaMessage)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, "/api/v3/")
	parts := strings.Split(rel, "/")
	if !ok || len(parts) != 3 || (parts[0] != "domains" && parts[0] != "ip_addresses") {
		vtError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("Resource not found: %s", r.URL.Path))
		return
	}
	data, err := os.ReadFile(filepath.Join(fixtures, parts[0], parts[1], parts[2]+".json"))
	if errors.Is(err, os.ErrNotExist) {
		vtError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("Domain %q not found", parts[1]))
		return
	}
	if err != nil {
		f.t.Errorf("fixture: %v", err)
		return
	}
	var all struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &all); err != nil {
		f.t.Errorf("fixture %s: %v", rel, err)
		return
	}
	q := r.URL.Query()
	limit := 10
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 {
			vtError(w, http.StatusBadRequest, "InvalidArgumentError", "Invalid limit")
			return
		}
	}
	limit = min(limit, 40)
	if f.pageSize > 0 {
		limit = min(limit, f.pageSize)
	}
	offset := 0
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		var cur struct{ Offset int }
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.Offset < 0 || cur.Offset > len(all.Data) {
			vtError(w, http.StatusBadRequest, "InvalidArgumentError", "Wrong cursor")
			return
		}
		offset = cur.Offset
	}
	end := min(offset+limit, len(all.Data))
	meta := map[string]any{"count": len(all.Data)}
	links := map[string]string{"self": "https://www.virustotal.com" + r.URL.RequestURI()}
	if end < len(all.Data) {
		cur, _ := json.Marshal(map[string]int{"limit": limit, "offset": end})
		c := base64.RawURLEncoding.EncodeToString(cur)
		if !f.cursorOnlyInLinks {
			meta["cursor"] = c
		}
		links["next"] = "https://www.virustotal.com" + r.URL.Path + "?cursor=" + c + "&limit=" + strconv.Itoa(limit)
	}
	out, _ := json.Marshal(map[string]any{"meta": meta, "data": all.Data[offset:end], "links": links})
	w.Header().Set("Content-Type", "application/json")
	w.Write(out)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func setup(t *testing.T, fk *fake, key string, maxPages int) (providers.Provider, *providertest.Gate, *providertest.LogBuffer) {
	t.Helper()
	fk.t = t
	base := providertest.Serve(t, fk)
	cfg, gate := providertest.Config(t, "virustotal", base+"/api/v3", map[string]string{"api_key": key})
	if maxPages > 0 {
		cfg.Attrs["max_pages"] = cty.NumberIntVal(int64(maxPages))
	}
	cfg.MaxBodyBytes = 64 << 10
	p, logs := providertest.Build(t, New, cfg)
	return p, gate, logs
}

func query(op schema.Op, subject string, rrtypes ...string) schema.Query {
	return providertest.Query("virustotal", op, subject, rrtypes...)
}

// seen is a finding as VirusTotal reports it: the resolution date is the
// last time it saw the pair; first_seen stays unknown.
func seen(name, typ, value string, unix int64) schema.Finding {
	f := schema.Finding{Name: name, Type: typ, Value: value, Sources: []string{"virustotal"}}
	if unix > 0 {
		f.LastSeen = time.Unix(unix, 0).UTC()
	}
	return f
}

func TestQuery(t *testing.T) {
	domainRes := []schema.Finding{
		seen("example.com", "A", "198.51.100.7", 1580000000),
		seen("example.com", "A", "198.51.100.99", 1450000000),
		seen("example.com", "A", "203.0.113.10", 1717200000),
		seen("example.com", "A", "203.0.113.11", 1700000000),
		seen("example.com", "AAAA", "2001:db8::10", 1690000000),
	}
	tests := []struct {
		name         string
		fk           *fake
		maxPages     int
		q            schema.Query
		want         []schema.Finding
		wantRequests int
		wantURIs     []string
		wantWarning  string
	}{
		{
			name: "domain resolutions in one page",
			q:    query(schema.OpResolutions, "example.com"), want: domainRes, wantRequests: 1,
			wantURIs: []string{"/api/v3/domains/example.com/resolutions?limit=40"},
		},
		{
			name: "domain resolutions over three pages with meta.cursor",
			fk:   &fake{pageSize: 2},
			q:    query(schema.OpResolutions, "example.com"), want: domainRes, wantRequests: 3,
		},
		{
			name: "cursor read from links.next, next page asked of our endpoint",
			fk:   &fake{pageSize: 2, cursorOnlyInLinks: true},
			q:    query(schema.OpResolutions, "example.com"), want: domainRes, wantRequests: 3,
		},
		{
			name: "max_pages caps paging and warns",
			fk:   &fake{pageSize: 2}, maxPages: 2,
			q: query(schema.OpResolutions, "example.com"),
			// the first two pages of two objects each, in fixture order
			want:         []schema.Finding{domainRes[0], domainRes[1], domainRes[2], domainRes[4]},
			wantRequests: 2, wantWarning: "VirusTotal has 5 objects",
		},
		{
			name: "resolutions restricted to AAAA",
			q:    query(schema.OpResolutions, "example.com", "AAAA"), want: domainRes[4:], wantRequests: 1,
		},
		{
			name: "reverse IP",
			q:    query(schema.OpReverseIP, "203.0.113.10"),
			want: []schema.Finding{
				seen("example.com", "A", "203.0.113.10", 1717200000),
				seen("shop.example.org", "A", "203.0.113.10", 1600000000),
				seen("www.example.com", "A", "203.0.113.10", 1716000000),
			},
			wantRequests: 1, wantURIs: []string{"/api/v3/ip_addresses/203.0.113.10/resolutions?limit=40"},
		},
		{
			name: "subdomains over two pages",
			fk:   &fake{pageSize: 2},
			q:    query(schema.OpSubdomains, "example.com"),
			want: []schema.Finding{
				seen("api.example.com", "HOST", "", 0),
				seen("mail.example.com", "HOST", "", 0),
				seen("www.example.com", "HOST", "", 0),
			},
			wantRequests: 2,
		},
		{
			name: "descriptors without attributes: the id is IP then host",
			q:    query(schema.OpReverseIP, "198.51.100.7"),
			want: []schema.Finding{
				seen("a.example.com", "A", "198.51.100.7", 0),
				seen("b.example.org", "A", "198.51.100.7", 0),
			},
			wantRequests: 1,
		},
		{name: "empty collection", q: query(schema.OpResolutions, "empty.example"), wantRequests: 1},
		{name: "empty subdomains", q: query(schema.OpSubdomains, "empty.example"), wantRequests: 1},
		{name: "unknown domain (404 NotFoundError) is an empty answer", q: query(schema.OpSubdomains, "nx.example"), wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := tt.fk
			if fk == nil {
				fk = &fake{}
			}
			p, gate, logs := setup(t, fk, testKey, tt.maxPages)
			ans, err := p.Query(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			want := tt.want
			if diff := cmp.Diff(want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if ans.Requests != tt.wantRequests || gate.Count() != tt.wantRequests || fk.count() != tt.wantRequests {
				t.Errorf("requests: answer %d, gate %d, server %d; want %d", ans.Requests, gate.Count(), fk.count(), tt.wantRequests)
			}
			if tt.wantURIs != nil {
				if diff := cmp.Diff(tt.wantURIs, fk.uris); diff != "" {
					t.Errorf("requests (-want +got):\n%s", diff)
				}
			}
			warnings := strings.Join(ans.Warnings, "\n")
			if tt.wantWarning == "" && warnings != "" || !strings.Contains(warnings, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", warnings, tt.wantWarning)
			}
			providertest.CheckNoSecret(t, testKey, ans, logs.String())
		})
	}
}

func TestQueryErrors(t *testing.T) {
	rate429 := providertest.Respond(http.StatusTooManyRequests, `{"error":{"code":"TooManyRequestsError","message":"Too many requests"}}`, "Retry-After", "1")
	tests := []struct {
		name         string
		key          string
		fk           *fake
		budget       int
		q            schema.Query
		wantKind     providers.ErrorKind
		wantMsg      []string
		wantFindings int
		wantHits     int
	}{
		{
			name: "bad key", key: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindAuth, wantHits: 1,
			wantMsg: []string{"HTTP 401", "WrongCredentialsError: Wrong API key", `provider "virustotal"`, "api_key", "VIRUSTOTAL_API_KEY"},
		},
		{
			name: "daily quota exhausted is not retried", fk: &fake{quota: 1, quotaMessage: "Daily quota exceeded", pageSize: 2},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindQuota, wantHits: 2,
			wantMsg: []string{"daily quota", "resets at 00:00 UTC"},
		},
		{
			// VirusTotal sends the same QuotaExceededError for its minute
			// quota: retrying cannot tell it from a spent daily quota.
			name: "QuotaExceededError stops the provider, not retried", fk: &fake{quota: 1, quotaMessage: "Quota exceeded", pageSize: 1},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindQuota, wantHits: 2,
			wantMsg: []string{"QuotaExceededError: Quota exceeded", "minute, daily and monthly", "4 requests a minute", "00:00 UTC"},
		},
		{
			name: "429 TooManyRequestsError with Retry-After then success", fk: &fake{faults: []http.HandlerFunc{rate429}},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 5, wantHits: 2,
		},
		{
			name: "5xx then success", fk: &fake{faults: []http.HandlerFunc{
				providertest.Respond(http.StatusServiceUnavailable, `{"error":{"code":"TransientError","message":"Please retry"}}`),
				providertest.Respond(http.StatusGatewayTimeout, `{"error":{"code":"DeadlineExceededError","message":"Deadline exceeded"}}`),
			}},
			q: query(schema.OpResolutions, "example.com"), wantFindings: 5, wantHits: 3,
		},
		{
			name: "forbidden endpoint", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusForbidden, `{"error":{"code":"ForbiddenError","message":"You are not allowed to perform the requested operation"}}`)}},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindAuth, wantHits: 1,
			wantMsg: []string{"ForbiddenError", "premium"},
		},
		{
			name: "truncated body", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, `{"meta": {"count": 3}, "data": [{"type": "resolution", "id": "203.0.113.10exa`)}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"not valid JSON"},
		},
		{
			name: "malformed body", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, `{"data": {"type": "resolution"}}`)}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
		},
		{
			name: "malformed body echoing the key", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, `{"data": "`+testKey+`"}`)}},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"REDACTED"},
		},
		{
			name: "error body echoing the key", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusUnauthorized, `{"error":{"code":"WrongCredentialsError","message":"Wrong API key `+testKey+`"}}`)}},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindAuth, wantHits: 1,
			wantMsg: []string{"REDACTED"},
		},
		{
			name: "HTML page with status 200", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, "<html><head><title>Just a moment...</title></head></html>")}},
			q: query(schema.OpReverseIP, "203.0.113.10"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"HTML page"},
		},
		{
			name: "oversized body is bounded", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusOK, `{"data":[`+strings.Repeat(`{"type":"domain","id":"a.example.com"},`, 4000)+`{}]}`)}},
			q: query(schema.OpSubdomains, "example.com"), wantKind: providers.KindMalformed, wantHits: 1,
			wantMsg: []string{"larger than"},
		},
		{
			name: "bad input", fk: &fake{faults: []http.HandlerFunc{providertest.Respond(http.StatusBadRequest, `{"error":{"code":"InvalidArgumentError","message":"Invalid domain"}}`)}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindBadInput, wantHits: 1,
			wantMsg: []string{"InvalidArgumentError: Invalid domain"},
		},
		{
			name: "budget spent between pages", fk: &fake{pageSize: 2}, budget: 2,
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindBudget, wantHits: 2,
		},
		{
			name: "404 on a later page fails the query", fk: &fake{pageSize: 2, faults: []http.HandlerFunc{nil, providertest.Respond(http.StatusNotFound, `{"error":{"code":"NotFoundError","message":"Cursor expired"}}`)}},
			q: query(schema.OpResolutions, "example.com"), wantKind: providers.KindTransient, wantHits: 2,
			wantMsg: []string{"page 2", "Cursor expired"},
		},
		{
			name: "resolutions of an IP are not offered", q: query(schema.OpResolutions, "203.0.113.10"),
			wantKind: providers.KindUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := tt.fk
			if fk == nil {
				fk = &fake{}
			}
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
			providertest.CheckNoSecret(t, key, err, ans, logs.String())
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Query: %v", err)
				}
				if len(ans.Findings) != tt.wantFindings {
					t.Errorf("got %d findings, want %d", len(ans.Findings), tt.wantFindings)
				}
				return
			}
			providertest.CheckError(t, err, tt.wantKind, tt.wantMsg...)
		})
	}
}

func TestResolutionPair(t *testing.T) {
	domain := schema.Subject{Kind: schema.SubjectDomain, Value: "example.com"}
	ip := schema.Subject{Kind: schema.SubjectIP, Value: "203.0.113.10"}
	for _, tt := range []struct {
		id       string
		attrs    resolutionAttributes
		subject  schema.Subject
		host, ip string
	}{
		{"203.0.113.10example.com", resolutionAttributes{HostName: "example.com", IPAddress: "203.0.113.10"}, domain, "example.com", "203.0.113.10"},
		{"203.0.113.10example.com", resolutionAttributes{}, domain, "example.com", "203.0.113.10"},
		{"2001:db8::10example.com", resolutionAttributes{}, domain, "example.com", "2001:db8::10"},
		{"203.0.113.10www.example.com", resolutionAttributes{}, ip, "www.example.com", "203.0.113.10"},
		{"", resolutionAttributes{}, ip, "", "203.0.113.10"},
	} {
		host, addr := resolutionPair(tt.id, tt.attrs, tt.subject)
		if host != tt.host || addr != tt.ip {
			t.Errorf("resolutionPair(%q, %v) = %q, %q; want %q, %q", tt.id, tt.subject, host, addr, tt.host, tt.ip)
		}
	}
}

func TestNewNeedsKey(t *testing.T) {
	cfg, _ := providertest.Config(t, "virustotal", "http://127.0.0.1:1", nil)
	_, err := New(context.Background(), cfg)
	want := `provider "virustotal": api_key is empty; set it, e.g. api_key = env("VIRUSTOTAL_API_KEY")`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("New without api_key: %v, want %q", err, want)
	}
}

// FuzzParseCollection feeds raw bodies to the collection parser and the
// finding builders; none may panic.
func FuzzParseCollection(f *testing.F) {
	filepath.WalkDir(fixtures, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := os.ReadFile(path); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Add([]byte(`{"meta":{"cursor":""},"links":{"next":"::not a url"},"data":[{"attributes":{"date":"17","ip_address":"::ffff:1.2.3.4","host_name":"A."}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var c collection
		if json.Unmarshal(body, &c) != nil {
			return
		}
		c.next()
		for _, obj := range c.Data {
			var a resolutionAttributes
			_ = json.Unmarshal(obj.Attributes, &a)
			schema.NewFinding(a.HostName, "A", a.IPAddress)
			schema.NewFinding(obj.ID, schema.TypeHost, "")
		}
		classify(&providers.Response{StatusCode: 429, Body: body, Header: http.Header{}})
		errorMessage(body)
	})
}
