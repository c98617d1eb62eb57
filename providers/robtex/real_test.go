package robtex

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/file"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

var realData = filepath.Join("..", "..", "testdata", "real", "robtex")

// realRobtex serves recorded Robtex bodies (testdata/real/robtex) as the
// free API served them (the robtex-rb cassettes): the body byte for byte
// (CRLF line ends, repeated lines), Content-Type application/x-ndjson,
// Cache-Control max-age=60, and an empty 200 for anything it has no
// recording of.
type realRobtex struct {
	t      *testing.T
	bodies map[string]string // request path -> file
	mu     sync.Mutex
	paths  []string
}

func (f *realRobtex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.Path)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "max-age=60, public")
	name, ok := f.bodies[r.URL.Path]
	if !ok {
		return
	}
	data, err := os.ReadFile(filepath.Join(realData, name))
	if err != nil {
		f.t.Fatal(err)
	}
	w.Write(data)
}

func TestRealAnswers(t *testing.T) {
	cassettes := map[string]string{
		"/pdns/forward/a.iana-servers.net": "forward-a.iana-servers.net.ndjson",
		"/pdns/reverse/a.iana-servers.net": "reverse-a.iana-servers.net.ndjson",
		"/pdns/reverse/199.43.132.53":      "ppdns-reverse.ndjson",
	}
	electrologue := map[string]string{"/pdns/forward/a.iana-servers.net": "ppdns-forward.ndjson"}
	reverseNS := []schema.Finding{
		rec("132.43.199.in-addr.arpa", "NS", "a.iana-servers.net", 1439022822, 1505460564, 2),
		rec("237.in-addr.arpa", "NS", "a.iana-servers.net", 1441298790, 1505450260, 2),
		rec("95.7.199.in-addr.arpa", "NS", "a.iana-servers.net", 1435184854, 1500350674, 2),
		rec("dns-cert.net", "NS", "a.iana-servers.net", 1440742630, 1511750282, 2),
		rec("icannalac.com", "NS", "a.iana-servers.net", 1440957502, 1526778684, 2),
		rec("icannpassport.com", "NS", "a.iana-servers.net", 1440736048, 1506256974, 2),
		rec("mail60.variantfuture.com", "NS", "a.iana-servers.net", 1447141690, 1486544636, 2),
		rec("publictechnicalidentifier.network", "NS", "a.iana-servers.net", 1481408434, 1504871634, 2),
		rec("publictechnicalidentifiers.international", "NS", "a.iana-servers.net", 1481408434, 1527748024, 2),
	}
	tests := []struct {
		name     string
		bodies   map[string]string
		q        schema.Query
		want     []schema.Finding
		wantPath string
	}{
		{
			name: "forward, recorded with CRLF", bodies: cassettes, q: query(schema.OpResolutions, "a.iana-servers.net"),
			want: []schema.Finding{
				rec("a.iana-servers.net", "A", "199.43.132.53", 1441242410, 1460542918, 18),
				rec("a.iana-servers.net", "A", "199.43.135.53", 1460751956, 1528461120, 18),
				rec("a.iana-servers.net", "AAAA", "2001:500:8c::53", 1441242410, 1460542918, 18),
				rec("a.iana-servers.net", "AAAA", "2001:500:8f::53", 1460751956, 1528461120, 18),
			},
			wantPath: "/pdns/forward/a.iana-servers.net",
		},
		{
			name: "forward restricted to AAAA", bodies: cassettes, q: query(schema.OpResolutions, "a.iana-servers.net", "AAAA"),
			want: []schema.Finding{
				rec("a.iana-servers.net", "AAAA", "2001:500:8c::53", 1441242410, 1460542918, 18),
				rec("a.iana-servers.net", "AAAA", "2001:500:8f::53", 1460751956, 1528461120, 18),
			},
		},
		{
			name: "forward, electrologue's recording (LF)", bodies: electrologue, q: query(schema.OpResolutions, "a.iana-servers.net", "A"),
			want: []schema.Finding{
				rec("a.iana-servers.net", "A", "199.43.132.53", 1441242410, 1460542918, 18),
				rec("a.iana-servers.net", "A", "199.43.135.53", 1460751956, 1501399246, 18),
			},
		},
		{
			name: "name-server reverse: 15 lines, 9 records, each counted once", bodies: cassettes, q: query(schema.OpNSReverse, "a.iana-servers.net"),
			want: reverseNS, wantPath: "/pdns/reverse/a.iana-servers.net",
		},
		{
			name: "reverse IP with a repeated line", bodies: cassettes, q: query(schema.OpReverseIP, "199.43.132.53"),
			want: []schema.Finding{
				rec("a.iana-servers.net", "A", "199.43.132.53", 1441242410, 1460542918, 18),
				rec("a.iana-servers.org", "A", "199.43.132.53", 1439620242, 1460165924, 18),
				rec("a.icann-servers.net", "A", "199.43.132.53", 1448005462, 1456189254, 2),
			},
			wantPath: "/pdns/reverse/199.43.132.53",
		},
		{name: "unknown name: an empty body", bodies: cassettes, q: query(schema.OpResolutions, "nx.example")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &realRobtex{t: t, bodies: tt.bodies}
			base := providertest.Serve(t, fk)
			cfg, gate := providertest.Config(t, "robtex", base, nil)
			p, _ := providertest.Build(t, New, cfg)
			ans, err := p.Query(context.Background(), tt.q)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if diff := cmp.Diff(tt.want, ans.Findings); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if len(ans.Warnings) > 0 {
				t.Errorf("warnings: %v", ans.Warnings)
			}
			if ans.Requests != 1 || gate.Count() != 1 || len(fk.paths) != 1 {
				t.Errorf("requests: answer %d, gate %d, server %d; want 1", ans.Requests, gate.Count(), len(fk.paths))
			}
			if tt.wantPath != "" && fk.paths[0] != tt.wantPath {
				t.Errorf("path %s, want %s", fk.paths[0], tt.wantPath)
			}
		})
	}
}

