package analysis

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/reconform/reconform/schema"
)

// DMARC is a parsed DMARC record (RFC 7489), with the effective values
// of the tags that have defaults.
type DMARC struct {
	Policy          string // p: none, quarantine or reject
	SubdomainPolicy string // sp, or p when sp is absent
	Pct             int    // pct, 100 when absent
	RUA, RUF        []string
	ADKIM, ASPF     string // "r" (default) or "s"
	// Tags are all tags as given, names lower-cased.
	Tags map[string]string
}

// IsDMARC reports whether a TXT value is a DMARC record: it starts with
// v=DMARC1 (case and spaces around "=" tolerated).
func IsDMARC(txt string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(txt), ";")
	k, v, ok := strings.Cut(first, "=")
	return ok && strings.EqualFold(strings.TrimSpace(k), "v") && strings.EqualFold(strings.TrimSpace(v), "DMARC1")
}

var dmarcPolicies = map[string]bool{"none": true, "quarantine": true, "reject": true}

// ParseDMARC parses a DMARC record. Unknown tags are kept and ignored, as
// receivers do. An error describes what is wrong; the returned record then
// carries what receivers would apply (a missing or invalid p with a valid
// rua acts as p=none, RFC 7489 6.6.3); Policy is "" when nothing applies.
func ParseDMARC(txt string) (DMARC, error) {
	d := DMARC{Pct: 100, ADKIM: "r", ASPF: "r", Tags: map[string]string{}}
	if !IsDMARC(txt) {
		return d, fmt.Errorf("not a DMARC record: it must start with v=DMARC1")
	}
	var errs []string
	for _, part := range strings.Split(txt, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			errs = append(errs, fmt.Sprintf("tag without a value: %q", part))
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if _, dup := d.Tags[k]; !dup {
			d.Tags[k] = v
		}
	}
	switch p := strings.ToLower(d.Tags["p"]); {
	case dmarcPolicies[p]:
		d.Policy = p
	default:
		if _, has := d.Tags["p"]; has {
			errs = append(errs, fmt.Sprintf("invalid p=%s", d.Tags["p"]))
		} else {
			errs = append(errs, "no p tag")
		}
	}
	d.RUA = dmarcURIs(d.Tags["rua"])
	d.RUF = dmarcURIs(d.Tags["ruf"])
	if d.Policy == "" && len(d.RUA) > 0 {
		d.Policy = "none"
	}
	d.SubdomainPolicy = d.Policy
	if sp, has := d.Tags["sp"]; has {
		if dmarcPolicies[strings.ToLower(sp)] {
			d.SubdomainPolicy = strings.ToLower(sp)
		} else {
			errs = append(errs, fmt.Sprintf("invalid sp=%s", sp))
		}
	}
	if pct, has := d.Tags["pct"]; has {
		n, err := strconv.Atoi(pct)
		if err != nil || n < 0 || n > 100 {
			errs = append(errs, fmt.Sprintf("invalid pct=%s", pct))
		} else {
			d.Pct = n
		}
	}
	for _, tag := range []struct {
		name string
		dst  *string
	}{{"adkim", &d.ADKIM}, {"aspf", &d.ASPF}} {
		if v, has := d.Tags[tag.name]; has {
			if v = strings.ToLower(v); v == "r" || v == "s" {
				*tag.dst = v
			} else {
				errs = append(errs, fmt.Sprintf("invalid %s=%s", tag.name, v))
			}
		}
	}
	if len(errs) > 0 {
		return d, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return d, nil
}

// dmarcURIs splits a rua/ruf list into addresses: "mailto:" and a
// "!size" limit are stripped, other URI schemes are kept whole.
func dmarcURIs(v string) []string {
	var out []string
	for _, u := range strings.Split(v, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		if len(u) >= 7 && strings.EqualFold(u[:7], "mailto:") {
			u = u[7:]
			if i := strings.LastIndexByte(u, '!'); i > 0 {
				u = u[:i]
			}
			u = strings.ToLower(u)
		}
		out = append(out, u)
	}
	return out
}

func dmarcFacts(ix *index) []schema.Fact {
	var facts []schema.Fact
	published := map[string]bool{}
	for _, name := range ix.names("TXT") {
		domain, ok := strings.CutPrefix(name, "_dmarc.")
		if !ok {
			continue
		}
		var recs []int
		for _, i := range ix.currentTXT(name) {
			if IsDMARC(ix.findings[i].Value) {
				recs = append(recs, i)
			}
		}
		if len(recs) == 0 {
			continue
		}
		published[domain] = true
		ev := ix.ids(recs)
		add := func(kind, value string) {
			facts = append(facts, schema.Fact{Subject: domain, Kind: kind, Value: value, Evidence: ev})
		}
		if distinctValues(ix, recs) > 1 {
			add("dmarc_policy", "invalid")
			add("dmarc_error", "several DMARC records")
			continue
		}
		d, err := ParseDMARC(ix.findings[recs[0]].Value)
		if err != nil {
			add("dmarc_error", err.Error())
		}
		if d.Policy == "" {
			add("dmarc_policy", "invalid")
			continue
		}
		add("dmarc_policy", d.Policy)
		add("dmarc_subdomain_policy", d.SubdomainPolicy)
		add("dmarc_pct", strconv.Itoa(d.Pct))
		for _, u := range d.RUA {
			add("dmarc_rua", u)
			if v := ClassifyDMARCVendor(u); v != "" {
				add("dmarc_vendor", v)
			}
		}
		for _, u := range d.RUF {
			add("dmarc_ruf", u)
		}
	}
	for _, name := range mailDomains(ix) {
		if published[name] || published[RegisteredDomain(name)] {
			continue
		}
		cur, _ := ix.split(ix.records(name, "MX"))
		facts = append(facts, schema.Fact{Subject: name, Kind: "dmarc_policy", Value: "missing", Evidence: ix.ids(cur)})
	}
	return facts
}
