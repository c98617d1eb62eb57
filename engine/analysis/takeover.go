package analysis

import (
	"sort"

	"github.com/reconform/reconform/internal/takeover"
	"github.com/reconform/reconform/schema"
)

// The takeover fact kinds Derive produces. The HTML and Markdown reports
// and checks name them exactly so.
const (
	KindTakeoverCandidate = "takeover_candidate"
	KindTakeoverConfirmed = "takeover_confirmed"
	KindDanglingNS        = "dangling_ns"
	KindDanglingMX        = "dangling_mx"
)

// Facts providers report that the takeover analysis reads (the
// providers' packages document them).
const (
	reportedDanglingCNAME   = "dangling_cname"   // dns: Value is the missing end of the name's chain
	reportedDNSStatus       = "dns_status"       // dns: nxdomain, nodata, noerror
	reportedRegistration    = "registration"     // rdap: registered, expired, unregistered
	reportedHTTPFingerprint = "http_fingerprint" // httpprobe: a service's unclaimed page
)

// maxTakeoverChain bounds the CNAME hops followed from a target.
const maxTakeoverChain = 16

// reportedIndex answers "did a provider say (subject, kind, value)?".
type reportedIndex map[string]map[string][]string // kind -> subject -> values

func newReportedIndex(facts []schema.Fact) reportedIndex {
	ix := reportedIndex{}
	for _, f := range facts {
		if ix[f.Kind] == nil {
			ix[f.Kind] = map[string][]string{}
		}
		ix[f.Kind][f.Subject] = append(ix[f.Kind][f.Subject], f.Value)
	}
	return ix
}

func (r reportedIndex) has(kind, subject, value string) bool {
	for _, v := range r[kind][subject] {
		if v == value {
			return true
		}
	}
	return false
}

// takeoverFacts finds CNAMEs that point at a catalogued service whose
// resource is gone (internal/takeover):
//
//	takeover_candidate  name  a current CNAME (directly or through further current
//	                          CNAMEs) reaches a vulnerable or edge-case service, and no
//	                          name on the chain has a current address in any source, or
//	                          live DNS found the chain's end NXDOMAIN (dangling_cname,
//	                          dns_status nxdomain). Passive: it reads only findings.
//	takeover_confirmed  name  the same CNAME, and live observations show every signature
//	                          the service has: the target NXDOMAIN (live DNS) for a
//	                          service whose deleted resources vanish from the DNS, the
//	                          service's unclaimed page (httpprobe's http_fingerprint of
//	                          the name) for one that serves a page. Active providers
//	                          only run in engagements that allow them and on in-scope
//	                          names, so confirmation never comes from elsewhere.
//
// Value: the service (the catalogue's name); evidence: the CNAME findings
// of the chain. A service that verifies ownership (not_vulnerable) gives
// nothing, and a historical CNAME gives nothing: the name no longer
// points there.
func takeoverFacts(ix *index, rep reportedIndex) []schema.Fact {
	hasAddr := map[string]bool{}
	for _, t := range []string{"A", "AAAA"} {
		for _, i := range ix.byType[t] {
			if ix.current[i] {
				hasAddr[ix.findings[i].Name] = true
			}
		}
	}
	cnames := map[string][]int{} // name -> its current CNAME findings
	for _, i := range ix.byType["CNAME"] {
		if ix.current[i] {
			cnames[ix.findings[i].Name] = append(cnames[ix.findings[i].Name], i)
		}
	}
	owners := make([]string, 0, len(cnames))
	for name := range cnames {
		owners = append(owners, name)
	}
	sort.Strings(owners)

	var facts []schema.Fact
	for _, name := range owners {
		for _, first := range cnames[name] {
			service, evidence, reached := followChain(ix, cnames, first)
			if service == nil || !service.Claimable() {
				continue
			}
			resolved := hasAddr[name]
			liveNX := false
			for _, n := range reached {
				resolved = resolved || hasAddr[n]
				liveNX = liveNX || rep.has(reportedDNSStatus, n, "nxdomain") || rep.has(reportedDanglingCNAME, name, n)
			}
			if !resolved || liveNX {
				facts = append(facts, schema.Fact{Subject: name, Kind: KindTakeoverCandidate, Value: service.Name, Evidence: evidence})
			}
			needHTTP := service.HasHTTPFingerprint()
			if (service.NXDOMAIN || needHTTP) &&
				(!service.NXDOMAIN || liveNX) &&
				(!needHTTP || rep.has(reportedHTTPFingerprint, name, service.Name)) {
				facts = append(facts, schema.Fact{Subject: name, Kind: KindTakeoverConfirmed, Value: service.Name, Evidence: evidence})
			}
		}
	}
	return facts
}

// ownFacts keeps the facts about names under the scope (all of them
// without one): a partner's dangling CNAME seen in passive data is not
// the target's takeover risk, and reporting it would invite testing it.
func ownFacts(facts []schema.Fact, scope []string) []schema.Fact {
	if len(scope) == 0 {
		return facts
	}
	out := facts[:0]
	for _, f := range facts {
		if inScope(f.Subject, scope) {
			out = append(out, f)
		}
	}
	return out
}

// followChain follows current CNAMEs from the finding first: the first
// catalogued service on the way (the target itself first), the IDs of
// the CNAME findings followed, and every name reached.
func followChain(ix *index, cnames map[string][]int, first int) (*takeover.Service, []string, []string) {
	var service *takeover.Service
	evidence := []string{ix.findings[first].ID()}
	seen := map[string]bool{ix.findings[first].Name: true}
	next := []string{ix.findings[first].Value}
	var reached []string
	for hop := 0; hop < maxTakeoverChain && len(next) > 0; hop++ {
		var after []string
		for _, n := range next {
			if seen[n] {
				continue
			}
			seen[n] = true
			reached = append(reached, n)
			if service == nil {
				service = takeover.Match(n)
			}
			for _, i := range cnames[n] {
				evidence = append(evidence, ix.findings[i].ID())
				after = append(after, ix.findings[i].Value)
			}
		}
		next = after
	}
	return service, evidence, reached
}

// danglingFacts finds name servers and mail hosts whose registrable
// domain a registry says is unregistered or expired (the rdap provider's
// registration facts): whoever registers it answers for the zone, or
// receives its mail.
//
//	dangling_ns  zone    a current NS host of the zone (one fact per host)
//	dangling_mx  domain  a current MX host of the domain
//
// Evidence: the NS or MX finding. Historical records give nothing: the
// delegation or the mail route has moved on.
func danglingFacts(ix *index, rep reportedIndex) []schema.Fact {
	if len(rep[reportedRegistration]) == 0 {
		return nil
	}
	gone := func(host string) bool {
		d := schema.RegisteredDomain(host)
		return d != "" && (rep.has(reportedRegistration, d, "unregistered") || rep.has(reportedRegistration, d, "expired"))
	}
	var facts []schema.Fact
	for _, rule := range []struct {
		rrtype, kind string
		host         func(string) string
	}{{"NS", KindDanglingNS, schema.NormalizeName}, {"MX", KindDanglingMX, mxHost}} {
		for _, i := range ix.byType[rule.rrtype] {
			if !ix.current[i] {
				continue
			}
			f := ix.findings[i]
			if host := rule.host(f.Value); host != "" && gone(host) {
				facts = append(facts, schema.Fact{Subject: f.Name, Kind: rule.kind, Value: host, Evidence: []string{f.ID()}})
			}
		}
	}
	return facts
}