// TestRealExportReadAlikeByFile: the file provider reads a saved Robtex
// answer to the same findings, windows and counts as this provider reads
// it off the wire (one rule for repeated lines: an observation read twice
// counts once).
func TestRealExportReadAlikeByFile(t *testing.T) {
	for _, c := range []struct {
		file string
		q    schema.Query
	}{
		{"reverse-a.iana-servers.net.ndjson", query(schema.OpNSReverse, "a.iana-servers.net")},
		{"ppdns-reverse.ndjson", query(schema.OpReverseIP, "199.43.132.53")},
		{"forward-a.iana-servers.net.ndjson", query(schema.OpResolutions, "a.iana-servers.net")},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := c.q.Subject.Value
			fk := &realRobtex{t: t, bodies: map[string]string{"/pdns/forward/" + path: c.file, "/pdns/reverse/" + path: c.file}}
			cfg, _ := providertest.Config(t, "robtex", providertest.Serve(t, fk), nil)
			wire, _ := providertest.Build(t, New, cfg)
			fromWire, err := wire.Query(context.Background(), c.q)
			if err != nil {
				t.Fatal(err)
			}
			abs, _ := filepath.Abs(filepath.Join(realData, c.file))
			fcfg, _ := providertest.Config(t, "file", "", nil)
			fcfg.Attrs["path"] = cty.StringVal(abs)
			offline, _ := providertest.Build(t, file.New, fcfg)
			fromFile, err := offline.Query(context.Background(), c.q)
			if err != nil {
				t.Fatal(err)
			}
			ignore := cmpopts.IgnoreFields(schema.Finding{}, "Sources", "Current")
			if diff := cmp.Diff(fromWire.Findings, fromFile.Findings, ignore); diff != "" {
				t.Errorf("robtex (-) and file (+) differ:\n%s", diff)
			}
			if len(fromFile.Findings) == 0 {
				t.Error("no findings")
			}
		})
	}
}

// TestWrongShapes: a 200 body with no pDNS record in it is never an empty
// ok answer (issue 20): malformed, or a quota or rate limit when it says
// so. Real empty answers stay empty.
func TestWrongShapes(t *testing.T) {
	good := `{"rrname":"a.iana-servers.net","rrdata":"199.43.132.53","rrtype":"A","time_first":1441242410,"time_last":1460542918,"count":18}`
	tests := []struct {
		name     string
		body     string
		wantKind providers.ErrorKind
		wantMsg  []string
		wantHits int
		findings int
		warning  string
	}{
		{name: "empty object", body: "{}\r\n", wantKind: providers.KindMalformed, wantMsg: []string{"no pDNS records", "{}"}, wantHits: 1},
		{name: "null", body: "null", wantKind: providers.KindMalformed, wantMsg: []string{"no pDNS records"}, wantHits: 1},
		{name: "an array", body: "[]", wantKind: providers.KindMalformed, wantHits: 1},
		{name: "records without type and data", body: `{"rrname":"a.iana-servers.net"}` + "\r\n", wantKind: providers.KindMalformed, wantMsg: []string{"line 1: no rrtype, rrdata"}, wantHits: 1},
		{name: "JSON error object", body: `{"error":"internal error"}`, wantKind: providers.KindMalformed, wantMsg: []string{"internal error"}, wantHits: 1},
		{name: "quota in a status", body: `{"status":"quota exceeded"}`, wantKind: providers.KindQuota, wantMsg: []string{"quota is spent"}, wantHits: 1},
		{name: "rate limit in a message is retried", body: `{"message":"Too many requests"}`, wantKind: providers.KindRateLimited, wantMsg: []string{"slow down", "gave up after 3 attempts"}, wantHits: 3},
		{name: "a real empty answer", body: "", wantHits: 1},
		{name: "a real empty answer: a blank CRLF line", body: "\r\n", wantHits: 1},
		{name: "a stray object among records is ignored with a warning", body: good + "\r\n{}\r\n", findings: 1, wantHits: 1, warning: "ignored 1 lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fk := &fake{}
			for range 3 {
				fk.faults = append(fk.faults, providertest.Respond(http.StatusOK, tt.body, "Content-Type", "application/x-ndjson"))
			}
			p, gate, logs := setup(t, fk, testKey)
			ans, err := p.Query(context.Background(), query(schema.OpResolutions, "a.iana-servers.net"))
			if fk.count() != tt.wantHits || gate.Count() != tt.wantHits {
				t.Errorf("server saw %d requests, gate charged %d; want %d", fk.count(), gate.Count(), tt.wantHits)
			}
			providertest.CheckNoSecret(t, testKey, err, ans, logs.String())
			if tt.wantKind == "" {
				providertest.CheckAnswer(t, ans, err, tt.findings, tt.warning)
				return
			}
			providertest.CheckError(t, err, tt.wantKind, tt.wantMsg...)
		})
	}
}
