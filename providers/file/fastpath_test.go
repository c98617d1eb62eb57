package file

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// The hand-written fast paths must accept and reject exactly what the
// implementations they replaced did (ref_test.go): these table tests and
// differential fuzz targets check it, and the benchmarks compare them.

func TestParseIPv4MatchesReference(t *testing.T) {
	for _, s := range []string{
		"0.0.0.0", "1.2.3.4", "255.255.255.255", "192.0.2.1", "10.0.0.10", "100.200.250.255",
		"256.1.1.1", "1.1.1.256", "999.1.1.1", "300.0.0.0", "01.2.3.4", "1.02.3.4", "1.2.3.00", "00.0.0.0",
		"1.2.3.4.", ".1.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n",
		"1.2.3.-4", "+1.2.3.4", "1.2.3.4a", "a.b.c.d", "::ffff:1.2.3.4", "1.2.3.4/24", "1.2.3.4%eth0",
		"1234.1.1.1", "1.1.1.1234", "1.2.3.04", "0.0.0.00", "255.255.255.2555", "1.2.3.4:80", "", "1.2.3.4.5.6.7.8",
		"1.2.3.0", "1.2.3.09", "1.2.3.0x", "١.٢.٣.٤",
	} {
		a, ok := parseIPv4([]byte(s))
		ra, rok := refParseIPv4([]byte(s))
		if ok != rok || ok && a != ra {
			t.Errorf("%q: %v %v, reference %v %v", s, a, ok, ra, rok)
		}
		// The rule the reference implements: a canonical dotted quad.
		ip, err := netip.ParseAddr(s)
		canon := err == nil && ip.Is4() && ip.String() == s
		if ok != canon {
			t.Errorf("%q: accepted %v, canonical IPv4 %v", s, ok, canon)
		}
	}
}

func FuzzParseIPv4(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "01.2.3.4", "256.0.0.1", "1.2.3.4.", "::ffff:1.2.3.4"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := parseIPv4(b)
		ra, rok := refParseIPv4(b)
		if ok != rok || ok && a != ra {
			t.Fatalf("%q: %v %v, reference %v %v", b, a, ok, ra, rok)
		}
	})
}

