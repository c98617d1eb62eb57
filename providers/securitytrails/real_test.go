package securitytrails

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// realDir holds real SecurityTrails bodies (see its SOURCES.md).
var realDir = filepath.Join("..", "..", "testdata", "real", "securitytrails")

// stHeaders are the headers SecurityTrails' Kong gateway sent (as
// recorded in ninoseki/securitytrails' cassettes).
var stHeaders = []string{"Content-Type", "application/json; charset=utf-8", "X-Ratelimit-Limit-Second", "5", "X-Ratelimit-Remaining-Second", "4", "Via", "kong/0.11.2"}

func stJSON(path, file string) providertest.Exchange {
	return providertest.Exchange{Path: path, File: file, Header: stHeaders}
}

func stPost(path, file string) providertest.Exchange {
	return providertest.Exchange{Method: http.MethodPost, Path: path, File: file, Header: stHeaders}
}

// emptyHistory is an exchange answering a history type with no records,
// shaped like the recorded pages (constructed: nothing recorded it).
func emptyHistory(host, typ string) providertest.Exchange {
	return providertest.Exchange{Path: "/v1/history/" + host + "/dns/" + typ + "?page=1", Header: stHeaders,
		Body: `{"type":"` + typ + `","records":[],"pages":0,"endpoint":"/v1/history/` + host + `/dns/` + typ + `"}`}
}

func hist(name, typ, value, first, last string) schema.Finding {
	return find(name, typ, value, first, last, false)
}

// cur is a value of the current-records endpoint: current, first_seen as
// the bucket gives it (github.com's are null).
func cur(name, typ, value string) schema.Finding {
	f := schema.NewFinding(name, typ, value)
	f.Sources, f.Current = []string{"securitytrails"}, true
	return f
}

func replayProvider(t *testing.T, maxPages int, exchanges ...providertest.Exchange) (*Provider, *providertest.Replay, *providertest.Gate, *providertest.LogBuffer) {
	t.Helper()
	replay := providertest.NewReplay(t, realDir, exchanges...)
	cfg, gate := providertest.Config(t, "securitytrails", replay.URL+"/v1", map[string]string{"api_key": testKey})
	if maxPages > 0 {
		cfg.Attrs["max_pages"] = cty.NumberIntVal(int64(maxPages))
	}
	p, logs := providertest.Build(t, New, cfg)
	return p.(*Provider), replay, gate, logs
}

