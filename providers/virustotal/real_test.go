package virustotal

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// realDir holds real VirusTotal bodies (see its SOURCES.md).
var realDir = filepath.Join("..", "..", "testdata", "real", "virustotal")

// vtHeaders are the headers VirusTotal's front end sends with JSON (as
// recorded in ninoseki/mihari's cassettes).
var vtHeaders = []string{"Content-Type", "application/json; charset=utf-8", "Cache-Control", "no-cache", "Server", "Google Frontend"}

// lastSeen is a resolution as VirusTotal knows it: the host name and
// address, and the date it last saw the pair; no first_seen.
func lastSeen(name, typ, value string, unix int64) schema.Finding {
	return schema.Finding{Name: name, Type: typ, Value: value, LastSeen: time.Unix(unix, 0).UTC(), Sources: []string{"virustotal"}}
}

func TestRealBodies(t *testing.T) {
	const (
		domainRes = "/api/v3/domains/jppost-ge.top/resolutions?limit=40"
		ipRes     = "/api/v3/ip_addresses/45.83.140.140/resolutions?limit=40"
		subs      = "/api/v3/domains/blacklanternsecurity.com/subdomains?limit=40"
		// the cursor of the IP body's meta.cursor, as the next request sends it
		ipRes2 = "/api/v3/ip_addresses/45.83.140.140/resolutions?cursor=ClkKEQoEZGF0ZRIJCJ3spumbhOQCEkBqEXN-dmlydXN0b3RhbGNsb3VkcisLEgpSZXNvbHV0aW9uIhs0NS44My4xNDAuMTQwanBwb3N0LWFnby50b3AMGAAgAQ%3D%3D&limit=40"
	)
	data := func(path, file string) providertest.Exchange {
		return providertest.Exchange{Path: path, File: file, Header: vtHeaders, Gzip: true}
	}
	quota := providertest.Exchange{Path: domainRes, Status: http.StatusTooManyRequests, File: "error_429_quota_exceeded.json", Header: []string{"Content-Type", "application/json"}}
	ipFindings := []schema.Finding{
		lastSeen("jppost-ago.top", "A", "45.83.140.140", 1565849465),
		lastSeen("jppost-ahe.top", "A", "45.83.140.140", 1565849466),
		lastSeen("jppost-ayu.top", "A", "45.83.140.140", 1566265526),
		lastSeen("jppost-ba.top", "A", "45.83.140.140", 1565939177),
		lastSeen("jppost-do.top", "A", "45.83.140.140", 1565924288),
		lastSeen("jppost-pa.top", "A", "45.83.140.140", 1565924651),
		lastSeen("jppost-pe.top", "A", "45.83.140.140", 1565874215),
		lastSeen("jppost-pi.top", "A", "45.83.140.140", 1565874268),
		lastSeen("jppost-ze.top", "A", "45.83.140.140", 1565939215),
		lastSeen("jppost-zu.top", "A", "45.83.140.140", 1565939207),
	}
	tests := []struct {
		name      string
		exchanges []providertest.Exchange
		maxPages  int
		q         schema.Query
		want      []schema.Finding
		requests  []string
		warning   string
		kind      providers.ErrorKind
		msg       []string
	}{
		{
			name:      "domain resolutions: one page without meta, date is last_seen only",
			exchanges: []providertest.Exchange{data(domainRes, "domains_jppost-ge.top_resolutions.json")},
			q:         query(schema.OpResolutions, "jppost-ge.top"),
			want: []schema.Finding{
				lastSeen("jppost-ge.top", "A", "185.25.50.132", 1562232334),
				lastSeen("jppost-ge.top", "A", "193.148.69.9", 1565223148),
				lastSeen("jppost-ge.top", "A", "45.12.206.233", 1563794601),
				lastSeen("jppost-ge.top", "A", "45.83.140.132", 1563831458),
				lastSeen("jppost-ge.top", "A", "45.83.140.140", 1565090428),
				lastSeen("jppost-ge.top", "A", "51.68.251.30", 1562161484),
			},
			requests: []string{"GET " + domainRes},
		},
		{
			name:      "reverse IP capped at one page: meta has a cursor but no count",
			exchanges: []providertest.Exchange{data(ipRes, "ip_addresses_45.83.140.140_resolutions.json")},
			maxPages:  1,
			q:         query(schema.OpReverseIP, "45.83.140.140"),
			want:      ipFindings,
			requests:  []string{"GET " + ipRes},
			warning:   "VirusTotal has more objects at /ip_addresses/45.83.140.140/resolutions; fetched the first 1 pages",
		},
		{
			name: "reverse IP follows meta.cursor to the last page",
			exchanges: []providertest.Exchange{
				data(ipRes, "ip_addresses_45.83.140.140_resolutions.json"),
				// a last page as VirusTotal ends a collection (constructed: no recorded second page)
				{Path: ipRes2, Body: `{"data": [], "links": {"self": "https://www.virustotal.com/api/v3/ip_addresses/45.83.140.140/resolutions?limit=40"}}`, Header: vtHeaders, Gzip: true},
			},
			q:        query(schema.OpReverseIP, "45.83.140.140"),
			want:     ipFindings,
			requests: []string{"GET " + ipRes, "GET " + ipRes2},
		},
		{
			name:      "subdomains: first page of 25 objects",
			exchanges: []providertest.Exchange{data(subs, "domains_blacklanternsecurity.com_subdomains.json")},
			maxPages:  1,
			q:         query(schema.OpSubdomains, "blacklanternsecurity.com"),
			want:      []schema.Finding{{Name: "asdf.blacklanternsecurity.com", Type: "HOST", Sources: []string{"virustotal"}}},
			requests:  []string{"GET " + subs},
			warning:   "VirusTotal has 25 objects at /domains/blacklanternsecurity.com/subdomains; fetched the first 1 pages",
		},
		{
			name:      "QuotaExceededError is a quota: not retried, the provider stops",
			exchanges: []providertest.Exchange{quota},
			q:         query(schema.OpResolutions, "jppost-ge.top"),
			requests:  []string{"GET " + domainRes},
			kind:      providers.KindQuota,
			msg:       []string{"QuotaExceededError: Quota exceeded", "minute, daily and monthly"},
		},
		{
			name:      "a plain 429 stays a rate limit and is retried",
			exchanges: []providertest.Exchange{{Path: domainRes, Status: http.StatusTooManyRequests, Body: "Too Many Requests"}},
			q:         query(schema.OpResolutions, "jppost-ge.top"),
			requests:  []string{"GET " + domainRes, "GET " + domainRes, "GET " + domainRes},
			kind:      providers.KindRateLimited,
			msg:       []string{"gave up after 3 attempts"},
		},
		{
			name:      "TooManyRequestsError stays a rate limit",
			exchanges: []providertest.Exchange{{Path: domainRes, Status: http.StatusTooManyRequests, Body: `{"error": {"code": "TooManyRequestsError", "message": "Too many requests"}}`}},
			q:         query(schema.OpResolutions, "jppost-ge.top"),
			requests:  []string{"GET " + domainRes, "GET " + domainRes, "GET " + domainRes},
			kind:      providers.KindRateLimited,
		},
		{
			name:      "documented NotFoundError: no object, an empty answer",
			exchanges: []providertest.Exchange{{Path: domainRes, Status: http.StatusNotFound, File: "error_404_not_found.json", Header: vtHeaders}},
			q:         query(schema.OpResolutions, "jppost-ge.top"),
			requests:  []string{"GET " + domainRes},
		},
		{
			name:      "documented AuthenticationRequiredError",
			exchanges: []providertest.Exchange{{Path: domainRes, Status: http.StatusUnauthorized, File: "error_401_authentication_required.json", Header: vtHeaders}},
			q:         query(schema.OpResolutions, "jppost-ge.top"),
			requests:  []string{"GET " + domainRes},
			kind:      providers.KindAuth,
			msg:       []string{"AuthenticationRequiredError: X-Apikey header is missing", "VIRUSTOTAL_API_KEY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replay := providertest.NewReplay(t, realDir, tt.exchanges...)
			cfg, gate := providertest.Config(t, "virustotal", replay.URL+"/api/v3", map[string]string{"api_key": testKey})
			if tt.maxPages > 0 {
				cfg.Attrs["max_pages"] = cty.NumberIntVal(int64(tt.maxPages))
			}
			p, logs := providertest.Build(t, New, cfg)
			ans, err := p.Query(context.Background(), tt.q)
			replay.CheckRequests(t, gate, tt.requests)
			providertest.CheckNoSecret(t, testKey, err, ans, logs.String())
			if tt.kind != "" {
				providertest.CheckError(t, err, tt.kind, tt.msg...)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if ans.Requests != len(tt.requests) {
				t.Errorf("answer counts %d requests, want %d", ans.Requests, len(tt.requests))
			}
			providertest.CheckWarnings(t, ans.Warnings, tt.warning)
		})
	}
}

// TestWrongShapes: a 200 that lacks what every real collection has (a
// data array) is malformed, or a quota when its error says so; a real
// empty collection is an empty answer.
func TestWrongShapes(t *testing.T) {
	const path = "/api/v3/domains/example.com/subdomains?limit=40"
	for _, tt := range []struct {
		name, body string
		kind       providers.ErrorKind // "" = an empty answer
		msg        string
	}{
		{"real empty collection", `{"meta": {"count": 0}, "data": [], "links": {"self": "https://www.virustotal.com/api/v3/domains/example.com/subdomains?limit=40"}}`, "", ""},
		{"empty object", `{}`, providers.KindMalformed, `"data" is missing`},
		{"null", `null`, providers.KindMalformed, "the answer is null"},
		{"array", `[]`, providers.KindMalformed, "the answer is an array, not an object"},
		{"data null", `{"data": null, "links": {}}`, providers.KindMalformed, `"data" is null`},
		{"meta only", `{"meta": {"count": 3}}`, providers.KindMalformed, `"data" is missing`},
		{"quota error with 200", `{"error": {"code": "QuotaExceededError", "message": "Quota exceeded"}}`, providers.KindQuota, "QuotaExceededError"},
		{"other error with 200", `{"error": {"code": "TransientError", "message": "Please retry"}}`, providers.KindMalformed, "TransientError: Please retry"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			replay := providertest.NewReplay(t, realDir, providertest.Exchange{Path: path, Body: tt.body, Header: vtHeaders})
			cfg, _ := providertest.Config(t, "virustotal", replay.URL+"/api/v3", map[string]string{"api_key": testKey})
			p, _ := providertest.Build(t, New, cfg)
			ans, err := p.Query(context.Background(), query(schema.OpSubdomains, "example.com"))
			replay.CheckRequests(t, nil, []string{"GET " + path}) // not retried
			if tt.kind == "" {
				providertest.CheckEmpty(t, ans, err)
				return
			}
			providertest.CheckError(t, err, tt.kind, tt.msg)
		})
	}
}
