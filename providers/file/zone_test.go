package file

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

// TestZoneFiles reads a zone in CZDS's shape (lower case, one tab,
// DNSSEC records, the SOA first and last, a unix-time serial) and a
// hand-written master file (origin, relative and blank owners,
// parentheses, quoted TXT, $GENERATE, a reverse zone).
func TestZoneFiles(t *testing.T) {
	const czdsTime = "2024-06-01T00:00:00Z"   // serial 1717200000
	const masterTime = "2024-06-01T00:00:00Z" // serial 2024060101
	tests := []struct {
		path    string
		op      schema.Op
		subject string
		want    []brief
	}{
		{"czds-shape.zone", schema.OpNSReverse, "ns1.dnsprovider.test", []brief{
			rec("acme.example", "NS", "ns1.dnsprovider.test", czdsTime, true),
			rec("beta.example", "NS", "ns1.dnsprovider.test", czdsTime, true),
		}},
		{"czds-shape.zone", schema.OpResolutions, "acme.example", []brief{
			rec("acme.example", "DS", "12345 13 2 0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9", czdsTime, true),
			rec("acme.example", "NS", "ns1.dnsprovider.test", czdsTime, true),
			rec("acme.example", "NS", "ns2.dnsprovider.test", czdsTime, true),
		}},
		{"czds-shape.zone", schema.OpReverseIP, "2001:db8::53", []brief{
			rec("ns1.beta.example", "AAAA", "2001:db8::53", czdsTime, true),
		}},
		{"czds-shape.zone", schema.OpSubdomains, "example", nil}, // "example" is no domain subject; see below
		{"master.zone", schema.OpResolutions, "acme.example", []brief{
			rec("acme.example", "MX", "mail.acme.example", masterTime, true),
			rec("acme.example", "MX", "mx.mailhost.test", masterTime, true),
			rec("acme.example", "NS", "ns1.acme.example", masterTime, true),
			rec("acme.example", "NS", "ns2.dnsprovider.test", masterTime, true),
			rec("acme.example", "SOA", "ns1.acme.example hostmaster.acme.example 2024060101 7200 3600 1209600 300", masterTime, true),
			rec("acme.example", "TXT", "v=spf1 mx include:_spf.mailhost.test -all", masterTime, true),
		}},
		{"master.zone", schema.OpResolutions, "mail.acme.example", []brief{
			rec("mail.acme.example", "A", "192.0.2.25", masterTime, true),
			rec("mail.acme.example", "AAAA", "2001:db8::25", masterTime, true),
		}},
		{"master.zone", schema.OpReverseIP, "192.0.2.25", []brief{
			rec("192.0.2.25", "PTR", "mail.acme.example", masterTime, true),
			rec("mail.acme.example", "A", "192.0.2.25", masterTime, true),
		}},
		{"master.zone", schema.OpReverseIP, "192.0.2.2", []brief{
			rec("host2.acme.example", "A", "192.0.2.2", masterTime, true),
		}},
		{"master.zone", schema.OpResolutions, "www.acme.example", []brief{
			rec("www.acme.example", "CNAME", "acme.example", masterTime, true),
		}},
		{"master.zone", schema.OpResolutions, "_sip._tcp.acme.example", []brief{
			rec("_sip._tcp.acme.example", "SRV", "10 5 5060 sip.acme.example", masterTime, true),
		}},
		{"master.zone", schema.OpMXReverse, "mail.acme.example", []brief{
			rec("acme.example", "MX", "mail.acme.example", masterTime, true),
		}},
	}
	for _, tt := range tests {
		if tt.want == nil {
			continue
		}
		t.Run(tt.path+" "+string(tt.op)+" "+tt.subject, func(t *testing.T) {
			p := newTestProvider(t, tt.path, nil)
			ans := query(t, p, tt.op, tt.subject)
			if diff := cmp.Diff(tt.want, briefs(ans.Findings)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(ans.Warnings) > 0 || p.ix.bad > 0 {
				t.Errorf("warnings %v, %d bad lines", ans.Warnings, p.ix.bad)
			}
		})
	}
	// The SOA repeated at the end of a CZDS file is one observation;
	// the RRSIG and NSEC3 records are not kept.
	p := newTestProvider(t, "czds-shape.zone", nil)
	query(t, p, schema.OpResolutions, "acme.example")
	if p.ix.lines != 13 || p.ix.records != 10 {
		t.Errorf("%d lines, %d records; want 13 and 10", p.ix.lines, p.ix.records)
	}
}

// TestZoneGzipAndTime: a gzip zone is read like a plain one; a serial
// that is no time, or one later than a day after the file was written,
// leaves the records at the file's modification time.
func TestZoneGzipAndTime(t *testing.T) {
	mtime := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	write := func(name, zone string, gz bool) string {
		path := filepath.Join(t.TempDir(), name)
		var buf bytes.Buffer
		if gz {
			w := gzip.NewWriter(&buf)
			w.Write([]byte(zone))
			w.Close()
		} else {
			buf.WriteString(zone)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name, zone string
		gz         bool
		want       string
	}{
		{"a date serial, gzip", "tld.\t900\tin\tsoa\tns.nic.tld. h.nic.tld. 2025022801 1 1 1 1\nacme.tld.\t900\tin\tns\tns1.acme.tld.\n", true, "2025-02-28T00:00:00Z"},
		{"a unix serial", "tld.\t900\tin\tsoa\tns.nic.tld. h.nic.tld. 1740700800 1 1 1 1\nacme.tld.\t900\tin\tns\tns1.acme.tld.\n", false, "2025-02-28T00:00:00Z"},
		{"a counter serial", "tld.\t900\tin\tsoa\tns.nic.tld. h.nic.tld. 42 1 1 1 1\nacme.tld.\t900\tin\tns\tns1.acme.tld.\n", false, "2025-03-01T12:00:00Z"},
		{"a serial after the file", "tld.\t900\tin\tsoa\tns.nic.tld. h.nic.tld. 2025031001 1 1 1 1\nacme.tld.\t900\tin\tns\tns1.acme.tld.\n", false, "2025-03-01T12:00:00Z"},
		{"no SOA first", "acme.tld.\t900\tin\tns\tns1.acme.tld.\ntld.\t900\tin\tsoa\tns.nic.tld. h.nic.tld. 2025022801 1 1 1 1\n", false, "2025-03-01T12:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write("tld.zone", tt.zone, tt.gz)
			p := newTestProvider(t, path, nil)
			got := briefs(query(t, p, schema.OpNSReverse, "ns1.acme.tld").Findings)
			want := []brief{rec("acme.tld", "NS", "ns1.acme.tld", tt.want, true)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestZoneBadLines: what the tokenizer and the library refuse is a bad
// line with its number; the rest of the zone is read.
func TestZoneBadLines(t *testing.T) {
	zone := strings.Join([]string{
		"$ORIGIN tld.",
		"$INCLUDE /etc/passwd",
		"acme\t900\tin\tns\tns1.acme",
		"bad\t900\tin\ta\t999.1.1.1",
		"open\t900\tin\ttxt\t\"unterminated",
		"\t900\tin\tns\tns2.acme",
		"weird\t900\tin\tbogustype\tx",
		"",
	}, "\n")
	path := filepath.Join(t.TempDir(), "bad.zone")
	os.WriteFile(path, []byte(zone), 0o644)
	p := newTestProvider(t, path, map[string]cty.Value{"format": cty.StringVal("zone")})
	ans := query(t, p, schema.OpResolutions, "acme.tld")
	if got := len(ans.Findings); got != 1 {
		t.Errorf("%d findings, want acme.tld NS ns1.acme.tld: %v", got, briefs(ans.Findings))
	}
	if p.ix.bad != 4 {
		t.Errorf("%d bad lines, want 4 ($INCLUDE, bad A, unterminated quote, unknown type): %v", p.ix.bad, p.ix.warnings)
	}
	w := strings.Join(ans.Warnings, "\n")
	for _, s := range []string{"line 2: $INCLUDE is not followed", "line 4: ", "line 5: ", "line 7: "} {
		if !strings.Contains(w, s) {
			t.Errorf("warnings lack %q:\n%s", s, w)
		}
	}
	// The blank-owner line 6 takes the owner of the last line whose
	// owner could be read: line 5's unterminated quote stops it before
	// its owner, line 4's value is what failed.
	if got := briefs(query(t, p, schema.OpNSReverse, "ns2.acme.tld").Findings); len(got) != 1 || got[0].Name != "bad.tld" {
		t.Errorf("ns2: %v", got)
	}
}

// TestZoneFastMatchesLibrary: for lines in the tokenizer's forms, it
// finds what miekg/dns's ZoneParser finds.
func TestZoneFastMatchesLibrary(t *testing.T) {
	lines := []string{
		"example.com.\t172800\tin\tns\tNS1.Example.NET.",
		"example.com.   3600 IN A 192.0.2.1",
		"example.com. IN 3600 AAAA 2001:DB8:0:0::1",
		"example.com.\t3600\tin\tmx\t0 .",
		"example.com.\t3600\tin\tmx\t10 Mail.Example.com.",
		"example.com.\t3600\tin\tds\t2371 13 2 1f987cc6583e92df0890718c42 7c6b2a7e1c4e5f8d9b0a1c2d3e4f5a6b7",
		"example.com.\t3600\tin\tsoa\tns.icann.org. noc.dns.icann.org. 2024081210 7200 3600 1209600 3600",
		"www.example.com.\t300\tin\tcname\texample.com.",
		"1.2.0.192.in-addr.arpa.\t300\tin\tptr\thost.example.com.",
		"example.com.\t300\tin\tdname\texample.net.",
	}
	for _, line := range lines {
		var fast, slow []string
		collect := func(out *[]string) emitFunc {
			return func(name []byte, rrtype string, value []byte, _, _, _ int64) {
				*out = append(*out, string(name)+" "+rrtype+" "+string(value))
			}
		}
		if err := newZoneState(1, false).fast([]byte(line), collect(&fast)); err != nil {
			t.Errorf("fast %q: %v", line, err)
		}
		if err := newZoneState(1, false).slow([]byte(line), collect(&slow)); err != nil {
			t.Errorf("slow %q: %v", line, err)
		}
		if diff := cmp.Diff(slow, fast); diff != "" || len(fast) != 1 {
			t.Errorf("%q (-library +tokenizer):\n%s", line, diff)
		}
	}
}

// TestZoneCaseAcrossLines: over a whole zone, with origins and owners of
// either case carried from line to line (blank owners, relative names,
// records the tokenizer leaves to the library in between), the
// tokenizer's records are the library's.
func TestZoneCaseAcrossLines(t *testing.T) {
	zone := strings.Join([]string{
		"$ORIGIN Example.COM.",
		"@\t3600\tin\tns\tNS1",
		"www\t3600\tIN\tCNAME\thost.example.net.",
		"\t3600\tIN\tNS\tns2.example.net.",
		"Upper\t3600\tin\tns\tlower.example.net.",
		"\t3600\tin\tns\tlower",
		"lower.example.com.\t3600\tin\ta\t192.0.2.1",
		"\t3600\tin\tns\tHOST.Example.NET.",
		"quoted\t3600\tin\ttxt\t\"Mixed Case\"",
		"\t3600\tin\tns\tns.example.net.",
		"$ORIGIN lower.example.",
		"sub\t3600\tin\tns\tns1",
		"\t3600\tin\tns\tNs2",
		"SUB2\t3600\tin\tdname\tTarget",
		"sub3\t3600\tin\tmx\t10 MX.Sub3",
		"sub4.\t3600\tin\tns\tsub4-ns.",
		".\t3600\tin\tns\troot-ns.",
		"1.2.0.192.in-addr.arpa.\t300\tin\tptr\tHost.example.",
		"\t300\tin\tns\tns.example.",
	}, "\n") + "\n"
	var fast, lib []string
	collect := func(out *[]string) emitFunc {
		return func(name []byte, rrtype string, value []byte, _, _, _ int64) {
			*out = append(*out, string(name)+" "+rrtype+" "+string(value))
		}
	}
	z := newZoneState(1, false)
	for _, line := range strings.Split(strings.TrimSuffix(zone, "\n"), "\n") {
		if err := z.parseLine([]byte(line), collect(&fast)); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
	}
	ref := newZoneState(1, false)
	zp := dns.NewZoneParser(strings.NewReader(zone), ".", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if err := ref.emitRR(rr, collect(&lib)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lib, fast); diff != "" {
		t.Errorf("(-library +tokenizer):\n%s", diff)
	}
	if len(fast) < 15 {
		t.Errorf("only %d records: %q", len(fast), fast)
	}
}

// The names of a large answer share blocks of bytes (result.name's
// arena): each must still be its own, across the blocks' ends.
func TestLargeAnswerNames(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ORIGIN example.\n$TTL 86400\n@ IN SOA a.nic.example. hostmaster.example. 1 7200 900 1209600 86400\n")
	var want []string
	for i := range 6000 {
		name := fmt.Sprintf("d%05d-%s.example", i, strings.Repeat("x", i%40))
		want = append(want, name)
		fmt.Fprintf(&b, "%s. IN NS ns1.shared.net.\n", name)
	}
	path := filepath.Join(t.TempDir(), "example.zone")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newTestProvider(t, path, nil)
	ans := query(t, p, schema.OpNSReverse, "ns1.shared.net")
	var got []string
	for _, f := range ans.Findings {
		got = append(got, f.Name)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%d names, want %d; first %q", len(got), len(want), got[:min(3, len(got))])
	}
}
