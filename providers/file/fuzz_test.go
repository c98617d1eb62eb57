package file

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/reconform/reconform/internal/fdnsgen"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

func seedLines(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
}

// FuzzScanObject: the scanner never panics, and accepts only valid JSON.
func FuzzScanObject(f *testing.F) {
	seedLines(f, "cof.ndjson", "fdns.json")
	f.Add([]byte(`{"a":"\u00e9\n","b":[1,{"c":null}],"d":-1.5e3,"e":true}`))
	f.Add([]byte(`{"a":01}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error { return nil })
		if err == nil && !json.Valid(line) {
			t.Errorf("accepted invalid JSON %q", line)
		}
	})
}

// FuzzParseCOFLine and FuzzParseFDNSLine: never panic; every emitted
// observation has a non-empty name, type and value.
func FuzzParseCOFLine(f *testing.F) {
	seedLines(f, "cof.ndjson", "dnsdb-saf.ndjson",
		realData+"circl/query-circl.lu.v2doc.ndjson", realData+"circl/query-ietf.org.cof-kaplan-00.ndjson",
		realData+"dnsdb/humantime-rrset-google.com.cof.ndjson", realData+"dnsdb/saf-fsi.io-A.limited.saf",
		realData+"robtex/reverse-a.iana-servers.net.ndjson", realData+"cof/draft-cof-12-ietf.org.ndjson")
	f.Fuzz(func(t *testing.T, line []byte) { checkEmits(t, parseCOFLine, line) })
}

func FuzzParseFDNSLine(f *testing.F) {
	seedLines(f, "fdns.json", realData+"sonar/fdns-v2.jimen0-fdns_test.json", realData+"sonar/rdns-v2.rdns-fs-test.json")
	f.Fuzz(func(t *testing.T, line []byte) { checkEmits(t, parseFDNSLine, line) })
}

func checkEmits(t *testing.T, parse func([]byte, emitFunc) error, line []byte) {
	_ = parse(bytes.Clone(line), func(name []byte, rrtype string, value []byte, first, last, count int64) {
		if len(name) == 0 || rrtype == "" || len(value) == 0 && rrtype != "HOST" || len(value) > 0 && rrtype == "HOST" {
			t.Errorf("emitted an empty field from %q: %q %q %q", line, name, rrtype, value)
		}
		if first < 0 || last < 0 || count < 0 {
			t.Errorf("negative time or count from %q", line)
		}
	})
}

// FuzzReadFile indexes an arbitrary file in every format: nothing panics
// or hangs, and whatever is built passes the index's own consistency
// check. (Parsing and interning run on separate goroutines, so coverage
// is noisy and the fuzzer reports few execs; the line parsers have their
// own targets above.)
func FuzzReadFile(f *testing.F) {
	for _, name := range []string{"cof.ndjson", "fdns.json", "records.csv", "noheader.csv", "dnsdb-saf.ndjson", "bom.csv",
		"czds-shape.zone", "master.zone", "dnsx-all.ndjson", "names.txt", "amass-graph-ansi.txt"} {
		b, _ := os.ReadFile(filepath.Join(fixtures, name))
		f.Add(b)
	}
	f.Add([]byte("\x1f\x8b\x08\x00garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "data")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"", FormatCOF, FormatFDNS, FormatCSV, FormatZone, FormatSubfinder, FormatAmass, FormatBBOT, FormatDNSX, FormatMassDNS, FormatNames} {
			ix, _, err := readIndex(context.Background(), path, format)
			if err != nil {
				continue
			}
			if err := ix.check(); err != nil {
				t.Fatalf("format %q: built an inconsistent index: %v", format, err)
			}
		}
	})
}

// FuzzSonarFastPath: whatever the fast path accepts is valid JSON and has
// the same four values the general path reads.
func FuzzSonarFastPath(f *testing.F) {
	seedLines(f, "fdns.json")
	f.Add([]byte(`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"}  `))
	f.Add([]byte(`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"}x`))
	f.Fuzz(func(t *testing.T, line []byte) {
		fast, ok := sonarFields(line)
		if !ok {
			return
		}
		if !json.Valid(line) {
			t.Fatalf("fast path accepted invalid JSON %q", line)
		}
		if !utf8.Valid(line) {
			return // encoding/json would replace the bad bytes; we keep them, as scanObject does
		}
		var general map[string]string
		if err := json.Unmarshal(line, &general); err != nil {
			t.Fatalf("fast path accepted %q: %v", line, err)
		}
		for i, k := range []string{"timestamp", "name", "type", "value"} {
			if general[k] != string(fast[i]) {
				t.Errorf("%s: fast %q, general %q", k, fast[i], general[k])
			}
		}
	})
}

// FuzzParseToolLine: the tool parsers never panic and emit only whole
// observations (a HOST without a value, every other type with one).
func FuzzParseToolLine(f *testing.F) {
	seedLines(f, "dnsx-all.ndjson", "names.txt", "amass-graph-ansi.txt",
		realData+"subfinder/active-ip-securecodebox.io.jsonl", realData+"subfinder/passive-example.com.jsonl",
		realData+"amass/v3-json-timestamp-securecodebox.io.jsonl", realData+"amass/v4-enum-google.com.issue980.txt",
		realData+"amass/v3.7.2-enum-passive-src-twitter.com.issue420.txt",
		realData+"bbot/docs-events-DNS_NAME.ndjson", realData+"bbot/issue1699-RAW_DNS_RECORD-MX.ndjson",
		realData+"bbot/issue1585-DNS_NAME_UNRESOLVED.ndjson",
		realData+"dnsx/issue212-developer.dome9.com.ndjson", realData+"dnsx/ostorlab-www.ostorlab.co.ndjson",
		realData+"massdns/domainsproject-lowercase-2023.ndjson", realData+"massdns/bbot-fixtures-www.blacklanternsecurity.com.ndjson")
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, format := range []string{FormatSubfinder, FormatAmass, FormatBBOT, FormatDNSX, FormatMassDNS, FormatNames} {
			parse, _ := toolParser(format, 1)
			checkEmits(t, parse, line)
		}
	})
}

