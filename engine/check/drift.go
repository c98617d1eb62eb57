package check

import (
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// DriftValue is drift as check expressions see it (schema.DriftType):
// the lists of the drift JSON, each item an object with its fields.
func DriftValue(d *diff.Result) cty.Value {
	findings := func(fs []*state.Finding) cty.Value {
		if len(fs) == 0 {
			return cty.ListValEmpty(schema.FindingType)
		}
		vals := make([]cty.Value, len(fs))
		for i, f := range fs {
			vals[i] = findingValue(f)
		}
		return cty.ListVal(vals)
	}
	changed := cty.ListValEmpty(schema.ChangeType)
	if len(d.Changed) > 0 {
		vals := make([]cty.Value, len(d.Changed))
		for i, c := range d.Changed {
			vals[i] = cty.ObjectVal(map[string]cty.Value{
				"name": cty.StringVal(c.Name), "type": cty.StringVal(c.Type),
				"old": findingValue(c.Old), "new": findingValue(c.New),
				"old_how": cty.StringVal(c.OldHow), "new_how": cty.StringVal(c.NewHow),
			})
		}
		changed = cty.ListVal(vals)
	}
	factsChanged := cty.ListValEmpty(schema.FactChangeType)
	if len(d.FactsChanged) > 0 {
		vals := make([]cty.Value, len(d.FactsChanged))
		for i, c := range d.FactsChanged {
			vals[i] = cty.ObjectVal(map[string]cty.Value{
				"subject": cty.StringVal(c.Subject), "kind": cty.StringVal(c.Kind),
				"old": cty.StringVal(c.Old), "new": cty.StringVal(c.New), "weakening": cty.BoolVal(c.Weakening),
			})
		}
		factsChanged = cty.ListVal(vals)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"added":           findings(d.Added),
		"removed":         findings(d.Removed),
		"became_current":  findings(d.BecameCurrent),
		"went_historical": findings(d.WentHistorical),
		"unverified":      findings(d.Unverified),
		"reverified":      findings(d.Reverified),
		"forgotten":       findings(d.Forgotten),
		"changed":         changed,
		"facts_added":     schema.FactsValue(d.FactsAdded),
		"facts_removed":   schema.FactsValue(d.FactsRemoved),
		"facts_changed":   factsChanged,
		"has_drift":       cty.BoolVal(d.HasDrift()),
		"first_run":       cty.BoolVal(d.Old == nil && d.New != nil),
	})
}

func findingValue(f *state.Finding) cty.Value {
	sf := f.Finding
	sf.Current = f.IsCurrent()
	return schema.FindingValue(sf)
}
