package circl

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

var realData = filepath.Join("..", "..", "testdata", "real")

// realCIRCL serves real answer bodies (testdata/real) the way CIRCL Passive
// DNS serves them: HTTP Basic auth, one COF object per line, the dribble
// request headers (page size, cursor = offset, rrtype filter) and
// x-dribble-cursor while more lines remain. A body kept as a JSON array
// (as a client printed it) is served as CIRCL sent it, one element per
// line, each element's bytes unchanged; array serves the array itself, as
// a COF server framing its answer as one JSON array would.
type realCIRCL struct {
	t       *testing.T
	bodies  map[string]string // subject -> file under testdata/real
	array   bool
	mu      sync.Mutex
	headers []http.Header
}

func (f *realCIRCL) lines(name string) [][]byte {
	data, err := os.ReadFile(filepath.Join(realData, name))
	if err != nil {
		f.t.Fatal(err)
	}
	if trimmed := bytes.TrimSpace(data); trimmed[0] == '[' {
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			f.t.Fatal(err)
		}
		out := make([][]byte, len(elems))
		for i, e := range elems {
			out[i] = e
		}
		return out
	}
	var out [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if l = bytes.TrimRight(l, "\r"); len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

func (f *realCIRCL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	if user, pass, ok := r.BasicAuth(); !ok || user != testUser || pass != testPassword {
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	name, ok := f.bodies[strings.TrimPrefix(r.URL.Path, "/pdns/query/")]
	if !ok {
		w.Header().Set("Content-Type", "application/x-ndjson")
		return // CIRCL knows nothing: an empty body
	}
	if f.array {
		data, _ := os.ReadFile(filepath.Join(realData, name))
		w.Header().Set("Content-Type", "application/json")
		w.Write(data)
		return
	}
	lines := f.lines(name)
	if rt := r.Header.Get("dribble-filter-rrtype"); rt != "" {
		var kept [][]byte
		for _, l := range lines {
			var rec struct {
				RRType string `json:"rrtype"`
			}
			json.Unmarshal(l, &rec)
			if strings.EqualFold(rec.RRType, rt) {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	start, end := 0, len(lines)
	if c := r.Header.Get("dribble-paginate-count"); c != "" {
		n, _ := strconv.Atoi(c)
		if cur := r.Header.Get("dribble-paginate-cursor"); cur != "" {
			start, _ = strconv.Atoi(cur)
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

func TestRealAnswers(t *testing.T) {
	bodies := map[string]string{
		"circl.lu":         "circl/query-circl.lu.v2doc.ndjson",
		"www.google.sk":    "circl/query-www.google.sk.pdns-circl-raw.json",
		"2a02:250:0:8::53": "circl/query-2a02.250.0.8..53.d4.ndjson",
		"www.ietf.org":     "circl/query-www.ietf.org.cof-kaplan-00.ndjson",
		"ietf.org":         "circl/query-ietf.org.cof-kaplan-00.ndjson",
		"127.0.0.1":        "dnsdb/humantime-rdata-ip-127.0.0.1.cof.ndjson",
		"google.com":       "dnsdb/humantime-rrset-google.com.cof.ndjson",
	}
	googleSK := []schema.Finding{
		rec("www.google.sk", "A", "172.217.16.67", 1516886195, 1517311165, 14),
		rec("www.google.sk", "A", "172.217.17.131", 1478091716, 1530377664, 6),
		rec("www.google.sk", "A", "172.217.17.67", 1539644082, 1539644082, 2),
		rec("www.google.sk", "A", "172.217.17.99", 1531249383, 1531249383, 2),
		rec("www.google.sk", "A", "172.217.2.67", 1527587658, 1527587658, 2),
		rec("www.google.sk", "A", "172.217.20.99", 1535562496, 1538180401, 19),
		rec("www.google.sk", "A", "172.217.8.99", 1528468399, 1528468399, 2),
		rec("www.google.sk", "A", "216.58.207.67", 1540772271, 1540772271, 3),
		rec("www.google.sk", "CNAME", "www-cctld.l.google.com", 1326965247, 1327456957, 4),
		rec("www.google.sk", "CNAME", "www.google.com", 1316445081, 1325765841, 18),
	}
	tests := []struct {
		name         string
		q            schema.Query
		pageSize     int
		array        bool
		want         []schema.Finding
		wantLen      int // when want is nil
		wantRequests int
		wantCursors  []string
	}{
		{
			name: "CIRCL's documented answer: owner and value swapped, numbers as strings, two pages",
			q:    query(schema.OpResolutions, "circl.lu"), pageSize: 2,
			want: []schema.Finding{
				rec("circl.lu", "A", "185.194.93.14", 1696798385, 1697890824, 19),
				rec("circl.lu", "AAAA", "2a00:5980:93::14", 1696798385, 1697890824, 18),
				rec("circl.lu", "MX", "cppy.circl.lu", 1696786636, 1697897232, 149),
			},
			wantRequests: 2, wantCursors: []string{"", "2"},
		},
		{
			name: "one rrtype is filtered by CIRCL",
			q:    query(schema.OpResolutions, "circl.lu", "MX"),
			want: []schema.Finding{rec("circl.lu", "MX", "cppy.circl.lu", 1696786636, 1697897232, 149)}, wantRequests: 1,
		},
		{
			name: "www.google.sk over four pages of three",
			q:    query(schema.OpResolutions, "www.google.sk"), pageSize: 3,
			want: googleSK, wantRequests: 4, wantCursors: []string{"", "3", "6", "9"},
		},
		{
			name: "www.google.sk framed as one JSON array",
			q:    query(schema.OpResolutions, "www.google.sk"), array: true,
			want: googleSK, wantRequests: 1,
		},
		{
			name:    "CIRCL's COF server: sixteen names on an IPv6 address",
			q:       query(schema.OpReverseIP, "2a02:250:0:8::53"),
			wantLen: 16, wantRequests: 1,
		},
		{
			name: "CIRCL's first COF draft: rrdata and string numbers",
			q:    query(schema.OpResolutions, "www.ietf.org"),
			want: []schema.Finding{
				rec("www.ietf.org", "A", "4.31.198.44", 1384865833, 1388132830, 37),
				rec("www.ietf.org", "AAAA", "2001:1890:1112:1::20", 1298412391, 1302506851, 102),
			},
			wantRequests: 1,
		},
		{
			name: "CIRCL's first COF draft: NS and addresses of ietf.org",
			q:    query(schema.OpResolutions, "ietf.org"),
			want: []schema.Finding{
				rec("ietf.org", "A", "64.170.98.32", 1298495035, 1298495035, 4),
				rec("ietf.org", "AAAA", "2001:1890:123a::1:1e", 1317037550, 1330209752, 9),
				rec("ietf.org", "NS", "ns1.yyz1.afilias-nst.info", 1298398002, 1388134770, 109330),
			},
			wantRequests: 1,
		},
		{
			name:         "RFC 3339 zone times (a DNSDB humantime export served as COF): one tuple, two windows",
			q:            query(schema.OpReverseIP, "127.0.0.1"),
			want:         []schema.Finding{rec("ns2.gestiondeeventos.app", "A", "127.0.0.1", 1565125600, 1565639517, 2)},
			wantRequests: 1,
		},
		{
			name: "RFC 3339 sensor and zone times of google.com",
			q:    query(schema.OpResolutions, "google.com"),
			want: []schema.Finding{
				rec("google.com", "A", "173.194.220.100", 1272125541, 1293815356, 1979),
				rec("google.com", "A", "173.194.220.101", 1272125541, 1293815356, 1979),
				rec("google.com", "A", "74.125.224.64", 1358191433, 1358191433, 5),
				rec("google.com", "A", "74.125.224.65", 1358191433, 1358191433, 5),
				rec("google.com", "AAAA", "2001:4860:4001:802::1008", 1357717430, 1357717430, 2),
				rec("google.com", "NS", "ns1.google.com", 1357060558, 1388509946, 252),
				rec("google.com", "NS", "ns2.google.com", 1357060558, 1388509946, 252),
			},
			wantRequests: 1,
		},
		{name: "nothing known: an empty body", q: query(schema.OpResolutions, "nx.example"), want: nil, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &realCIRCL{t: t, bodies: bodies, array: tt.array}
			base := providertest.Serve(t, fk)
			cfg, gate := providertest.Config(t, "circl", base+"/pdns/query/", map[string]string{"username": testUser, "password": testPassword})
			if tt.pageSize > 0 {
				cfg.Attrs["page_size"] = cty.NumberIntVal(int64(tt.pageSize))
			}
			p, logs := providertest.Build(t, New, cfg)
			ans, err := p.Query(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if tt.want != nil || tt.wantLen == 0 {
				if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
					t.Errorf("findings (-want +got):\n%s", diff)
				}
			} else if len(ans.Findings) != tt.wantLen {
				t.Errorf("%d findings, want %d", len(ans.Findings), tt.wantLen)
			}
			if len(ans.Warnings) > 0 {
				t.Errorf("warnings: %v", ans.Warnings)
			}
			if ans.Requests != tt.wantRequests || gate.Count() != tt.wantRequests || len(fk.headers) != tt.wantRequests {
				t.Errorf("requests: answer %d, gate %d, server %d; want %d", ans.Requests, gate.Count(), len(fk.headers), tt.wantRequests)
			}
			if tt.wantCursors != nil {
				var cursors []string
				for _, h := range fk.headers {
					cursors = append(cursors, h.Get("dribble-paginate-cursor"))
				}
				if diff := cmp.Diff(tt.wantCursors, cursors); diff != "" {
					t.Errorf("cursors (-want +got):\n%s", diff)
				}
			}
			providertest.CheckNoSecret(t, testPassword, ans, logs.String())
		})
	}
}

// TestWrongShapes: a 200 whose body has no COF record is never an empty
// ok answer (issue 20): it is malformed, or a quota or rate limit when it
// says so. Real empty answers stay empty.
func TestWrongShapes(t *testing.T) {
	good := `{"count": 4, "origin": "https://www.circl.lu/pdns/", "time_first": 1326965247, "rrtype": "CNAME", "rrname": "www.google.sk", "rdata": "www-cctld.l.google.com", "time_last": 1327456957}`
	tests := []struct {
		name     string
		body     string
		wantKind providers.ErrorKind // "" wants an answer
		wantMsg  []string
		wantHits int
		wantN    int
		warning  string
	}{
		{name: "empty object", body: "{}\n", wantKind: providers.KindMalformed, wantMsg: []string{"no COF records", "{}"}, wantHits: 1},
		{name: "null", body: "null", wantKind: providers.KindMalformed, wantMsg: []string{"no COF records"}, wantHits: 1},
		{name: "array of empty objects", body: "[{},{}]", wantKind: providers.KindMalformed, wantHits: 1},
		{name: "objects without rrname or rdata", body: `{"rrtype":"A","count":1,"time_first":1,"time_last":2}` + "\n" + `{"rrtype":"A","count":2}` + "\n",
			wantKind: providers.KindMalformed, wantMsg: []string{"line 1: no rrname, rdata"}, wantHits: 1},
		{name: "records with unreadable times only", body: `{"rrname":"a.example","rrtype":"A","rdata":"192.0.2.1","time_first":"soon"}` + "\n",
			wantKind: providers.KindMalformed, wantMsg: []string{`time_first: unrecognised time "soon"`}, wantHits: 1},
		{name: "JSON error object", body: `{"error": "internal error, try later"}`, wantKind: providers.KindMalformed, wantMsg: []string{"internal error, try later"}, wantHits: 1},
		{name: "quota in a 200 body", body: `{"error": "Quota exceeded for this account"}` + "\n", wantKind: providers.KindQuota, wantMsg: []string{"quota is spent", "Quota exceeded"}, wantHits: 1},
		{name: "rate limit in a 200 body is retried", body: `{"message": "Too many requests"}`, wantKind: providers.KindRateLimited, wantMsg: []string{"slow down", "gave up after 3 attempts"}, wantHits: 3},
		{name: "a real empty answer", body: "", wantHits: 1},
		{name: "a real empty answer: blank lines", body: "\r\n\n", wantHits: 1},
		{name: "a real empty answer framed as an array", body: "[]", wantHits: 1},
		{name: "an answer with one foreign line keeps its records", body: good + "\n{}\n", wantN: 1, wantHits: 1, warning: "ignored 1 lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &fake{}
			for range 3 {
				fk.faults = append(fk.faults, providertest.Respond(http.StatusOK, tt.body, "Content-Type", "application/x-ndjson"))
			}
			p, gate, logs := setup(t, fk, testPassword, 0, 0)
			ans, err := p.Query(context.Background(), query(schema.OpResolutions, "www.google.sk"))
			if fk.count() != tt.wantHits || gate.Count() != tt.wantHits {
				t.Errorf("server saw %d requests, gate charged %d; want %d", fk.count(), gate.Count(), tt.wantHits)
			}
			providertest.CheckNoSecret(t, testPassword, err, ans, logs.String())
			if tt.wantKind == "" {
				providertest.CheckAnswer(t, ans, err, tt.wantN, tt.warning)
				return
			}
			providertest.CheckError(t, err, tt.wantKind, tt.wantMsg...)
		})
	}
}
