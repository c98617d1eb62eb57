// Package analysis derives facts from findings: mail, DNS and SaaS
// profiles, SPF and DMARC verdicts, shared hosting, IP ranges and
// timelines. Everything here is a pure function over findings (the one
// exception, an iptoasn table, is read from a file the caller names).
//
// A fact is (subject, kind, value, evidence); evidence lists the IDs of the
// findings that support it. Values are short plain strings so that a diff
// of two states reads "dmarc_policy reject -> none". The kinds:
//
//	mail_provider           domain  provider of its current MX: google-workspace,
//	                                microsoft-365, proofpoint, mimecast, ... (catalogue.go),
//	                                "self-hosted" (MX under the domain's own registered
//	                                domain or in Options.Scope), "no-mail" (null MX, RFC 7505) or "other"
//	mail_provider_past      domain  a provider seen only in historical MX
//	dns_provider            zone    provider of its current NS: cloudflare, route53, ...,
//	                                "self-hosted" or "other"
//	dns_provider_past       zone    a provider seen only in historical NS
//	spf_all                 domain  -all, ~all, ?all, +all; "no-all" (a record without
//	                                all or redirect: neutral); "missing" (the domain has
//	                                current MX and no SPF record; with Options.Instances,
//	                                only if a query of the run asked its TXT: unasked.go)
//	spf_permissive          domain  +all, ?all or no-all: anyone may send as the domain
//	spf_include             domain  each include: domain (one fact each)
//	mail_sender             domain  a sending service its SPF includes: mailgun,
//	                                sendgrid, mailchimp, salesforce, ... (catalogue.go)
//	spf_redirect            domain  the redirect= domain
//	spf_ip4, spf_ip6        domain  each ip4:/ip6: network (one fact each)
//	spf_lookups             domain  DNS-querying terms counted, nested includes followed
//	                                when their SPF is among the findings
//	spf_too_many_lookups    domain  the count, when above the RFC 7208 limit of 10
//	spf_error               domain  why the record is broken (several records, syntax)
//	dmarc_policy            domain  none, quarantine, reject; "missing" when the domain
//	                                has current MX and neither it nor its registered
//	                                domain publishes DMARC (and TXT was asked, as for
//	                                spf_all); "invalid" for several records
//	dmarc_subdomain_policy  domain  effective sp (p when sp is absent)
//	dmarc_pct               domain  effective pct (100 when absent)
//	dmarc_rua, dmarc_ruf    domain  each report address (mailto: stripped)
//	dmarc_vendor            domain  the reporting service its rua addresses belong to:
//	                                agari, dmarcian, valimail, ... (catalogue.go)
//	dmarc_error             domain  what is wrong with the record
//	saas                    name    a service whose verification token is in current TXT
//	                                (saas.json)
//	saas_past               name    a service whose token is only in historical TXT
//	cname_service           name    the hosted service its current CNAME points at:
//	                                shopify, github-pages, aws-s3, azure-app-service,
//	                                ... (catalogue.go)
//	cname_service_past      name    the same for a historical CNAME
//	shared_hosting          IP      number of distinct registered domains with A/AAAA
//	                                records on the IP (emitted when at least 2)
//	shared_hosting_ip       IP      "true" when the IP hosts at least
//	                                Options.SharedHostingThreshold registered domains
//	                                outside Options.Scope
//	ip_range                prefix  number of distinct IPs in the /24 (IPv4) or /48 (IPv6)
//	asn                     IP      "AS64500 EXAMPLE-ORG" from the iptoasn table
//	moved                   name    "A 198.51.100.7 -> 203.0.113.10": the latest move of
//	                                each (name, type), values that moved together joined
//	                                with ", " ("NS a, b -> c"); every move is in Timeline
//	still_resolves          finding "yes" or "no": live DNS still answers the record
//	                                (Verify, verify.go), when Options.Instances are given
//	takeover_candidate      name    a catalogued service (internal/takeover) whose resource
//	                                behind the name's current CNAME is gone: no current
//	                                address anywhere on the chain, or live NXDOMAIN
//	                                (takeover.go)
//	takeover_confirmed      name    the same, confirmed live: the target NXDOMAIN and/or the
//	                                service's unclaimed page (http_fingerprint)
//	dangling_ns             zone    a current NS host whose registrable domain is
//	                                unregistered or expired (rdap registration facts)
//	dangling_mx             domain  the same for a current MX host
//	caa_violation           name    an issuer of a valid certificate (crtsh cert_issuer)
//	                                that the CAA records applying to the name do not allow
//	                                (caa.go)
//
// The takeover, dangling and CAA kinds read facts providers reported
// (Options.Facts) besides the findings: dns's dangling_cname and
// dns_status, rdap's registration, httpprobe's http_fingerprint and
// crtsh's cert_issuer.
//
// Currency: only current findings decide mail_provider, dns_provider, SPF,
// DMARC and saas; historical ones give the *_past kinds or the timeline.
// When no finding at all is marked current (currency was never computed,
// or the data are older than the current window), a finding counts as
// current when its last_seen is within 30 days of the newest last_seen in
// the findings, so old datasets still get a profile.
package analysis