func TestRealBodies(t *testing.T) {
	githubA := []providertest.Exchange{stJSON("/v1/domain/github.com", "domain_github.com.json")}
	var githubAPaths []string
	for _, page := range []string{"1", "2", "3", "4", "5"} {
		githubA = append(githubA, stJSON("/v1/history/github.com/dns/a?page="+page, "history_a_github.com_p"+page+".json"))
		githubAPaths = append(githubAPaths, "GET /v1/history/github.com/dns/a?page="+page)
	}
	subdomainsPath := "/v1/domain/github.com/subdomains?children_only=false&include_inactive=true"
	tests := []struct {
		name      string
		exchanges []providertest.Exchange
		maxPages  int
		q         schema.Query
		want      []schema.Finding
		wantCount int // when want is nil: the number of findings
		spot      []schema.Finding
		requests  []string
		warning   string
		kind      providers.ErrorKind
		msg       []string
	}{
		{
			// 432 history records over 5 pages hold 19 addresses; the
			// current one (first_seen null in current_dns) is current.
			name: "github.com A: current records and five history pages", exchanges: githubA,
			q: query(schema.OpResolutions, "github.com", "A"),
			want: []schema.Finding{
				hist("github.com", "A", "140.82.113.3", "2019-07-06", "2019-10-18"),
				hist("github.com", "A", "140.82.113.4", "2019-07-18", "2019-10-12"),
				hist("github.com", "A", "140.82.114.3", "2019-07-04", "2019-09-29"),
				find("github.com", "A", "140.82.114.4", "2019-07-11", "2019-10-20", true),
				hist("github.com", "A", "192.30.252.120", "2016-04-15", "2016-06-27"),
				hist("github.com", "A", "192.30.252.121", "2016-04-18", "2016-06-29"),
				hist("github.com", "A", "192.30.252.122", "2016-04-25", "2016-06-18"),
				hist("github.com", "A", "192.30.252.123", "2016-04-16", "2016-06-06"),
				hist("github.com", "A", "192.30.252.128", "2013-08-20", "2016-06-19"),
				hist("github.com", "A", "192.30.252.129", "2013-08-20", "2016-06-23"),
				hist("github.com", "A", "192.30.252.130", "2013-08-20", "2016-06-28"),
				hist("github.com", "A", "192.30.252.131", "2013-08-20", "2016-06-25"),
				hist("github.com", "A", "192.30.253.112", "2016-06-29", "2019-10-11"),
				hist("github.com", "A", "192.30.253.113", "2016-07-01", "2019-09-26"),
				hist("github.com", "A", "192.30.255.112", "2017-05-26", "2018-09-11"),
				hist("github.com", "A", "192.30.255.113", "2017-05-26", "2018-09-11"),
				hist("github.com", "A", "204.232.175.90", "2013-04-17", "2013-11-09"),
				hist("github.com", "A", "207.97.227.239", "2009-09-28", "2013-11-09"),
				hist("github.com", "A", "65.74.177.129", "2008-09-01", "2009-09-28"),
			},
			requests: append([]string{"GET /v1/domain/github.com"}, githubAPaths...),
		},
		{
			name: "github.com A capped at two of five pages", exchanges: githubA, maxPages: 2,
			q:         query(schema.OpResolutions, "github.com", "A"),
			wantCount: 8, // the addresses of 2017-2019 on pages 1 and 2
			spot: []schema.Finding{
				find("github.com", "A", "140.82.114.4", "2019-07-11", "2019-10-20", true),
				// seen since 2016-06-29 on page 4: the capped window starts later
				hist("github.com", "A", "192.30.253.112", "2017-10-08", "2019-10-11"),
			},
			requests: append([]string{"GET /v1/domain/github.com"}, githubAPaths[:2]...),
			warning:  "A history of github.com has 5 pages; fetched the first 2",
		},
		{
			// SOA gives only the e-mail: not stored as an SOA value, and
			// its history is not asked for.
			name: "github.com current MX (with priority), NS, TXT; SOA e-mail dropped",
			exchanges: []providertest.Exchange{
				stJSON("/v1/domain/github.com", "domain_github.com.json"),
				emptyHistory("github.com", "mx"), emptyHistory("github.com", "ns"), emptyHistory("github.com", "txt"),
			},
			q: query(schema.OpResolutions, "github.com", "MX", "NS", "SOA", "TXT"),
			want: providers.MergeFindings([]schema.Finding{
				cur("github.com", "MX", "1 aspmx.l.google.com"),
				cur("github.com", "MX", "10 alt3.aspmx.l.google.com"),
				cur("github.com", "MX", "10 alt4.aspmx.l.google.com"),
				cur("github.com", "MX", "5 alt1.aspmx.l.google.com"),
				cur("github.com", "MX", "5 alt2.aspmx.l.google.com"),
				cur("github.com", "NS", "ns-1283.awsdns-32.org"),
				cur("github.com", "NS", "ns-1707.awsdns-21.co.uk"),
				cur("github.com", "NS", "ns-421.awsdns-52.com"),
				cur("github.com", "NS", "ns-520.awsdns-01.net"),
				cur("github.com", "NS", "ns1.p16.dynect.net"),
				cur("github.com", "NS", "ns2.p16.dynect.net"),
				cur("github.com", "NS", "ns3.p16.dynect.net"),
				cur("github.com", "NS", "ns4.p16.dynect.net"),
				cur("github.com", "TXT", "MS=6BF03E6AF5CB689E315FB6199603BABF2C88D805"),
				cur("github.com", "TXT", "MS=ms44452932"),
				cur("github.com", "TXT", "MS=ms58704441"),
				cur("github.com", "TXT", "docusign=087098e3-3d46-47b7-9b4e-8a23028154cd"),
				cur("github.com", "TXT", "v=spf1 ip4:192.30.252.0/22 ip4:208.74.204.0/22 ip4:46.19.168.0/23 include:_spf.google.com include:esp.github.com include:_spf.createsend.com include:servers.mcsv.net ~all"),
			}),
			requests: []string{"GET /v1/domain/github.com", "GET /v1/history/github.com/dns/mx?page=1", "GET /v1/history/github.com/dns/ns?page=1", "GET /v1/history/github.com/dns/txt?page=1"},
		},
		{
			// The free plan's cap, with no meta to say whether it was hit.
			name:      "github.com subdomains: exactly 2,000 labels",
			exchanges: []providertest.Exchange{stJSON(subdomainsPath, "subdomains_github.com.json")},
			q:         query(schema.OpSubdomains, "github.com"),
			wantCount: 2000,
			spot: []schema.Finding{
				find("002.github.com", "HOST", "", "", "", false),
				find("7.xb.github.com", "HOST", "", "", "", false),
				find("ddlsmurf.github.com", "HOST", "", "", "", false),
			},
			requests: []string{"GET " + subdomainsPath},
			warning:  "SecurityTrails gave exactly 2000 subdomains of github.com, its plan cap (2,000 free, 10,000 paid): the list may be incomplete",
		},
		{
			name:      "reverse IP: one page, one name",
			exchanges: []providertest.Exchange{stPost("/v1/domains/list?page=1", "domains_list_ipv4_89.35.39.84.json")},
			q:         query(schema.OpReverseIP, "89.35.39.84"),
			want:      []schema.Finding{find("jppost-bto.top", "A", "89.35.39.84", "", "", true)},
			requests:  []string{"POST /v1/domains/list?page=1"},
		},
		{
			name:      "reverse IP: 593 pages, max_page 100, our max_pages 1",
			exchanges: []providertest.Exchange{stPost("/v1/domains/list?page=1", "domains_list_ipv4_1.1.1.1.json")},
			maxPages:  1,
			q:         query(schema.OpReverseIP, "1.1.1.1"),
			wantCount: 100,
			spot:      []schema.Finding{find("udemy.com", "A", "1.1.1.1", "", "", false), find("contaboserver.net", "A", "1.1.1.1", "", "", false)},
			requests:  []string{"POST /v1/domains/list?page=1"},
			warning:   "SecurityTrails has 593 result pages (59251 names) for ipv4 = 1.1.1.1; fetching 1",
		},
		{
			name:      "reverse IP: a name listed twice is one finding",
			exchanges: []providertest.Exchange{stPost("/v1/domains/list?page=1", "domains_list_ipv4_1.1.1.1_trimmed.json")},
			maxPages:  1,
			q:         query(schema.OpReverseIP, "1.1.1.1"),
			want:      []schema.Finding{find("efoood.org", "A", "1.1.1.1", "", "", false), find("udemy.com", "A", "1.1.1.1", "", "", false)},
			requests:  []string{"POST /v1/domains/list?page=1"},
			warning:   "SecurityTrails has 408 result pages (40741 names)",
		},
		{
			name:      "reverse IPv6",
			exchanges: []providertest.Exchange{stPost("/v1/domains/list?page=1", "domains_list_ipv6_2001_0db8_85a3__8a2e_0370_7334.json")},
			maxPages:  1,
			q:         query(schema.OpReverseIP, "2001:db8:85a3::8a2e:370:7334"),
			want: []schema.Finding{
				find("121marketinglead.com", "AAAA", "2001:db8:85a3::8a2e:370:7334", "", "", false),
				find("123qatest.co.uk", "AAAA", "2001:db8:85a3::8a2e:370:7334", "", "", false),
			},
			requests: []string{"POST /v1/domains/list?page=1"},
			warning:  "SecurityTrails has 2 result pages",
		},
		{
			name:      "403 invalid credentials",
			exchanges: []providertest.Exchange{{Path: "/v1/domain/github.com", Status: http.StatusForbidden, File: "error_403_invalid_credentials.json", Header: stHeaders}},
			q:         query(schema.OpResolutions, "github.com", "A"),
			requests:  []string{"GET /v1/domain/github.com"},
			kind:      providers.KindAuth, msg: []string{"Invalid authentication credentials", "SECURITYTRAILS_API_KEY"},
		},
		{
			name:      "401 in plain text",
			exchanges: []providertest.Exchange{{Method: http.MethodPost, Path: "/v1/domains/list?page=1", Status: http.StatusUnauthorized, File: "error_401.txt", Header: []string{"Server", "Cowboy"}}},
			q:         query(schema.OpReverseIP, "89.35.39.84"),
			requests:  []string{"POST /v1/domains/list?page=1"},
			kind:      providers.KindAuth, msg: []string{"Please check user credentials"},
		},
		{
			name:      "429 monthly usage limits is a quota",
			exchanges: []providertest.Exchange{{Path: subdomainsPath, Status: http.StatusTooManyRequests, File: "error_429_usage_limits.json", Header: stHeaders}},
			q:         query(schema.OpSubdomains, "github.com"),
			requests:  []string{"GET " + subdomainsPath},
			kind:      providers.KindQuota, msg: []string{"exceeded the usage limits"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, replay, gate, logs := replayProvider(t, tt.maxPages, tt.exchanges...)
			ans, err := p.Query(context.Background(), tt.q)
			replay.CheckRequests(t, gate, tt.requests)
			providertest.CheckNoSecret(t, testKey, err, ans, logs.String())
			if tt.kind != "" {
				providertest.CheckFinalError(t, err, tt.kind, tt.msg...)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
					t.Errorf("findings (-want +got):\n%s", diff)
				}
			} else if len(ans.Findings) != tt.wantCount {
				t.Errorf("%d findings, want %d", len(ans.Findings), tt.wantCount)
			}
			have := map[string]schema.Finding{}
			for _, f := range ans.Findings {
				have[f.ID()] = f
			}
			for _, s := range tt.spot {
				if diff := cmp.Diff(s, have[s.ID()]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", s.ID(), diff)
				}
			}
			if ans.Requests != len(tt.requests) {
				t.Errorf("answer counts %d requests, want %d", ans.Requests, len(tt.requests))
			}
			providertest.CheckWarnings(t, ans.Warnings, tt.warning)
		})
	}
}