func TestFastPathsMatchReference(t *testing.T) {
	names := []string{"www.example.com", "www.example.com.", "WWW.Example.COM.", "a.", "a..", ".", "..", "x", "x.",
		" a.b ", "a.b. ", "a.b .", " .", "\ta.b.\t.", "a\u00a0", "\u00a0a.", "a.\u0085", "ÉCOLE.example.", "caf\xff.example",
		"x\u0085.example", "a b", "a\x7f", "*.Example.", "a.\n", "\u2000a.b.\u2000", ""}
	for _, n := range names {
		got, err := normName([]byte(n))
		want, werr := refNormName([]byte(n))
		if string(got) != string(want) || (err == nil) != (werr == nil) {
			t.Errorf("normName(%q) = %q, %v; reference %q, %v", n, got, err, want, werr)
		}
		if a, b := trimSpace([]byte(n)), bytes.TrimSpace([]byte(n)); string(a) != string(b) {
			t.Errorf("trimSpace(%q) = %q, bytes.TrimSpace %q", n, a, b)
		}
		if safeName([]byte(n)) != refSafeName([]byte(n)) {
			t.Errorf("safeName(%q) differs", n)
		}
	}
	for _, n := range []string{"@", "@@", "a@b", "a-b_c/d*e.f", "a~b"} {
		if safeName([]byte(n)) != refSafeName([]byte(n)) {
			t.Errorf("safeName(%q) differs", n)
		}
	}
	for _, l := range []string{
		`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"}`,
		`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"}  `,
		`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"}x`,
		`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"`,
		`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1}`,
		`{"timestamp":"1","name":"a\"x","type":"a","value":"192.0.2.1"}`,
		"{\"timestamp\":\"1\",\"name\":\"a\x01\",\"type\":\"a\",\"value\":\"192.0.2.1\"}",
		"{\"timestamp\":\"1\",\"name\":\"a\xff\x7f\",\"type\":\"a\",\"value\":\"192.0.2.1\"}\r",
		`{"timestamp":"1","name":"","type":"","value":""}`,
		`{"name":"a","timestamp":"1","type":"a","value":"192.0.2.1"}`,
	} {
		f, ok := sonarFields([]byte(l))
		rf, rok := refSonarFields([]byte(l))
		if ok != rok || ok && fmt.Sprint(f) != fmt.Sprint(rf) {
			t.Errorf("sonarFields(%q) = %q %v; reference %q %v", l, f, ok, rf, rok)
		}
	}
	for _, l := range []string{"a.\t3600\tin\tns\tb.", "  a  b\t\tc ", "a \"b c\"", "a;b", "(a)", `a\b`, "", " ", "\t", "a\x00b \xffc",
		"@ ns a@b", "x.example. 3600 in ns ns1.host_1.example.", "a+b c=d *.x /y -z", strings.Repeat("a ", 70) + "b@ c"} {
		checkSplit(t, []byte(l))
	}
	for _, p := range [][2]string{{"", ""}, {"a", "b"}, {"abc", "abd"}, {"abcd", "abcd"}, {"abcde", "abcdf"}, {"abcdefg", "abcdefh"},
		{"abcdefgh", "abcdefgh"}, {"abcdefghi", "abcdefghj"}, {"abcdefghijklmnop", "abcdefghijklmnoq"}, {"abcdefghijk", "abcdefghijkl"}, {"4\x01\x02\x03\x04", "4\x01\x02\x03\x05"}} {
		checkPrefix(t, []byte(p[0]), []byte(p[1]))
	}
	for _, n := range []string{"0", "00", "01", "1", "255", "256", "65535", "65536", "4294967295", "4294967296", "18446744073709551615",
		"18446744073709551616", "99999999999999999999", "", "+1", "-1", "1_0", "0x10", " 1", "1 ", "١"} {
		for _, bits := range []int{8, 16, 32, 64} {
			if canonUint([]byte(n), bits) != refCanonUint([]byte(n), bits) {
				t.Errorf("canonUint(%q, %d) = %v", n, bits, canonUint([]byte(n), bits))
			}
		}
	}
	for _, v := range []string{`v=spf1 include:_spf.google.com ~all`, `\"v=spf1 ~all\"`, `\"a\" \"b\"`, `\u0041`, `a\/b\n\t\r\b\f`, `\x`, `\`, `"`, ``, ` `,
		`\"  \"`, `\" a \"`, "é", "\x01", "\xff", `\"\\065\"`, "10 mx.example", " mx ", "a\u00a0b", "a\u0085", "\u00a0a", "a\vb", "\f"} {
		checkValueFastPaths(t, []byte(v))
	}
	for _, p := range []string{"31711dadfdb430c8c842c38d", "ABCdef", "ünï", "\xff", "a{z`Z@", "abcdefghijklmnopqrstuvwxyz{|}~`@[]^_", "0123456789abcdefABCDEF\x7f\x00 zz", "abcdefgh\xc3\xa9"} {
		if got, want := appendUpper([]byte("x"), []byte(p)), append([]byte("x"), bytes.ToUpper([]byte(p))...); string(got) != string(want) {
			t.Errorf("appendUpper(%q) = %q, want %q", p, got, want)
		}
	}
}

func checkSplit(t *testing.T, line []byte) {
	t.Helper()
	var z zoneState
	f, sp := z.splitFields(line)
	rf, rsp := refSplitFields(line)
	if sp != rsp || len(f) != len(rf) {
		t.Fatalf("splitFields(%q) = %q %v; reference %q %v", line, f, sp, rf, rsp)
	}
	for i := range f {
		if !bytes.Equal(f[i], rf[i]) {
			t.Fatalf("splitFields(%q) = %q; reference %q", line, f, rf)
		}
		if z.safeField(i) != refSafeName(f[i]) {
			t.Fatalf("splitFields(%q): safeField(%d) = %v for %q", line, i, z.safeField(i), f[i])
		}
		if z.lowerField(i) {
			// A lower field's normal form is itself without its trailing dot.
			n, err := refNormName(bytes.Clone(f[i]))
			if !refSafeName(f[i]) || string(f[i]) == "@" || err == nil && string(n) != string(trimName(f[i])) {
				t.Fatalf("splitFields(%q): lowerField(%d) for %q", line, i, f[i])
			}
		}
	}
}

