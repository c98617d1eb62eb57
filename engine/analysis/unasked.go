package analysis

import (
	"github.com/reconform/reconform/schema"
)

// dropUnasked removes "missing" SPF and DMARC verdicts about names whose
// TXT records no successful query of this run asked for: a live resolve
// with rrtypes = ["MX"] finds the mail servers but says nothing about
// SPF or DMARC, so claiming them missing would be false. Without
// instances (a re-derivation from a state file) facts are kept as they are.
func dropUnasked(facts []schema.Fact, instances []schema.InstanceResult) []schema.Fact {
	if instances == nil {
		return facts
	}
	asked := map[string]bool{} // names whose TXT records were asked
	for _, in := range instances {
		q := in.Query
		if !in.Status.Succeeded() || q.Subject.Kind != schema.SubjectDomain || !q.WantsType("TXT") {
			continue
		}
		if q.Op == schema.OpResolve || q.Op == schema.OpResolutions {
			asked[q.Subject.Value] = true
		}
	}
	out := facts[:0]
	for _, f := range facts {
		if f.Value == "missing" && !asked[f.Subject] {
			switch {
			case f.Kind == "spf_all":
				continue
			case f.Kind == "dmarc_policy" && !asked[RegisteredDomain(f.Subject)] && !asked["_dmarc."+f.Subject]:
				continue
			}
		}
		out = append(out, f)
	}
	return out
}
