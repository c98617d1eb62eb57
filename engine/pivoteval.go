package engine

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

// pivotEvaluator evaluates pivot rules the way schema.Config.EvalPivot
// does, but builds the evaluation context (variables, targets, functions)
// once per walk instead of once per finding: a finding only adds the
// "finding" variable in a child context. On a walk with many findings
// that is most of the pivot cost. Any problem falls back to EvalPivot
// itself, so diagnostics are always the schema's own;
// TestPivotEvaluatorMatchesSchema keeps the two in step.
type pivotEvaluator struct {
	cfg *schema.Config
	// base is each pivot's context without the finding, by pivot: a
	// pivot in a module instance sees that instance's variables.
	base map[*schema.PivotBlock]*hcl.EvalContext
}

func newPivotEvaluator(cfg *schema.Config) *pivotEvaluator {
	return &pivotEvaluator{cfg: cfg, base: map[*schema.PivotBlock]*hcl.EvalContext{}}
}

// eval returns the subject pivot p asks about for finding f; ok is false
// when its condition is false or the subject is empty.
func (e *pivotEvaluator) eval(p *schema.PivotBlock, f schema.Finding) (schema.Subject, bool, hcl.Diagnostics) {
	subj, ok, diags := e.fast(p, f)
	if len(diags) > 0 {
		return e.cfg.EvalPivot(p, f)
	}
	return subj, ok, nil
}

func (e *pivotEvaluator) fast(p *schema.PivotBlock, f schema.Finding) (schema.Subject, bool, hcl.Diagnostics) {
	base := e.base[p]
	if base == nil {
		base = e.cfg.PivotContext(p)
		e.base[p] = base
	}
	ctx := base.NewChild()
	ctx.Variables = map[string]cty.Value{"finding": schema.FindingValue(f)}
	var diags hcl.Diagnostics
	if p.When != nil {
		w, d := p.When.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			return schema.Subject{}, false, diags
		}
		w, _ = w.UnmarkDeep()
		if w.IsNull() || !w.IsKnown() || w.Type() != cty.Bool {
			return schema.Subject{}, false, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid pivot condition",
				Detail: "The when expression must be true or false.", Subject: p.When.Range().Ptr(),
			})
		}
		if w.False() {
			return schema.Subject{}, false, diags
		}
	}
	if p.Subject == nil {
		return schema.Subject{}, false, diags
	}
	v, d := p.Subject.Value(ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		return schema.Subject{}, false, diags
	}
	v, _ = v.UnmarkDeep()
	subj, ok, d := firstSubject(v, p.Subject.Range())
	return subj, ok, append(diags, d...)
}

// firstSubject is the first subject in v: a string, a target object (its
// "value"), or a list, set or tuple of them; blanks are skipped.
func firstSubject(v cty.Value, rng hcl.Range) (schema.Subject, bool, hcl.Diagnostics) {
	if v.IsNull() || !v.IsKnown() {
		return schema.Subject{}, false, nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		if strings.TrimSpace(s) == "" {
			return schema.Subject{}, false, nil
		}
		subj, err := schema.ParseSubject(s)
		if err != nil {
			return schema.Subject{}, false, hcl.Diagnostics{{
				Severity: hcl.DiagError, Summary: "Invalid subject",
				Detail: err.Error() + ".", Subject: rng.Ptr(),
			}}
		}
		return subj, true, nil
	case ty.IsObjectType() && ty.HasAttribute("value"):
		return firstSubject(v.GetAttr("value"), rng)
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		var diags hcl.Diagnostics
		for it := v.ElementIterator(); it.Next(); {
			_, el := it.Element()
			subj, ok, d := firstSubject(el, rng)
			diags = append(diags, d...)
			if ok {
				return subj, true, diags
			}
		}
		return schema.Subject{}, false, diags
	}
	return schema.Subject{}, false, hcl.Diagnostics{{
		Severity: hcl.DiagError, Summary: "Invalid subjects",
		Detail:  fmt.Sprintf("Subjects must be strings, targets or lists of them, not %s.", ty.FriendlyName()),
		Subject: rng.Ptr(),
	}}
}