// FuzzZoneLines feeds the lines of an input through one zone state, as a
// file's lines are: nothing panics, emits are whole, and a record left
// open in parentheses stays bounded.
func FuzzZoneLines(f *testing.F) {
	for _, name := range []string{"czds-shape.zone", "master.zone", realData + "zone/root.zone-2018031200.excerpt"} {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("$ORIGIN a.\n@ SOA ns h ( 1 2\n 3 4 5 )\n\tTXT \"x\" ; c\n$GENERATE 1-2 h$ A 192.0.2.$\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		z := newZoneState(1, false)
		z.adoptSOA, z.fileTime = true, 2e9
		for _, line := range bytes.Split(data, []byte("\n")) {
			checkEmits(t, z.parseLine, line)
			if len(z.pending) > maxLineBytes+len(line)+1 {
				t.Fatalf("pending record grew to %d bytes", len(z.pending))
			}
		}
	})
}

// FuzzZoneTokenizer: where the tokenizer and miekg/dns's ZoneParser both
// read a line, they find the same records.
func FuzzZoneTokenizer(f *testing.F) {
	for _, name := range []string{"czds-shape.zone", realData + "zone/root.zone-2018031200.excerpt"} {
		b, _ := os.ReadFile(filepath.Join(fixtures, name))
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexAny(line, "\";()\\\n$") >= 0 || len(bytes.TrimSpace(line)) == 0 || line[0] == ' ' || line[0] == '\t' {
			return // not the tokenizer's
		}
		var fast, slow []string
		collect := func(out *[]string) emitFunc {
			return func(name []byte, rrtype string, value []byte, _, _, _ int64) {
				*out = append(*out, string(name)+" "+rrtype+" "+string(value))
			}
		}
		errFast := newZoneState(1, false).fast(bytes.Clone(line), collect(&fast))
		errSlow := newZoneState(1, false).slow(bytes.Clone(line), collect(&slow))
		if errFast == nil && errSlow == nil && !slices.Equal(fast, slow) {
			t.Errorf("%q: tokenizer %q, library %q", line, fast, slow)
		}
	})
}

