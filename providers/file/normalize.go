package file

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/miekg/dns"

	"github.com/reconform/reconform/schema"
)

// These helpers normalise names and values the way schema.NewFinding does,
// but on byte slices and, for the common cases, in place and without
// allocating: they run once per line of files with millions of lines. The
// tests check that they agree with schema.NormalizeName/NormalizeValue.

var errBadName = errors.New("invalid name")

// normName lower-cases a DNS name (in place when it is ASCII) and strips
// trailing dots, as schema.NormalizeName does; a leading "*." label is
// kept (the name of a wildcard record). Names with spaces, control
// characters or invalid UTF-8 are rejected: the engine's record check
// would refuse them.
func normName(b []byte) ([]byte, error) {
	b = trimName(b)
	unicode := false
	for i, c := range b {
		if k := nameByte[c]; k != nameOK {
			switch k {
			case nameUpper:
				b[i] = c + 'a' - 'A'
			case nameBad:
				return nil, errBadName
			default:
				unicode = true
			}
		}
	}
	if unicode {
		// An IDN in U-label form ("BÜCHER.example"): lower-case it as
		// schema.NormalizeName does, or "Ü" would stay upper case.
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || r >= 0x80 && r < 0xa0 {
				return nil, errBadName // invalid UTF-8 or a C1 control
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

// trimName strips white space around b and the dots at its end, in any
// mix. The common case, a name that starts with a plain byte and ends with
// one or with one dot after one, is decided from its ends.
func trimName(b []byte) []byte {
	if n := len(b); n >= 2 && plainEnd[b[0]] {
		if c := b[n-1]; plainEnd[c] && c != '.' {
			return b
		} else if c == '.' && plainEnd[b[n-2]] && b[n-2] != '.' {
			return b[:n-1]
		}
	}
	for {
		t := bytes.TrimSuffix(bytes.TrimSpace(b), []byte("."))
		if len(t) == len(b) {
			return b
		}
		b = t
	}
}

// trimSpace is bytes.TrimSpace, deciding the common case (no space at
// either end) without the call.
func trimSpace(b []byte) []byte {
	if n := len(b); n > 0 && plainEnd[b[0]] && plainEnd[b[n-1]] {
		return b
	}
	return bytes.TrimSpace(b)
}

// plainEnd marks the ASCII bytes that are not white space: bytes.TrimSpace
// keeps a slice that starts and ends with one as it is.
var plainEnd = func() (t [256]bool) {
	for c := 0; c < 0x80; c++ {
		t[c] = !(c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r')
	}
	return t
}()

// Classes of the bytes of a name, for normName.
const (
	nameOK    = iota // kept as it is
	nameUpper        // A-Z, lower-cased
	nameBad          // a space or a control character: the name is refused
	nameHigh         // part of a UTF-8 sequence
)

var nameByte = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'A' && c <= 'Z':
			t[c] = nameUpper
		case c <= ' ' || c == 0x7f:
			t[c] = nameBad
		case c >= 0x80:
			t[c] = nameHigh
		}
	}
	return t
}()

// plainText reports whether b is printable ASCII, which normalising
// never escapes.
func plainText(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// canonicalIPv6 reports whether b is the canonical text (RFC 5952, as
// netip formats it) of an IPv6 address that is not IPv4-mapped, and
// returns the address. Callers ask netip about the rest (IPv4-mapped
// forms, zones, text to normalise): it parses into a string and formats
// into another, which for every AAAA value, then again for its key, cost
// more than the rest of the value's normalising.
func canonicalIPv6(b []byte) (ip [16]byte, ok bool) {
	if len(b) < 2 || len(b) > 39 {
		return ip, false
	}
	ellipsis := -1 // the group the "::" stands before
	i, g := 0, 0
	if b[0] == ':' {
		if b[1] != ':' {
			return ip, false
		}
		ellipsis, i = 0, 2
	}
	for i < len(b) {
		if g == 8 {
			return ip, false
		}
		var v uint32
		n := 0
		for ; i < len(b) && n <= 4; i, n = i+1, n+1 {
			d := hexDigit(b[i])
			if d > 15 {
				break
			}
			v = v<<4 | uint32(d)
		}
		if n == 0 || n > 4 {
			return ip, false
		}
		ip[2*g], ip[2*g+1] = byte(v>>8), byte(v)
		g++
		if i == len(b) {
			break
		}
		if b[i] != ':' {
			return ip, false // a dot (an embedded IPv4 address), a zone, ...
		}
		i++
		if i < len(b) && b[i] == ':' {
			if ellipsis >= 0 {
				return ip, false
			}
			ellipsis = g
			i++
		} else if i == len(b) {
			return ip, false // a trailing single colon
		}
	}
	switch {
	case ellipsis >= 0 && g < 8:
		tail := ip[2*ellipsis : 2*g]
		copy(ip[16-len(tail):], tail)
		clear(ip[2*ellipsis : 16-len(tail)])
	case ellipsis >= 0 || g != 8:
		return ip, false
	}
	if [12]byte(ip[:12]) == [12]byte{10: 0xff, 11: 0xff} {
		return ip, false // netip writes these as ::ffff:a.b.c.d
	}
	var text [40]byte
	return ip, bytes.Equal(appendIPv6(text[:0], ip), b)
}

// hexDigit is c's value as a lowercase hex digit, or 0xff.
func hexDigit(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0xff
}

// appendIPv6 appends ip's RFC 5952 text as netip writes it for an address
// that is not IPv4-mapped: lowercase hex without leading zeros, the first
// longest run of two or more zero groups as "::".
func appendIPv6(dst []byte, ip [16]byte) []byte {
	zs, ze := -1, -1
	for i := 0; i < 8; {
		if ip[2*i]|ip[2*i+1] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && ip[2*j]|ip[2*j+1] == 0 {
			j++
		}
		if j-i >= 2 && j-i > ze-zs {
			zs, ze = i, j
		}
		i = j
	}
	const hex = "0123456789abcdef"
	for i := 0; i < 8; i++ {
		if i == zs {
			dst = append(dst, ':', ':')
			i = ze - 1
			continue
		}
		if i > 0 && i != ze {
			dst = append(dst, ':')
		}
		v := uint16(ip[2*i])<<8 | uint16(ip[2*i+1])
		started := false
		for sh := 12; sh >= 0; sh -= 4 {
			d := v >> sh & 0xf
			if d != 0 || started || sh == 0 {
				dst = append(dst, hex[d])
				started = true
			}
		}
	}
	return dst
}

// canonicalIPv4 reports whether b is an IPv4 address already in canonical
// dotted-quad form (no leading zeros), the common case in bulk data.
func canonicalIPv4(b []byte) bool {
	_, ok := parseIPv4(b)
	return ok
}

// parseIPv4 returns the address of a canonical dotted quad (no leading
// zeros, no sign, no space), in one pass with a branch per octet rather
// than per byte.
func parseIPv4(b []byte) (uint32, bool) {
	if len(b) < 7 || len(b) > 15 {
		return 0, false
	}
	var addr uint32
	i := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if i >= len(b) || b[i] != '.' {
				return 0, false
			}
			i++
		}
		if i >= len(b) {
			return 0, false
		}
		n := uint32(b[i] - '0')
		if n > 9 {
			return 0, false
		}
		i++
		if i < len(b) {
			if d := uint32(b[i] - '0'); d <= 9 {
				if n == 0 {
					return 0, false // a leading zero
				}
				n = n*10 + d
				i++
				if i < len(b) {
					if d := uint32(b[i] - '0'); d <= 9 {
						n = n*10 + d
						i++
						if n > 255 {
							return 0, false
						}
					}
				}
			}
		}
		addr = addr<<8 | n
	}
	if i != len(b) {
		return 0, false
	}
	return addr, true
}

