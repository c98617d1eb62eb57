package analysis

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/reconform/reconform/schema"
)

// SPFTerm is one directive or modifier of an SPF record.
type SPFTerm struct {
	// Qualifier is "+", "-", "~" or "?" for a mechanism ("+" when the
	// record leaves it out), "" for a modifier.
	Qualifier string
	// Name is the mechanism (all, include, a, mx, ptr, ip4, ip6, exists)
	// or the modifier (redirect, exp, or an unknown one), lower-case.
	Name string
	// Value is what follows ":" or "=" (may hold macros such as %{i}),
	// with any "/cidr" suffix of a, mx, ip4 and ip6 kept.
	Value string
}

// SPF is a parsed SPF record (RFC 7208).
type SPF struct {
	Terms    []SPFTerm
	Includes []string // include: domains, in order
	IP4, IP6 []string // ip4:/ip6: networks, in order
	// Redirect is the redirect= domain, "" when the record has none or
	// an all mechanism makes it unreachable.
	Redirect string
	// All is the all mechanism with its qualifier ("-all", "~all",
	// "?all", "+all"), "" when the record has none.
	All string
	// Lookups counts the terms that cost a DNS lookup (include, a, mx,
	// ptr, exists, redirect), not following includes.
	Lookups int
}

// IsSPF reports whether a TXT value is an SPF record: "v=spf1" followed by
// a space or nothing, case-insensitively.
func IsSPF(txt string) bool {
	t := strings.TrimSpace(txt)
	if len(t) < 6 || !strings.EqualFold(t[:6], "v=spf1") {
		return false
	}
	return len(t) == 6 || t[6] == ' ' || t[6] == '\t'
}

var spfMechanisms = map[string]bool{"all": true, "include": true, "a": true, "mx": true, "ptr": true, "ip4": true, "ip6": true, "exists": true}

