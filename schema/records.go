package schema

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reconform/reconform/internal/radix"
)

// SubjectKind says what a Subject is.
type SubjectKind string

const (
	SubjectDomain SubjectKind = "domain" // a domain or host name
	SubjectIP     SubjectKind = "ip"
	SubjectCIDR   SubjectKind = "cidr"
)

// Subject is what a query asks about. Value is normalised: names lower-case
// without a trailing dot, IPs canonical, CIDRs masked.
type Subject struct {
	Kind  SubjectKind `json:"kind"`
	Value string      `json:"value"`
}

func (s Subject) String() string { return s.Value }

// ParseSubject recognises an IP, a CIDR or a domain name and normalises it.
func ParseSubject(raw string) (Subject, error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return Subject{}, fmt.Errorf("empty subject")
	}
	if strings.Contains(v, "/") {
		p, err := ParseCIDR(v)
		if err != nil {
			return Subject{}, fmt.Errorf("invalid CIDR %q: %w", raw, err)
		}
		return Subject{Kind: SubjectCIDR, Value: p.String()}, nil
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return Subject{Kind: SubjectIP, Value: a.Unmap().String()}, nil
	}
	name := NormalizeName(v)
	if err := ValidateDomain(name); err != nil {
		return Subject{}, err
	}
	return Subject{Kind: SubjectDomain, Value: name}, nil
}

// ParseCIDR parses a network and normalises it as subjects are: masked,
// and an IPv4-mapped IPv6 network ("::ffff:203.0.113.0/120") turned into
// the IPv4 network it maps (203.0.113.0/24), since IPv4 addresses are
// compared in their IPv4 form everywhere. A mapped network shorter than
// /96 reaches past the mapped range into plain IPv6; what it means cannot
// be told, so it is an error.
func ParseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%w: %s reaches past ::ffff:0.0.0.0/96; write the IPv4 network instead", errMappedTooWide, p)
		}
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), nil
	}
	return p.Masked(), nil
}

// errMappedTooWide is an IPv4-mapped network shorter than /96.
var errMappedTooWide = errors.New("the IPv4-mapped network is wider than the mapped range")

// cidrProblem is the reason to add to an "Invalid CIDR" diagnostic: only
// ours, since netip's own repeat the input with Go syntax.
func cidrProblem(err error) string {
	if errors.Is(err, errMappedTooWide) {
		return " (" + err.Error() + ")"
	}
	return ""
}

// ValidateDomain checks that name (already normalised) is a syntactically
// valid DNS name: labels of 1-63 letters, digits, hyphens or underscores,
// 253 characters at most, at least one dot. The leftmost label may be "*":
// the name of a wildcard record (RFC 4592), which passive DNS reports
// like any other owner; a "*" anywhere else is refused.
func ValidateDomain(name string) error {
	if name == "" {
		return fmt.Errorf("empty domain name")
	}
	if len(name) > 253 {
		return fmt.Errorf("domain name %q is longer than 253 characters", name)
	}
	if !strings.Contains(name, ".") {
		return fmt.Errorf("domain name %q has no dot; give a fully qualified name such as %q", name, name+".example")
	}
	for i, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("domain name %q has an empty or over-long label", name)
		}
		if label == "*" {
			if i > 0 {
				return fmt.Errorf("domain name %q has a \"*\" label that is not the leftmost; only a wildcard name starts with \"*.\"", name)
			}
			continue
		}
		for _, r := range label {
			ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
			if !ok {
				return fmt.Errorf("domain name %q contains the invalid character %q", name, r)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("domain name %q has a label that starts or ends with a hyphen", name)
		}
	}
	return nil
}

// NormalizeName lower-cases a DNS name and strips the trailing dot. It
// strips until nothing changes ("a..", "a. ."), so a normalised name
// normalises to itself and keeps its identity when the state or report
// commands normalise again.
//
// A leading wildcard label is kept: "*.acme.example" is the name of a
// wildcard record, which DNSDB, CIRCL and Sonar report as such, and a
// record of it is not a record of acme.example (IsWildcard,
// WildcardParent).
func NormalizeName(name string) string {
	n := strings.ToLower(name)
	for {
		m := strings.TrimSuffix(strings.TrimSpace(n), ".")
		if m == n {
			return n
		}
		n = m
	}
}

// IsWildcard reports whether a normalised name is a wildcard name: its
// leftmost label is "*" (RFC 4592; "*x.acme.example" is a literal label).
func IsWildcard(name string) bool { return strings.HasPrefix(name, "*.") }

