// Package check evaluates an engagement's check blocks over a state and
// its drift: each check passes, fails with the error messages of its
// failing asserts (offenders interpolated), or errors with the diagnostic
// that stopped it. Results are part of the state (state.CheckResult);
// apply and `reconform check` print them and exit 3 when an error-severity
// check did not pass.
package check

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// MaxMessage bounds one error message kept in the state: a message that
// lists ten thousand offenders is cut, saying how much was left out.
const MaxMessage = 4000

// Evaluate evaluates every check of cfg over st (the merged state, facts
// derived) and d, the drift from the previous state to st (nil: no
// drift known, as for a state without history). The results are sorted by
// name. Nothing here fails: a check that cannot be evaluated is an error
// result, and the other checks still run.
func Evaluate(cfg *schema.Config, st *state.State, d *diff.Result) []state.CheckResult {
	if len(cfg.Checks) == 0 {
		return nil
	}
	if d == nil {
		d = &diff.Result{}
	}
	// Only what the checks refer to is made into values: a state of a
	// million findings costs a check of DMARC facts nothing.
	roots := referenced(cfg.Checks)
	var byBlock map[string][]schema.Finding
	if roots["query"] || roots["pivot"] || roots["module"] {
		byBlock = st.FindingsByBlock()
	}
	findings := cty.UnknownVal(cty.List(schema.FindingType))
	if roots["findings"] {
		findings = schema.FindingsValue(st.SchemaFindings())
	}
	drift := cty.UnknownVal(schema.DriftType)
	if roots["drift"] {
		drift = DriftValue(d)
	}
	ctx := cfg.CheckContext(byBlock, st.Facts, findings, drift)
	secrets := cfg.Secrets()
	out := make([]state.CheckResult, 0, len(cfg.Checks))
	for _, c := range cfg.Checks {
		out = append(out, evaluate(c, ctx, secrets))
	}
	return out
}

// referenced are the roots the checks' expressions refer to.
func referenced(checks []*schema.CheckBlock) map[string]bool {
	roots := map[string]bool{}
	for _, c := range checks {
		for _, a := range c.Asserts {
			for _, e := range []hcl.Expression{a.Condition, a.ErrorMessage} {
				for _, tr := range e.Variables() {
					roots[tr.RootName()] = true
				}
			}
		}
	}
	return roots
}

func evaluate(c *schema.CheckBlock, ctx *hcl.EvalContext, secrets []string) state.CheckResult {
	r := state.CheckResult{Name: c.Name, Description: c.Description, Severity: c.Severity, Status: state.CheckPass}
	fail := func(diags ...*hcl.Diagnostic) {
		r.Status = state.CheckError
		for _, d := range diags {
			r.Diagnostics = append(r.Diagnostics, redact(describe(d), secrets))
		}
	}
	for _, a := range c.Asserts {
		v, diags := a.Condition.Value(ctx)
		if diags.HasErrors() {
			fail(errorsOf(diags)...)
			continue
		}
		v, _ = v.UnmarkDeep()
		switch {
		case !v.IsKnown() || v.IsNull() || v.Type() != cty.Bool:
			what := "null"
			if !v.IsNull() {
				what = v.Type().FriendlyName()
			}
			if !v.IsKnown() {
				what = "not known"
			}
			fail(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid check condition",
				Detail: fmt.Sprintf("The condition must be true or false; it is %s.", what), Subject: a.Condition.Range().Ptr()})
			continue
		case v.True():
			continue
		}
		if r.Status == state.CheckPass {
			r.Status = state.CheckFail
		}
		r.Messages = append(r.Messages, bound(redact(message(a, ctx), secrets)))
	}
	return r
}

// message evaluates an assert's error message; one that cannot be
// evaluated, or is derived from a secret, is replaced by a sentence that
// says so.
func message(a schema.CheckAssert, ctx *hcl.EvalContext) string {
	at := short(a.Condition.Range())
	v, diags := a.ErrorMessage.Value(ctx)
	if diags.HasErrors() {
		return fmt.Sprintf("The condition at %s is false (its error_message could not be evaluated: %s).", at, errorsOf(diags)[0].Summary)
	}
	if v.ContainsMarked() {
		return fmt.Sprintf("The condition at %s is false (its error_message is derived from a secret and is not shown).", at)
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		return fmt.Sprintf("The condition at %s is false.", at)
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil {
		return fmt.Sprintf("The condition at %s is false (its error_message is %s, not a string).", at, v.Type().FriendlyName())
	}
	return sv.AsString()
}

// errorsOf are the error diagnostics of diags.
func errorsOf(diags hcl.Diagnostics) []*hcl.Diagnostic {
	var out []*hcl.Diagnostic
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// describe is "file:line,col: summary; detail".
func describe(d *hcl.Diagnostic) string {
	s := d.Summary
	if d.Detail != "" {
		s += "; " + d.Detail
	}
	if d.Subject != nil {
		s = short(*d.Subject) + ": " + s
	}
	return s
}

func short(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

// redact replaces every secret in s.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "(sensitive value)")
		}
	}
	return s
}

// bound cuts a message longer than MaxMessage.
func bound(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}

// Failed reports whether any result of severity error did not pass: what
// makes apply and check exit 3.
func Failed(results []state.CheckResult) bool {
	for i := range results {
		if results[i].Severity == schema.SeverityError && results[i].Failed() {
			return true
		}
	}
	return false
}

// Counts are how many results passed, failed and errored.
func Counts(results []state.CheckResult) (pass, fail, errored int) {
	for _, r := range results {
		switch r.Status {
		case state.CheckPass:
			pass++
		case state.CheckFail:
			fail++
		case state.CheckError:
			errored++
		}
	}
	return
}