func checkPrefix(t *testing.T, a, b []byte) {
	t.Helper()
	if got, want := commonPrefix(a, b), refCommonPrefix(a, b); got != want {
		t.Fatalf("commonPrefix(%q, %q) = %d, want %d", a, b, got, want)
	}
	if got, want := commonPrefix(b, a), refCommonPrefix(b, a); got != want {
		t.Fatalf("commonPrefix(%q, %q) = %d, want %d", b, a, got, want)
	}
	// The common suffix is the common prefix of the reversed strings.
	ra, rb := reverseInto(nil, a), reverseInto(nil, b)
	if got, want := commonSuffix(a, b), refCommonPrefix(ra, rb); got != want {
		t.Fatalf("commonSuffix(%q, %q) = %d, want %d", a, b, got, want)
	}
	// A value coded against the previous one decodes to itself.
	d := blockDec{b: appendValue(nil, a, b), prevValue: bytes.Clone(a)}
	if d.readValue(); d.err != nil || !bytes.Equal(d.value, b) || d.more() {
		t.Fatalf("appendValue(prev %q, %q) decodes to %q (%v)", a, b, d.value, d.err)
	}
}

// FuzzFastPaths: normName, trimSpace, safeName, sonarFields, splitFields,
// commonPrefix, commonSuffix, appendValue and appendUpper agree with the reference implementations.
func FuzzFastPaths(f *testing.F) {
	f.Add([]byte("WWW.Example.COM."), []byte("www.example.org"))
	f.Add([]byte(`{"timestamp":"1","name":"a.example","type":"a","value":"192.0.2.1"}`), []byte("a"))
	f.Add([]byte("a.\t3600\tin\tns\tb."), []byte("a.\t3600\tin\tns\tc."))
	f.Add([]byte(" a.b. \u00a0"), []byte("\xff"))
	f.Add([]byte("2001:db8::1:0:0:1"), []byte("::ffff:1.2.3.4"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		got, err := normName(bytes.Clone(a))
		want, werr := refNormName(bytes.Clone(a))
		if string(got) != string(want) || (err == nil) != (werr == nil) {
			t.Fatalf("normName(%q) = %q, %v; reference %q, %v", a, got, err, want, werr)
		}
		if x, y := trimSpace(a), bytes.TrimSpace(a); string(x) != string(y) {
			t.Fatalf("trimSpace(%q) = %q, bytes.TrimSpace %q", a, x, y)
		}
		if safeName(a) != refSafeName(a) {
			t.Fatalf("safeName(%q) differs", a)
		}
		fs, ok := sonarFields(a)
		rfs, rok := refSonarFields(a)
		if ok != rok || ok && fmt.Sprint(fs) != fmt.Sprint(rfs) {
			t.Fatalf("sonarFields(%q) = %q %v; reference %q %v", a, fs, ok, rfs, rok)
		}
		checkSplit(t, a)
		checkPrefix(t, a, b)
		for _, bits := range []int{8, 16, 32, 64} {
			if canonUint(a, bits) != refCanonUint(a, bits) {
				t.Fatalf("canonUint(%q, %d) = %v", a, bits, canonUint(a, bits))
			}
		}
		checkValueFastPaths(t, a)
		if x, y := appendUpper(nil, a), bytes.ToUpper(a); string(x) != string(y) {
			t.Fatalf("appendUpper(%q) = %q, bytes.ToUpper %q", a, x, y)
		}
	})
}