// normValue normalises a record value for its type. scratch may be used
// for the result when it cannot be done in place.
func normValue(rrtype string, b []byte) ([]byte, error) {
	t := trimSpace(b)
	if len(t) == 0 {
		return nil, errors.New("empty value")
	}
	if rrtype == "TXT" || rrtype == "SPF" {
		return normTXT(rrtype, b)
	}
	b = t
	switch rrtype {
	case "A", "AAAA":
		if canonicalIPv4(b) {
			return b, nil
		}
		if _, ok := canonicalIPv6(b); ok {
			return b, nil
		}
		a, err := netip.ParseAddr(string(b))
		if err != nil {
			return nil, errors.New("invalid IP address in value")
		}
		if a.Zone() == "" {
			// What schema.NormalizeValue makes of it, without parsing
			// twice: the unmapped address's text (no control bytes).
			var tmp [48]byte
			if c := a.Unmap().AppendTo(tmp[:0]); !bytes.Equal(c, b) {
				return bytes.Clone(c), nil
			}
			return b, nil
		}
		return []byte(schema.NormalizeValue(rrtype, string(b))), nil // canonical, a zone's control bytes escaped
	case "CNAME", "NS", "PTR", "DNAME":
		return normName(b)
	case "MX":
		// The exchange host, as schema.MXHost makes it: the preference is
		// no part of an MX record's identity.
		if sp := bytes.IndexAny(b, " \t"); sp > 0 {
			if _, err := strconv.ParseUint(string(b[:sp]), 10, 16); err == nil {
				b = bytes.TrimSpace(b[sp+1:])
			}
		}
		if string(b) == "." {
			return b, nil // a null MX (RFC 7505): the domain takes no mail
		}
		if !oneField(b) {
			return nil, errBadName // no MX value: schema keeps the fields, a host has one
		}
		return normName(b)
	case "SOA", "SRV":
		return []byte(schema.NormalizeValue(rrtype, string(b))), nil
	}
	if !plainText(b) {
		return []byte(schema.NormalizeValue(rrtype, string(b))), nil // control bytes escaped
	}
	return b, nil
}

