package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/klauspost/compress/zstd"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/isal"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

const fixtures = "../../testdata/file"

func newTestProvider(t *testing.T, path string, attrs map[string]cty.Value) *Provider {
	t.Helper()
	all := map[string]cty.Value{"path": cty.StringVal(path)}
	for k, v := range attrs {
		all[k] = v
	}
	p, err := New(context.Background(), providers.Config{Type: "file", Address: "file", Attrs: all, Dir: fixtures})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Provider)
}

func query(t *testing.T, p *Provider, op schema.Op, subject string, rrtypes ...string) providers.Answer {
	t.Helper()
	subj, err := schema.ParseSubject(subject)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := p.Query(context.Background(), schema.Query{Provider: "file", Op: op, Subject: subj, RRTypes: rrtypes})
	if err != nil {
		t.Fatalf("%s %s: %v", op, subject, err)
	}
	return ans
}

// brief is a finding reduced to what the tables below spell out.
type brief struct {
	Name, Type, Value string
	First, Last       string
	Count             int64
	Current           bool
}

func briefs(fs []schema.Finding) []brief {
	out := []brief{}
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, f := range fs {
		out = append(out, brief{f.Name, f.Type, f.Value, day(f.FirstSeen), day(f.LastSeen), f.Count, f.Current})
	}
	return out
}