import (
	"sort"
	"strings"
	"time"

	"github.com/reconform/reconform/schema"
)

// Options tune Derive.
type Options struct {
	// ASNTable is an optional iptoasn TSV file (plain or .gz) for grouping
	// IPs by ASN; ignored when ASN is set. A table that cannot be read
	// yields no asn facts: call LoadASNTable to see the error.
	ASNTable string
	// ASN is an already loaded table.
	ASN *ASNTable
	// Scope lists the engagement's own domains: names under them do not
	// count as unrelated neighbours for shared_hosting_ip.
	Scope []string
	// SharedHostingThreshold is how many unrelated registered domains make
	// an IP shared hosting (default 5).
	SharedHostingThreshold int
	// Instances are this run's query instances (with FindingIDs); when
	// set, live resolve instances verify the known records (Verify:
	// still_resolves facts).
	Instances []schema.InstanceResult
	// MaxEvidence caps the evidence of one fact (default 50): an IP with
	// thousands of neighbours must not bloat the state.
	MaxEvidence int
	// Facts are the facts providers reported (this run's, and those of
	// earlier runs a failed query could not renew): the takeover,
	// dangling and CAA analyses combine them with the findings.
	Facts []schema.Fact
}

// Kinds lists every fact kind Derive produces (verification facts aside),
// so that callers can tell derived facts from facts providers reported.
var Kinds = []string{
	"asn", "dmarc_error", "dmarc_pct", "dmarc_policy", "dmarc_rua", "dmarc_ruf", "dmarc_subdomain_policy", "dmarc_vendor",
	"cname_service", "cname_service_past", "dns_provider", "dns_provider_past", "ip_range", "mail_provider", "mail_provider_past", "mail_sender", "moved",
	"saas", "saas_past", "shared_hosting", "shared_hosting_ip", "spf_all", "spf_error", "spf_include", "spf_ip4",
	"spf_ip6", "spf_lookups", "spf_permissive", "spf_redirect", "spf_too_many_lookups",
	KindTakeoverCandidate, KindTakeoverConfirmed, KindDanglingNS, KindDanglingMX, KindCAAViolation,
}