// normTXT normalises a TXT value as schema.NormalizeValue does: its
// text, nothing trimmed. Printable ASCII whose first non-space byte is not
// a quote, the common case, is that text already and is kept in place;
// presentation format, control bytes and other text take schema's path.
func normTXT(rrtype string, b []byte) ([]byte, error) {
	// One quoted string of printable text without quotes or escapes
	// inside, as most of FDNS's TXT values are: its text, as
	// schema.NormalizeValue makes it, without building strings.
	if n := len(b); n > 2 && b[0] == '"' && b[n-1] == '"' {
		inner, plain := b[1:n-1], true
		for _, c := range inner {
			if c < ' ' || c > '~' || c == '"' || c == '\\' {
				plain = false
				break
			}
		}
		if plain && len(trimSpace(inner)) > 0 {
			return inner, nil
		}
	}
	return normTXTText(rrtype, b)
}

// normTXTText is normTXT without its fast path for one quoted string:
// kept apart so that the fast path's differential test (ref_test.go) can
// hold it to this.
func normTXTText(rrtype string, b []byte) ([]byte, error) {
	plain, lead := true, true
	for _, c := range b {
		if c < ' ' || c > '~' || lead && c == '"' {
			plain = false
			break
		}
		lead = lead && c == ' '
	}
	if plain {
		return b, nil
	}
	if b = []byte(schema.NormalizeValue(rrtype, string(b))); len(bytes.TrimSpace(b)) == 0 {
		// `""` or `"  "`: no text, as a plain "  " is no value.
		return nil, errors.New("empty TXT value")
	}
	return b, nil
}

// oneField reports whether len(bytes.Fields(b)) == 1, without building
// the fields when b is ASCII.
func oneField(b []byte) bool {
	fields, in := 0, false
	for _, c := range b {
		if c >= 0x80 {
			return len(bytes.Fields(b)) == 1
		}
		sp := asciiSpace[c]
		if !sp && !in {
			fields++
		}
		in = !sp
	}
	return fields == 1
}

// asciiSpace are the bytes unicode.IsSpace holds to be space below 0x80.
var asciiSpace = [128]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// mxHost returns the host of a normalised MX value: the value itself
// since the preference is dropped; a value indexed by an older build
// ("10 mx.example") still gives its host.
func mxHost(v string) string {
	if sp := strings.IndexByte(v, ' '); sp >= 0 {
		return v[sp+1:]
	}
	return v
}

// typeName maps a record type as written in a file (any case, or a number
// as in RFC 3597) to its upper-case mnemonic. Common types do not allocate.
func typeName(b []byte) (string, error) {
	switch string(b) {
	case "a", "A":
		return "A", nil
	case "aaaa", "AAAA":
		return "AAAA", nil
	case "cname", "CNAME":
		return "CNAME", nil
	case "mx", "MX":
		return "MX", nil
	case "ns", "NS":
		return "NS", nil
	case "txt", "TXT":
		return "TXT", nil
	case "ptr", "PTR":
		return "PTR", nil
	case "soa", "SOA":
		return "SOA", nil
	}
	s := strings.ToUpper(strings.TrimSpace(string(b)))
	if s == "" || len(s) > 16 {
		return "", errors.New("invalid record type")
	}
	if n, err := strconv.ParseUint(s, 10, 16); err == nil {
		return typeNumber(n), nil
	}
	if num, ok := strings.CutPrefix(s, "TYPE"); ok {
		if n, err := strconv.ParseUint(num, 10, 16); err == nil {
			return typeNumber(n), nil
		}
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", errors.New("invalid record type")
		}
	}
	return s, nil
}

// typeNumber names a numeric record type: its mnemonic when there is one,
// else the RFC 3597 form TYPEn.
func typeNumber(n uint64) string {
	if name, ok := dns.TypeToString[uint16(n)]; ok && n > 0 && n <= 0xffff {
		return name
	}
	return "TYPE" + strconv.FormatUint(n, 10)
}

// looksLikeIP reports whether b is an IP address.
func looksLikeIP(b []byte) bool {
	if canonicalIPv4(b) {
		return true
	}
	if bytes.IndexByte(b, ':') < 0 && bytes.Count(b, []byte(".")) != 3 {
		return false
	}
	_, err := netip.ParseAddr(string(bytes.TrimSpace(b)))
	return err == nil
}

// nameTargetType reports whether a type's value is a host name that
// reverse lookups (ns_reverse, mx_reverse, CNAME targets) key on.
func nameTargetType(rrtype string) bool {
	switch rrtype {
	case "CNAME", "NS", "MX", "PTR", "DNAME":
		return true
	}
	return false
}
