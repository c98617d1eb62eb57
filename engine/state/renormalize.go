package state

import (
	"time"

	"github.com/reconform/reconform/schema"
)

// renormalize brings the values of a state written by an older build to
// today's normal form, so that they keep their identity against what the
// providers report now: a state of 0.1 holds MX values with their
// preference ("10 mx1.acme.example"), which schema.NewFinding now makes
// the exchange host alone. Without it every MX record would show as
// removed and added again after the upgrade. Findings that become one
// are merged (see mergeInto), and facts' evidence, which names findings
// by identity, is rewritten the same way.
//
// It runs on every read and only looks at the types whose normal form
// changed (renormalizedTypes), so a large state costs one pass of type
// comparisons.
func (s *State) renormalize() {
	changed := map[string]string{} // old ID -> new ID
	for i := range s.Findings {
		f := &s.Findings[i].Finding
		if !renormalizedTypes[f.Type] {
			continue
		}
		v := schema.NormalizeValue(f.Type, f.Value)
		if v == f.Value {
			continue
		}
		old := f.ID()
		f.Value = v
		changed[old] = f.ID()
	}
	if len(changed) == 0 {
		return
	}
	SortFindings(s.Findings)
	out := s.Findings[:0]
	for i := range s.Findings {
		f := s.Findings[i]
		if n := len(out); n > 0 && schema.CompareFindings(&out[n-1].Finding, &f.Finding) == 0 {
			mergeInto(&out[n-1], &f)
			continue
		}
		out = append(out, f)
	}
	s.Findings = out
	for i := range s.Facts {
		ev := s.Facts[i].Evidence
		for j, id := range ev {
			if n, ok := changed[id]; ok {
				ev[j] = n
			}
		}
		s.Facts[i].Evidence = unionSorted(nil, ev)
	}
}

// renormalizedTypes are the record types whose normal form changed since
// format_version 1 was first written: MX (the preference dropped), and
// MX, SOA and SRV values whose fields control whitespace separated (now
// joined by one space; the old form was not stable under normalising).
var renormalizedTypes = map[string]bool{"MX": true, "SOA": true, "SRV": true}

// mergeInto folds b into a, two findings of a state that turned out to be
// one record: the widest window, the highest count, every source and
// instance; current if either was, and verified if either was.
func mergeInto(a, b *Finding) {
	absorb(a, &b.Finding, b.Instances)
	if a.Block == "" {
		a.Block = b.Block
	}
	if b.IsCurrent() {
		a.Currency = Current
	}
	switch {
	case a.Unverified == "":
	case b.Unverified == "":
		a.Unverified, a.UnverifiedSince = "", time.Time{}
	case b.UnverifiedSince.Before(a.UnverifiedSince):
		a.UnverifiedSince = b.UnverifiedSince
	}
}
