package schema

import (
	"strings"
	"testing"
)

// A wildcard record (*.acme.example A 198.51.100.7, as DNSDB, CIRCL and
// Sonar report them) is a record of the wildcard name, not of the apex:
// normalising keeps the "*" label.
func TestNormalizeNameKeepsWildcard(t *testing.T) {
	for in, want := range map[string]string{
		"*.Acme.Example.":   "*.acme.example",
		" *.acme.example. ": "*.acme.example",
		"*.*.a.example":     "*.*.a.example", // kept as given: the record check refuses it
		"WWW.Acme.Example.": "www.acme.example",
		"a..":               "a",
		"a. .":              "a",
		"*.":                "*",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
		if again := NormalizeName(NormalizeName(in)); again != NormalizeName(in) {
			t.Errorf("NormalizeName(%q) not stable: %q", in, again)
		}
	}
	f := NewFinding("*.acme.example.", "A", "198.51.100.7")
	if f.ID() != "*.acme.example A 198.51.100.7" {
		t.Errorf("wildcard record: %s", f.ID())
	}
	if v := NormalizeValue("HOST", "*.Sub.Example.com"); v != "*.sub.example.com" {
		t.Errorf("HOST value %q", v)
	}
}

func TestWildcardNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wild   bool
		parent string
	}{
		{"*.acme.example", true, "acme.example"},
		{"*.example", true, "example"},
		{"acme.example", false, "acme.example"},
		{"a.*.example", false, "a.*.example"},
		{"*x.acme.example", false, "*x.acme.example"}, // a label that is not "*" is no wildcard (RFC 4592)
	} {
		if got := IsWildcard(tc.name); got != tc.wild {
			t.Errorf("IsWildcard(%q) = %v", tc.name, got)
		}
		if got := WildcardParent(tc.name); got != tc.parent {
			t.Errorf("WildcardParent(%q) = %q, want %q", tc.name, got, tc.parent)
		}
	}
}

// ValidateDomain and ParseSubject accept "*" as the leftmost label only.
func TestWildcardValidation(t *testing.T) {
	for name, ok := range map[string]bool{
		"*.acme.example":      true,
		"*.example":           true,
		"a.*.acme.example":    false,
		"*.*.acme.example":    false,
		"acme.*":              false,
		"*":                   false,
		"*x.acme.example":     false,
		"x*.acme.example":     false,
		"*.-bad.acme.example": false,
	} {
		if err := ValidateDomain(name); (err == nil) != ok {
			t.Errorf("ValidateDomain(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	s, err := ParseSubject("*.Acme.Example.")
	if err != nil || s.Kind != SubjectDomain || s.Value != "*.acme.example" {
		t.Errorf("ParseSubject(*.Acme.Example.) = %+v, %v", s, err)
	}
	if _, err := ParseSubject("www.*.acme.example"); err == nil || !strings.Contains(err.Error(), "leftmost") {
		t.Errorf("ParseSubject(www.*.acme.example): %v", err)
	}
}

func TestCheckRecordWildcard(t *testing.T) {
	for _, tc := range []struct{ name, typ, value, want string }{
		{"*.acme.example", "A", "198.51.100.7", ""},
		{"*.acme.example", "CNAME", "edge.cdn.example", ""},
		{"*.acme.example", "MX", "10 mx1.acme.example", ""},
		{"*.acme.example", "HOST", "", ""},
		{"www.*.acme.example", "A", "198.51.100.7", "leftmost"},
		{"*.*.acme.example", "A", "198.51.100.7", "leftmost"},
		{"acme.example", "CNAME", "a.*.cdn.example", "leftmost"},
		{"acme.example", "MX", "10 mx.*.acme.example", "leftmost"},
		{"_sip._tcp.acme.example", "SRV", "10 60 5060 sip.*.acme.example", "leftmost"},
		{"x*.acme.example", "A", "198.51.100.7", ""}, // odd, but a literal label, as passive DNS holds them
	} {
		got := CheckRecord(NewFinding(tc.name, tc.typ, tc.value))
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("CheckRecord(%s %s %s) = %q, want %q", tc.name, tc.typ, tc.value, got, tc.want)
		}
	}
}

// A wildcard name is in scope when its parent is, and excluded when its
// parent is.
func TestScopeWildcard(t *testing.T) {
	s := Scope{Domains: []string{"acme.example"}, Exclude: []string{"cdn.acme.example"}}
	for name, want := range map[string]bool{
		"*.acme.example":       true,
		"*.www.acme.example":   true,
		"*.cdn.acme.example":   false,
		"*.example":            false,
		"*.notacme.example":    false,
		"*.x.cdn.acme.example": false,
	} {
		if in, why := s.Contains(Subject{Kind: SubjectDomain, Value: name}); in != want {
			t.Errorf("Contains(%s) = %v (%s), want %v", name, in, why, want)
		}
	}
}

// The registrable domain of a wildcard name is its parent's: a wildcard
// directly under a public suffix has none.
func TestRegisteredDomainWildcard(t *testing.T) {
	for in, want := range map[string]string{
		"*.acme.example.com":  "example.com",
		"*.example.com":       "example.com",
		"*.co.uk":             "",
		"10 *.mx.example.net": "example.net",
	} {
		if got := RegisteredDomain(in); got != want {
			t.Errorf("RegisteredDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

// Normalising MX, SOA and SRV values is idempotent when control
// whitespace (form feed, vertical tab, ...) splits the fields: the
// fields of a structured value are separated by any white space and
// joined by one space, before anything else reads them, so that no
// separator survives to be escaped into data and read differently by a
// second pass.
func TestNormalizeStructuredControl(t *testing.T) {
	for _, tc := range []struct{ rrtype, in, want string }{
		{"MX", "0  000000\f0", "0 000000 0"},
		{"MX", "0 0\t0", "0 0 0"},
		{"MX", "10\tmx1.acme.example.", "mx1.acme.example"},
		{"MX", "10 \v mx1.Acme.example.", "mx1.acme.example"},
		{"MX", "5 b\tc", "5 b c"},
		{"MX", "10 mx1\x00.acme.example", `mx1\000.acme.example`},
		{"MX", "000 0000 .", "000 0000 ."}, // found by FuzzNormalizeValue
		{"MX", "10. MX1.acme.example.", "mx1.acme.example"},
		{"SRV", "0000 000 00 A00000\f0", "0000 000 00 A00000 0"},
		{"SRV", "0000 000 00 A00000\x1b0", `0000 000 00 a00000\0270`},
		{"SRV", "10\t60 5060 SIP.Acme.Example.", "10 60 5060 sip.acme.example"},
		{"SRV", "10 60 5060 SIP.Acme.Example. extra", "10 60 5060 SIP.Acme.Example. extra"},
		{"SOA", "NS1.A. H.A. 1 2 3 4 5\f6", "ns1.a. h.a. 1 2 3 4 5 6"},
		{"SOA", "NS1.A.\vH.A. 1 2 3 4 5", "ns1.a h.a 1 2 3 4 5"},
		{"SOA", "NS1.A.\x00 H.A. 1 2 3 4 5", `ns1.a.\000 h.a 1 2 3 4 5`},
	} {
		got := NormalizeValue(tc.rrtype, tc.in)
		if got != tc.want {
			t.Errorf("NormalizeValue(%s, %q) = %q, want %q", tc.rrtype, tc.in, got, tc.want)
		}
		if again := NormalizeValue(tc.rrtype, got); again != got {
			t.Errorf("NormalizeValue(%s, %q) = %q, then %q", tc.rrtype, tc.in, got, again)
		}
	}
}