// Benchmarks of each fast path and of the implementation it replaced, on
// values in the shapes of FDNS and CZDS data: go test -run x -bench
// 'Fast|Ref' ./providers/file/
var (
	// FDNS's mix: mostly addresses of every length, some other values.
	benchIPs = func() (v [][]byte) {
		for i := uint32(0); i < 4096; i++ {
			switch a := i * 2654435761; i % 8 {
			case 0:
				v = append(v, []byte(fmt.Sprintf("edge-%d.cdn-provider.net", i)))
			case 1:
				v = append(v, []byte(fmt.Sprintf("2001:db8:%x::c000", i)))
			default:
				v = append(v, appendIPv4(nil, a))
			}
		}
		return v
	}()
	benchNames = [][]byte{[]byte("git16.vector-7bov.io"), []byte("www68.stone-6djq.net"), []byte("bhzdvxfhptag.example."),
		[]byte("ns1.host17-dns.net."), []byte("Mail.Stone-ai9y.NET"), []byte("staging.acme-9zw0.example")}
	benchFDNS = [][]byte{
		[]byte(`{"timestamp":"1717589749","name":"git16.vector-7bov.io","type":"a","value":"29.35.224.174"}`),
		[]byte(`{"timestamp":"1717306358","name":"staging.acme-9zw0.example","type":"cname","value":"edge-1729.cdn-provider.net"}`),
		[]byte(`{"timestamp":"1717553641","name":"static46.acme-9fts.de","type":"aaaa","value":"2001:db8:ab01::c000"}`),
	}
	benchZone = [][]byte{[]byte("bhzdvxfhptag.example.\t172800\tin\tns\tns1.host17-dns.net."),
		[]byte("aaaa.example.\t86400\tin\tds\t48692 13 2 31711dadfdb430c8c842c38d35cb78164f81f32b34e1aee6f0fd1de1f3300a41"),
		[]byte("bhzev.example.\t172800\tin\tns\tns3.host1-dns.net.")}
	benchKeys = [][]byte{[]byte("4\x1d\x23\xe0\xae"), []byte("4\x1d\x23\xe1\x01"), []byte("nten.snd-71tsoh.1sn"), []byte("nten.snd-71tsoh.2sn"),
		[]byte("moc.elpmaxe.www"), []byte("moc.elpmaxe.liam"), []byte("elpmaxe.9wz0-emca.gnigats"), []byte("elpmaxe.9wz0-emca.gnigats")}
)

var sinkU32 uint32
var sinkInt int
var sinkBool bool

func BenchmarkFastParseIPv4(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a, _ := parseIPv4(benchIPs[i%len(benchIPs)])
		sinkU32 += a
	}
}

func BenchmarkRefParseIPv4(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a, _ := refParseIPv4(benchIPs[i%len(benchIPs)])
		sinkU32 += a
	}
}

func benchNormName(b *testing.B, norm func([]byte) ([]byte, error)) {
	buf := make([]byte, 64)
	for i := 0; i < b.N; i++ {
		n := benchNames[i%len(benchNames)]
		v, _ := norm(append(buf[:0], n...))
		sinkInt += len(v)
	}
}

func BenchmarkFastNormName(b *testing.B) { benchNormName(b, normName) }
func BenchmarkRefNormName(b *testing.B)  { benchNormName(b, refNormName) }

func BenchmarkFastSonarFields(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, _ := sonarFields(benchFDNS[i%len(benchFDNS)])
		sinkInt += len(f[3])
	}
}

func BenchmarkRefSonarFields(b *testing.B) {
	for i := 0; i < b.N; i++ {
		f, _ := refSonarFields(benchFDNS[i%len(benchFDNS)])
		sinkInt += len(f[3])
	}
}

func BenchmarkFastSplitFields(b *testing.B) {
	var z zoneState
	for i := 0; i < b.N; i++ {
		f, _ := z.splitFields(benchZone[i%len(benchZone)])
		sinkInt += len(f)
	}
}

