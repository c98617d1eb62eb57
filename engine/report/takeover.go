package report

import (
	"sort"
	"strings"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/internal/takeover"
)

// TakeoverRow is one takeover risk: a dangling CNAME to a claimable
// service, or a name server or mail host whose domain anyone can register.
type TakeoverRow struct {
	Name string `json:"name"`
	// Kind is the fact kind: takeover_confirmed, takeover_candidate,
	// dangling_ns or dangling_mx.
	Kind string `json:"kind"`
	// Target is the service (takeover_*) or the host (dangling_*).
	Target string `json:"target"`
	// Detail says why: the service's status and title, or the host
	// domain's registration.
	Detail   string   `json:"detail,omitempty"`
	Source   string   `json:"source,omitempty"` // the catalogue's source for the service
	Evidence []string `json:"evidence,omitempty"`
}

// takeoverRank orders the kinds: what is confirmed first.
var takeoverRank = map[string]int{
	analysis.KindTakeoverConfirmed: 0,
	analysis.KindTakeoverCandidate: 1,
	analysis.KindDanglingNS:        2,
	analysis.KindDanglingMX:        3,
}

// takeoverLabel is how a report names each kind.
var takeoverLabel = map[string]string{
	analysis.KindTakeoverConfirmed: "takeover confirmed",
	analysis.KindTakeoverCandidate: "takeover candidate",
	analysis.KindDanglingNS:        "dangling NS",
	analysis.KindDanglingMX:        "dangling MX",
}

// buildTakeover collects the takeover risks from the facts; a candidate
// that is also confirmed is shown once, as confirmed.
func (m *model) buildTakeover() {
	registration := map[string]string{}
	confirmed := map[string]bool{}
	for _, f := range m.facts {
		switch f.Kind {
		case "registration":
			registration[f.Subject] = f.Value
		case analysis.KindTakeoverConfirmed:
			confirmed[f.Subject+" "+f.Value] = true
		}
	}
	for _, f := range m.facts {
		if _, risk := takeoverRank[f.Kind]; !risk {
			continue
		}
		if f.Kind == analysis.KindTakeoverCandidate && confirmed[f.Subject+" "+f.Value] {
			continue
		}
		row := TakeoverRow{Name: f.Subject, Kind: f.Kind, Target: f.Value, Evidence: f.Evidence}
		switch f.Kind {
		case analysis.KindTakeoverConfirmed, analysis.KindTakeoverCandidate:
			if s := takeover.Lookup(f.Value); s != nil {
				row.Detail = s.Title + ", " + strings.ReplaceAll(string(s.Status), "_", " ")
				if s.NXDOMAIN {
					row.Detail += "; the target stops existing when the resource is deleted"
				}
				row.Source = s.Source
			}
		default:
			domain := analysis.RegisteredDomain(f.Value)
			if r := registration[domain]; r != "" {
				row.Detail = domain + " is " + r
			}
		}
		m.takeover = append(m.takeover, row)
	}
	sort.SliceStable(m.takeover, func(i, j int) bool {
		a, b := m.takeover[i], m.takeover[j]
		if takeoverRank[a.Kind] != takeoverRank[b.Kind] {
			return takeoverRank[a.Kind] < takeoverRank[b.Kind]
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Target < b.Target
	})
	for _, f := range m.facts {
		if f.Kind == analysis.KindCAAViolation {
			m.caa = append(m.caa, f)
		}
	}
}

// markdownTakeover writes the "Takeover risks" section, and the CAA
// violations after it, when there are any.
func (m *model) markdownTakeover(o *errWriter) {
	if len(m.takeover) > 0 {
		o.printf("## Takeover risks\n\n")
		o.printf("Names whose CNAME points at a deprovisioned resource of a hosted service, and name servers or mail hosts under a domain anyone can register. ")
		o.printf("A candidate comes from passive data; a confirmed one was observed live (NXDOMAIN, or the service's unclaimed page).\n\n")
		o.printf("| Name | Risk | Service or host | Why | Evidence |\n|---|---|---|---|---|\n")
		for _, r := range m.takeover {
			risk := takeoverLabel[r.Kind]
			if r.Kind == analysis.KindTakeoverConfirmed {
				risk = "**" + risk + "**"
			}
			why := mdCell(r.Detail)
			if r.Source != "" {
				why += " ([source](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(r.Source) + "))"
			}
			o.printf("| %s | %s | %s | %s | %s |\n", mdCode(r.Name), risk, mdCode(r.Target), why, codeList(r.Evidence))
		}
		o.printf("\n")
	}
	if len(m.caa) > 0 {
		o.printf("## Certificates against CAA\n\nValid certificates from an issuer the CAA records of the name do not allow.\n\n")
		o.printf("| Name | Issuer | CAA records |\n|---|---|---|\n")
		for _, f := range m.caa {
			o.printf("| %s | %s | %s |\n", mdCode(f.Subject), mdCell(f.Value), codeList(f.Evidence))
		}
		o.printf("\n")
	}
}
