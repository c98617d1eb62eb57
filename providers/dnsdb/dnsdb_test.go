package dnsdb_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reconform/reconform/internal/fakevendors"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dnsdb"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

const key = "DNSDB-CANARY-91b0d4-SECRET"

var fixtures = os.DirFS("../../testdata/providers/dnsdb")

func f(name, rrtype, value string, first, last int64, count int64) schema.Finding {
	x := schema.NewFinding(name, rrtype, value)
	x.FirstSeen, x.LastSeen = providers.UnixTime(first), providers.UnixTime(last)
	x.Count = count
	x.Sources = []string{"dnsdb"}
	return x
}

func subject(t *testing.T, s string) schema.Subject {
	t.Helper()
	sub, err := schema.ParseSubject(s)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// The www.example.com A records of the fixture: two bailiwicks of
// 203.0.113.10 merge into one finding.
var wwwA = []schema.Finding{
	f("www.example.com", "A", "203.0.113.10", 1370000000, 1427881899, 5064),
	f("www.example.com", "A", "203.0.113.11", 1427893644, 1717200000, 17381),
	f("www.example.com", "A", "203.0.113.12", 1427893644, 1717200000, 17381),
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name     string
		op       schema.Op
		subject  string
		rrtypes  []string
		params   map[string]string
		fake     *fakevendors.DNSDB
		maxPages string
		want     []schema.Finding
		wantPath string // path of the first request
		warnings int
		wantKind providers.ErrorKind
		requests int
		errHas   string
	}{
		{
			name: "rrset by name", op: schema.OpResolutions, subject: "www.example.com", requests: 1,
			wantPath: "/dnsdb/v2/lookup/rrset/name/www.example.com", want: wwwA,
		},
		{
			name: "rrset with one rrtype, zone times and rdata as a string", op: schema.OpResolutions, subject: "example.com", rrtypes: []string{"TXT"}, requests: 1,
			wantPath: "/dnsdb/v2/lookup/rrset/name/example.com/TXT",
			want:     []schema.Finding{f("example.com", "TXT", "v=spf1 include:_spf.example.net -all", 1590000000, 1710000000, 7)},
		},
		{
			name: "rrset with several rrtypes asks ANY and filters", op: schema.OpResolutions, subject: "example.com", rrtypes: []string{"MX", "NS"}, requests: 1,
			wantPath: "/dnsdb/v2/lookup/rrset/name/example.com",
			want: []schema.Finding{
				f("example.com", "MX", "mx1.example.com", 1600000000, 1717200000, 42),
				f("example.com", "MX", "mx2.example.com", 1600000000, 1717200000, 42),
				f("example.com", "NS", "ns1.example.net", 1500000000, 1717200000, 120),
				f("example.com", "NS", "ns2.example.net", 1500000000, 1717200000, 120),
			},
		},
		{
			name: "limited pages with offset", op: schema.OpResolutions, subject: "www.example.com", params: map[string]string{"limit": "1"}, requests: 3,
			want: wwwA,
		},
		{
			name: "limited without offset allowed is partial with a warning", op: schema.OpResolutions, subject: "www.example.com", params: map[string]string{"limit": "1"},
			fake: &fakevendors.DNSDB{OffsetMax: -1}, requests: 2, warnings: 1,
			want: []schema.Finding{f("www.example.com", "A", "203.0.113.10", 1380139330, 1427881899, 5059)},
		},
		{
			name: "limited past max_pages is partial with a warning", op: schema.OpResolutions, subject: "www.example.com", params: map[string]string{"limit": "1"},
			maxPages: "2", requests: 2, warnings: 1,
			want: []schema.Finding{
				f("www.example.com", "A", "203.0.113.10", 1380139330, 1427881899, 5059),
				f("www.example.com", "A", "203.0.113.11", 1427893644, 1717200000, 17381),
				f("www.example.com", "A", "203.0.113.12", 1427893644, 1717200000, 17381),
			},
		},
		{
			name: "results_max caps the page", op: schema.OpResolutions, subject: "www.example.com", fake: &fakevendors.DNSDB{ResultsMax: 2}, requests: 2,
			want: wwwA,
		},
		{
			name: "subdomains by left wildcard", op: schema.OpSubdomains, subject: "example.com", rrtypes: []string{"CNAME"}, requests: 1,
			wantPath: "/dnsdb/v2/lookup/rrset/name/*.example.com/CNAME",
			want: []schema.Finding{
				f("old.example.com", "CNAME", "legacy.example.net", 1650000000, 1660000000, 3),
				f("old.example.com", "HOST", "", 1650000000, 1660000000, 3),
			},
		},
		{
			name: "reverse IP", op: schema.OpReverseIP, subject: "203.0.113.10", requests: 1,
			wantPath: "/dnsdb/v2/lookup/rdata/ip/203.0.113.10",
			want: []schema.Finding{
				f("example.com", "A", "203.0.113.10", 1600000000, 1717200000, 300),
				f("shop.example.org", "A", "203.0.113.10", 1650000000, 1717200000, 55),
				f("www.example.com", "A", "203.0.113.10", 1370000000, 1427881899, 5064),
			},
		},
		{
			name: "reverse prefix with a comma", op: schema.OpReverseIP, subject: "198.51.100.0/24", requests: 1,
			wantPath: "/dnsdb/v2/lookup/rdata/ip/198.51.100.0,24",
			want:     []schema.Finding{f("mail.example.com", "A", "198.51.100.25", 1650000000, 1717200000, 9)},
		},
		{
			name: "reverse IPv6 escapes colons", op: schema.OpReverseIP, subject: "2001:db8::10", requests: 1,
			wantPath: "/dnsdb/v2/lookup/rdata/ip/2001%3Adb8%3A%3A10",
			want:     []schema.Finding{f("v6.example.com", "AAAA", "2001:db8::10", 1650000000, 1717200000, 11)},
		},
		{
			name: "NS reverse", op: schema.OpNSReverse, subject: "ns1.example.net", requests: 1,
			wantPath: "/dnsdb/v2/lookup/rdata/name/ns1.example.net/NS",
			want: []schema.Finding{
				f("example.com", "NS", "ns1.example.net", 1500000000, 1717200000, 120),
				f("example.org", "NS", "ns1.example.net", 1500000000, 1717200000, 60),
			},
		},
		{
			name: "MX reverse", op: schema.OpMXReverse, subject: "mx1.example.com", requests: 1,
			wantPath: "/dnsdb/v2/lookup/rdata/name/mx1.example.com/MX",
			want: []schema.Finding{
				f("example.com", "MX", "mx1.example.com", 1600000000, 1717200000, 42),
				f("example.org", "MX", "mx1.example.com", 1600000000, 1717200000, 8),
			},
		},
		{name: "nothing found is begin and succeeded", op: schema.OpResolutions, subject: "nothing.example.com", requests: 1},
		{
			name: "key echoed in an error body is redacted", op: schema.OpResolutions, subject: "example.com", requests: 1, wantKind: providers.KindAuth, errHas: "REDACTED",
			fake: &fakevendors.DNSDB{Hook: fakevendors.Always(401, "Error: key "+key+" is not allowed for API v2")},
		},
		{name: "bad key", op: schema.OpResolutions, subject: "example.com", fake: &fakevendors.DNSDB{Key: "other"}, requests: 1, wantKind: providers.KindAuth, errHas: "api_key"},
		{
			name: "daily quota exhausted says when it resets", op: schema.OpResolutions, subject: "example.com", requests: 1,
			fake:     &fakevendors.DNSDB{Hook: fakevendors.Status(-1, 429, map[string]string{"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1717286400"}, "Error: Rate limit exceeded")},
			wantKind: providers.KindQuota, errHas: "1000 queries a day); it resets at 2024-06-02T00:00:00Z",
		},
		{
			name: "block quota expired", op: schema.OpResolutions, subject: "example.com", requests: 1,
			fake:     &fakevendors.DNSDB{Hook: fakevendors.Status(-1, 401, map[string]string{"X-RateLimit-Expires": "1735689600"}, "Error: Quota is expired")},
			wantKind: providers.KindQuota, errHas: "expired 2025-01-01T00:00:00Z",
		},
		{
			name: "429 with Retry-After then success", op: schema.OpResolutions, subject: "www.example.com", requests: 2,
			fake: &fakevendors.DNSDB{Hook: fakevendors.Status(1, 429, map[string]string{"Retry-After": "1"}, "Error: Rate limit exceeded")},
			want: wwwA,
		},
		{
			name: "burst 429 without headers then success", op: schema.OpResolutions, subject: "www.example.com", requests: 2,
			fake: &fakevendors.DNSDB{Hook: fakevendors.Status(1, 429, nil, "Error: Rate limit exceeded")},
			want: wwwA,
		},
		{
			name: "quota counted by the fake", op: schema.OpResolutions, subject: "www.example.com", requests: 1,
			fake:     &fakevendors.DNSDB{Quota: -1, Reset: 1717286400},
			wantKind: providers.KindQuota, errHas: "resets at 2024-06-02T00:00:00Z",
		},
		{
			name: "5xx then success", op: schema.OpResolutions, subject: "www.example.com", requests: 3,
			fake: &fakevendors.DNSDB{Hook: fakevendors.Status(2, 503, nil, "Error: Too many concurrent connections")},
			want: wwwA,
		},
		{name: "truncated stream", op: schema.OpResolutions, subject: "www.example.com", fake: &fakevendors.DNSDB{Truncate: true}, requests: 3, wantKind: providers.KindTransient, errHas: "truncated"},
		{name: "failed stream", op: schema.OpResolutions, subject: "www.example.com", fake: &fakevendors.DNSDB{FailMsg: "Query timed out"}, requests: 1, wantKind: providers.KindTransient, errHas: "Query timed out"},
		{
			name: "malformed body", op: schema.OpResolutions, subject: "www.example.com", requests: 1, wantKind: providers.KindMalformed,
			fake: &fakevendors.DNSDB{Hook: fakevendors.Always(200, "{\"cond\":\"begin\"}\nnot json\n{\"cond\":\"succeeded\"}\n")},
		},
		{name: "HTML page with 200", op: schema.OpResolutions, subject: "www.example.com", requests: 1, wantKind: providers.KindMalformed, fake: &fakevendors.DNSDB{Hook: fakevendors.Always(200, fakevendors.HTMLPage)}},
		{
			name: "oversized body", op: schema.OpResolutions, subject: "www.example.com", requests: 1, wantKind: providers.KindMalformed,
			fake: &fakevendors.DNSDB{Hook: fakevendors.Always(200, "{\"cond\":\"begin\"}\n"+strings.Repeat(`{"obj":{"rrname":"a.example.com.","rrtype":"A","rdata":["203.0.113.1"]}}`+"\n", 20_000))},
		},
		{name: "offset refused on the first page", op: schema.OpResolutions, subject: "www.example.com", requests: 1, wantKind: providers.KindBadInput, fake: &fakevendors.DNSDB{Hook: fakevendors.Always(416, "Error: Offset value greater than maximum allowed")}},
		{name: "subdomains of an IP is unsupported", op: schema.OpSubdomains, subject: "203.0.113.10", wantKind: providers.KindUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := tt.fake
			if fake == nil {
				fake = &fakevendors.DNSDB{}
			}
			fake.Fixtures = fixtures
			if fake.Key == "" {
				fake.Key = key
			}
			srv := fakevendors.Start(t, fake)
			attrs := map[string]string{"api_key": key}
			cfg, gate := providertest.Config(t, "dnsdb", srv.URL+"/dnsdb/v2", attrs)
			if tt.maxPages != "" {
				cfg.Attrs["max_pages"] = numberVal(t, tt.maxPages)
			}
			var logs bytes.Buffer
			cfg.Logger = fakevendors.LogTo(&logs)
			p, err := dnsdb.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			q := schema.Query{Provider: "dnsdb", Op: tt.op, Subject: subject(t, tt.subject), RRTypes: tt.rrtypes, Params: tt.params}
			ans, err := p.Query(context.Background(), q)
			fakevendors.NoSecret(t, key, err, ans, &logs)
			reqs := fake.Requests()
			if len(reqs) != tt.requests || gate.Count() != tt.requests {
				t.Errorf("fake saw %d requests, gate charged %d, want %d", len(reqs), gate.Count(), tt.requests)
			}
			for _, r := range reqs {
				if r.Header.Get("Accept") != "application/x-ndjson" {
					t.Errorf("Accept = %q", r.Header.Get("Accept"))
				}
			}
			if tt.wantPath != "" && len(reqs) > 0 && reqs[0].RawPath != tt.wantPath {
				t.Errorf("path = %s, want %s", reqs[0].RawPath, tt.wantPath)
			}
			if tt.wantKind != "" {
				providertest.CheckFinalError(t, err, tt.wantKind, tt.errHas)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if len(ans.Warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", ans.Warnings, tt.warnings)
			}
			if fake.Hook == nil && ans.Requests != tt.requests { // pages; retries are the gate's
				t.Errorf("Answer.Requests = %d, want %d", ans.Requests, tt.requests)
			}
		})
	}
}

