package dnsdb_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dnsdb"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

var realData = filepath.Join("..", "..", "testdata", "real", "dnsdb")

// realDNSDB serves real DNSDB answers (testdata/real/dnsdb) the way DNSDB
// API v2 serves them: X-API-Key (403) and Accept: application/x-ndjson
// (415) checked, the COF objects of a *.cof.ndjson file framed in SAF (a
// "begin" line, one {"obj":...} line each, byte for byte, then
// "succeeded", or "limited" when limit cuts the answer), limit and offset
// (416 past offsetMax, -1: offset not allowed). A *.saf file is a whole
// stream, served as it is.
type realDNSDB struct {
	t         *testing.T
	paths     map[string]string // lookup path below /dnsdb/v2/ -> file
	offsetMax int
	mu        sync.Mutex
	queries   []string // each request's path and query
}

func (d *realDNSDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.queries = append(d.queries, r.URL.Path+"?"+r.URL.RawQuery)
	d.mu.Unlock()
	if r.Header.Get("X-API-Key") != key {
		http.Error(w, "Error: API key not valid", http.StatusForbidden)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		http.Error(w, "Error: Unsupported Accept header", http.StatusUnsupportedMediaType)
		return
	}
	name, ok := d.paths[strings.TrimPrefix(r.URL.Path, "/dnsdb/v2/")]
	if !ok {
		w.Header().Set("Content-Type", "application/x-ndjson")
		fmt.Fprint(w, "{\"cond\":\"begin\"}\n{\"cond\":\"succeeded\"}\n") // no results
		return
	}
	data, err := os.ReadFile(filepath.Join(realData, name))
	if err != nil {
		d.t.Fatal(err)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	if strings.HasSuffix(name, ".saf") {
		w.Write(data)
		return
	}
	var objs [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			objs = append(objs, l)
		}
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	if offset > 0 && (d.offsetMax < 0 || d.offsetMax > 0 && offset > d.offsetMax) {
		http.Error(w, "Error: Offset value greater than maximum allowed", http.StatusRequestedRangeNotSatisfiable)
		return
	}
	objs = objs[min(offset, len(objs)):]
	fmt.Fprintln(w, `{"cond":"begin"}`)
	for i, o := range objs {
		if limit > 0 && i == limit {
			fmt.Fprintln(w, `{"cond":"limited","msg":"Result limit reached"}`)
			return
		}
		fmt.Fprintf(w, "{\"obj\":%s}\n", o)
	}
	fmt.Fprintln(w, `{"cond":"succeeded"}`)
}

func TestRealAnswers(t *testing.T) {
	paths := map[string]string{
		"lookup/rrset/name/www.farsightsecurity.com":    "rrset-www.farsightsecurity.com.cof.ndjson",
		"lookup/rrset/name/farsightsecurity.com/NS":     "rrset-farsightsecurity.com-NS.cof.ndjson",
		"lookup/rrset/name/farsightsecurity.com":        "dnsdb2-python-test_query.cof.ndjson",
		"lookup/rdata/ip/104.244.13.104":                "rdata-ip-104.244.13.104.cof.ndjson",
		"lookup/rdata/ip/2620:11c:f004::104":            "rdata-ip-2620.11c.f004..104.cof.ndjson",
		"lookup/rdata/ip/2620:11c:f000::,36":            "rdata-ip-2620.11c.f000..36.cof.ndjson",
		"lookup/rdata/name/ns5.dnsmadeeasy.com/NS":      "rdata-name-ns5.dnsmadeeasy.com-NS.cof.ndjson",
		"lookup/rdata/name/hq.fsi.io/MX":                "rdata-name-hq.fsi.io-MX.cof.ndjson",
		"lookup/rrset/name/google.com":                  "humantime-rrset-google.com.cof.ndjson",
		"lookup/rdata/ip/127.0.0.1":                     "humantime-rdata-ip-127.0.0.1.cof.ndjson",
		"lookup/rdata/ip/2001:db8:85a3::8a2e:370:7334":  "humantime-rdata-ip-2001.db8.85a3..8a2e.370.7334.cof.ndjson",
		"lookup/rrset/name/fsi.io/A":                    "saf-fsi.io-A.succeeded.saf",
		"lookup/rrset/name/limited.fsi.io/A":            "saf-fsi.io-A.limited.saf",
		"lookup/rrset/name/failed.fsi.io/A":             "saf-fsi.io-A.failed.saf",
		"lookup/rrset/name/*.farsightsecurity.com/AAAA": "rdata-ip-2620.11c.f000..36.cof.ndjson",
	}
	nsOld := []string{"ns.lah1.vix.com", "ns1.isc-sns.net", "ns2.isc-sns.com", "ns3.isc-sns.info"}
	nsNew := []string{"ns5.dnsmadeeasy.com", "ns6.dnsmadeeasy.com", "ns7.dnsmadeeasy.com"}
	var farsightNS []schema.Finding
	for _, v := range nsOld {
		farsightNS = append(farsightNS, f("farsightsecurity.com", "NS", v, 1372688083, 1374023864, 51))
	}
	for _, v := range nsNew {
		farsightNS = append(farsightNS, f("farsightsecurity.com", "NS", v, 1374096380, 1468324876, 495241))
	}
	tests := []struct {
		name        string
		op          schema.Op
		subject     string
		rrtypes     []string
		limit       string
		maxPages    string
		offsetMax   int
		want        []schema.Finding
		wantQueries []string
		warning     string
		wantKind    providers.ErrorKind
		wantMsg     string
	}{
		{
			name: "rrset lookup: two A RRsets of www.farsightsecurity.com", op: schema.OpResolutions, subject: "www.farsightsecurity.com",
			want: []schema.Finding{
				f("www.farsightsecurity.com", "A", "104.244.13.104", 1427893644, 1468329272, 17381),
				f("www.farsightsecurity.com", "A", "66.160.140.81", 1380139330, 1427881899, 5059),
			},
			wantQueries: []string{"/dnsdb/v2/lookup/rrset/name/www.farsightsecurity.com?limit=10000"},
		},
		{
			name: "rrset lookup of one type, paged one RRset at a time with offset", op: schema.OpResolutions, subject: "farsightsecurity.com", rrtypes: []string{"NS"},
			limit: "1", want: farsightNS,
			wantQueries: []string{
				"/dnsdb/v2/lookup/rrset/name/farsightsecurity.com/NS?limit=1",
				"/dnsdb/v2/lookup/rrset/name/farsightsecurity.com/NS?limit=1&offset=1",
			},
		},
		{
			name: "limited and offset not allowed: the first page, with a warning", op: schema.OpResolutions, subject: "farsightsecurity.com", rrtypes: []string{"NS"},
			limit: "1", offsetMax: -1, want: farsightNS[:4], warning: "does not allow paging further",
		},
		{
			name: "limited past max_pages: partial, with DNSDB's message", op: schema.OpResolutions, subject: "farsightsecurity.com", rrtypes: []string{"NS"},
			limit: "1", maxPages: "1", want: farsightNS[:4], warning: "DNSDB: Result limit reached after 1 records in 1 requests",
		},
		{
			name: "ANY lookup: a zone-file NS RRset of bailiwick com. and a sensor A RRset", op: schema.OpResolutions, subject: "farsightsecurity.com", rrtypes: []string{"A", "NS"},
			want: []schema.Finding{
				f("farsightsecurity.com", "A", "66.160.140.81", 1380123423, 1427869045, 6350),
				f("farsightsecurity.com", "NS", "ns5.dnsmadeeasy.com", 1374250920, 1589472138, 1820),
				f("farsightsecurity.com", "NS", "ns6.dnsmadeeasy.com", 1374250920, 1589472138, 1820),
				f("farsightsecurity.com", "NS", "ns7.dnsmadeeasy.com", 1374250920, 1589472138, 1820),
			},
			wantQueries: []string{"/dnsdb/v2/lookup/rrset/name/farsightsecurity.com?limit=10000"},
		},
		{
			name: "rdata lookup by IPv4: rdata as a string, no bailiwick", op: schema.OpReverseIP, subject: "104.244.13.104",
			want: []schema.Finding{
				f("farsightsecurity.com", "A", "104.244.13.104", 1427897872, 1468333042, 9429),
				f("www.farsighsecurity.com", "A", "104.244.13.104", 1433550785, 1468312116, 24),
			},
		},
		{
			name: "rdata lookup by IPv6, colons escaped in the path", op: schema.OpReverseIP, subject: "2620:11c:f004::104",
			want: []schema.Finding{
				f("farsightsecurity.com", "AAAA", "2620:11c:f004::104", 1427897876, 1468333042, 5307),
				f("www.farsighsecurity.com", "AAAA", "2620:11c:f004::104", 1433845806, 1467828872, 14),
			},
			wantQueries: []string{"/dnsdb/v2/lookup/rdata/ip/2620:11c:f004::104?limit=10000"},
		},
		{
			name: "rdata lookup by IPv6 prefix, written with a comma", op: schema.OpReverseIP, subject: "2620:11c:f000::/36",
			want: []schema.Finding{
				f("farsightsecurity.com", "AAAA", "2620:11c:f004::104", 1427897876, 1468333042, 5307),
				f("www.farsightsecurity.com", "AAAA", "2620:11c:f004::104", 1428586271, 1468305509, 8046),
			},
		},
		{
			name: "NS reverse: a zone-file and a sensor observation of one delegation add up", op: schema.OpNSReverse, subject: "ns5.dnsmadeeasy.com",
			want: []schema.Finding{f("farsightsecurity.com", "NS", "ns5.dnsmadeeasy.com", 1374096380, 1468334926, 1078+706617)},
		},
		{
			name: "MX reverse", op: schema.OpMXReverse, subject: "hq.fsi.io",
			want: []schema.Finding{
				f("farsightsecurity.com", "MX", "10 hq.fsi.io", 1374098929, 1468333042, 19304),
				f("fsi.io", "MX", "10 hq.fsi.io", 1372706073, 1468330740, 45644),
			},
		},
		{
			name: "humantime: RFC 3339 sensor and zone times", op: schema.OpResolutions, subject: "google.com",
			want: []schema.Finding{
				f("google.com", "A", "173.194.220.100", 1272125541, 1293815356, 1979),
				f("google.com", "A", "173.194.220.101", 1272125541, 1293815356, 1979),
				f("google.com", "A", "74.125.224.64", 1358191433, 1358191433, 5),
				f("google.com", "A", "74.125.224.65", 1358191433, 1358191433, 5),
				f("google.com", "AAAA", "2001:4860:4001:802::1008", 1357717430, 1357717430, 2),
				f("google.com", "NS", "ns1.google.com", 1357060558, 1388509946, 252),
				f("google.com", "NS", "ns2.google.com", 1357060558, 1388509946, 252),
			},
		},
		{
			name: "humantime, aggr=false: one tuple in two zone-file windows", op: schema.OpReverseIP, subject: "127.0.0.1",
			want: []schema.Finding{f("ns2.gestiondeeventos.app", "A", "127.0.0.1", 1565125600, 1565639517, 2)},
		},
		{
			name: "humantime AAAA reverse", op: schema.OpReverseIP, subject: "2001:db8:85a3::8a2e:370:7334",
			want: []schema.Finding{
				f("dns2.tacnet.org", "AAAA", "2001:db8:85a3::8a2e:370:7334", 1575244020, 1575244020, 1),
				f("dns3.tacnet.org", "AAAA", "2001:db8:85a3::8a2e:370:7334", 1575244020, 1575244020, 1),
			},
		},
		{
			name: "subdomains: a HOST for each owner", op: schema.OpSubdomains, subject: "farsightsecurity.com", rrtypes: []string{"AAAA"},
			want: []schema.Finding{
				f("farsightsecurity.com", "AAAA", "2620:11c:f004::104", 1427897876, 1468333042, 5307),
				f("farsightsecurity.com", "HOST", "", 1427897876, 1468333042, 5307),
				f("www.farsightsecurity.com", "AAAA", "2620:11c:f004::104", 1428586271, 1468305509, 8046),
				f("www.farsightsecurity.com", "HOST", "", 1428586271, 1468305509, 8046),
			},
			wantQueries: []string{"/dnsdb/v2/lookup/rrset/name/*.farsightsecurity.com/AAAA?limit=10000"},
		},
		{
			name: "a real SAF stream", op: schema.OpResolutions, subject: "fsi.io", rrtypes: []string{"A"},
			want: []schema.Finding{f("fsi.io", "A", "104.244.14.108", 1578076118, 1580765117, 271)},
		},
		{
			name: "a real limited stream, repeated on the next offset: counted once", op: schema.OpResolutions, subject: "limited.fsi.io", rrtypes: []string{"A"},
			maxPages: "2", warning: "DNSDB: Query limit reached after 2 records in 2 requests",
			want: []schema.Finding{f("fsi.io", "A", "104.244.14.108", 1578076118, 1580765117, 271)},
		},
		{
			name: "a real failed stream", op: schema.OpResolutions, subject: "failed.fsi.io", rrtypes: []string{"A"},
			wantKind: providers.KindTransient, wantMsg: "DNSDB query failed: Processing timeout; results may be incomplete",
		},
		{
			name: "no results: begin and succeeded", op: schema.OpResolutions, subject: "nx.example",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &realDNSDB{t: t, paths: paths, offsetMax: tt.offsetMax}
			base := providertest.Serve(t, srv)
			cfg, gate := providertest.Config(t, "dnsdb", base+"/dnsdb/v2", map[string]string{"api_key": key})
			if tt.maxPages != "" {
				cfg.Attrs["max_pages"] = numberVal(t, tt.maxPages)
			}
			p, logs := providertest.Build(t, dnsdb.New, cfg)
			q := schema.Query{Op: tt.op, Subject: subject(t, tt.subject), RRTypes: tt.rrtypes}
			if tt.limit != "" {
				q.Params = map[string]string{"limit": tt.limit}
			}
			ans, err := p.Query(context.Background(), q)
			providertest.CheckNoSecret(t, key, err, ans, logs.String())
			if gate.Count() != len(srv.queries) {
				t.Errorf("gate charged %d, server saw %d", gate.Count(), len(srv.queries))
			}
			if tt.wantKind != "" {
				providertest.CheckError(t, err, tt.wantKind, tt.wantMsg)
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if w := strings.Join(ans.Warnings, "\n"); !strings.Contains(w, tt.warning) || tt.warning == "" && w != "" {
				t.Errorf("warnings %q, want %q", w, tt.warning)
			}
			if ans.Requests != len(srv.queries) {
				t.Errorf("answer says %d requests, server saw %d", ans.Requests, len(srv.queries))
			}
			if tt.wantQueries != nil {
				if diff := cmp.Diff(tt.wantQueries, srv.queries); diff != "" {
					t.Errorf("requests (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestWrongShapes: a 200 that is not a SAF stream of records is never an
// empty ok answer (issue 20): malformed, or a quota when it says so. Real
// empty answers (begin and succeeded; 204) stay empty.
func TestWrongShapes(t *testing.T) {
	good := `{"obj":{"count":271,"time_first":1578076118,"time_last":1580765117,"rrname":"fsi.io.","rrtype":"A","bailiwick":"fsi.io.","rdata":["104.244.14.108"]}}`
	tests := []struct {
		name     string
		status   int
		body     string
		wantKind providers.ErrorKind
		wantMsg  string
		findings int
		warning  string
	}{
		{name: "empty object", body: "{}\n", wantKind: providers.KindMalformed, wantMsg: "no SAF stream"},
		{name: "null", body: "null", wantKind: providers.KindMalformed, wantMsg: "no SAF stream"},
		{name: "COF lines without the framing", body: good[7:len(good)-1] + "\n", wantKind: providers.KindMalformed, wantMsg: `does not start with cond "begin"`},
		{name: "records without the begin line", body: good + "\n{\"cond\":\"succeeded\"}\n", wantKind: providers.KindMalformed, wantMsg: "no SAF stream"},
		{name: "JSON error object", body: `{"error":"Internal error"}`, wantKind: providers.KindMalformed, wantMsg: "Internal error"},
		{name: "quota error object", body: `{"error":"Error: Quota is exhausted"}`, wantKind: providers.KindQuota, wantMsg: "quota is spent"},
		{name: "failed stream that says the quota is spent", body: "{\"cond\":\"begin\"}\n{\"cond\":\"failed\",\"msg\":\"Quota exceeded\"}\n", wantKind: providers.KindQuota, wantMsg: "Quota exceeded"},
		{name: "objects without rrname, rrtype or rdata only (go-dnsdb's test lines)", body: "{\"cond\": \"begin\"}\n{\"obj\":{\"count\":10392,\"time_first\":138126549}}\n{\"obj\":{\"count\":33,\"time_first\":19126549}}\n{\"cond\": \"succeeded\"}\n",
			wantKind: providers.KindMalformed, wantMsg: "2 objects and no COF record among them (line 2: no rrname, rrtype, rdata)"},
		{name: "empty objects only", body: "{\"cond\":\"begin\"}\n{\"obj\":{}}\n{\"cond\":\"succeeded\"}\n", wantKind: providers.KindMalformed, wantMsg: "no COF record"},
		{name: "null objects only", body: "{\"cond\":\"begin\"}\n{\"obj\":null}\n{\"cond\":\"succeeded\"}\n", wantKind: providers.KindMalformed, wantMsg: "no COF record"},
		{name: "a bad object among records is skipped with a warning", body: "{\"cond\":\"begin\"}\n{\"obj\":{\"count\":1}}\n" + good + "\n{\"cond\":\"succeeded\"}\n", findings: 1, warning: "line 2 is not a usable record (no rrname, rrtype, rdata)"},
		{name: "a real empty answer", body: "{\"cond\":\"begin\"}\n{\"cond\":\"succeeded\"}\n"},
		{name: "204 No Content", status: http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			base := providertest.Serve(t, providertest.Respond(status, tt.body, "Content-Type", "application/x-ndjson"))
			cfg, gate := providertest.Config(t, "dnsdb", base+"/dnsdb/v2", map[string]string{"api_key": key})
			cfg.Attrs["max_pages"] = cty.NumberIntVal(1)
			p, logs := providertest.Build(t, dnsdb.New, cfg)
			ans, err := p.Query(context.Background(), schema.Query{Op: schema.OpResolutions, Subject: subject(t, "fsi.io")})
			providertest.CheckNoSecret(t, key, err, ans, logs.String())
			if gate.Count() != 1 {
				t.Errorf("%d requests, want 1 (not retried)", gate.Count())
			}
			if tt.wantKind != "" {
				providertest.CheckFinalError(t, err, tt.wantKind, tt.wantMsg)
				return
			}
			providertest.CheckAnswer(t, ans, err, tt.findings, tt.warning)
		})
	}
}
