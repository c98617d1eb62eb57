package providers

import (
	"slices"

	"github.com/reconform/reconform/schema"
)

// MergeFindings folds findings with the same identity (name, type, value)
// into one: the widest observation window, the summed count, the union of
// sources, and Current if any was current. The result is sorted by
// identity; the input is not modified.
func MergeFindings(fs []schema.Finding) []schema.Finding {
	if len(fs) == 0 {
		return nil
	}
	index := make(map[string]int, len(fs))
	out := make([]schema.Finding, 0, len(fs))
	for _, f := range fs {
		i, seen := index[f.ID()]
		if !seen {
			f.Sources = slices.Clone(f.Sources)
			index[f.ID()] = len(out)
			out = append(out, f)
			continue
		}
		m := &out[i]
		if !f.FirstSeen.IsZero() && (m.FirstSeen.IsZero() || f.FirstSeen.Before(m.FirstSeen)) {
			m.FirstSeen = f.FirstSeen
		}
		if f.LastSeen.After(m.LastSeen) {
			m.LastSeen = f.LastSeen
		}
		m.Count += f.Count
		m.Current = m.Current || f.Current
		m.Active = m.Active || f.Active
		m.Sources = append(m.Sources, f.Sources...)
	}
	for i := range out {
		slices.Sort(out[i].Sources)
		out[i].Sources = slices.Compact(out[i].Sources)
	}
	schema.SortFindings(out)
	return out
}