func TestPagingOffsets(t *testing.T) {
	fake := &fakevendors.DNSDB{Fixtures: fixtures, Key: key}
	srv := fakevendors.Start(t, fake)
	cfg, _ := providertest.Config(t, "dnsdb", srv.URL+"/dnsdb/v2", map[string]string{"api_key": key})
	p, _ := dnsdb.New(context.Background(), cfg)
	q := schema.Query{Op: schema.OpResolutions, Subject: subject(t, "www.example.com"), Params: map[string]string{"limit": "2"}}
	if _, err := p.Query(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range fake.Requests() {
		got = append(got, r.Query.Encode())
	}
	if diff := cmp.Diff([]string{"limit=2", "limit=2&offset=2"}, got); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}

func TestMissingKey(t *testing.T) {
	cfg, _ := providertest.Config(t, "dnsdb", "http://127.0.0.1:1/dnsdb/v2", nil)
	_, err := dnsdb.New(context.Background(), cfg)
	if err == nil || err.Error() != `provider "dnsdb": api_key is empty; set it, e.g. api_key = env("DNSDB_API_KEY")` {
		t.Fatalf("err = %v", err)
	}
}

func TestParseSAF(t *testing.T) {
	tests := map[string]struct {
		body    string
		records int
		cond    string
		err     error
		isErr   bool
	}{
		"empty answer":       {body: "{\"cond\":\"begin\"}\n{\"cond\":\"succeeded\"}\n", cond: "succeeded"},
		"CRLF and ongoing":   {body: "{\"cond\":\"begin\"}\r\n{\"cond\":\"ongoing\",\"obj\":{\"rrname\":\"a.example.com.\",\"rrtype\":\"A\",\"rdata\":\"203.0.113.1\"}}\r\n{\"obj\":{\"rrname\":\"b.example.com.\",\"rrtype\":1,\"rdata\":[\"203.0.113.2\"]}}\r\n{\"cond\":\"limited\",\"msg\":\"Result limit reached\"}\r\n", records: 2, cond: "limited"},
		"no terminator":      {body: "{\"cond\":\"begin\"}\n{\"obj\":{\"rrname\":\"a.example.com.\",\"rrtype\":\"A\",\"rdata\":\"203.0.113.1\"}}\n", err: dnsdb.ErrTruncated},
		"cut mid-line":       {body: "{\"cond\":\"begin\"}\n{\"obj\":{\"rrname\":\"a.exa", err: dnsdb.ErrTruncated},
		"failed":             {body: "{\"cond\":\"begin\"}\n{\"cond\":\"failed\",\"msg\":\"boom\"}\n", isErr: true},
		"no begin":           {body: "{\"obj\":{}}\n{\"cond\":\"succeeded\"}\n", isErr: true},
		"data after the end": {body: "{\"cond\":\"begin\"}\n{\"cond\":\"succeeded\"}\n{\"obj\":{}}\n", isErr: true},
		"empty body":         {body: "", isErr: true},
		"bad record skipped": {body: "{\"cond\":\"begin\"}\n{\"obj\":{\"rrname\":5}}\n{\"cond\":\"succeeded\"}\n", cond: "succeeded"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := dnsdb.ParseSAF([]byte(tt.body))
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			case tt.isErr:
				if err == nil {
					t.Fatal("no error")
				}
			case err != nil:
				t.Fatal(err)
			default:
				if len(s.Records) != tt.records || s.Cond != tt.cond {
					t.Errorf("got %d records, cond %q", len(s.Records), s.Cond)
				}
			}
		})
	}
	s, _ := dnsdb.ParseSAF([]byte("{\"cond\":\"begin\"}\n{\"obj\":{\"rrname\":\"b.example.com.\",\"rrtype\":28,\"rdata\":[\"2001:db8::1\"]}}\n{\"cond\":\"succeeded\"}\n"))
	if got := s.Records[0].Type(); got != "AAAA" {
		t.Errorf("numeric rrtype 28 = %q", got)
	}
	first, last := dnsdb.Record{COFRecord: providers.COFRecord{Times: providers.COFTimes{First: 20, Last: 30, ZoneFirst: 10, ZoneLast: 25}}}.Window()
	if !first.Equal(time.Unix(10, 0)) || !last.Equal(time.Unix(30, 0)) {
		t.Errorf("window %v %v", first, last)
	}
}