// ParseSPF parses an SPF record. It is lenient where receivers are (case,
// repeated spaces) and returns an error for what makes a record a
// permerror: a missing version, an unknown mechanism, a malformed ip4/ip6,
// a mechanism without its required argument, a repeated redirect or exp.
// The partial result is returned with the error.
func ParseSPF(txt string) (SPF, error) {
	var spf SPF
	if !IsSPF(txt) {
		return spf, fmt.Errorf("not an SPF record: it must start with v=spf1")
	}
	var errs []string
	seenMod := map[string]bool{}
	for _, raw := range strings.Fields(strings.TrimSpace(txt)[6:]) {
		term, err := parseSPFTerm(raw)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if term.Qualifier == "" { // modifier
			if (term.Name == "redirect" || term.Name == "exp") && seenMod[term.Name] {
				errs = append(errs, fmt.Sprintf("%s= appears more than once", term.Name))
				continue
			}
			seenMod[term.Name] = true
		}
		spf.Terms = append(spf.Terms, term)
		switch term.Name {
		case "all":
			if spf.All == "" {
				spf.All = term.Qualifier + "all"
			}
		case "include":
			spf.Includes = append(spf.Includes, spfDomain(term.Value))
			spf.Lookups++
		case "redirect":
			spf.Redirect = spfDomain(term.Value)
			spf.Lookups++
		case "a", "mx", "ptr", "exists":
			spf.Lookups++
		case "ip4":
			spf.IP4 = append(spf.IP4, term.Value)
		case "ip6":
			spf.IP6 = append(spf.IP6, strings.ToLower(term.Value))
		}
	}
	if spf.All != "" && spf.Redirect != "" {
		// all always matches, so a redirect beside it is never followed
		// (RFC 7208 6.1): it neither decides nor costs a lookup.
		spf.Redirect = ""
		spf.Lookups--
	}
	if len(errs) > 0 {
		return spf, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return spf, nil
}

// spfDomain normalises a domain-spec: lower case, no trailing dot.
func spfDomain(v string) string { return strings.TrimSuffix(strings.ToLower(v), ".") }

func parseSPFTerm(raw string) (SPFTerm, error) {
	// A modifier is name=value where name is not a mechanism; "=" must
	// come before any ":" or "/".
	if eq := strings.IndexByte(raw, '='); eq > 0 && !strings.ContainsAny(raw[:eq], ":/") {
		name := strings.ToLower(raw[:eq])
		if !validSPFName(name) {
			return SPFTerm{}, fmt.Errorf("invalid modifier %q", raw)
		}
		value := raw[eq+1:]
		if (name == "redirect" || name == "exp") && value == "" {
			return SPFTerm{}, fmt.Errorf("%s= needs a domain", name)
		}
		return SPFTerm{Name: name, Value: value}, nil
	}
	t := SPFTerm{Qualifier: "+"}
	body := raw
	if strings.ContainsRune("+-~?", rune(raw[0])) {
		t.Qualifier = raw[:1]
		body = raw[1:]
	}
	name, value := body, ""
	if i := strings.IndexAny(body, ":/"); i >= 0 {
		name = body[:i]
		value = body[i:]
		value = strings.TrimPrefix(value, ":")
	}
	name = strings.ToLower(name)
	if !spfMechanisms[name] {
		return SPFTerm{}, fmt.Errorf("unknown mechanism %q", raw)
	}
	t.Name = name
	t.Value = value
	switch name {
	case "all":
		if value != "" {
			return SPFTerm{}, fmt.Errorf("all takes no argument: %q", raw)
		}
	case "include", "exists":
		if value == "" {
			return SPFTerm{}, fmt.Errorf("%s needs a domain: %q", name, raw)
		}
	case "ip4", "ip6":
		if err := checkSPFNetwork(name, value); err != nil {
			return SPFTerm{}, fmt.Errorf("%s: %q", err, raw)
		}
	}
	return t, nil
}

func validSPFName(n string) bool {
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func checkSPFNetwork(mech, v string) error {
	addr, bits, hasBits := strings.Cut(v, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return fmt.Errorf("%s needs an address", mech)
	}
	if mech == "ip4" != a.Is4() {
		return fmt.Errorf("%s has an address of the wrong family", mech)
	}
	if hasBits {
		n, err := strconv.Atoi(bits)
		if err != nil || n < 0 || n > a.BitLen() {
			return fmt.Errorf("%s has an invalid prefix length", mech)
		}
	}
	return nil
}

// spfLimit is RFC 7208's cap on DNS-querying terms (section 4.6.4).
const spfLimit = 10

func spfFacts(ix *index) []schema.Fact {
	var facts []schema.Fact
	described := map[string]bool{}
	for _, name := range union(ix.names("TXT"), ix.names("SPF")) {
		var recs []int
		for _, i := range ix.currentTXT(name) {
			if IsSPF(ix.findings[i].Value) {
				recs = append(recs, i)
			}
		}
		if len(recs) == 0 {
			continue
		}
		described[name] = true
		ev := ix.ids(recs)
		if distinctValues(ix, recs) > 1 {
			facts = append(facts, schema.Fact{Subject: name, Kind: "spf_error", Value: "several SPF records (permerror)", Evidence: ev})
			continue
		}
		spf, err := ParseSPF(ix.findings[recs[0]].Value)
		if err != nil {
			facts = append(facts, schema.Fact{Subject: name, Kind: "spf_error", Value: err.Error(), Evidence: ev})
		}
		add := func(kind, value string) {
			facts = append(facts, schema.Fact{Subject: name, Kind: kind, Value: value, Evidence: ev})
		}
		all := spf.All
		if all == "" && spf.Redirect != "" {
			// redirect= hands the verdict to the target's record: its all
			// decides, when the findings hold it.
			all = redirectedAll(ix, spf.Redirect, map[string]bool{name: true})
		}
		switch {
		case all != "":
			add("spf_all", all)
		case spf.Redirect == "":
			add("spf_all", "no-all")
		}
		if all == "+all" || all == "?all" {
			add("spf_permissive", all)
		} else if all == "" && spf.Redirect == "" {
			add("spf_permissive", "no-all")
		}
		for _, inc := range spf.Includes {
			add("spf_include", inc)
		}
		for _, sender := range spfSenders(ix, spf, map[string]bool{name: true}) {
			add("mail_sender", sender)
		}
		if spf.Redirect != "" {
			add("spf_redirect", spf.Redirect)
		}
		for _, n := range spf.IP4 {
			add("spf_ip4", n)
		}
		for _, n := range spf.IP6 {
			add("spf_ip6", n)
		}
		lookups := spfLookups(ix, name, map[string]bool{})
		add("spf_lookups", strconv.Itoa(lookups))
		if lookups > spfLimit {
			add("spf_too_many_lookups", strconv.Itoa(lookups))
		}
	}
	for _, name := range mailDomains(ix) {
		if !described[name] {
			cur, _ := ix.split(ix.records(name, "MX"))
			facts = append(facts, schema.Fact{Subject: name, Kind: "spf_all", Value: "missing", Evidence: ix.ids(cur)})
		}
	}
	return facts
}

// spfSenders names the sending services an SPF record authorises: its
// include and redirect domains, and those of the records they lead to
// when the findings hold them.
func spfSenders(ix *index, spf SPF, seen map[string]bool) []string {
	var out []string
	for _, d := range append(append([]string(nil), spf.Includes...), spf.Redirect) {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		if s := ClassifySender(d); s != "" {
			out = append(out, s)
			continue
		}
		for _, i := range ix.currentTXT(d) {
			if IsSPF(ix.findings[i].Value) {
				nested, _ := ParseSPF(ix.findings[i].Value)
				out = append(out, spfSenders(ix, nested, seen)...)
				break
			}
		}
	}
	return out
}

// redirectedAll follows redirect= through the findings to the all
// mechanism that decides ("" when a record on the way is unknown).
func redirectedAll(ix *index, name string, seen map[string]bool) string {
	if seen[name] || strings.Contains(name, "%") {
		return ""
	}
	seen[name] = true
	for _, i := range ix.currentTXT(name) {
		if !IsSPF(ix.findings[i].Value) {
			continue
		}
		spf, _ := ParseSPF(ix.findings[i].Value)
		if spf.All != "" || spf.Redirect == "" {
			return spf.All
		}
		return redirectedAll(ix, spf.Redirect, seen)
	}
	return ""
}

// spfLookups counts the DNS-querying terms of name's current SPF record,
// adding the terms of included and redirected records found among the
// findings (each unknown one counts as the single lookup of its include).
func spfLookups(ix *index, name string, visiting map[string]bool) int {
	if visiting[name] {
		return 0
	}
	visiting[name] = true
	defer delete(visiting, name)
	for _, i := range ix.currentTXT(name) {
		if !IsSPF(ix.findings[i].Value) {
			continue
		}
		spf, _ := ParseSPF(ix.findings[i].Value)
		n := spf.Lookups
		for _, inc := range append(append([]string(nil), spf.Includes...), spf.Redirect) {
			if inc != "" && !strings.Contains(inc, "%") {
				n += spfLookups(ix, inc, visiting)
			}
		}
		return n
	}
	return 0
}

func distinctValues(ix *index, idx []int) int {
	seen := map[string]bool{}
	for _, i := range idx {
		seen[ix.findings[i].Value] = true
	}
	return len(seen)
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
