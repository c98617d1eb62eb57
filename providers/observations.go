package providers

import (
	"github.com/reconform/reconform/schema"
)

// MergeObservations folds the observations a provider read into findings:
// an observation read twice counts once, and then MergeFindings merges the
// rest by identity.
//
// An observation is a finding's identity (name, type, value) with its
// window and count. The rule comes from how real answers and exports
// repeat records (testdata/real): Robtex repeats whole lines within one
// answer (its reverse answer for a.iana-servers.net has 15 lines and 9
// records); paged answers (CIRCL's dribble cursor, DNSDB offsets, whose
// order is not stable) can return a record on two pages; exports made by
// concatenating answers repeat them. Those are one observation each.
// Records of one identity that differ in window or count are different
// observations and their counts add up: DNSDB's aggr=false windows, a
// zone-file and a sensor record of one delegation, RRsets of different
// bailiwicks. The file provider applies the same rule to its index.
func MergeObservations(fs []schema.Finding) []schema.Finding {
	type observation struct {
		id          string
		first, last int64
		count       int64
	}
	seen := make(map[observation]struct{}, len(fs))
	kept := make([]schema.Finding, 0, len(fs))
	for _, f := range fs {
		o := observation{f.ID(), f.FirstSeen.Unix(), f.LastSeen.Unix(), f.Count}
		if _, dup := seen[o]; dup {
			continue
		}
		seen[o] = struct{}{}
		kept = append(kept, f)
	}
	return MergeFindings(kept)
}
