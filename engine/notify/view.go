package notify

import (
	"github.com/reconform/reconform/schema"
)

// View is a content as one notifier sees it: only the events it is
// subscribed to, the drift through its filter, the checks it cares about.
type View struct {
	Content  *Content
	Notifier *schema.NotifyBlock
	// Drift is the filtered drift document (nil when the notifier is not
	// subscribed to drift, or the content has none).
	Drift    *DriftDoc
	Checks   []CheckChange
	Run      *RunFailure
	Baseline *Baseline
}

// View filters the content for n.
func (c *Content) View(n *schema.NotifyBlock) (*View, error) {
	v := &View{Content: c, Notifier: n, Baseline: c.Baseline}
	d, err := c.DriftDoc()
	if err != nil {
		return nil, err
	}
	if d != nil {
		fd := d.Filter(n.Filter)
		if !n.Subscribed(schema.NotifyDrift) || c.Baseline != nil {
			// The lists stay (a webhook sends a document), empty.
			fd = fd.Filter(schema.NotifyFilter{Changes: []string{"none"}})
		}
		v.Drift = fd
	}
	for _, ch := range c.Checks {
		if len(n.Filter.Checks) > 0 && !contains(n.Filter.Checks, ch.Name) {
			continue
		}
		if n.Filter.MinSeverity == schema.SeverityError && ch.Severity != schema.SeverityError {
			continue
		}
		switch {
		case c.Baseline != nil: // a baseline lists failing checks in its summary
		case ch.Failing() && !n.Subscribed(schema.NotifyCheckFailed):
			continue
		case !ch.Failing() && !n.Subscribed(schema.NotifyCheckPassed):
			continue
		}
		v.Checks = append(v.Checks, ch)
	}
	if c.Run != nil && n.Subscribed(schema.NotifyRunFailed) {
		v.Run = c.Run
	}
	return v, nil
}

// Empty reports whether there is nothing to send.
func (v *View) Empty() bool {
	return v.Baseline == nil && !v.Content.Test && v.Drift.Items() == 0 && len(v.Checks) == 0 && v.Run == nil
}

// Events are the events the view holds.
func (v *View) Events() []string {
	var out []string
	if v.Content.Test {
		out = append(out, EventTest)
	}
	if v.Baseline != nil {
		out = append(out, EventBaseline)
	}
	if v.Drift.Items() > 0 {
		out = append(out, schema.NotifyDrift)
	}
	failed, passed := false, false
	for _, c := range v.Checks {
		if c.Failing() {
			failed = true
		} else {
			passed = true
		}
	}
	if failed {
		out = append(out, schema.NotifyCheckFailed)
	}
	if passed {
		out = append(out, schema.NotifyCheckPassed)
	}
	if v.Run != nil {
		out = append(out, schema.NotifyRunFailed)
	}
	return out
}
