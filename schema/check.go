package schema

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of what a DNS record can be (RFC 1035): a name of at most 253
// characters in labels of 1 to 63, a value no longer than the 65,535
// bytes of a DNS message.
const (
	maxNameLen  = 253
	maxLabelLen = 63
	maxValueLen = 65535
)

// EarliestSeen is the earliest time a record can have been seen: the
// first domains were registered in 1985. Dates before it are a vendor's
// placeholder or a unit error.
var EarliestSeen = time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC)

// futureSlack is how far past the run a time may lie: a source's clock a
// little ahead of ours, or a time zone written wrong.
const futureSlack = 48 * time.Hour

// CheckRecord reports why a (normalised) finding cannot be a DNS record,
// or "" when it can be one. Providers' findings pass it in the engine
// before they are merged, whatever the vendor sent: a name with control
// bytes, a host longer than a name can be, "999.1.1.1" or "1.2.3.4/32"
// as an address, an MX preference outside 0-65535.
func CheckRecord(f Finding) string {
	if why := checkPrintable("name", f.Name); why != "" {
		return why
	}
	if why := checkPrintable("type", f.Type); why != "" {
		return why
	}
	if why := checkName(f.Name); why != "" {
		if _, err := netip.ParseAddr(f.Name); err != nil || strings.Contains(f.Name, "%") {
			// A record under an IP (PTR findings keep the IP as owner)
			// is no name, and needs none of a name's bounds.
			return "the name " + why
		}
	}
	if len(f.Type) > 16 {
		return "the type is longer than a record type can be"
	}
	if len(f.Value) > maxValueLen {
		return fmt.Sprintf("the value is %d bytes long, more than a DNS message can hold", len(f.Value))
	}
	switch f.Type {
	case "A":
		a, err := netip.ParseAddr(f.Value)
		if err != nil || !a.Is4() {
			return fmt.Sprintf("%s is not an IPv4 address", quoteShort(f.Value))
		}
	case "AAAA":
		a, err := netip.ParseAddr(f.Value)
		if err != nil || a.Zone() != "" {
			return fmt.Sprintf("%s is not an IPv6 address", quoteShort(f.Value))
		}
	case "CNAME", "NS", "PTR", "DNAME":
		if why := checkName(f.Value); why != "" {
			return "the target " + why
		}
	case "MX":
		if f.Value == "." {
			return "" // a null MX
		}
		if pref, _, ok := strings.Cut(f.Value, " "); ok {
			if _, err := strconv.Atoi(pref); err == nil {
				return fmt.Sprintf("the MX preference %s is not a number from 0 to 65535", quoteShort(pref))
			}
		}
		if why := checkName(f.Value); why != "" {
			return "the mail server " + why
		}
	case TypeHost:
		if f.Value != "" {
			return "a host name without a record has no value"
		}
	case "SRV":
		fields := strings.Fields(f.Value)
		if len(fields) != 4 {
			return "an SRV value is priority, weight, port and target"
		}
		for _, n := range fields[:3] {
			if _, err := strconv.ParseUint(n, 10, 16); err != nil {
				return fmt.Sprintf("the SRV field %s is not a number from 0 to 65535", quoteShort(n))
			}
		}
		if target := fields[3]; target != "." {
			if why := checkName(target); why != "" {
				return "the SRV target " + why
			}
		}
	}
	return ""
}

// checkPrintable refuses text that cannot be shown or pivoted on: empty,
// with control bytes, spaces or U+FFFD (what a decoder makes of invalid
// UTF-8), or with terminal escapes.
func checkPrintable(what, s string) string {
	if s == "" {
		return "the " + what + " is empty"
	}
	for i := 0; i < len(s); {
		if c := s[i]; c > ' ' && c < 0x7f {
			i++ // printable ASCII, the common case
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r <= ' ' || r == 0x7f || r == utf8.RuneError || !unicode.IsPrint(r) {
			return fmt.Sprintf("the %s %s is not printable text", what, quoteShort(s))
		}
		i += size
	}
	return ""
}

// checkName checks the length bounds of a host name: at most 253
// characters, labels of 1 to 63, no spaces, and "*" as the leftmost label
// only (a wildcard record's name; RFC 4592 gives a "*" elsewhere no
// meaning, and such a name would be taken for a wildcard by every reader).
// Characters are not checked further: passive DNS holds names no resolver
// would accept ("_spf", the "a/b" of RFC 2317, IDNs in U-label form), and
// they are real.
func checkName(name string) string {
	if name == "" {
		return "is empty"
	}
	if len(name) > maxNameLen {
		return fmt.Sprintf("%s is %d characters long, more than the %d a name can have", quoteShort(name), len(name), maxNameLen)
	}
	label := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			if label == 0 || label > maxLabelLen {
				return fmt.Sprintf("%s has an empty label or one longer than %d characters", quoteShort(name), maxLabelLen)
			}
			if label == 1 && name[i-1] == '*' && i > 1 {
				return fmt.Sprintf("%s has a \"*\" label that is not the leftmost", quoteShort(name))
			}
			label = 0
			continue
		}
		if name[i] == ' ' || name[i] == '\t' {
			return fmt.Sprintf("%s holds a space", quoteShort(name))
		}
		label++
	}
	return ""
}

// CheckWindow clears the observation times of f that cannot be true for
// a run at now: before EarliestSeen, more than two days in the future, or
// a first_seen after the last_seen (both are cleared then: which one is
// wrong cannot be told). A negative count is cleared too. The record
// itself stays; what was wrong is returned for a warning ("" when
// nothing). Left as they are, a last_seen in 9999 would keep a record
// current for ever.
func CheckWindow(f *Finding, now time.Time) string {
	var why []string
	latest := now.Add(futureSlack)
	check := func(name string, at *time.Time) {
		switch {
		case at.IsZero():
		case at.Before(EarliestSeen):
			why = append(why, fmt.Sprintf("%s %s is before %d", name, at.UTC().Format("2006-01-02"), EarliestSeen.Year()))
			*at = time.Time{}
		case at.After(latest):
			why = append(why, fmt.Sprintf("%s %s is in the future", name, at.UTC().Format("2006-01-02")))
			*at = time.Time{}
		}
	}
	check("first_seen", &f.FirstSeen)
	check("last_seen", &f.LastSeen)
	if !f.FirstSeen.IsZero() && !f.LastSeen.IsZero() && f.FirstSeen.After(f.LastSeen) {
		why = append(why, fmt.Sprintf("first_seen %s is after last_seen %s", f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339)))
		f.FirstSeen, f.LastSeen = time.Time{}, time.Time{}
	}
	if f.Count < 0 {
		why = append(why, fmt.Sprintf("count %d is negative", f.Count))
		f.Count = 0
	}
	return strings.Join(why, ", ")
}

// quoteShort quotes s for a message: ASCII only, cut to 60 characters.
func quoteShort(s string) string {
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.QuoteToASCII(s[:cut]) + "..."
	}
	return strconv.QuoteToASCII(s)
}
