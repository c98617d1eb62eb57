package crtsh

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Fact kinds of certificate intelligence.
const (
	// KindIssuer: an organisation that issued a certificate for the name
	// that is valid now.
	KindIssuer = "cert_issuer"
	// KindIssuerPast: an organisation whose certificates for the name
	// have all expired.
	KindIssuerPast = "cert_issuer_past"
)

// issuerRow is the part of a crt.sh row the issuer facts need.
type issuerRow struct {
	IssuerName string `json:"issuer_name"`
	CommonName string `json:"common_name"`
	NameValue  string `json:"name_value"`
	NotAfter   string `json:"not_after"`
}

// IssuerFacts reads the issuers of crt.sh's answer for domain: per name
// in domain (as Parse finds them), a cert_issuer fact for each issuing
// organisation (the issuer's O, else its CN) of a certificate valid at
// now, and cert_issuer_past for an organisation whose certificates for
// the name have all expired. The evidence is the name's HOST finding, so
// a later run whose crt.sh query fails keeps the facts while the finding
// is unverified. A body Parse rejects gives no facts.
//
// A new issuer is drift like any new fact; engine/analysis compares the
// issuers with the CAA records that apply to the name (caa_violation).
func IssuerFacts(domain string, body []byte, now time.Time) []schema.Fact {
	var rows []json.RawMessage
	if json.Unmarshal(body, &rows) != nil {
		return nil
	}
	type key struct{ name, issuer string }
	valid := map[key]bool{}
	var order []key
	for _, raw := range rows {
		var r issuerRow
		if json.Unmarshal(raw, &r) != nil {
			continue
		}
		issuer := IssuerOrganisation(r.IssuerName)
		if issuer == "" {
			continue
		}
		notAfter, err := providers.ParseDate(r.NotAfter)
		live := err == nil && notAfter.After(now)
		for _, id := range strings.Split(r.NameValue+"\n"+r.CommonName, "\n") {
			name, ok := hostIn(domain, id)
			if !ok {
				continue
			}
			k := key{name, issuer}
			was, seen := valid[k]
			if !seen {
				order = append(order, k)
			}
			valid[k] = was || live
		}
	}
	facts := make([]schema.Fact, 0, len(order))
	for _, k := range order {
		kind := KindIssuerPast
		if valid[k] {
			kind = KindIssuer
		}
		facts = append(facts, schema.Fact{Subject: k.name, Kind: kind, Value: k.issuer, Evidence: []string{schema.NewFinding(k.name, schema.TypeHost, "").ID()}})
	}
	schema.SortFacts(facts)
	return facts
}

// IssuerOrganisation is the organisation of a crt.sh issuer name
// ("C=US, O=Let's Encrypt, CN=R3" gives "Let's Encrypt";
// `C=US, O="thawte, Inc.", CN=...` gives "thawte, Inc."), its CN when it
// has no O, "" when it has neither. Control characters are dropped: the
// value is printed on terminals.
func IssuerOrganisation(dn string) string {
	attrs := map[string]string{}
	for _, rdn := range splitRDNs(dn) {
		k, v, ok := strings.Cut(rdn, "=")
		if !ok {
			continue
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		if _, dup := attrs[k]; !dup {
			attrs[k] = unquoteRDN(strings.TrimSpace(v))
		}
	}
	v := attrs["O"]
	if v == "" {
		v = attrs["CN"]
	}
	v = strings.Join(strings.FieldsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(v) > 120 {
		v = strings.ToValidUTF8(v[:120], "")
	}
	return v
}

// splitRDNs splits "C=US, O=\"a, b\", CN=x" at the commas outside quotes.
func splitRDNs(dn string) []string {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range dn {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	return append(out, cur.String())
}

// unquoteRDN removes the quotes and backslash escapes of an RDN value.
func unquoteRDN(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	escaped := false
	for _, r := range v {
		if r == '\\' && !escaped {
			escaped = true
			continue
		}
		escaped = false
		b.WriteRune(r)
	}
	return b.String()
}
