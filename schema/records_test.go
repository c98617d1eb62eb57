package schema

import (
	"testing"
	"unicode/utf8"
)

func TestNormalizeValue(t *testing.T) {
	tests := []struct{ rrtype, in, want string }{
		{"A", " 203.0.113.10 ", "203.0.113.10"},
		{"A", "::ffff:203.0.113.10", "203.0.113.10"},
		{"AAAA", "2001:DB8:0::1", "2001:db8::1"},
		{"CNAME", "WWW.Example.COM.", "www.example.com"},
		// An MX record is its exchange: sources that know the preference
		// and sources that do not (mx_reverse lists) give one finding.
		{"MX", "10 MX1.Example.com.", "mx1.example.com"},
		{"MX", "mx1.example.com", "mx1.example.com"},
		{"MX", "65535\tmx1.example.com", "mx1.example.com"},
		{"MX", "0 .", "."}, // a null MX (RFC 7505): the domain takes no mail
		{"MX", ".", "."},
		{"MX", " ", ""},
		// Not a preference: left for the record check to refuse.
		{"MX", "-5 mx1.example.com", "-5 mx1.example.com"},
		{"MX", "99999999999 mx1.example.com", "99999999999 mx1.example.com"},
		{"TXT", `"v=spf1 " "-all"`, "v=spf1 -all"},
		{"TXT", `"a\"b\059"`, `a"b;`},
		{"TXT", "plain text", "plain text"},
		{"host", "*.Sub.Example.com", "*.sub.example.com"}, // a wildcard name keeps its label
		{"SOA", "NS1.Example.com. Hostmaster.Example.com. 2024010101 7200 3600 1209600 300", "ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300"},
		{"SOA", "hostmaster.example.net", "hostmaster.example.net"},
		{"SRV", "10 60 5060 SIP.Example.com.", "10 60 5060 sip.example.com"},
		{"SRV", "0 0 0 .", "0 0 0 ."},
		{"TXT", `"a\027[2Jb"`, `a\027[2Jb`},
		{"TXT", "x\x1b]0;t\x07y", `x\027]0;t\007y`},
		{"TXT", "line1\nline2\x7f\u009b", `line1\010line2\127\194\155`},
		{"CNAME", "a\x00.Example.", `a\000.example`},
		{"TXT", "caf\xc3\xa9 \xff", `café \255`},
	}
	for _, tt := range tests {
		got := NormalizeValue(tt.rrtype, tt.in)
		if got != tt.want {
			t.Errorf("NormalizeValue(%s, %q) = %q, want %q", tt.rrtype, tt.in, got, tt.want)
		}
		if again := NormalizeValue(tt.rrtype, got); again != got {
			t.Errorf("NormalizeValue(%s, %q) is not stable: %q then %q", tt.rrtype, tt.in, got, again)
		}
	}
}