func FuzzParseSAF(f *testing.F) {
	data, _ := os.ReadFile("../../testdata/providers/dnsdb/records.jsonl")
	var body bytes.Buffer
	body.WriteString("{\"cond\":\"begin\"}\n")
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		body.WriteString("{\"obj\":" + l + "}\n")
	}
	body.WriteString("{\"cond\":\"limited\",\"msg\":\"Result limit reached\"}\n")
	f.Add(body.Bytes())
	for _, name := range []string{"saf-fsi.io-A.succeeded.saf", "saf-fsi.io-A.limited.saf", "saf-fsi.io-A.failed.saf"} {
		if data, err := os.ReadFile(filepath.Join(realData, name)); err == nil {
			f.Add(data)
		}
	}
	if data, err := os.ReadFile(filepath.Join(realData, "humantime-rrset-google.com.cof.ndjson")); err == nil {
		var saf bytes.Buffer
		saf.WriteString("{\"cond\":\"begin\"}\n")
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			saf.WriteString("{\"obj\":" + l + "}\n")
		}
		saf.WriteString("{\"cond\":\"succeeded\"}\n")
		f.Add(saf.Bytes())
	}
	f.Add([]byte("{\"cond\":\"begin\"}\n{\"cond\":\"failed\",\"msg\":\"x\"}"))
	f.Add([]byte("{\"cond\":\"begin\"}\n{\"obj\":{\"rrname\":\"a.\",\"rdata\":7}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := dnsdb.ParseSAF(b)
		if err == nil && s.Cond != dnsdb.CondSucceeded && s.Cond != dnsdb.CondLimited {
			t.Fatalf("complete stream with cond %q", s.Cond)
		}
		for _, r := range s.Records {
			r.Type()
			r.Window()
		}
	})
}

