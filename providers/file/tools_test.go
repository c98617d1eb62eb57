package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

// TestToolForms reads the forms real samples do not show, written from
// the tools' own output code: dnsx's "all" member (each record under its
// owner; the OPT pseudo-section skipped; an NXDOMAIN answer's SOA), the
// typed members (MX without preference, TXT, SOA objects), and a PTR
// answer; every name list form; Amass's graph with ANSI colours and its
// non-DNS relations.
func TestToolForms(t *testing.T) {
	const dnsx1 = "2024-05-30T07:57:15Z"
	const dnsx3 = "2024-05-30T08:00:00Z"
	tests := []struct {
		path    string
		op      schema.Op
		subject string
		want    []brief
	}{
		{"dnsx-all.ndjson", schema.OpResolutions, "www.acme.example", []brief{
			rec("www.acme.example", "CNAME", "edge.cdn.test", dnsx1, true),
		}},
		{"dnsx-all.ndjson", schema.OpResolutions, "edge.cdn.test", []brief{
			rec("edge.cdn.test", "A", "203.0.113.10", dnsx1, true),
		}},
		{"dnsx-all.ndjson", schema.OpResolutions, "acme.example", []brief{
			rec("acme.example", "MX", "mx1.mailhost.test", dnsx3, true),
			rec("acme.example", "NS", "ns01.acme.example", dnsx3, true),
			{"acme.example", "SOA", "ns01.acme.example root.acme.example 2100000175 86400 3600 604800 10800", dnsx1, dnsx3, 0, true},
			rec("acme.example", "TXT", "v=spf1 include:_spf.mailhost.test -all", dnsx3, true),
		}},
		{"dnsx-all.ndjson", schema.OpSubdomains, "acme.example", []brief{
			// gone.acme.example was NXDOMAIN: no HOST. Targets are
			// HOSTs while records name them (the NS, the PTR).
			rec("mail.acme.example", "HOST", "", "2024-05-30T08:00:01Z", true),
			rec("ns01.acme.example", "HOST", "", dnsx3, true),
			rec("www.acme.example", "HOST", "", dnsx1, true),
		}},
		{"dnsx-all.ndjson", schema.OpReverseIP, "192.0.2.25", []brief{
			rec("192.0.2.25", "PTR", "mail.acme.example", "2024-05-30T08:00:01Z", true),
		}},
		{"names.txt", schema.OpSubdomains, "acme.example", []brief{
			host("dev.acme.example", snap, true), host("old.acme.example", snap, true),
			host("vpn.acme.example", snap, true), host("www.acme.example", snap, true),
			host("api.acme.example", snap, true), host("mail.acme.example", snap, true),
		}},
		{"names.txt", schema.OpResolutions, "mail.acme.example", []brief{
			rec("mail.acme.example", "A", "192.0.2.25", snap, true),
			rec("mail.acme.example", "AAAA", "2001:db8::25", snap, true),
		}},
		{"names.txt", schema.OpReverseIP, "203.0.113.7", []brief{
			rec("api.acme.example", "A", "203.0.113.7", snap, true),
		}},
		{"amass-graph-ansi.txt", schema.OpNSReverse, "ns1.dnsprovider.test", []brief{
			rec("acme.example", "NS", "ns1.dnsprovider.test", snap, true),
		}},
		{"amass-graph-ansi.txt", schema.OpSubdomains, "acme.example", []brief{
			host("_sip._tls.acme.example", snap, true), host("shop.acme.example", snap, true), host("web.acme.example", snap, true),
		}},
		{"amass-graph-ansi.txt", schema.OpReverseIP, "104.16.1.1", []brief{
			rec("104.16.1.1", "PTR", "web.acme.example", snap, true),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+string(tt.op)+" "+tt.subject, func(t *testing.T) {
			p := newTestProvider(t, tt.path, asOfAttrs)
			ans := query(t, p, tt.op, tt.subject)
			got := briefs(ans.Findings)
			schemaSortBriefs(tt.want)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(ans.Warnings) > 0 || p.ix.bad > 0 {
				t.Errorf("warnings %v, %d bad", ans.Warnings, p.ix.bad)
			}
		})
	}
}

// schemaSortBriefs orders briefs as schema.SortFindings orders findings.
func schemaSortBriefs(bs []brief) {
	fs := make([]schema.Finding, len(bs))
	for i, b := range bs {
		fs[i] = schema.Finding{Name: b.Name, Type: b.Type, Value: b.Value}
	}
	schema.SortFindings(fs)
	byKey := map[[3]string]brief{}
	for _, b := range bs {
		byKey[[3]string{b.Name, b.Type, b.Value}] = b
	}
	for i, f := range fs {
		bs[i] = byKey[[3]string{f.Name, f.Type, f.Value}]
	}
}

// TestUndatedFileTime: the records of a tool output without times are
// seen at the file's modification time when as_of is unset, so they are
// current; as_of moves them, and a changed as_of is not served from an
// index persisted under another.
func TestUndatedFileTime(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(fixtures, realData+"subfinder/active-ip-example.com.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "subfinder.json")
	os.WriteFile(path, src, 0o644)
	mtime := time.Date(2025, 1, 15, 10, 30, 0, 0, time.UTC)
	os.Chtimes(path, mtime, mtime)

	got := briefs(query(t, newTestProvider(t, path, nil), schema.OpResolutions, "www.example.com").Findings)
	want := []brief{rec("www.example.com", "A", "2.16.206.21", "2025-01-15T10:30:00Z", true)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("at mtime (-want +got):\n%s", diff)
	}
	got = briefs(query(t, newTestProvider(t, path, asOfAttrs), schema.OpResolutions, "www.example.com").Findings)
	want = []brief{rec("www.example.com", "A", "2.16.206.21", snap, true)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("at as_of (-want +got):\n%s", diff)
	}
}

// TestDetectTools: every real sample of a tool is detected as that tool,
// and no sample of the formats read before (COF, FDNS, CSV, in
// testdata/real and testdata/file) is detected otherwise than it was.
func TestDetectTools(t *testing.T) {
	want := map[string]string{
		"subfinder": FormatSubfinder, "bbot": FormatBBOT, "dnsx": FormatDNSX, "massdns": FormatMassDNS, "zone": FormatZone,
	}
	files, _ := filepath.Glob(filepath.Join(fixtures, realData, "*", "*"))
	more, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	n := 0
	for _, f := range append(files, more...) {
		if st, err := os.Stat(f); err != nil || st.IsDir() || strings.HasSuffix(f, ".md") || strings.HasSuffix(f, ".gz") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		head := data[:min(len(data), 64<<10)]
		got, err := detectFormat(head)
		dir := filepath.Base(filepath.Dir(f))
		switch {
		case want[dir] != "":
			if got != want[dir] {
				t.Errorf("%s: detected %q (%v), want %q", f, got, err, want[dir])
			}
		case dir == "amass":
			// Amass's graph and JSON are amass; its -o/-src name lists are names.
			if got != FormatAmass && got != FormatNames {
				t.Errorf("%s: detected %q (%v)", f, got, err)
			}
		case oldCorpus[dir] || dir == "file":
			if old := legacyDetect(head); got != old && !newFixture(f) {
				t.Errorf("%s: detected %q, was %q", f, got, old)
			}
		}
		n++
	}
	if n < 80 {
		t.Errorf("only %d samples", n)
	}
	// The tool fixtures of testdata/file.
	for name, format := range map[string]string{
		"dnsx-all.ndjson": FormatDNSX, "names.txt": FormatNames, "amass-graph-ansi.txt": FormatAmass,
		"czds-shape.zone": FormatZone, "master.zone": FormatZone,
	} {
		data, _ := os.ReadFile(filepath.Join(fixtures, name))
		if got, err := detectFormat(data); got != format {
			t.Errorf("%s: detected %q (%v), want %q", name, got, err, format)
		}
	}
	// A vendor body that is a host list reads as one.
	if data, err := os.ReadFile(filepath.Join(fixtures, realData, "hackertarget", "hostsearch_blacklanternsecurity.com.txt")); err == nil {
		if got, _ := detectFormat(data); got != FormatNames {
			t.Errorf("HackerTarget's host list: detected %q", got)
		}
	}
	// A gzip sample is detected on its decompressed head.
	ix, format, err := readIndex(context.Background(), filepath.Join(fixtures, "fdns.json.gz"), "")
	if err != nil || format != FormatFDNS || ix.records == 0 {
		t.Errorf("fdns.json.gz: %q, %v", format, err)
	}
}

// oldCorpus are the testdata/real folders of the formats read before
// (the others hold vendors' HTTP bodies, not files).
var oldCorpus = map[string]bool{"circl": true, "cof": true, "dnsdb": true, "robtex": true, "sonar": true}

// newFixture reports the testdata/file fixtures of the new formats.
func newFixture(path string) bool {
	switch filepath.Base(path) {
	case "dnsx-all.ndjson", "names.txt", "amass-graph-ansi.txt", "czds-shape.zone", "master.zone":
		return true
	}
	return false
}

// legacyDetect is detection as it was before tool outputs and zones: COF
// or FDNS JSON by member names, anything else CSV.
func legacyDetect(head []byte) string {
	for _, line := range strings.Split(string(head), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line[0] != '{' {
			return FormatCSV
		}
		has := func(k string) bool { return strings.Contains(line, `"`+k+`"`) }
		switch {
		case has("rrname") || has("rrtype") || has("rdata") || has("cond") || has("obj"):
			return FormatCOF
		case has("name") && (has("value") || has("type") || has("timestamp")):
			return FormatFDNS
		}
		return ""
	}
	return ""
}