func BenchmarkRefSplitFields(b *testing.B) {
	var z zoneState
	for i := 0; i < b.N; i++ {
		// the reference allocates its slice: give it z.fields as the new
		// code does, to compare the scanning alone.
		f, _ := refSplitFieldsInto(z.fields[:0], benchZone[i%len(benchZone)])
		z.fields = f
		sinkInt += len(f)
	}
}

func refSplitFieldsInto(f [][]byte, line []byte) ([][]byte, bool) {
	special := false
	i, n := 0, len(line)
	for i < n {
		for i < n && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		start := i
		for ; i < n; i++ {
			c := line[i]
			if c <= '\\' {
				if c == ' ' || c == '\t' {
					break
				}
				if c == '"' || c == ';' || c == '(' || c == ')' || c == '\\' {
					special = true
				}
			}
		}
		if i > start {
			f = append(f, line[start:i])
		}
	}
	return f, special
}

func BenchmarkFastSafeName(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sinkBool = safeName(benchNames[i%len(benchNames)])
	}
}

func BenchmarkRefSafeName(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sinkBool = refSafeName(benchNames[i%len(benchNames)])
	}
}

// sortedKeys returns front-coding's input: the sorted reversed names and
// reverse keys of generated FDNS-shaped records, as a table writer sees
// them.
func sortedKeys() [][]byte {
	var names, keys [][]byte
	for i := 0; i < 4096; i++ {
		name := fmt.Sprintf("%s%d.%s-%04x.%s", []string{"www", "mail", "git", "vpn", "static"}[i%5], i%70, []string{"stone", "acme", "river", "ember"}[i%4], i*7919%65536, []string{"com", "net", "io", "example"}[i%4])
		for r := 0; r < 1+i%3; r++ {
			names = append(names, reverseInto(nil, []byte(name)))
		}
		ip := uint32(i) * 2654435761
		keys = append(keys, appendKey(nil, appendIPv4(nil, ip)))
		if i%5 == 0 {
			keys = append(keys, appendKey(nil, []byte(fmt.Sprintf("ns%d.host%d-dns.net", i%3, i%997))))
		}
	}
	slices.SortFunc(names, bytes.Compare)
	slices.SortFunc(keys, bytes.Compare)
	return append(names, keys...)
}

func benchCommonPrefix(b *testing.B, cp func(a, b []byte) int) {
	k := sortedKeys()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % (len(k) - 1)
		sinkInt += cp(k[j], k[j+1])
	}
}

func BenchmarkFastCommonPrefix(b *testing.B) { benchCommonPrefix(b, commonPrefix) }
func BenchmarkRefCommonPrefix(b *testing.B)  { benchCommonPrefix(b, refCommonPrefix) }

func BenchmarkFastEmitFDNS(b *testing.B) {
	buf := make([]byte, 256)
	for i := 0; i < b.N; i++ {
		line := append(buf[:0], benchFDNS[i%len(benchFDNS)]...)
		_ = parseFDNSLine(line, func(n []byte, _ string, v []byte, _, _, _ int64) { sinkInt += len(n) + len(v) })
	}
}

func BenchmarkFastZoneLine(b *testing.B) {
	z := newZoneState(1, false)
	buf := make([]byte, 256)
	for i := 0; i < b.N; i++ {
		line := append(buf[:0], benchZone[i%len(benchZone)]...)
		_ = z.parseLine(line, func(n []byte, _ string, v []byte, _, _, _ int64) { sinkInt += len(n) + len(v) })
	}
}

// internNames is a run's names as the names goroutine interns them: a
// name per line, repeated on consecutive lines, some names seen again.
func internNames() [][]byte {
	var v [][]byte
	for i := 0; i < 1<<17; i++ {
		j := i * 7919 % (1 << 16)
		v = append(v, []byte(fmt.Sprintf("%s%d.%s-%04x.%s", []string{"www", "mail", "git", "vpn", "static"}[j%5], j%70, []string{"stone", "acme", "river", "ember"}[j%4], j, []string{"com", "net", "io", "example"}[j%4])))
	}
	return v
}

