package analysis

import (
	"strings"

	"github.com/reconform/reconform/schema"
)

// KindCAAViolation is the kind of the facts caaFacts makes.
const KindCAAViolation = "caa_violation"

// reportedCertIssuer is the crtsh provider's fact: an organisation that
// issued a certificate for the name that is valid now.
const reportedCertIssuer = "cert_issuer"

// caRule maps an issuer organisation, as certificates name it, to the
// CAA issuer domains that authorise it (RFC 8659 section 4.2), from each
// CA's CP/CPS as the CCADB lists them. An issuer not in the table is
// never judged: an unknown name is no evidence of a violation.
type caRule struct {
	orgs    []string // lower-case substrings of the issuer organisation
	domains []string // CAA issuer domain names
}

var caRules = []caRule{
	{[]string{"let's encrypt", "internet security research group"}, []string{"letsencrypt.org"}},
	{[]string{"digicert", "thawte", "geotrust", "rapidssl", "symantec", "verisign", "cloudflare"}, []string{"digicert.com", "symantec.com", "thawte.com", "geotrust.com", "rapidssl.com", "digicert.ne.jp"}},
	{[]string{"zerossl"}, []string{"sectigo.com", "zerossl.com"}},
	{[]string{"sectigo", "comodo", "usertrust"}, []string{"sectigo.com", "comodoca.com", "comodo.com", "usertrust.com", "trust-provider.com"}},
	{[]string{"google trust services"}, []string{"pki.goog"}},
	{[]string{"amazon"}, []string{"amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"}},
	{[]string{"godaddy", "starfield"}, []string{"godaddy.com", "starfieldtech.com"}},
	{[]string{"globalsign"}, []string{"globalsign.com"}},
	{[]string{"entrust"}, []string{"entrust.net", "affirmtrust.com"}},
	{[]string{"buypass"}, []string{"buypass.com", "buypass.no"}},
	{[]string{"ssl corporation", "ssl.com"}, []string{"ssl.com"}},
	{[]string{"microsoft corporation"}, []string{"microsoft.com"}},
	{[]string{"certum", "asseco", "unizeto"}, []string{"certum.pl", "certum.eu"}},
	{[]string{"actalis"}, []string{"actalis.it"}},
	{[]string{"hellenic academic", "harica"}, []string{"harica.gr"}},
	{[]string{"telia"}, []string{"telia.com", "teliasonera.com"}},
}

// CAADomains returns the CAA issuer domains that authorise certificates
// from the issuer organisation, nil when the organisation is unknown.
func CAADomains(issuer string) []string {
	lower := strings.ToLower(issuer)
	for _, r := range caRules {
		for _, o := range r.orgs {
			if strings.Contains(lower, o) {
				return r.domains
			}
		}
	}
	return nil
}

// caaFacts compares the issuers of each name's valid certificates (the
// crtsh provider's cert_issuer facts) with the CAA records that apply to
// the name: the current CAA set at the name, else at the closest parent
// that has one (RFC 8659 section 3). When that set has issue properties
// and none of them names a domain of the issuer, the fact
//
//	caa_violation  name  the issuer organisation  (evidence: the CAA findings)
//
// says so: a certificate was issued (or kept living) against the domain's
// stated policy, by mis-issuance, by a CA acting on someone else's
// request, or because the CAA record was tightened after issuance. An
// issue ";" set allows no CA, so every issuer violates it. A set with only
// issuewild or iodef does not restrict, and an issuer missing from the
// CA table is not judged.
func caaFacts(ix *index, rep reportedIndex) []schema.Fact {
	issuers := rep[reportedCertIssuer]
	if len(issuers) == 0 || len(ix.byType["CAA"]) == 0 {
		return nil
	}
	caa := map[string][]int{}
	for _, i := range ix.byType["CAA"] {
		if ix.current[i] {
			caa[ix.findings[i].Name] = append(caa[ix.findings[i].Name], i)
		}
	}
	var facts []schema.Fact
	for name, orgs := range issuers {
		set := relevantCAA(caa, name)
		if len(set) == 0 {
			continue
		}
		allowed, restricts := map[string]bool{}, false
		for _, i := range set {
			tag, value, ok := parseCAA(ix.findings[i].Value)
			if !ok || tag != "issue" {
				continue
			}
			restricts = true
			if d := caaIssuerDomain(value); d != "" {
				allowed[d] = true
			}
		}
		if !restricts {
			continue
		}
		for _, org := range orgs {
			domains := CAADomains(org)
			if domains == nil && len(allowed) > 0 {
				continue
			}
			permitted := false
			for _, d := range domains {
				permitted = permitted || allowed[d]
			}
			if !permitted {
				facts = append(facts, schema.Fact{Subject: name, Kind: KindCAAViolation, Value: org, Evidence: ix.ids(set)})
			}
		}
	}
	return facts
}

// relevantCAA is the CAA set of name or of its closest parent with one,
// stopping above the registrable domain's public suffix.
func relevantCAA(caa map[string][]int, name string) []int {
	for n := name; strings.Contains(n, "."); n = n[strings.IndexByte(n, '.')+1:] {
		if set := caa[n]; len(set) > 0 {
			return set
		}
		if n == schema.RegisteredDomain(n) {
			break
		}
	}
	return nil
}

// parseCAA reads a CAA value `flags tag "value"` (the dns provider's form;
// passive sources may leave the value unquoted).
func parseCAA(v string) (tag, value string, ok bool) {
	fields := strings.SplitN(strings.TrimSpace(v), " ", 3)
	if len(fields) < 2 || !isAllDigits(fields[0]) {
		return "", "", false
	}
	tag = strings.ToLower(fields[1])
	if len(fields) == 3 {
		value = strings.TrimSpace(fields[2])
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
	}
	return tag, value, true
}

// caaIssuerDomain is the issuer domain of an issue property value
// ("letsencrypt.org; validationmethods=dns-01" gives letsencrypt.org),
// "" for ";" (no CA may issue).
func caaIssuerDomain(value string) string {
	d, _, _ := strings.Cut(value, ";")
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}