func TestTimeFences(t *testing.T) {
	fake := &fakevendors.DNSDB{Fixtures: fixtures, Key: key}
	srv := fakevendors.Start(t, fake)
	cfg, _ := providertest.Config(t, "dnsdb", srv.URL+"/dnsdb/v2", map[string]string{"api_key": key})
	p, _ := dnsdb.New(context.Background(), cfg)
	q := schema.Query{Op: schema.OpResolutions, Subject: subject(t, "www.example.com"), Params: map[string]string{"time_last_after": "-86400", "other": "x"}}
	if _, err := p.Query(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0].Query.Encode(); got != "limit=10000&time_last_after=-86400" {
		t.Errorf("query = %s", got)
	}
}

func TestBareHostEndpoint(t *testing.T) {
	fake := &fakevendors.DNSDB{Fixtures: fixtures, Key: key}
	srv := fakevendors.Start(t, fake)
	for _, endpoint := range []string{srv.URL, srv.URL + "/", srv.URL + "/dnsdb/v2/"} {
		cfg, _ := providertest.Config(t, "dnsdb", endpoint, map[string]string{"api_key": key})
		p, _ := dnsdb.New(context.Background(), cfg)
		if _, err := p.Query(context.Background(), schema.Query{Op: schema.OpResolutions, Subject: subject(t, "www.example.com")}); err != nil {
			t.Errorf("endpoint %s: %v", endpoint, err)
		}
	}
	for _, r := range fake.Requests() {
		if r.Path != "/dnsdb/v2/lookup/rrset/name/www.example.com" {
			t.Errorf("path %s", r.Path)
		}
	}
}