// TestRealHistoryPages reads history pages recorded for names whose
// current records were not recorded.
func TestRealHistoryPages(t *testing.T) {
	for _, tt := range []struct {
		name, host, typ, file string
		maxPages              int
		want                  []schema.Finding
		warning               string
	}{
		{
			name: "one page of four records", host: "jppost-tu.top", typ: "A", file: "history_a_jppost-tu.top.json",
			want: []schema.Finding{
				hist("jppost-tu.top", "A", "193.148.69.37", "2019-09-05", "2019-10-02"),
				hist("jppost-tu.top", "A", "193.148.69.9", "2019-08-08", "2019-08-09"),
				hist("jppost-tu.top", "A", "45.14.148.103", "2019-08-09", "2019-08-31"),
				hist("jppost-tu.top", "A", "89.35.39.84", "2019-08-31", "2019-09-05"),
			},
		},
		{
			// 172.217.5.238 in two records: its widest window.
			name: "page 1 of 20, A", host: "google.com", typ: "A", file: "history_a_google.com.json", maxPages: 1,
			want: []schema.Finding{
				hist("google.com", "A", "172.217.2.110", "2020-07-11", "2020-07-13"),
				hist("google.com", "A", "172.217.5.238", "2020-07-10", "2020-07-15"),
			},
			warning: "A history of google.com has 20 pages; fetched the first 1",
		},
		{
			name: "page 1 of 23, type a/ipv6", host: "google.com", typ: "AAAA", file: "history_aaaa_google.com.json", maxPages: 1,
			want: []schema.Finding{
				hist("google.com", "AAAA", "2607:f8b0:4004:804::200e", "2020-07-10", "2020-07-11"),
				hist("google.com", "AAAA", "2607:f8b0:4004:807::200e", "2020-07-11", "2020-07-15"),
			},
			warning: "AAAA history of google.com has 23 pages; fetched the first 1",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/history/" + tt.host + "/dns/" + strings.ToLower(tt.typ) + "?page=1"
			p, replay, _, _ := replayProvider(t, tt.maxPages, stJSON(path, tt.file))
			fs, requests, warning, err := p.history(context.Background(), tt.host, tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, providers.MergeFindings(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			replay.CheckRequests(t, nil, []string{"GET " + path})
			if requests != 1 {
				t.Errorf("history counts %d requests, want 1", requests)
			}
			var warnings []string
			if warning != "" {
				warnings = []string{warning}
			}
			providertest.CheckWarnings(t, warnings, tt.warning)
		})
	}
}

// TestWrongShapes: a 200 that lacks the members every real answer of the
// endpoint has is malformed, or a quota when its message says so; real
// empty answers stay empty.
func TestWrongShapes(t *testing.T) {
	const subs = "/v1/domain/example.com/subdomains?children_only=false&include_inactive=true"
	for _, tt := range []struct {
		name string
		ex   providertest.Exchange
		q    schema.Query
		kind providers.ErrorKind
		msg  string
	}{
		{name: "subdomains: real empty list", ex: providertest.Exchange{Path: subs, Body: `{"subdomains":[],"endpoint":"/v1/domain/example.com/subdomains"}`}, q: query(schema.OpSubdomains, "example.com")},
		{name: "subdomains: {}", ex: providertest.Exchange{Path: subs, Body: `{}`}, q: query(schema.OpSubdomains, "example.com"), kind: providers.KindMalformed, msg: `"subdomains" is missing`},
		{name: "subdomains: null", ex: providertest.Exchange{Path: subs, Body: `null`}, q: query(schema.OpSubdomains, "example.com"), kind: providers.KindMalformed, msg: "the answer is null"},
		{name: "subdomains: []", ex: providertest.Exchange{Path: subs, Body: `[]`}, q: query(schema.OpSubdomains, "example.com"), kind: providers.KindMalformed, msg: "the answer is an array"},
		{name: "subdomains: null list", ex: providertest.Exchange{Path: subs, Body: `{"subdomains":null}`}, q: query(schema.OpSubdomains, "example.com"), kind: providers.KindMalformed, msg: `"subdomains" is null`},
		{
			name: "subdomains: usage message with 200", ex: providertest.Exchange{Path: subs, Body: `{"message":"You have exceeded the allowed usage of your API key"}`},
			q: query(schema.OpSubdomains, "example.com"), kind: providers.KindQuota, msg: "You have exceeded the allowed usage of your API key",
		},
		{
			name: "current records: {}", ex: providertest.Exchange{Path: "/v1/domain/example.com", Body: `{}`},
			q: query(schema.OpResolutions, "example.com", "A"), kind: providers.KindMalformed, msg: `"current_dns" is missing`,
		},
		{
			name: "search: {}", ex: providertest.Exchange{Method: http.MethodPost, Path: "/v1/domains/list?page=1", Body: `{}`},
			q: query(schema.OpReverseIP, "203.0.113.10"), kind: providers.KindMalformed, msg: `"records" is missing`,
		},
		{
			name: "search: real empty answer", ex: providertest.Exchange{Method: http.MethodPost, Path: "/v1/domains/list?page=1", Body: `{"records":[],"record_count":0,"meta":{"total_pages":0,"query":"ipv4 = '203.0.113.10'","page":1,"max_page":0},"endpoint":"/v1/domains/list"}`},
			q: query(schema.OpReverseIP, "203.0.113.10"),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.ex.Header = stHeaders
			p, replay, _, _ := replayProvider(t, 0, tt.ex)
			ans, err := p.Query(context.Background(), tt.q)
			method := tt.ex.Method
			if method == "" {
				method = http.MethodGet
			}
			replay.CheckRequests(t, nil, []string{method + " " + tt.ex.Path})
			if tt.kind == "" {
				providertest.CheckEmpty(t, ans, err)
				return
			}
			providertest.CheckFinalError(t, err, tt.kind, tt.msg)
		})
	}
}

// TestWrongShapeInHistory: a history page without records is malformed.
func TestWrongShapeInHistory(t *testing.T) {
	p, _, _, _ := replayProvider(t, 0, providertest.Exchange{Path: "/v1/history/example.com/dns/a?page=1", Body: `{"pages": 1}`, Header: stHeaders})
	_, _, _, err := p.history(context.Background(), "example.com", "A")
	providertest.CheckFinalError(t, err, providers.KindMalformed, `"records" is missing`)
}