// IsDerivedKind reports whether Derive produces facts of kind.
func IsDerivedKind(kind string) bool {
	for _, k := range Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// fallbackWindow is how recent last_seen must be, relative to the newest
// observation, for a finding to count as current when no finding is marked.
const fallbackWindow = 30 * 24 * time.Hour

// Derive computes the facts findings support, sorted by subject, kind and
// value, one fact per identity.
func Derive(findings []schema.Finding, opts Options) []schema.Fact {
	if opts.SharedHostingThreshold <= 0 {
		opts.SharedHostingThreshold = 5
	}
	if opts.MaxEvidence <= 0 {
		opts.MaxEvidence = 50
	}
	ix := newIndex(findings)
	var facts []schema.Fact
	facts = append(facts, mailFacts(ix, opts.Scope)...)
	facts = append(facts, dnsProviderFacts(ix, opts.Scope)...)
	facts = append(facts, spfFacts(ix)...)
	facts = append(facts, dmarcFacts(ix)...)
	facts = append(facts, saasFacts(ix)...)
	facts = append(facts, cnameFacts(ix)...)
	facts = append(facts, sharedHostingFacts(ix, opts)...)
	facts = append(facts, ipRangeFacts(ix)...)
	table := opts.ASN
	if table == nil && opts.ASNTable != "" {
		table, _ = LoadASNTable(opts.ASNTable)
	}
	facts = append(facts, asnFacts(ix, table)...)
	facts = append(facts, moveFacts(ix)...)
	facts = append(facts, verifyFacts(findings, opts)...)
	reported := newReportedIndex(opts.Facts)
	facts = append(facts, ownFacts(append(takeoverFacts(ix, reported), danglingFacts(ix, reported)...), opts.Scope)...)
	facts = append(facts, caaFacts(ix, reported)...)
	facts = dropUnasked(facts, opts.Instances)
	return finish(facts, opts.MaxEvidence)
}

// finish merges facts with the same identity (joining their evidence),
// sorts evidence and facts, and caps evidence.
func finish(facts []schema.Fact, maxEvidence int) []schema.Fact {
	byID := map[string]int{}
	var out []schema.Fact
	for _, f := range facts {
		if i, ok := byID[f.ID()]; ok {
			out[i].Evidence = append(out[i].Evidence, f.Evidence...)
			continue
		}
		byID[f.ID()] = len(out)
		f.Evidence = append([]string(nil), f.Evidence...)
		out = append(out, f)
	}
	for i := range out {
		ev := out[i].Evidence
		sort.Strings(ev)
		ev = dedupeSorted(ev)
		if maxEvidence > 0 && len(ev) > maxEvidence {
			ev = ev[:maxEvidence]
		}
		if len(ev) == 0 {
			ev = nil
		}
		out[i].Evidence = ev
	}
	schema.SortFacts(out)
	return out
}

func dedupeSorted(s []string) []string {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// index groups findings by (name, type) and knows which are current.
type index struct {
	findings []schema.Finding
	current  []bool
	byKey    map[string][]int // name + " " + type -> indexes, in input order
	byType   map[string][]int
}

func newIndex(findings []schema.Finding) *index {
	fs := make([]schema.Finding, len(findings))
	copy(fs, findings)
	schema.SortFindings(fs)
	ix := &index{findings: fs, current: make([]bool, len(fs)), byKey: map[string][]int{}, byType: map[string][]int{}}
	marked := false
	var newest time.Time
	for _, f := range fs {
		if f.Current {
			marked = true
		}
		if f.LastSeen.After(newest) {
			newest = f.LastSeen
		}
	}
	for i, f := range fs {
		switch {
		case marked:
			ix.current[i] = f.Current
		case f.LastSeen.IsZero():
			ix.current[i] = true // nothing says it ended
		default:
			ix.current[i] = !f.LastSeen.Before(newest.Add(-fallbackWindow))
		}
		k := f.Name + " " + f.Type
		ix.byKey[k] = append(ix.byKey[k], i)
		ix.byType[f.Type] = append(ix.byType[f.Type], i)
	}
	return ix
}

// records returns the indexes of name's records of type t.
func (ix *index) records(name, t string) []int { return ix.byKey[name+" "+t] }

// names returns the sorted distinct names having records of type t.
func (ix *index) names(t string) []string {
	seen := map[string]bool{}
	var out []string
	for _, i := range ix.byType[t] {
		n := ix.findings[i].Name
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// split separates indexes into current and historical.
func (ix *index) split(idx []int) (cur, past []int) {
	for _, i := range idx {
		if ix.current[i] {
			cur = append(cur, i)
		} else {
			past = append(past, i)
		}
	}
	return cur, past
}

func (ix *index) ids(idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = ix.findings[i].ID()
	}
	return out
}

// txtValues returns the current TXT (and SPF-type) records of name.
func (ix *index) currentTXT(name string) []int {
	cur, _ := ix.split(append(append([]int(nil), ix.records(name, "TXT")...), ix.records(name, "SPF")...))
	return cur
}

// mxHost returns the host of an MX value "10 mx.example.com" (or a bare
// host), "" for a null MX.
func mxHost(v string) string {
	fields := strings.Fields(v)
	switch len(fields) {
	case 0:
		return ""
	case 1:
		if fields[0] == "." || isAllDigits(fields[0]) {
			return ""
		}
		return schema.NormalizeName(fields[0])
	default:
		return schema.NormalizeName(fields[len(fields)-1])
	}
}

func isAllDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// providerFacts classifies the hosts of name's current and historical
// records of type t with classify, giving kind facts for the current
// providers and kind_past facts for providers only seen historically.
func providerFacts(ix *index, t, kind string, host func(string) string, classifyHost func(host, domain string) string, scope []string) []schema.Fact {
	// A server under one of the engagement's own domains is the target's
	// own, even when its registered domain differs from the zone's.
	classify := func(h, domain string) string {
		p := classifyHost(h, domain)
		if p == "other" && h != "" && inScope(h, scope) {
			return "self-hosted"
		}
		return p
	}
	var facts []schema.Fact
	for _, name := range ix.names(t) {
		cur, past := ix.split(ix.records(name, t))
		now := map[string][]int{}
		for _, i := range cur {
			p := classify(host(ix.findings[i].Value), name)
			now[p] = append(now[p], i)
		}
		for p, idx := range now {
			facts = append(facts, schema.Fact{Subject: name, Kind: kind, Value: p, Evidence: ix.ids(idx)})
		}
		for _, i := range past {
			p := classify(host(ix.findings[i].Value), name)
			if _, ok := now[p]; ok {
				continue
			}
			facts = append(facts, schema.Fact{Subject: name, Kind: kind + "_past", Value: p, Evidence: []string{ix.findings[i].ID()}})
		}
	}
	return facts
}

func mailFacts(ix *index, scope []string) []schema.Fact {
	return providerFacts(ix, "MX", "mail_provider", mxHost, ClassifyMX, scope)
}

func dnsProviderFacts(ix *index, scope []string) []schema.Fact {
	return providerFacts(ix, "NS", "dns_provider", schema.NormalizeName, ClassifyNS, scope)
}

// mailDomains returns the names with current MX records that accept mail.
func mailDomains(ix *index) []string {
	var out []string
	for _, name := range ix.names("MX") {
		cur, _ := ix.split(ix.records(name, "MX"))
		for _, i := range cur {
			if mxHost(ix.findings[i].Value) != "" {
				out = append(out, name)
				break
			}
		}
	}
	return out
}
