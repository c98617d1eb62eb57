package report

import (
	"sort"
	"strings"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/internal/takeover"
	"github.com/reconform/reconform/schema"
)

// Risk is one takeover risk, as every renderer shows it: a CNAME to a
// deprovisioned resource of a hosted service (takeover_candidate,
// takeover_confirmed), a CNAME live DNS found dangling (dangling_cname),
// or a name server or mail host under a domain anyone can register
// (dangling_ns, dangling_mx). Facts of any kind starting with
// "takeover_" or "dangling_" are risks, whichever analysis or provider
// produced them (IsRiskKind).
type Risk struct {
	Subject string `json:"subject"`
	Kind    string `json:"kind"`
	What    string `json:"what"` // the kind as a person reads it
	// Target is the fact's value: the service (takeover_*), the host
	// (dangling_ns, dangling_mx) or the missing end of the chain
	// (dangling_cname).
	Target string `json:"target"`
	// Detail says why: the service's title and status in the catalogue
	// (internal/takeover), or the registration of the host's domain.
	Detail   string   `json:"detail,omitempty"`
	Source   string   `json:"source,omitempty"` // the catalogue's source for the service's status
	Evidence []string `json:"evidence,omitempty"`
	// Confirmed is set when live observations confirmed it
	// (takeover_confirmed).
	Confirmed bool `json:"confirmed,omitempty"`
}

// CAAViolation is a valid certificate from an issuer the CAA records of
// the name do not allow (caa_violation).
type CAAViolation struct {
	Subject  string   `json:"subject"`
	Issuer   string   `json:"issuer"`
	Evidence []string `json:"evidence,omitempty"` // the CAA records
}

// IsRiskKind reports whether facts of kind are takeover or dangling-record
// risks.
func IsRiskKind(kind string) bool {
	return strings.HasPrefix(kind, "takeover_") || strings.HasPrefix(kind, "dangling_")
}

// riskKinds names the risk kinds known today, in the order a report
// lists them: what is confirmed first. Other risk kinds come after them
// and read as their kind.
var riskKinds = []struct{ kind, what string }{
	{analysis.KindTakeoverConfirmed, "takeover confirmed"},
	{analysis.KindTakeoverCandidate, "takeover candidate"},
	{"dangling_cname", "dangling CNAME"},
	{analysis.KindDanglingNS, "dangling NS"},
	{analysis.KindDanglingMX, "dangling MX"},
}

func riskRank(kind string) (int, string) {
	for i, k := range riskKinds {
		if k.kind == kind {
			return i, k.what
		}
	}
	return len(riskKinds), strings.ReplaceAll(kind, "_", " ")
}

// risks are the state's takeover risks, confirmed first. Each is shown
// once: a candidate whose name and service are also confirmed is left
// out, and so is a dangling CNAME that is the chain of a takeover risk of
// the same name (live DNS's answer is what made it a risk).
func (m *model) risks() []Risk {
	registration := map[string]string{}
	confirmed := map[string]bool{}
	chains := map[string][]string{} // name -> evidence of its takeover_* facts
	for _, f := range m.facts {
		switch {
		case f.Kind == "registration":
			registration[f.Subject] = f.Value
		case strings.HasPrefix(f.Kind, "takeover_"):
			chains[f.Subject] = append(chains[f.Subject], f.Evidence...)
			if f.Kind == analysis.KindTakeoverConfirmed {
				confirmed[f.Subject+" "+f.Value] = true
			}
		}
	}
	var out []Risk
	for _, f := range m.facts {
		if !IsRiskKind(f.Kind) {
			continue
		}
		if f.Kind == analysis.KindTakeoverCandidate && confirmed[f.Subject+" "+f.Value] {
			continue
		}
		if f.Kind == "dangling_cname" && endsChain(chains[f.Subject], f.Value) {
			continue
		}
		_, what := riskRank(f.Kind)
		r := Risk{Subject: f.Subject, Kind: f.Kind, What: what, Target: f.Value, Evidence: f.Evidence,
			Confirmed: f.Kind == analysis.KindTakeoverConfirmed}
		if strings.HasPrefix(f.Kind, "takeover_") {
			if s := takeover.Lookup(f.Value); s != nil {
				r.Detail = s.Title + ", " + strings.ReplaceAll(string(s.Status), "_", " ")
				if s.NXDOMAIN {
					r.Detail += "; the target stops existing when the resource is deleted"
				}
				r.Source = s.Source
			}
		} else if d := schema.RegisteredDomain(f.Value); registration[d] != "" {
			r.Detail = d + " is " + registration[d]
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		ra, _ := riskRank(a.Kind)
		rb, _ := riskRank(b.Kind)
		if ra != rb {
			return ra < rb
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Target < b.Target
	})
	return out
}

// endsChain reports whether one of the CNAME findings (IDs) points at
// target.
func endsChain(evidence []string, target string) bool {
	for _, id := range evidence {
		if strings.HasSuffix(id, " CNAME "+target) {
			return true
		}
	}
	return false
}

// caaViolations are the state's caa_violation facts.
func (m *model) caaViolations() []CAAViolation {
	var out []CAAViolation
	for _, f := range m.facts {
		if f.Kind == analysis.KindCAAViolation {
			out = append(out, CAAViolation{Subject: f.Subject, Issuer: f.Value, Evidence: f.Evidence})
		}
	}
	return out
}

// sourceURL is a catalogue source as a Markdown link target.
var sourceURL = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20")

// markdownRisks writes the "Takeover risks" section and the CAA
// violations after it, when there are any: they lead the Markdown report,
// being what to act on first.
func (m *model) markdownRisks(o *errWriter) {
	a := m.attention
	if len(a.Risks) > 0 {
		o.printf("## Takeover risks\n\n")
		o.printf("Names whose CNAME points at a deprovisioned resource of a hosted service or at a name that no longer exists, and name servers or mail hosts under a domain anyone can register. ")
		o.printf("A candidate comes from passive data; a confirmed one was observed live (NXDOMAIN, or the service's unclaimed page).\n\n")
		o.printf("| Name | Risk | Service or host | Why | Evidence |\n|---|---|---|---|---|\n")
		for _, r := range a.Risks {
			what := mdCell(r.What)
			if r.Confirmed {
				what = "**" + what + "**"
			}
			why := mdCell(r.Detail)
			if r.Source != "" {
				why += " ([source](" + sourceURL.Replace(r.Source) + "))"
			}
			o.printf("| %s | %s | %s | %s | %s |\n", mdCode(r.Subject), what, mdCode(r.Target), why, codeList(r.Evidence))
		}
		o.printf("\n")
	}
	if len(a.CAA) > 0 {
		o.printf("## Certificates against CAA\n\nValid certificates from an issuer the CAA records of the name do not allow.\n\n")
		o.printf("| Name | Issuer | CAA records |\n|---|---|---|\n")
		for _, v := range a.CAA {
			o.printf("| %s | %s | %s |\n", mdCode(v.Subject), mdCell(v.Issuer), codeList(v.Evidence))
		}
		o.printf("\n")
	}
}