// FuzzDetectFormat: detection never panics and names a format it reads.
func FuzzDetectFormat(f *testing.F) {
	for _, name := range []string{"cof.ndjson", "fdns.json", "records.csv", "czds-shape.zone", "master.zone", "dnsx-all.ndjson", "names.txt", "amass-graph-ansi.txt"} {
		b, _ := os.ReadFile(filepath.Join(fixtures, name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		format, err := detectFormat(head)
		if err != nil {
			return
		}
		switch format {
		case FormatCOF, FormatFDNS, FormatCSV, FormatZone, FormatSubfinder, FormatAmass, FormatBBOT, FormatDNSX, FormatMassDNS, FormatNames:
		default:
			t.Errorf("detected %q", format)
		}
	})
}

// FuzzNormTXT: the file provider's fast TXT normalisation gives what
// schema.NormalizeValue gives, and a value normalised once stays so.
func FuzzNormTXT(f *testing.F) {
	for _, v := range []string{`"v=spf1 -all"`, `"\" 0"`, `" leading"`, "plain ", "a\x01b", `  "x`, "café", `""`} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := normValue("TXT", []byte(v))
		if err != nil {
			return
		}
		if want := schema.NormalizeValue("TXT", v); string(got) != want {
			t.Fatalf("%q: the file provider gives %q, schema %q", v, got, want)
		}
		if again, err := normValue("TXT", bytes.Clone(got)); err != nil || string(again) != string(got) {
			t.Fatalf("%q: normalised %q, then %q, %v", v, got, again, err)
		}
	})
}

// normTypes are the record types FuzzNormValue normalises every input as.
var normTypes = []string{"A", "AAAA", "CNAME", "NS", "PTR", "DNAME", "MX", "TXT", "SPF", "SOA", "SRV", "CAA", "TYPE65534"}

// FuzzNormValue: whatever value the file provider accepts, of any type, it
// normalises as schema.NormalizeValue does, and normalising it again
// gives it back.
func FuzzNormValue(f *testing.F) {
	for _, v := range []string{"10 MX.Example.", "0 .", "0  000000\f0", "0000 000 00 A00000\f0", "NS1.A. H.A. 1 2 3 4 5\f6",
		"10 5 443 Sip.Example.", "*.Wild.Example.", "a..", "000 0000 .", "::aaaa%0000000\xd3000", "203.0.113.1", "::ffff:192.0.2.1", "caf\xc3\xa9", "x\u0085y", `"v=spf1 -all"`} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, rrtype := range normTypes {
			got, err := normValue(rrtype, []byte(v))
			if err != nil {
				continue
			}
			if want := schema.NormalizeValue(rrtype, v); string(got) != want {
				t.Fatalf("%s %q: the file provider gives %q, schema %q", rrtype, v, got, want)
			}
			if again, err := normValue(rrtype, bytes.Clone(got)); err != nil || string(again) != string(got) {
				t.Fatalf("%s %q: normalised %q, then %q, %v", rrtype, v, got, again, err)
			}
		}
	})
}

// FuzzNormName: whatever name the file provider accepts, it normalises as
// schema.NormalizeName does, and a normalised name stays so.
func FuzzNormName(f *testing.F) {
	for _, n := range []string{"WWW.Example.COM.", "*.Example.com.", "a..", "ÉCOLE.example", "caf\xff.example", "x\u0085.example", " a.b "} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n string) {
		got, err := normName([]byte(n))
		if err != nil {
			return
		}
		if want := schema.NormalizeName(n); string(got) != want {
			t.Fatalf("%q: the file provider gives %q, schema %q", n, got, want)
		}
		if again, err := normName(bytes.Clone(got)); err != nil || string(again) != string(got) {
			t.Fatalf("%q: normalised %q, then %q, %v", n, got, again, err)
		}
	})
}