// WildcardParent is the name a wildcard name stands under
// ("*.acme.example": acme.example), the names it answers for being that
// parent's subdomains; any other name is returned as it is.
func WildcardParent(name string) string {
	if IsWildcard(name) {
		return name[2:]
	}
	return name
}

// NormalizeNamePattern normalises a glob over names (an ignore rule's
// name, "*.cdn.acme.example") as names are, lower-case and without the
// trailing dot, keeping its wildcards.
func NormalizeNamePattern(p string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(p)), ".")
}

// Op is an operation a provider answers.
type Op string

const (
	OpResolutions Op = "resolutions" // historical and current records of a name
	OpReverseIP   Op = "reverse_ip"  // names seen on an IP or CIDR
	OpSubdomains  Op = "subdomains"  // host names under a domain
	OpNSReverse   Op = "ns_reverse"  // domains served by a name server
	OpMXReverse   Op = "mx_reverse"  // domains using a mail server
	OpResolve     Op = "resolve"     // live DNS answer now (active)
	// OpRegistration asks a domain registry (RDAP) whether a registrable
	// domain is registered and until when: facts, no records.
	OpRegistration Op = "registration"
	// OpFingerprint fetches a host over HTTP now and recognises the page a
	// hosted service shows for an unclaimed resource (active).
	OpFingerprint Op = "fingerprint"
)

// AllOps lists every op in a stable order.
var AllOps = []Op{OpResolutions, OpReverseIP, OpSubdomains, OpNSReverse, OpMXReverse, OpResolve, OpRegistration, OpFingerprint}

// Query is one question to one provider instance: the unit the engine plans,
// dedupes, caches and runs (an "instance" of a query block).
type Query struct {
	// Provider is the provider instance address: "securitytrails" or
	// "file.sonar" (type, then the optional instance name).
	Provider string  `json:"provider"`
	Op       Op      `json:"op"`
	Subject  Subject `json:"subject"`
	// RRTypes restricts the record types asked for; empty means all the
	// provider offers. Upper-case, sorted.
	RRTypes []string `json:"rrtypes,omitempty"`
	// Params are op-specific, non-secret options, e.g. "limit".
	Params map[string]string `json:"params,omitempty"`
}

// Key identifies a query for dedupe: provider, op, subject, rrtypes, params.
func (q Query) Key() string {
	var b strings.Builder
	b.WriteString(q.Provider)
	b.WriteByte(' ')
	b.WriteString(string(q.Op))
	b.WriteByte(' ')
	b.WriteString(q.Subject.Value)
	if len(q.RRTypes) > 0 {
		b.WriteString(" [")
		b.WriteString(strings.Join(q.RRTypes, ","))
		b.WriteByte(']')
	}
	if len(q.Params) > 0 {
		keys := make([]string, 0, len(q.Params))
		for k := range q.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + q.Params[k])
		}
	}
	return b.String()
}

// WantsType reports whether the query asks for records of type t.
func (q Query) WantsType(t string) bool {
	if len(q.RRTypes) == 0 {
		return true
	}
	t = strings.ToUpper(t)
	for _, r := range q.RRTypes {
		if r == t {
			return true
		}
	}
	return false
}

// TypeHost is the type of a finding that only says a host name exists
// (from a subdomain list); its value is empty.
const TypeHost = "HOST"