func BenchmarkFastHashBytes(b *testing.B) {
	v := internNames()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sinkU32 += hashBytes(v[i%len(v)])
	}
}

func BenchmarkRefHashBytes(b *testing.B) {
	v := internNames()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sinkU32 += refHashBytes(v[i%len(v)])
	}
}

// BenchmarkFastIntern: interning a run's worth of names into a table
// sized as the builder sizes it (ns per name).
func BenchmarkFastIntern(b *testing.B) {
	v := internNames()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := newStrtab(len(v) / 2)
		for _, n := range v {
			t.intern(n)
		}
		t.free()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(v)), "ns/name")
}

func TestHashSpreads(t *testing.T) {
	// Names that differ in one byte anywhere land in different slots of
	// a small table about as often as random hashes would.
	v := internNames()[:4096]
	seen := map[uint32]int{}
	for _, n := range v {
		seen[hashBytes(n)&1023]++
	}
	if len(seen) < 900 {
		t.Errorf("4096 names fill %d of 1024 slots", len(seen))
	}
}

func BenchmarkFastAppendUpper(b *testing.B) {
	p, dst := []byte("31711dadfdb430c8c842c38d35cb78164f81f32b34e1aee6f0fd1de1f3300a41"), []byte(nil)
	for i := 0; i < b.N; i++ {
		dst = appendUpper(dst[:0], p)
	}
}

func BenchmarkRefAppendUpper(b *testing.B) {
	p, dst := []byte("31711dadfdb430c8c842c38d35cb78164f81f32b34e1aee6f0fd1de1f3300a41"), []byte(nil)
	for i := 0; i < b.N; i++ {
		dst = append(dst[:0], bytes.ToUpper(p)...)
	}
}

// TestCanonicalIPv6MatchesNetip: crafted texts, then random addresses
// with runs of zero groups in their canonical text and in altered forms
// (uppercase, leading zeros, zeros not compressed, a run compressed that
// is not the first longest, IPv4-mapped and embedded forms).
func TestCanonicalIPv6MatchesNetip(t *testing.T) {
	for _, s := range []string{"::", "::1", "1::", "1::1", "::ffff:1.2.3.4", "::ffff:102:304", "::1.2.3.4", "::102:304", "0::1", "::0:1",
		"2001:db8::1", "2001:DB8::1", "2001:0db8::1", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "2001:db8:0:0:1::1",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6::7:8", "1:0:3:4:5:6:7:8",
		"1::3:4:5:6:7:8", "fe80::1%eth0", ":1::", "1:::2", "1::2::3", "1:", ":1", "1:2", "12345::", "g::", "::ffff:0:0", "64:ff9b::1.2.3.4",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:0:0:0:0:0:0:0", "::ffff", "::fffe:1:2", "1.2.3.4", "", ":", "::::"} {
		checkIPv6(t, []byte(s))
	}
	rng := uint64(1)
	next := func() uint64 { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng }
	for range 20000 {
		var ip [16]byte
		r := next()
		for g := range 8 {
			switch (r >> (2 * g)) & 3 {
			case 0, 1: // a zero group
			case 2:
				ip[2*g+1] = byte(next())
			default:
				ip[2*g], ip[2*g+1] = byte(next()), byte(next())
			}
		}
		if r>>20&7 == 0 {
			ip = [16]byte{10: 0xff, 11: 0xff, 12: byte(r), 13: byte(r >> 8), 14: byte(r >> 16), 15: byte(r >> 24)}
		}
		a := netip.AddrFrom16(ip)
		text := a.String()
		checkIPv6(t, []byte(text))
		checkIPv6(t, bytes.ToUpper([]byte(text)))
		full := a.StringExpanded()
		checkIPv6(t, []byte(full))
		var groups []string
		for g := range 8 {
			groups = append(groups, fmt.Sprintf("%x", uint16(ip[2*g])<<8|uint16(ip[2*g+1])))
		}
		for i := range 8 { // each run of zero groups compressed in turn
			j := i
			for j < 8 && groups[j] == "0" {
				j++
			}
			if j > i {
				alt := strings.Join(groups[:i], ":") + "::" + strings.Join(groups[j:], ":")
				checkIPv6(t, []byte(alt))
			}
		}
	}
}

