package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Check severities: a failed error check makes apply and check exit 3; a
// failed warning is reported and never changes the exit code.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// CheckBlock is a check block, in Terraform's shape: a name, a severity
// and one or more assert blocks, evaluated after every run over the
// state and its drift (engine/check).
type CheckBlock struct {
	Name        string
	Description string
	// Severity is SeverityError (the default) or SeverityWarning.
	Severity  string
	Asserts   []CheckAssert
	DeclRange hcl.Range
}

// CheckAssert is one assert block: the condition must be true; when it is
// false, the error message (which may interpolate the offenders) says why.
type CheckAssert struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "description"}, {Name: "severity"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "assert"}},
}

var assertSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

// checkRoots are the references a check's expressions may use.
var checkRoots = []string{"var", "local", "target", "query", "pivot", "facts", "findings", "drift", "module"}

// driftFindingLists are the lists of findings drift has, as in the drift
// JSON (docs/drift-json.md).
var driftFindingLists = []string{"added", "removed", "became_current", "went_historical", "unverified", "reverified", "forgotten"}

// ChangeType is a value of a (name, type) replaced by another: an item of
// drift.changed.
var ChangeType = cty.Object(map[string]cty.Type{
	"name": cty.String, "type": cty.String,
	"old": FindingType, "new": FindingType,
	"old_how": cty.String, "new_how": cty.String,
})

// FactChangeType is an item of drift.facts_changed.
var FactChangeType = cty.Object(map[string]cty.Type{
	"subject": cty.String, "kind": cty.String, "old": cty.String, "new": cty.String, "weakening": cty.Bool,
})

// DriftType is the type of drift in check expressions: this run's
// changes, list by list as the drift JSON names them, plus has_drift and
// first_run (no previous state: everything is added).
var DriftType = func() cty.Type {
	attrs := map[string]cty.Type{
		"changed":       cty.List(ChangeType),
		"facts_added":   cty.List(FactType),
		"facts_removed": cty.List(FactType),
		"facts_changed": cty.List(FactChangeType),
		"has_drift":     cty.Bool,
		"first_run":     cty.Bool,
	}
	for _, n := range driftFindingLists {
		attrs[n] = cty.List(FindingType)
	}
	return cty.Object(attrs)
}()

// decodeChecks decodes the check blocks (root module only).
func (l *loader) decodeChecks(blocks []*hclsyntax.Block) {
	for _, b := range blocks {
		c := &CheckBlock{Name: b.Labels[0], Severity: SeverityError, DeclRange: blockRange(b)}
		body, diags := content(b.Body, checkSchema, "a check block")
		l.diags = append(l.diags, diags...)
		ctx := l.evalContext()
		if a, ok := body.Attributes["description"]; ok {
			c.Description, _ = l.evalString(a, ctx)
		}
		if a, ok := body.Attributes["severity"]; ok {
			if s, ok := l.evalString(a, ctx); ok {
				switch s {
				case SeverityError, SeverityWarning:
					c.Severity = s
				default:
					l.errorf(a.Expr.Range(), "Invalid severity",
						"severity must be \"error\" (a failure makes apply and check exit 3) or \"warning\" (reported, the exit code stays), not %q.%s", s, didYouMean(s, []string{SeverityError, SeverityWarning}))
				}
			}
		}
		for _, ab := range body.Blocks {
			as := CheckAssert{DeclRange: ab.DefRange}
			ac, d := content(ab.Body, assertSchema, "an assert block")
			l.diags = append(l.diags, d...)
			if a, ok := ac.Attributes["condition"]; ok && l.checkCheckRefs(a.Expr, "a check condition") {
				as.Condition = a.Expr
				l.tryCheckExpr(a.Expr, cty.Bool, "condition")
			}
			if a, ok := ac.Attributes["error_message"]; ok && l.checkCheckRefs(a.Expr, "an error message") {
				as.ErrorMessage = a.Expr
				l.tryCheckExpr(a.Expr, cty.String, "error_message")
			}
			if as.Condition != nil && as.ErrorMessage != nil {
				c.Asserts = append(c.Asserts, as)
			}
		}
		if len(body.Blocks) == 0 {
			l.errorf(blockRange(b), "Missing assert block",
				"A check needs at least one assert block: assert { condition = ... error_message = \"...\" }.")
		}
		l.cfg.Checks = append(l.cfg.Checks, c)
	}
	sort.SliceStable(l.cfg.Checks, func(i, j int) bool { return l.cfg.Checks[i].Name < l.cfg.Checks[j].Name })
}

// checkCheckRefs checks the references of a check expression, and that
// drift.X names one of drift's lists.
func (l *loader) checkCheckRefs(expr hcl.Expression, where string) bool {
	if !l.checkRefs(expr, where, l.loadRoots(checkRoots...)...) {
		return false
	}
	ok := true
	for _, tr := range expr.Variables() {
		if tr.RootName() != "drift" {
			continue
		}
		name, rng, has := traversalStep(tr, 1)
		if !has {
			continue
		}
		if !DriftType.HasAttribute(name) {
			attrs := sortedKeys(DriftType.AttributeTypes())
			l.errorf(rng, "Unsupported attribute", "drift has no attribute %q.%s Its attributes are %s.", name, didYouMean(name, attrs), strings.Join(attrs, ", "))
			ok = false
		}
	}
	return ok
}

// tryCheckExpr evaluates a check expression with everything known after
// apply unknown: a wrong attribute or a type mismatch is reported now, by
// validate, rather than after a run.
func (l *loader) tryCheckExpr(expr hcl.Expression, want cty.Type, name string) {
	queries, pivots := l.unknownFindings()
	ctx := l.evalContext().NewChild()
	ctx.Variables = map[string]cty.Value{
		"query": queries, "pivot": pivots,
		"facts":    cty.UnknownVal(cty.List(FactType)),
		"findings": cty.UnknownVal(cty.List(FindingType)),
		"drift":    cty.UnknownVal(DriftType),
	}
	v, diags := expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || v.IsNull() || v.Type() == cty.DynamicPseudoType {
		return
	}
	v, _ = v.UnmarkDeep()
	if want == cty.Bool && v.Type() != cty.Bool {
		l.errorf(expr.Range(), "Invalid check condition", "The condition must be true or false, not %s.", v.Type().FriendlyName())
	}
	if want == cty.String && !v.Type().IsPrimitiveType() {
		l.errorf(expr.Range(), "Invalid error message", "The %s must be a string, not %s.", name, v.Type().FriendlyName())
	}
}

// CheckContext is the context a check's expressions are evaluated in:
// the root module's var, local, target, query.NAME.findings and module
// outputs, plus findings (every finding of the state), facts and drift
// (built by engine/check). Sensitive values stay marked, so that a
// message built from a secret can be withheld.
func (c *Config) CheckContext(byBlock map[string][]Finding, facts []Fact, findings, drift cty.Value) *hcl.EvalContext {
	ctx := c.blockContext(c.root(), Each{}, byBlock, evalOptions{marked: true, modules: true, facts: FactsValue(facts)})
	ctx.Variables["findings"] = findings
	ctx.Variables["drift"] = drift
	return ctx
}

// CheckByName returns the check called name, or nil.
func (c *Config) CheckByName(name string) *CheckBlock {
	for _, ch := range c.Checks {
		if ch.Name == name {
			return ch
		}
	}
	return nil
}

// String is "check.NAME".
func (c *CheckBlock) String() string { return fmt.Sprintf("check.%s", c.Name) }