func TestParseSubject(t *testing.T) {
	tests := []struct {
		in       string
		kind     SubjectKind
		want     string
		wantFail bool
	}{
		{in: "Acme.Example.", kind: SubjectDomain, want: "acme.example"},
		{in: "203.0.113.7", kind: SubjectIP, want: "203.0.113.7"},
		{in: "203.0.113.7/24", kind: SubjectCIDR, want: "203.0.113.0/24"},
		{in: "2001:db8::/32", kind: SubjectCIDR, want: "2001:db8::/32"},
		{in: "localhost", wantFail: true},
		{in: "bad_label-.example", wantFail: true},
		{in: "", wantFail: true},
		{in: "10.0.0.0/33", wantFail: true},
	}
	for _, tt := range tests {
		got, err := ParseSubject(tt.in)
		if tt.wantFail {
			if err == nil {
				t.Errorf("ParseSubject(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got.Kind != tt.kind || got.Value != tt.want {
			t.Errorf("ParseSubject(%q) = %v, %v; want %s %s", tt.in, got, err, tt.kind, tt.want)
		}
	}
}

// FuzzNewFinding checks that normalising a vendor's record never panics
// and that a normalised finding normalises to itself: the report and
// state commands normalise again, and a finding must keep its identity.
func FuzzNewFinding(f *testing.F) {
	f.Add("WWW.Example.COM.", "cname", "Target.Example.")
	f.Add("*.a.example", "MX", "10 MX1.Example.com.")
	f.Add("a.example", "MX", "0 .")
	f.Add("a.example", "TXT", `"v=spf1 " "-all"`)
	f.Add("a.example", "A", "::ffff:192.0.2.1")
	f.Add("a..", "NS", "*.*.b.example..")
	f.Fuzz(func(t *testing.T, name, rrtype, value string) {
		if s, err := ParseSubject(name); err == nil {
			if again, err := ParseSubject(s.Value); err != nil || again != s {
				t.Fatalf("ParseSubject(%q) = %+v, re-parsed: %+v, %v", name, s, again, err)
			}
		}
		first := NewFinding(name, rrtype, value)
		for i := 0; i < len(first.Value); {
			r, size := utf8.DecodeRuneInString(first.Value[i:])
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError && size == 1 {
				t.Fatalf("value %q keeps the control or invalid byte at %d", first.Value, i)
			}
			i += size
		}
		second := NewFinding(first.Name, first.Type, first.Value)
		if second.Name != first.Name || second.Type != first.Type {
			t.Fatalf("name/type not stable: %q %q -> %q %q", first.Name, first.Type, second.Name, second.Type)
		}
		if second.Value != first.Value {
			t.Fatalf("%s value not stable: %q -> %q", first.Type, first.Value, second.Value)
		}
	})
}

// TestNormalizeValueIdempotent: a normalised value normalises to itself,
// for the values that once did not: presentation-format TXT whose text
// starts with a quote, or starts or ends with spaces, or holds escapes.
// The state, the report and the file provider's index normalise again,
// and a finding must keep its identity.
func TestNormalizeValueIdempotent(t *testing.T) {
	tests := []struct{ rrtype, in, want string }{
		{"TXT", `"\" 0"`, `"\" 0"`},             // a text that starts with a quote stays quoted
		{"TXT", `"\"quoted\""`, `"\"quoted\""`}, // and so does one that is wholly quoted
		{"TXT", `" \"x"`, `" \"x"`},             // or starts with a quote after spaces
		{"TXT", `" leading"`, " leading"},       // a text's spaces are data: kept
		{"TXT", `"trailing "`, "trailing "},
		{"TXT", `"v=spf1 -all "`, "v=spf1 -all "},
		{"TXT", `"a" " b "`, "a b "},
		{"TXT", "plain ", "plain "}, // a plain text is kept as it is
		{"TXT", ` "v=spf1 -all" `, "v=spf1 -all"},
		{"TXT", `"back\\slash \\123"`, `back\slash \123`},
		{"TXT", `"\"a\\b\009"`, `"\"a\\b\009"`},
		{"TXT", "\"\\\"\x01\"", `"\"\001"`},
		{"TXT", `"\t\"x"`, `t"x`},              // \t is a t
		{"TXT", "\"\\009\\\"x\"", `"\009\"x"`}, // a tab, then a quote
		{"TXT", "\"\u0085\\\"x\"", `"\194\133\"x"`},
		{"TXT", `"\001\"x"`, `\001"x`},
		{"TXT", `""`, ""},
		{"TXT", `"unterminated`, "unterminated"},
		{"TXT", `"\999"`, `\231`},
		{"SPF", `"\" 0"`, `"\" 0"`},
		{"SPF", `"v=spf1 " "-all"`, "v=spf1 -all"},
	}
	for _, tt := range tests {
		got := NormalizeValue(tt.rrtype, tt.in)
		if got != tt.want {
			t.Errorf("NormalizeValue(%s, %q) = %q, want %q", tt.rrtype, tt.in, got, tt.want)
		}
		for i, v := 0, got; i < 3; i++ {
			if again := NormalizeValue(tt.rrtype, v); again != got {
				t.Errorf("NormalizeValue(%s, %q) = %q, normalised again %d times: %q", tt.rrtype, tt.in, got, i+1, again)
				break
			}
		}
	}
}

// rrTypes are the types FuzzNormalizeValue normalises every input as:
// every type a query may ask for, in either case, and types reconform
// does not know.
var rrTypes = append(append([]string(nil), knownRRTypes...), "txt", "mx", "Cname", "TYPE65534", "")

// FuzzNormalizeValue: for every record type, normalising a normalised
// value gives it back.
func FuzzNormalizeValue(f *testing.F) {
	for _, v := range []string{`"\" 0"`, `" leading"`, `"trailing "`, `"a" "b\"c"`, "10 MX.Example.", "0 .", "::ffff:192.0.2.1",
		"NS1.Example. Host.Example. 1 2 3 4 5", "10 5 443 Sip.Example.", "x\x1b]0;t\x07y", "caf\xc3\xa9 \xff", `"\999"`, " \t\"x"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, rrtype := range rrTypes {
			once := NormalizeValue(rrtype, value)
			if twice := NormalizeValue(rrtype, once); twice != once {
				t.Fatalf("%s %q: normalised %q, then %q", rrtype, value, once, twice)
			}
		}
	})
}