// Finding is one DNS fact: identity (Name, Type, Value) plus what is known
// about when and by whom it was seen.
type Finding struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`

	// FirstSeen and LastSeen are the observation window the source gives;
	// zero when it gives none.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Count     int64     `json:"count,omitempty"`

	// Sources are the provider instance addresses that reported it, sorted.
	Sources []string `json:"sources,omitempty"`
	// Current is set when a source of current records (live DNS, a
	// provider's current-records endpoint) reported it; the engine also
	// marks findings current by the engagement's current_window.
	Current bool `json:"current,omitempty"`
	// Active is set when an active (live DNS) query produced it.
	Active bool `json:"active,omitempty"`

	// Query is the key of the query instance that first produced it, and
	// Depth the pivot depth of that instance (0 for seeds).
	Query string `json:"query,omitempty"`
	Depth int    `json:"depth,omitempty"`
}

// ID is the finding's identity: name, type and value.
func (f Finding) ID() string { return f.Name + " " + f.Type + " " + f.Value }

// NewFinding builds a normalised finding. The type is upper-cased, the name
// normalised, and the value normalised for its type.
func NewFinding(name, rrtype, value string) Finding {
	t := strings.ToUpper(strings.TrimSpace(rrtype))
	return Finding{Name: NormalizeName(name), Type: t, Value: NormalizeValue(t, value)}
}

// NormalizeValue normalises a record value for its type: IPs canonical,
// names lower-case without trailing dot, MX the exchange host (MXHost),
// TXT unquoted and unescaped.
func NormalizeValue(rrtype, value string) string {
	return escapeControl(normalizeValue(rrtype, value))
}

func normalizeValue(rrtype, value string) string {
	v := strings.TrimSpace(value)
	t := strings.ToUpper(rrtype)
	if fieldTypes[t] {
		// The fields of a structured value are separated by any white
		// space and joined by one, before anything reads them: a form
		// feed or vertical tab left between two fields would be escaped
		// into data (escapeControl) and make one field of two when the
		// value is normalised again.
		v = strings.Join(strings.Fields(v), " ")
	}
	switch t {
	case "A", "AAAA":
		if a, err := netip.ParseAddr(v); err == nil {
			return a.Unmap().String()
		}
		return strings.ToLower(v)
	case "CNAME", "NS", "PTR", "DNAME", TypeHost:
		return NormalizeName(v)
	case "MX":
		return MXHost(v)
	case "TXT", "SPF":
		return canonicalTXT(value)
	case "SOA":
		// mname rname serial refresh retry expire minimum: the two names
		// normalised like any other name.
		fields := strings.Split(strings.ToLower(v), " ")
		if len(fields) == 7 {
			fields[0], fields[1] = rootOr(NormalizeName(fields[0])), rootOr(NormalizeName(fields[1]))
			return strings.Join(fields, " ")
		}
		return strings.ToLower(v)
	case "SRV":
		// priority weight port target
		fields := strings.Split(v, " ")
		if len(fields) == 4 {
			fields[3] = rootOr(NormalizeName(fields[3]))
			return strings.Join(fields, " ")
		}
	}
	return v
}

// fieldTypes are the record types whose value is several fields
// (normalizeValue).
var fieldTypes = map[string]bool{"MX": true, "SOA": true, "SRV": true}

// MXHost is the normalised value of an MX record: its exchange host, the
// preference dropped ("10 MX1.acme.example." is "mx1.acme.example"), and
// "." for a null MX (RFC 7505: the domain takes no mail). The preference
// is not part of the record's identity: many sources do not give it
// (reverse MX lists, some vendors' current records), and a record seen
// with and without it must be one finding, not two that drift against
// each other. Text whose first field is not a preference (0 to 65535) is
// left as it is, for the record check to refuse.
//
// Every field is normalised as a name before the preference is read, so
// that what is left of text that is no MX value ("000 0000 .") reads the
// same when normalised again.
func MXHost(v string) string {
	fields := strings.Fields(v)
	if len(fields) == 0 {
		return ""
	}
	for i, f := range fields {
		fields[i] = rootOr(NormalizeName(f))
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseUint(fields[0], 10, 16); err == nil {
			return fields[1]
		}
	}
	return strings.Join(fields, " ")
}

// rootOr keeps the root name "." where normalising left nothing.
func rootOr(name string) string {
	if name == "" {
		return "."
	}
	return name
}

// canonicalTXT is a TXT value's canonical form: its text, presentation
// format ("a" "b") unquoted, nothing trimmed (spaces in a text are data,
// and a text from live DNS and the same text from a vendor's API must be
// one finding). A text that would read as presentation format again (its
// first non-space character is a quote) is written quoted, with \" and \\,
// so that normalising it gives it back; UnquoteTXT returns the text of
// either form.
func canonicalTXT(value string) string {
	text := value
	if trimmed := strings.TrimSpace(value); strings.HasPrefix(trimmed, `"`) {
		text = UnquoteTXT(trimmed)
	}
	if !strings.HasPrefix(strings.TrimSpace(text), `"`) {
		return text
	}
	return `"` + txtQuoter.Replace(text) + `"`
}

var txtQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// UnquoteTXT turns presentation-format TXT ("a" "b", with \" and \DDD
// escapes) into its text; a value without quotes is returned as is. Of a
// normalised TXT value it returns the text.
func UnquoteTXT(v string) string {
	if !strings.HasPrefix(v, `"`) {
		return v
	}
	var out strings.Builder
	in := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			in = !in
		case c == '\\' && i+1 < len(v):
			if i+3 < len(v) && isDigit(v[i+1]) && isDigit(v[i+2]) && isDigit(v[i+3]) {
				n, _ := strconv.Atoi(v[i+1 : i+4])
				out.WriteByte(byte(n))
				i += 3
			} else {
				out.WriteByte(v[i+1])
				i++
			}
		case in:
			out.WriteByte(c)
		}
	}
	return out.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// escapeControl writes what is not printable text (control bytes, DEL,
// C1 controls, invalid UTF-8) as DNS presentation escapes (\027). Record
// data comes from zones and vendors an attacker may control: escaped, it
// cannot drive the terminal it is printed on or split a line-based
// output, and no byte is lost.
func escapeControl(v string) string {
	clean := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r == utf8.RuneError && size == 1) {
			for _, c := range []byte(v[i : i+size]) {
				fmt.Fprintf(&b, "\\%03d", c)
			}
		} else {
			b.WriteString(v[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Fact is a derived statement about a subject, e.g.
// (acme.example, mail_provider, google-workspace).
type Fact struct {
	Subject  string   `json:"subject"`
	Kind     string   `json:"kind"`
	Value    string   `json:"value"`
	Evidence []string `json:"evidence,omitempty"`
}

// ID is the fact's identity for diffs: subject, kind and value.
func (f Fact) ID() string { return f.Subject + " " + f.Kind + " " + f.Value }

// SortFindings orders findings by name, type, value.
func SortFindings(fs []Finding) {
	SortByFinding(fs, func(f *Finding) *Finding { return f })
}

// SortByFinding orders xs by the findings they hold (finding(x)), as
// SortFindings. A finding is large (its strings, times and lists), so a
// list is ordered as indexes (FindingsOrder) and then moved once into its
// order, rather than swapped in place many times over.
func SortByFinding[T any](xs []T, finding func(*T) *Finding) {
	sorted := true
	for i := 1; i < len(xs) && sorted; i++ {
		sorted = CompareFindings(finding(&xs[i-1]), finding(&xs[i])) <= 0
	}
	if sorted {
		return
	}
	order := FindingsOrder(len(xs), func(i int) *Finding { return finding(&xs[i]) })
	moved := make([]T, len(xs))
	for k, i := range order {
		moved[k] = xs[i]
	}
	copy(xs, moved)
}

// FindingsOrder returns the indexes of n findings (at(i) is the i-th) in
// the order of SortFindings. The indexes are sorted by the names' first
// eight bytes, big-endian and zero-padded, kept beside them (a radix sort
// from 256 findings on: an ns_reverse answer of 50,000 findings took 7 ms
// in a comparison sort), and only indexes whose eight bytes tie are
// ordered by reading the findings themselves.
func FindingsOrder(n int, at func(int) *Finding) []int32 {
	prefix, order := make([]uint64, n), make([]uint32, n)
	for i := range n {
		var p [8]byte
		copy(p[:], at(i).Name)
		prefix[i], order[i] = binary.BigEndian.Uint64(p[:]), uint32(i)
	}
	byFinding := func(a, b uint32) int { return CompareFindings(at(int(a)), at(int(b))) }
	if n < 256 {
		type keyed struct {
			prefix uint64
			i      uint32
		}
		keys := make([]keyed, n)
		for i := range keys {
			keys[i] = keyed{prefix[i], uint32(i)}
		}
		slices.SortFunc(keys, func(a, b keyed) int {
			if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
				return c
			}
			return byFinding(a.i, b.i)
		})
		for k, key := range keys {
			order[k] = key.i
		}
	} else {
		radix.Sort(prefix, order, make([]uint64, n), make([]uint32, n))
		for i := 0; i < n; {
			j := i + 1
			for j < n && prefix[j] == prefix[i] {
				j++
			}
			if j-i > 1 {
				slices.SortFunc(order[i:j], byFinding)
			}
			i = j
		}
	}
	out := make([]int32, n)
	for k, i := range order {
		out[k] = int32(i)
	}
	return out
}

// CompareFindings orders two findings by name, type, value.
func CompareFindings(a, b *Finding) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

// SortFacts orders facts by subject, kind, value.
func SortFacts(fs []Fact) {
	sort.Slice(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Value < b.Value
	})
}
