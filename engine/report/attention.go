package report

import (
	"fmt"
	"sort"

	"github.com/reconform/reconform/engine/diff"
)

// CheckResult is the outcome of one check block, as the state records it
// after a run (engine/check); the report shows the failed ones first.
type CheckResult struct {
	Name     string `json:"name"`
	Severity string `json:"severity"` // SeverityError or SeverityWarning
	Status   string `json:"status"`   // CheckPass, CheckFail or CheckError
	// Messages are the failed assertions' error messages, or the
	// diagnostic of a check that could not be evaluated.
	Messages []string `json:"messages,omitempty"`
}

// Check severities and statuses.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	CheckPass       = "pass"
	CheckFail       = "fail"
	CheckError      = "error"
)

// Failed reports whether the check did not pass.
func (c CheckResult) Failed() bool { return c.Status != CheckPass }

// attention is what a reader should look at first: takeover risks and
// certificates against CAA (takeover.go), failed checks, weakened
// security posture, then the profile's verdicts.
type attention struct {
	Risks      []Risk         // confirmed first
	CAA        []CAAViolation // certificates against CAA
	Checks     []CheckResult  // failed or not evaluated; errors before warnings
	Passed     int            // checks that passed
	Weakenings []string       // facts that weakened since the previous state
	Warnings   []string       // the profile's verdicts and shared hosting
	Failed     int            // query instances that did not complete
}

// Empty reports whether nothing needs attention.
func (a attention) Empty() bool {
	return len(a.Risks)+len(a.CAA)+len(a.Checks)+len(a.Weakenings)+len(a.Warnings)+a.Failed == 0
}

func (m *model) buildAttention(verdicts []string) {
	a := attention{Warnings: verdicts, Failed: len(m.failedInstances())}
	for _, c := range m.in.Checks {
		if c.Failed() {
			a.Checks = append(a.Checks, c)
		} else {
			a.Passed++
		}
	}
	sort.SliceStable(a.Checks, func(i, j int) bool {
		ei, ej := a.Checks[i].Severity != SeverityWarning, a.Checks[j].Severity != SeverityWarning
		if ei != ej {
			return ei
		}
		return a.Checks[i].Name < a.Checks[j].Name
	})
	a.Risks, a.CAA = m.risks(), m.caaViolations()
	a.Weakenings = weakenings(m.in.Drift)
	m.attention = a
}

// weakenings are the drift's weakened facts, one sentence each.
func weakenings(r *diff.Result) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, c := range r.FactsChanged {
		if c.Weakening {
			out = append(out, fmt.Sprintf("%s: %s weakened since the previous state: %s → %s", c.Subject, c.Kind, c.Old, c.New))
		}
	}
	sort.Strings(out)
	return out
}
