package report

import (
	"fmt"
	"sort"
	"strings"

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

// Risk is a fact that points at a takeover or a dangling record: a CNAME
// to an unclaimed resource, a delegation or mail server under an expired
// domain. Facts of kinds starting with "takeover_" or "dangling_" are
// risks, whichever analysis or provider produced them.
type Risk struct {
	Subject  string   `json:"subject"`
	Kind     string   `json:"kind"`
	What     string   `json:"what"`   // the kind as a person reads it
	Target   string   `json:"target"` // the fact's value: the missing target, the service
	Evidence []string `json:"evidence,omitempty"`
	// Confirmed is set when active checks confirmed it (takeover_confirmed).
	Confirmed bool `json:"confirmed,omitempty"`
}

// riskWords names the risk kinds known today; others read as their kind.
var riskWords = map[string]string{
	"takeover_confirmed": "takeover confirmed",
	"takeover_candidate": "takeover candidate",
	"dangling_cname":     "dangling CNAME",
	"dangling_ns":        "dangling name server",
	"dangling_mx":        "dangling mail server",
}

// riskOrder puts confirmed takeovers first, then candidates, then
// dangling records.
func riskOrder(kind string) int {
	switch {
	case kind == "takeover_confirmed":
		return 0
	case strings.HasPrefix(kind, "takeover_"):
		return 1
	}
	return 2
}

// IsRiskKind reports whether facts of kind are takeover or dangling-record
// risks.
func IsRiskKind(kind string) bool {
	return strings.HasPrefix(kind, "takeover_") || strings.HasPrefix(kind, "dangling_")
}

// attention is what a reader should look at first: failed checks,
// takeover risks, weakened security posture, then the profile's verdicts.
type attention struct {
	Checks     []CheckResult // failed or not evaluated; errors before warnings
	Passed     int           // checks that passed
	Risks      []Risk
	Weakenings []string // facts that weakened since the previous state
	Warnings   []string // the profile's verdicts and shared hosting
	Failed     int      // query instances that did not complete
}

// Empty reports whether nothing needs attention.
func (a attention) Empty() bool {
	return len(a.Checks)+len(a.Risks)+len(a.Weakenings)+len(a.Warnings)+a.Failed == 0
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
	for _, f := range m.facts {
		if !IsRiskKind(f.Kind) {
			continue
		}
		what := riskWords[f.Kind]
		if what == "" {
			what = strings.ReplaceAll(f.Kind, "_", " ")
		}
		a.Risks = append(a.Risks, Risk{Subject: f.Subject, Kind: f.Kind, What: what, Target: f.Value,
			Evidence: f.Evidence, Confirmed: f.Kind == "takeover_confirmed"})
	}
	sort.SliceStable(a.Risks, func(i, j int) bool {
		oi, oj := riskOrder(a.Risks[i].Kind), riskOrder(a.Risks[j].Kind)
		if oi != oj {
			return oi < oj
		}
		return a.Risks[i].Subject < a.Risks[j].Subject
	})
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