// TestSkipLowerName puts every byte at every place of a lower-case name
// and compares with the byte-by-byte class test.
func TestSkipLowerName(t *testing.T) {
	for c := range 256 {
		lower := zoneByte[c] == zonePlain
		for at := range 20 {
			for _, n := range []int{at + 1, 20, 23} {
				line := bytes.Repeat([]byte("a"), n)
				line[at] = byte(c)
				want := at
				if lower {
					want = n
				}
				// The word-wise scan stops in the last word; the rest
				// is the caller's byte loop.
				got := skipLowerName(line, 0)
				for got < n && zoneByte[line[got]] == zonePlain {
					got++
				}
				if got != want || got > at && !lower {
					t.Fatalf("byte %#x at %d of %d: got %d, want %d", c, at, n, got, want)
				}
			}
		}
	}
}

// TestCommonLines: the lines commonLine takes, and the ones it leaves to
// the general path, give the library's records.
func TestCommonLines(t *testing.T) {
	for _, c := range []struct {
		line  string
		takes bool
	}{
		{"example.\t172800\tin\tns\ta.nic.example.", true},
		{"aabs-217.example.\t172800\tin\tns\tns1.host23-dns.net.", true},
		{"a_b.example.\t0\tin\tns\tns1.example.", true},
		{"www\t3600\tin\tns\tns1", true}, // relative, under the origin
		{"Example.\t172800\tin\tns\ta.nic.example.", false},
		{"example.\t172800\tIN\tNS\ta.nic.example.", false},
		{"example.\t1h\tin\tns\ta.nic.example.", false},
		{"example.\t172800\tin\tns\ta.nic.example. ", false},
		{"example.\t172800\tin\tns\ta.nic.example.\r", false},
		{"example. 172800 in ns a.nic.example.", false},
		{"example.\t172800\tin\tns\t", false},
		{"x.example.\t86400\tin\tnsec\tx2.example. NS DS RRSIG", true},
		{"x.example.\t86400\tin\trrsig\tDS 8 2 86400 20240615000000 20240601000000 43443 example. AbC+/=", true},
		{"x.example.\t86400\tin\tnsec3\t1 1 0 - 960E292E ns ds rrsig", true},
		{"example.\t86400\tin\tnsec3param\t1 0 0 -", true},
		{"x.example.\t86400\tin\trrsig\tDS 8 2 ( 86400", false},
		{"x.example.\t86400\tin\trrsig\tDS 8 2 86400 ; a comment", false},
		{"x.example.\t86400\tin\tnsecx\tfoo", false},
		{"x.example.\t86400\tin\tds\t22606 13 2 c282f28f", false},
		{"@\t172800\tin\tns\ta.nic.example.", false},
		{"\t172800\tin\tns\ta.nic.example.", false},
	} {
		z := newZoneState(1, false)
		z.origin = []byte("example.")
		if got := z.commonLine([]byte(c.line)) != lineOther; got != c.takes {
			t.Errorf("%q: taken %v, want %v", c.line, got, c.takes)
		}
		var fast, slow []string
		collect := func(out *[]string) emitFunc {
			return func(name []byte, rrtype string, value []byte, _, _, _ int64) {
				*out = append(*out, string(name)+" "+rrtype+" "+string(value))
			}
		}
		z = newZoneState(1, false)
		z.origin = []byte("example.")
		errFast := z.fast([]byte(c.line), collect(&fast))
		z = newZoneState(1, false)
		z.origin = []byte("example.")
		errSlow := z.slow([]byte(c.line), collect(&slow))
		if (errFast == nil) != (errSlow == nil) || !slices.Equal(fast, slow) {
			t.Errorf("%q: tokenizer %q (%v), library %q (%v)", c.line, fast, errFast, slow, errSlow)
		}
	}
}