func ts(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

func TestCOF(t *testing.T) {
	p := newTestProvider(t, "cof.ndjson", nil)
	tests := []struct {
		name    string
		op      schema.Op
		subject string
		rrtypes []string
		want    []brief
	}{
		{"merged duplicates, string numbers, ms times", schema.OpResolutions, "www.example.com", nil, []brief{
			{"www.example.com", "A", "203.0.113.10", ts(1600000000), ts(1717200000), 420, true},
			{"www.example.com", "AAAA", "2001:db8::10", ts(1700000000), ts(1700000500), 3, false},
		}},
		{"rrtype filter", schema.OpResolutions, "www.example.com", []string{"AAAA"}, []brief{
			{"www.example.com", "AAAA", "2001:db8::10", ts(1700000000), ts(1700000500), 3, false},
		}},
		{"arrays, numeric rrtype, zone times, TXT unquoted", schema.OpResolutions, "example.com", nil, []brief{
			{"example.com", "MX", "mx1.mail.example.net", ts(1500000000), ts(1717200000), 50, true},
			{"example.com", "MX", "mx2.mail.example.net", ts(1500000000), ts(1717200000), 50, true},
			{"example.com", "NS", "ns1.dns.example.net", ts(1400000000), ts(1717200000), 100, true},
			{"example.com", "NS", "ns2.dns.example.net", ts(1400000000), ts(1717200000), 100, true},
			{"example.com", "TXT", "v=spf1 include:_spf.example.net -all", ts(1450000000), ts(1700000000), 0, false},
		}},
		{"numeric TXT type and unknown members", schema.OpResolutions, "_dmarc.example.com", nil, []brief{
			{"_dmarc.example.com", "TXT", "v=DMARC1; p=reject", ts(1450000000), ts(1717200000), 0, true},
		}},
		{"swapped A orientation", schema.OpResolutions, "old.example.com", nil, []brief{
			{"old.example.com", "A", "203.0.113.20", ts(1400000000), ts(1500000000), 19, false},
		}},
		{"swapped MX orientation", schema.OpMXReverse, "mail.example.org", nil, []brief{
			{"example.org", "MX", "mail.example.org", ts(1500000000), ts(1600000000), 7, false},
		}},
		{"TYPE1 is A", schema.OpResolutions, "deep.a.b.example.com", nil, []brief{
			{"deep.a.b.example.com", "A", "198.51.100.7", ts(1550000000), ts(1560000000), 0, false},
		}},
		{"RFC 3597 type", schema.OpResolutions, "weird.example.com", nil, []brief{
			{"weird.example.com", "TYPE65280", `\# 2 abcd`, ts(1550000000), ts(1560000000), 0, false},
		}},
		{"reverse IP", schema.OpReverseIP, "203.0.113.10", nil, []brief{
			{"www.example.com", "A", "203.0.113.10", ts(1600000000), ts(1717200000), 420, true},
		}},
		{"reverse CIDR", schema.OpReverseIP, "203.0.113.0/24", nil, []brief{
			{"old.example.com", "A", "203.0.113.20", ts(1400000000), ts(1500000000), 19, false},
			{"www.example.com", "A", "203.0.113.10", ts(1600000000), ts(1717200000), 420, true},
		}},
		{"reverse IPv6 CIDR", schema.OpReverseIP, "2001:db8::/32", nil, []brief{
			{"www.example.com", "AAAA", "2001:db8::10", ts(1700000000), ts(1700000500), 3, false},
		}},
		{"reverse CIDR outside", schema.OpReverseIP, "192.0.2.0/24", nil, []brief{}},
		{"ns reverse", schema.OpNSReverse, "ns2.dns.example.net", nil, []brief{
			{"example.com", "NS", "ns2.dns.example.net", ts(1400000000), ts(1717200000), 100, true},
		}},
		{"mx reverse", schema.OpMXReverse, "mx1.mail.example.net", nil, []brief{
			{"example.com", "MX", "mx1.mail.example.net", ts(1500000000), ts(1717200000), 50, true},
		}},
		{"subdomains: owners at any depth, not intermediate nodes", schema.OpSubdomains, "example.com", nil, []brief{
			{"_dmarc.example.com", "HOST", "", ts(1450000000), ts(1717200000), 0, true},
			{"blog.example.com", "HOST", "", ts(1500000000), ts(1550000000), 9, false},
			{"deep.a.b.example.com", "HOST", "", ts(1550000000), ts(1560000000), 0, false},
			{"old.example.com", "HOST", "", ts(1400000000), ts(1500000000), 19, false},
			{"weird.example.com", "HOST", "", ts(1550000000), ts(1560000000), 0, false},
			{"www.example.com", "HOST", "", ts(1600000000), ts(1717200000), 423, true},
		}},
		{"subdomains include targets", schema.OpSubdomains, "dns.example.net", nil, []brief{
			// Known only as NS values: the window of the NS records.
			{"ns1.dns.example.net", "HOST", "", ts(1400000000), ts(1717200000), 100, true},
			{"ns2.dns.example.net", "HOST", "", ts(1400000000), ts(1717200000), 100, true},
		}},
		{"unknown name", schema.OpResolutions, "nothing.example.com", nil, []brief{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans := query(t, p, tt.op, tt.subject, tt.rrtypes...)
			if diff := cmp.Diff(tt.want, briefs(ans.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if ans.Requests != 1 {
				t.Errorf("requests = %d, want 1", ans.Requests)
			}
			for _, f := range ans.Findings {
				if diff := cmp.Diff([]string{"file"}, f.Sources); diff != "" {
					t.Errorf("sources: %s", diff)
				}
			}
		})
	}
}

func TestBadLinesAreWarningsWithLineNumbers(t *testing.T) {
	p := newTestProvider(t, "cof.ndjson", nil)
	ans := query(t, p, schema.OpResolutions, "www.example.com")
	got := strings.Join(ans.Warnings, "\n")
	for _, want := range []string{"line 14: not a JSON object", "line 15: rdata: invalid IP", "line 16: missing rrname, rrtype or rdata", "line 17: time_first:", "line 18: unexpected data after the object"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings do not mention %q:\n%s", want, got)
		}
	}
	if p.ix.bad != 5 || p.ix.lines != 17 {
		t.Errorf("bad=%d lines=%d, want 5 and 17", p.ix.bad, p.ix.lines)
	}
	// Warnings are reported once per provider instance.
	if again := query(t, p, schema.OpResolutions, "example.com"); len(again.Warnings) != 0 {
		t.Errorf("warnings repeated: %v", again.Warnings)
	}
}

func TestFDNSGzip(t *testing.T) {
	for _, path := range []string{"fdns.json.gz", "fdns.json"} {
		t.Run(path, func(t *testing.T) {
			p := newTestProvider(t, path, nil)
			ans := query(t, p, schema.OpResolutions, "www.example.com")
			want := []brief{{"www.example.com", "A", "203.0.113.10", ts(1617200000), ts(1717200000), 0, true}}
			if diff := cmp.Diff(want, briefs(ans.Findings)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if p.format != "" || p.ix == nil {
				t.Fatalf("format should have been detected")
			}
			rev := query(t, p, schema.OpReverseIP, "203.0.113.10")
			want = []brief{
				{"203.0.113.10", "PTR", "web1.example.com", ts(1717200200), ts(1717200200), 0, true},
				{"www.example.com", "A", "203.0.113.10", ts(1617200000), ts(1717200000), 0, true},
			}
			if diff := cmp.Diff(want, briefs(rev.Findings)); diff != "" {
				t.Errorf("reverse (-want +got):\n%s", diff)
			}
			cidr := query(t, p, schema.OpReverseIP, "203.0.113.0/28")
			if diff := cmp.Diff(want, briefs(cidr.Findings)); diff != "" {
				t.Errorf("reverse CIDR with reverse DNS (-want +got):\n%s", diff)
			}
			txt := query(t, p, schema.OpResolutions, "example.com", "TXT")
			if len(txt.Findings) != 1 || txt.Findings[0].Value != "google-site-verification=abc123" {
				t.Errorf("TXT: %+v", txt.Findings)
			}
			sub := query(t, p, schema.OpSubdomains, "example.com")
			var names []string
			for _, f := range sub.Findings {
				names = append(names, f.Name)
			}
			wantNames := []string{"blog.example.com", "shop.example.com", "v6.example.com", "web1.example.com", "www.example.com"}
			if diff := cmp.Diff(wantNames, names); diff != "" {
				t.Errorf("subdomains (-want +got):\n%s", diff)
			}
			if w := strings.Join(ans.Warnings, "\n"); !strings.Contains(w, "line 10: name: invalid name") || !strings.Contains(w, "line 11:") {
				t.Errorf("warnings: %s", w)
			}
		})
	}
}

func TestCSV(t *testing.T) {
	p := newTestProvider(t, "records.csv", nil)
	ans := query(t, p, schema.OpResolutions, "example.com")
	want := []brief{
		{"example.com", "MX", "aspmx.l.google.com", "2023-05-01T00:00:00Z", "2024-06-01T00:00:00Z", 0, true},
		{"example.com", "TXT", "v=spf1 include:_spf.google.com ~all", ts(1704067200), ts(1717200000), 0, true},
	}
	if diff := cmp.Diff(want, briefs(ans.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ans = query(t, p, schema.OpResolutions, "api.example.com")
	want = []brief{{"api.example.com", "CNAME", "api.example.net", "2024-02-02T10:00:00Z", "2024-02-02T10:00:00Z", 0, false}}
	if diff := cmp.Diff(want, briefs(ans.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if p.ix.bad != 2 {
		t.Errorf("bad = %d, want 2; warnings %v", p.ix.bad, p.ix.warnings)
	}
	w := strings.Join(p.ix.warnings, "\n")
	if !strings.Contains(w, "line 7: first_seen") || !strings.Contains(w, "line 8: a row needs name, type and value") {
		t.Errorf("warnings: %s", w)
	}

	p = newTestProvider(t, "noheader.csv", map[string]cty.Value{"format": cty.StringVal("csv")})
	ans = query(t, p, schema.OpReverseIP, "203.0.113.0/24")
	if len(ans.Findings) != 2 {
		t.Errorf("no-header CSV: %+v", ans.Findings)
	}
}

func TestCurrencyIsRelativeToTheSnapshot(t *testing.T) {
	p := newTestProvider(t, "records.csv", map[string]cty.Value{"current_window": cty.StringVal("1d")})
	ans := query(t, p, schema.OpResolutions, "www.example.com")
	if len(ans.Findings) != 1 || !ans.Findings[0].Current {
		t.Errorf("the newest record should be current: %+v", ans.Findings)
	}
	p = newTestProvider(t, "records.csv", map[string]cty.Value{"as_of": cty.StringVal("2025-01-01")})
	ans = query(t, p, schema.OpResolutions, "www.example.com")
	if len(ans.Findings) != 1 || ans.Findings[0].Current {
		t.Errorf("with as_of half a year later nothing is current: %+v", ans.Findings)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := map[string]struct {
		attrs map[string]cty.Value
		want  string
	}{
		"missing path":   {map[string]cty.Value{}, `"path"`},
		"no such file":   {map[string]cty.Value{"path": cty.StringVal("nope.csv")}, "cannot read"},
		"a directory":    {map[string]cty.Value{"path": cty.StringVal(".")}, "not a regular file"},
		"bad format":     {map[string]cty.Value{"path": cty.StringVal("records.csv"), "format": cty.StringVal("xml")}, `"format"`},
		"bad window":     {map[string]cty.Value{"path": cty.StringVal("records.csv"), "current_window": cty.StringVal("soon")}, `"current_window"`},
		"bad as_of date": {map[string]cty.Value{"path": cty.StringVal("records.csv"), "as_of": cty.StringVal("June")}, `"as_of"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := New(context.Background(), providers.Config{Address: "file", Attrs: tt.attrs, Dir: fixtures})
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != providers.KindBadInput || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want a bad_input error mentioning %s", err, tt.want)
			}
		})
	}
}

func TestUnknownJSONIsAnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	os.WriteFile(path, []byte(`{"foo":"bar"}`+"\n"), 0o644)
	p := newTestProvider(t, path, nil)
	_, err := p.Query(context.Background(), schema.Query{Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "a.example"}})
	if err == nil || !strings.Contains(err.Error(), "set format") {
		t.Fatalf("err = %v", err)
	}
}

type countingGate struct {
	n     atomic.Int64
	limit int64
}

func (g *countingGate) Wait(ctx context.Context) error {
	if g.n.Add(1) > g.limit {
		return providers.ErrBudgetExhausted
	}
	return ctx.Err()
}

func TestGateChargesOneRequestPerQuery(t *testing.T) {
	gate := &countingGate{limit: 2}
	p, err := New(context.Background(), providers.Config{Address: "file.x", Attrs: map[string]cty.Value{"path": cty.StringVal("cof.ndjson")}, Dir: fixtures, Gate: gate})
	if err != nil {
		t.Fatal(err)
	}
	q := schema.Query{Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "example.com"}}
	for i := 0; i < 2; i++ {
		if _, err := p.Query(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	_, err = p.Query(context.Background(), q)
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != providers.KindBudget {
		t.Fatalf("third query: %v, want a budget error", err)
	}
}

func TestConcurrentQueriesShareOneBuild(t *testing.T) {
	p := newTestProvider(t, "cof.ndjson", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			subj := schema.Subject{Kind: schema.SubjectDomain, Value: "example.com"}
			ans, err := p.Query(context.Background(), schema.Query{Op: schema.OpSubdomains, Subject: subj})
			if err == nil && len(ans.Findings) != 6 {
				err = fmt.Errorf("got %d findings", len(ans.Findings))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestCancelledBuildIsRetried(t *testing.T) {
	p := newTestProvider(t, "cof.ndjson", nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := schema.Query{Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "example.com"}}
	if _, err := p.Query(ctx, q); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled query: %v", err)
	}
	if _, err := p.Query(context.Background(), q); err != nil {
		t.Fatalf("query after a cancelled build: %v", err)
	}
}

func TestMaxResults(t *testing.T) {
	p := newTestProvider(t, "cof.ndjson", map[string]cty.Value{"max_results": cty.NumberIntVal(2)})
	ans := query(t, p, schema.OpSubdomains, "example.com")
	if len(ans.Findings) != 2 || !strings.Contains(strings.Join(ans.Warnings, " "), "raise max_results") {
		t.Errorf("findings %d, warnings %v", len(ans.Findings), ans.Warnings)
	}
}

func TestNormalisationAgreesWithSchema(t *testing.T) {
	values := []struct{ typ, v string }{
		{"A", "203.0.113.1"}, {"A", "203.000.113.001"}, {"A", "::ffff:203.0.113.1"}, {"AAAA", "2001:DB8:0::1"},
		{"CNAME", "Foo.Example.COM."}, {"NS", "ns1.example.net."}, {"MX", "10 MX.Example.net."}, {"MX", "mx.example.net"}, {"MX", "0 ."},
		{"TXT", `"v=spf1 -all"`}, {"TXT", `"a" "b\"c"`}, {"TXT", "plain text"}, {"SOA", "NS.example. Host.example. 1 2 3 4 5"},
		{"SRV", "10 5 443 sip.example.com."}, {"PTR", "*.Wild.example."}, {"CNAME", "*.Wild.example."}, {"MX", "10 *.Wild.example."},
		{"SRV", "0000 000 00 A00000\f0"}, {"SOA", "NS1.A. H.A. 1 2 3 4 5\f6"}, {"SOA", "NS1.A.\tH.A. 1 2 3 4 5"}, {"CNAME", "a.."}, {"AAAA", "::aaaa%0000000\xd3000"},
		{"CNAME", "ÉCOLE.Example."}, {"MX", "10 MX.Bücher.example."},
		{"TXT", `"\" 0"`}, {"TXT", `" leading"`}, {"TXT", `"trailing "`}, {"TXT", "trailing "}, {"TXT", ` "v=spf1 -all" `},
		{"TXT", "a\x01b"}, {"TXT", `"a\009b"`}, {"TXT", "café"}, {"TXT", `  "x`}, {"TXT", `"\"x"`}, {"SPF", `"v=spf1 " "-all"`},
	}
	for _, tt := range values {
		got, err := normValue(tt.typ, []byte(tt.v))
		if err != nil {
			if tt.v != "203.000.113.001" {
				t.Errorf("%s %q: %v", tt.typ, tt.v, err)
			}
			continue
		}
		if want := schema.NormalizeValue(tt.typ, tt.v); string(got) != want {
			t.Errorf("%s %q: got %q, schema says %q", tt.typ, tt.v, got, want)
		}
	}
	for _, n := range []string{"WWW.Example.COM.", "*.example.com", "*.Wild.Example.", "a.b", "a..", "ÉCOLE.example", "BÜCHER.Example."} {
		got, err := normName([]byte(n))
		if err != nil || string(got) != schema.NormalizeName(n) {
			t.Errorf("name %q: got %q, %v", n, got, err)
		}
	}
}

func TestDetectFormat(t *testing.T) {
	tests := map[string]string{
		"\n\n{\"rrname\":\"a.example\",\"rrtype\":\"A\",\"rdata\":\"192.0.2.1\"}\n": FormatCOF,
		`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"}`:       FormatFDNS,
		"name,type,value\n":                         FormatCSV,
		"a.example,A,192.0.2.1\n":                   FormatCSV,
		`{"rrname":"truncated.example","rdata":"19`: FormatCOF,
	}
	for in, want := range tests {
		got, err := detectFormat([]byte(in))
		if err != nil || got != want {
			t.Errorf("detect(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := detectFormat([]byte("\n  \n")); err == nil {
		t.Error("empty input detected as a format")
	}
}

func TestProviderIgnoresCacheByDefault(t *testing.T) {
	if Schema.DefaultCacheTTL >= 0 {
		t.Error("file answers must not be cached by default: the cache key does not include the path")
	}
	_ = cmpopts.EquateEmpty()
}

func TestDNSDBStreamingFraming(t *testing.T) {
	p := newTestProvider(t, "dnsdb-saf.ndjson", nil)
	ans := query(t, p, schema.OpResolutions, "example.net")
	want := []brief{
		{"example.net", "A", "198.51.100.8", ts(1381353744), ts(1717200000), 51, true},
		{"example.net", "A", "198.51.100.9", ts(1381353744), ts(1717200000), 51, true},
		{"example.net", "NS", "ns1.example.org", ts(1381353744), ts(1381353744), 3, false},
	}
	if diff := cmp.Diff(want, briefs(ans.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	zone := query(t, p, schema.OpResolutions, "www.example.net")
	if len(zone.Findings) != 1 || zone.Findings[0].FirstSeen.Unix() != 1275401003 || zone.Findings[0].LastSeen.Unix() != 1485432450 {
		t.Errorf("zone-only times: %+v", zone.Findings)
	}
	if p.ix.bad != 0 {
		t.Errorf("framing lines counted as bad: %v", p.ix.warnings)
	}
}

func TestByteOrderMarkAndZstd(t *testing.T) {
	for _, name := range []string{"bom.csv", "bom.ndjson"} {
		p := newTestProvider(t, name, nil)
		if ans := query(t, p, schema.OpResolutions, "bom.example.com"); len(ans.Findings) != 1 || p.ix.bad != 0 {
			t.Errorf("%s: %+v %v", name, ans.Findings, p.ix.warnings)
		}
	}
	raw, err := os.ReadFile(filepath.Join(fixtures, "fdns.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The mark is dropped after gzip too, by either decoder.
	for _, withISAL := range []bool{true, false} {
		if withISAL && !isal.Available() {
			continue
		}
		func() {
			defer func(was bool) { useISAL = was }(useISAL)
			useISAL = withISAL
			for _, name := range []string{"bom.csv", "bom.ndjson"} {
				data, err := os.ReadFile(filepath.Join(fixtures, name))
				if err != nil {
					t.Fatal(err)
				}
				var gz bytes.Buffer
				zw := gzip.NewWriter(&gz)
				zw.Write(data)
				zw.Close()
				path := filepath.Join(t.TempDir(), name+".gz")
				os.WriteFile(path, gz.Bytes(), 0o644)
				p := newTestProvider(t, path, nil)
				if ans := query(t, p, schema.OpResolutions, "bom.example.com"); len(ans.Findings) != 1 || p.ix.bad != 0 {
					t.Errorf("%s.gz (ISA-L %v): %+v %v", name, withISAL, ans.Findings, p.ix.warnings)
				}
			}
		}()
	}
	enc, _ := zstd.NewWriter(nil)
	path := filepath.Join(t.TempDir(), "fdns.json.zst")
	os.WriteFile(path, enc.EncodeAll(raw, nil), 0o644)
	p := newTestProvider(t, path, nil)
	if ans := query(t, p, schema.OpResolutions, "www.example.com"); len(ans.Findings) != 1 {
		t.Errorf("zstd: %+v", ans.Findings)
	}
}

func TestLineSplitting(t *testing.T) {
	defer func(old int) { maxLineBytes = old }(maxLineBytes)
	maxLineBytes = 3000
	line := func(i int) string {
		return fmt.Sprintf(`{"timestamp":"1700000000","name":"h%d.example.com","type":"a","value":"192.0.2.%d"}`, i, i%250+1)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < 40000; i++ { // several blocks
		switch {
		case i == 5, i == 30000:
			b.WriteString(`{"timestamp":"1","name":"` + strings.Repeat("x", 5000) + `.example.com","type":"a","value":"192.0.2.1"}` + "\n")
		case i%3 == 0:
			b.WriteString(line(i) + "\r\n")
			n++
		case i%101 == 0:
			b.WriteString("\n")
		default:
			b.WriteString(line(i) + "\n")
			n++
		}
	}
	b.WriteString(line(99999)) // no final newline
	n++
	path := filepath.Join(t.TempDir(), "lines.json")
	os.WriteFile(path, []byte(b.String()), 0o644)
	ix, _, err := readIndex(context.Background(), path, "")
	if err != nil {
		t.Fatal(err)
	}
	if ix.records != int64(n) || ix.bad != 2 {
		t.Errorf("records %d (want %d), bad %d (want 2): %v", ix.records, n, ix.bad, ix.warnings)
	}
	w := strings.Join(ix.warnings, "\n")
	if !strings.Contains(w, "line 6: line longer than") || !strings.Contains(w, "line 30001: line longer than") {
		t.Errorf("warnings: %s", w)
	}
	if !ix.hasName("h99999.example.com") {
		t.Error("the last line without a newline was lost")
	}
}

// A gzip file cut short (a download that stopped, a copy of a file still
// being written) must say so, even when the cut falls on a line end and
// every line read is whole: gzip reports io.ErrUnexpectedEOF, which is not
// the clean end of the data.
func TestTruncatedGzipIsReported(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"timestamp":"1717200000","name":"www.example.com","type":"a","value":"203.0.113.10"}` + "\n"))
	zw.Close()
	dir := t.TempDir()
	cut := buf.Bytes()[:buf.Len()-8] // the CRC and size trailer is missing
	if err := os.WriteFile(filepath.Join(dir, "cut.json.gz"), cut, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, withISAL := range []bool{true, false} {
		t.Run(fmt.Sprintf("isal=%v", withISAL), func(t *testing.T) {
			if withISAL && !isal.Available() {
				t.Skip("ISA-L (libisal2) is not installed")
			}
			defer func(was bool) { useISAL = was }(useISAL)
			useISAL = withISAL
			pr, err := New(context.Background(), providers.Config{Type: "file", Address: "file",
				Attrs: map[string]cty.Value{"path": cty.StringVal("cut.json.gz")}, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			ans := query(t, pr.(*Provider), schema.OpResolutions, "www.example.com")
			if len(ans.Findings) != 1 {
				t.Errorf("findings before the cut: %+v", ans.Findings)
			}
			if w := strings.Join(ans.Warnings, "\n"); !strings.Contains(w, "truncated") {
				t.Errorf("no warning about the truncated file: %q", w)
			}
		})
	}
}

// A name known only as the target of records (an MX host, a CNAME or PTR
// value) gets the time window of those records, so a mail server named
// only by a record from years ago is historical, not current with no dates.
func TestTargetOnlyHostTakesItsReferrersWindow(t *testing.T) {
	dir := t.TempDir()
	data := `{"rrname":"example.com","rrtype":"MX","rdata":"10 old-mx.example.com.","count":4,"time_first":1500000000,"time_last":1550000000}
{"rrname":"www.example.com","rrtype":"CNAME","rdata":"edge.example.com","count":2,"time_first":1700000000,"time_last":1717200000}
{"rrname":"10.2.0.192.in-addr.arpa","rrtype":"PTR","rdata":"edge.example.com","count":1,"time_first":1710000000,"time_last":1717000000}
`
	if err := os.WriteFile(filepath.Join(dir, "pdns.ndjson"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	pr, err := New(context.Background(), providers.Config{Type: "file", Address: "file",
		Attrs: map[string]cty.Value{"path": cty.StringVal("pdns.ndjson")}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ans := query(t, pr.(*Provider), schema.OpSubdomains, "example.com")
	var got []brief
	for _, b := range briefs(ans.Findings) {
		if b.Type == schema.TypeHost && b.Name != "www.example.com" {
			got = append(got, b)
		}
	}
	want := []brief{
		{"edge.example.com", schema.TypeHost, "", ts(1700000000), ts(1717200000), 3, true},
		{"old-mx.example.com", schema.TypeHost, "", ts(1500000000), ts(1550000000), 4, false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Milliseconds written into COF's seconds fields are read as milliseconds,
// as in CSV and FDNS: one such line must not date the file to 2106 and
// make every other record historical.
func TestCOFMillisecondsInSecondsFields(t *testing.T) {
	dir := t.TempDir()
	data := `{"rrname":"www.example.com","rrtype":"A","rdata":"192.0.2.1","count":1,"time_first":1717000000000,"time_last":1717200000000}
{"rrname":"old.example.com","rrtype":"A","rdata":"192.0.2.2","count":1,"zone_time_first":1717100000000,"zone_time_last":1717150000000}
`
	if err := os.WriteFile(filepath.Join(dir, "ms.ndjson"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	pr, err := New(context.Background(), providers.Config{Type: "file", Address: "file",
		Attrs: map[string]cty.Value{"path": cty.StringVal("ms.ndjson")}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ans := query(t, pr.(*Provider), schema.OpReverseIP, "192.0.2.0/24")
	want := []brief{
		{"old.example.com", "A", "192.0.2.2", ts(1717100000), ts(1717150000), 1, true},
		{"www.example.com", "A", "192.0.2.1", ts(1717000000), ts(1717200000), 1, true},
	}
	if diff := cmp.Diff(want, briefs(ans.Findings)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