// A wildcard record (DNSDB lists *.wild.example.com. among the names of
// a subdomains lookup and of a reverse lookup of its address) keeps its
// name; a wildcard name is no subject, since DNSDB would read it as a
// search of every name under the rest.
func TestWildcardRecords(t *testing.T) {
	records := `{"count":3,"time_first":1700000000,"time_last":1717200000,"rrname":"*.wild.example.com.","rrtype":"A","bailiwick":"example.com.","rdata":["192.0.2.11"]}
{"count":4,"time_first":1700000000,"time_last":1717200000,"rrname":"example.com.","rrtype":"A","bailiwick":"example.com.","rdata":["192.0.2.10"]}
`
	fake := &fakevendors.DNSDB{Fixtures: fstest.MapFS{"records.jsonl": {Data: []byte(records)}}, Key: key}
	srv := fakevendors.Start(t, fake)
	cfg, _ := providertest.Config(t, "dnsdb", srv.URL+"/dnsdb/v2", map[string]string{"api_key": key})
	p, _ := dnsdb.New(context.Background(), cfg)
	for _, tc := range []struct {
		op      schema.Op
		subject string
		want    []string
	}{
		{schema.OpSubdomains, "example.com", []string{"*.wild.example.com A 192.0.2.11", "*.wild.example.com HOST "}},
		{schema.OpReverseIP, "192.0.2.11", []string{"*.wild.example.com A 192.0.2.11"}},
		{schema.OpResolutions, "example.com", []string{"example.com A 192.0.2.10"}},
	} {
		ans, err := p.Query(context.Background(), schema.Query{Op: tc.op, Subject: subject(t, tc.subject)})
		if err != nil {
			t.Fatalf("%s %s: %v", tc.op, tc.subject, err)
		}
		var got []string
		for _, f := range ans.Findings {
			got = append(got, f.ID())
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", tc.op, tc.subject, diff)
		}
	}
	before := len(fake.Requests())
	_, err := p.Query(context.Background(), schema.Query{Op: schema.OpResolutions, Subject: subject(t, "*.wild.example.com")})
	providertest.CheckFinalError(t, err, providers.KindUnsupported)
	if n := len(fake.Requests()) - before; n != 0 {
		t.Errorf("a wildcard subject sent %d requests", n)
	}
}
