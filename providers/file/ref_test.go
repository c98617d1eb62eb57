package file

// The implementations the hand-written fast paths replaced, kept as the
// reference the differential tests and fuzz targets (fastpath_test.go)
// compare the new ones with, and the baseline of their benchmarks.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"strconv"
	"testing"
	"unicode/utf8"
)

func refParseIPv4(b []byte) (uint32, bool) {
	if len(b) < 7 || len(b) > 15 {
		return 0, false
	}
	var addr, n uint32
	parts, digits := 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || n > 255 || (digits > 1 && b[i-digits] == '0') {
				return 0, false
			}
			addr = addr<<8 | n
			parts++
			n, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' || digits == 3 {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
		digits++
	}
	return addr, parts == 4
}

func refNormName(b []byte) ([]byte, error) {
	for {
		t := bytes.TrimSuffix(bytes.TrimSpace(b), []byte("."))
		if len(t) == len(b) {
			break
		}
		b = t
	}
	unicode := false
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c <= ' ' || c == 0x7f:
			return nil, errBadName
		case c >= 0x80:
			unicode = true
		}
	}
	if unicode {
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || r >= 0x80 && r < 0xa0 {
				return nil, errBadName
			}
			i += size
		}
		b = bytes.ToLower(b)
	}
	if len(b) == 0 {
		return nil, errBadName
	}
	return b, nil
}

func refSonarFields(line []byte) (f [4][]byte, ok bool) {
	rest := line
	for i, key := range sonarKeys {
		if len(rest) < len(key) || string(rest[:len(key)]) != key {
			return f, false
		}
		rest = rest[len(key):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			return f, false
		}
		f[i] = rest[:end]
		if bytes.IndexByte(f[i], '\\') >= 0 {
			return f, false
		}
		for _, c := range f[i] {
			if c < 0x20 {
				return f, false
			}
		}
		rest = rest[end:]
	}
	tail := rest[1:]
	if len(tail) == 0 || tail[0] != '}' || len(bytes.TrimSpace(tail[1:])) != 0 {
		return f, false
	}
	return f, true
}

func refCommonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && binary.LittleEndian.Uint64(a[i:]) == binary.LittleEndian.Uint64(b[i:]) {
		i += 8
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

func refSplitFields(line []byte) (f [][]byte, special bool) {
	return refSplitFieldsInto(nil, line)
}

func refSafeName(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '*', c == '/':
		case c == '@' && len(b) == 1:
		default:
			return false
		}
	}
	return len(b) > 0
}

func refCanonUint(b []byte, bits int) bool {
	n, err := strconv.ParseUint(string(b), 10, bits)
	return err == nil && strconv.FormatUint(n, 10) == string(b)
}

func refHashBytes(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// refUnescapeJSON is what jsonString did with every escaped string.
func refUnescapeJSON(val []byte) ([]byte, error) {
	var s string
	if err := json.Unmarshal(val, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// refNormTXT is normTXT before its fast path for one quoted string.
func refNormTXT(rrtype string, b []byte) ([]byte, error) { return normTXTText(rrtype, b) }

// checkValueFastPaths holds unescapeJSON, normTXT and oneField to their
// references on a.
func checkValueFastPaths(t *testing.T, a []byte) {
	t.Helper()
	quoted := append(append([]byte{'"'}, a...), '"')
	for _, v := range [][]byte{a, quoted} {
		if got, ok := unescapeJSON(v); ok {
			if want, err := refUnescapeJSON(v); err != nil || string(got) != string(want) {
				t.Fatalf("unescapeJSON(%q) = %q; json.Unmarshal %q, %v", v, got, want, err)
			}
		}
		got, err := normTXT("TXT", bytes.Clone(v))
		want, werr := refNormTXT("TXT", bytes.Clone(v))
		if string(got) != string(want) || (err == nil) != (werr == nil) {
			t.Fatalf("normTXT(%q) = %q, %v; reference %q, %v", v, got, err, want, werr)
		}
	}
	if oneField(a) != (len(bytes.Fields(a)) == 1) {
		t.Fatalf("oneField(%q) = %v", a, oneField(a))
	}
	checkIPv6(t, a)
}

// checkIPv6 holds canonicalIPv6 to netip: it must say yes exactly for the
// canonical text of an address that is not IPv4-mapped.
func checkIPv6(t *testing.T, a []byte) {
	t.Helper()
	ip, ok := canonicalIPv6(a)
	want, err := netip.ParseAddr(string(a))
	canonical := err == nil && want.Is6() && want.Zone() == "" && !want.Is4In6() && want.String() == string(a)
	if ok != canonical || ok && ip != want.As16() {
		t.Fatalf("canonicalIPv6(%q) = %x, %v; netip: canonical %v", a, ip, ok, canonical)
	}
	if err == nil && want.Is6() && !want.Is4In6() {
		if got := appendIPv6(nil, want.As16()); string(got) != want.WithZone("").String() {
			t.Fatalf("appendIPv6(%v) = %q", want, got)
		}
	}
}