// FuzzIndexFile: a hostile or damaged index file gives an error, never a
// panic or a huge allocation, when opened and when queries read its
// blocks.
func FuzzIndexFile(f *testing.F) {
	for _, name := range []string{"cof.ndjson", "master.zone", "fdns.json", "records.csv", "dnsx-all.ndjson"} {
		ix, format, err := readIndex(context.Background(), filepath.Join(fixtures, name), "")
		if err != nil {
			f.Fatal(err)
		}
		b := make([]byte, ix.size)
		if _, err := ix.src.ReadAt(b, 0); err != nil {
			f.Fatal(err)
		}
		f.Add(b, format)
	}
	// An index of several segments (a build under a tiny budget).
	gen := filepath.Join(f.TempDir(), "fdns.json")
	if err := fdnsgen.WriteFile(gen, fdnsgen.Options{Lines: 800, Seed: 3}, false); err != nil {
		f.Fatal(err)
	}
	ix, format, err := readIndexAt(context.Background(), gen, "", 0, buildOptions{budget: 64 << 10, dir: f.TempDir()})
	if err != nil || len(ix.segs) < 2 {
		f.Fatalf("%v, %d segments", err, len(ix.segs))
	}
	b := make([]byte, ix.size)
	if _, err := ix.src.ReadAt(b, 0); err != nil {
		f.Fatal(err)
	}
	f.Add(b, format)
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		ix, err := openIndex(bytes.NewReader(data), int64(len(data)), nil, format)
		if err != nil {
			return
		}
		_ = ix.check()
		p := &Provider{ix: ix, maxResults: 50, window: 30 * 24 * time.Hour, cfg: providers.Config{Address: "file"}}
		for _, q := range []struct {
			op   schema.Op
			subj string
		}{
			{schema.OpResolutions, "example.com"}, {schema.OpResolutions, "www.example.com"},
			{schema.OpSubdomains, "example.com"}, {schema.OpReverseIP, "192.0.2.1"},
			{schema.OpReverseIP, "192.0.2.0/24"}, {schema.OpReverseIP, "2001:db8::/32"},
			{schema.OpNSReverse, "ns1.example.net"}, {schema.OpMXReverse, "mail.example.com"},
		} {
			subj, err := schema.ParseSubject(q.subj)
			if err != nil {
				t.Fatal(err)
			}
			p.Query(context.Background(), schema.Query{Provider: "file", Op: q.op, Subject: subj})
		}
	})
}

// FuzzBlockDecode feeds arbitrary bytes to the block decoder as a block
// that passed its CRC: a hostile or damaged index file whose checksums
// were forged gets an error, never a panic or a huge allocation.
func FuzzBlockDecode(f *testing.F) {
	var e blockEnc
	e.addF(&fent{rname: []byte("moc.elpmaxe.www"), typ: 1, value: []byte("ns1.host-dns.net"), first: 10, last: 20, count: 2})
	e.addF(&fent{rname: []byte("moc.elpmaxe.www"), typ: 1, value: []byte("ns2.host-dns.net"), first: 10, last: 20, count: 2})
	e.addF(&fent{rname: []byte("moc.elpmaxe.xxx"), typ: 0, value: []byte("192.0.2.1"), first: 30, last: 30})
	f.Add(bytes.Clone(e.buf), false)
	var r blockEnc
	r.addR(&rent{key: appendKey(nil, []byte("ns1.host-dns.net")), rname: []byte("moc.elpmaxe.www"), typ: 1, value: []byte("ns1.host-dns.net")})
	r.addR(&rent{key: appendKey(nil, []byte("192.0.2.1")), rname: []byte("moc.elpmaxe.xxx"), typ: 0, value: []byte("192.0.2.1"), first: 5})
	f.Add(bytes.Clone(r.buf), true)
	f.Fuzz(func(t *testing.T, b []byte, reverse bool) {
		d := blockDec{b: b}
		for n := 0; d.more() && n <= len(b); n++ {
			if reverse {
				var x rent
				if !d.nextR(&x, 4) {
					break
				}
			} else {
				var x fent
				if !d.nextF(&x, 4) {
					break
				}
			}
		}
	})
}
