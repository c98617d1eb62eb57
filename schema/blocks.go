package schema

import (
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// DefaultMaxResponseBytes is the largest provider response accepted when
// the provider block does not say (16 MiB).
const DefaultMaxResponseBytes = 16 << 20

// DefaultStateFile is the state file name when the engagement sets none.
const DefaultStateFile = "reconform.rfstate"

// DefaultCurrentWindow is how recent a last_seen keeps a finding current.
const DefaultCurrentWindow = 30 * 24 * time.Hour

// DefaultMaxFindings and DefaultMaxFindingsPerQuery bound a run's fan-out
// when the engagement sets no max_findings or max_findings_per_query: a
// pivot fanning out 100 ways at depth 3, or one reverse lookup of a busy
// shared host, would otherwise hold millions of findings (gigabytes) in
// memory and in the state. Half a million findings is a few hundred MB.
const (
	DefaultMaxFindings         = 500000
	DefaultMaxFindingsPerQuery = 100000
)

// plainRoots may be referred to by ordinary arguments.
var plainRoots = []string{"var", "local", "target"}

// eval evaluates expr after checking its references. ok is false when it
// failed (reported) or is unknown because of an earlier error.
func (l *loader) eval(expr hcl.Expression, ctx *hcl.EvalContext) (val cty.Value, sensitive, ok bool) {
	if ctx != nil && !l.checkRefs(expr, "this argument", l.loadRoots(plainRoots...)...) {
		return cty.NilVal, false, false
	}
	val, diags := expr.Value(ctx)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false, false
	}
	val, marks := val.UnmarkDeep()
	if !val.IsWhollyKnown() {
		return cty.NilVal, false, false
	}
	return val, len(marks) > 0, true
}

// evalAs evaluates an attribute and converts it to ty. A null value counts
// as unset: ok is false and nothing is reported.
func (l *loader) evalAs(a *hcl.Attribute, ty cty.Type, ctx *hcl.EvalContext) (cty.Value, bool) {
	val, _, ok := l.eval(a.Expr, ctx)
	if !ok || val.IsNull() {
		return cty.NilVal, false
	}
	conv, err := convert.Convert(val, ty)
	if err != nil {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type",
			"Inappropriate value for %q: %s is required, got %s.", a.Name, ty.FriendlyName(), val.Type().FriendlyName())
		return cty.NilVal, false
	}
	if conv.IsNull() {
		return cty.NilVal, false
	}
	return conv, true
}

// evalRequiredString is evalString for an argument that must have a
// value: null is an error.
func (l *loader) evalRequiredString(a *hcl.Attribute, ctx *hcl.EvalContext) (string, bool) {
	val, _, ok := l.eval(a.Expr, ctx)
	if !ok {
		return "", false
	}
	if val.IsNull() {
		l.errorf(a.Expr.Range(), "Missing value for "+a.Name, "%s is required and must not be null.", a.Name)
		return "", false
	}
	conv, err := convert.Convert(val, cty.String)
	if err != nil {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type",
			"Inappropriate value for %q: string is required, got %s.", a.Name, val.Type().FriendlyName())
		return "", false
	}
	return conv.AsString(), true
}

func (l *loader) evalString(a *hcl.Attribute, ctx *hcl.EvalContext) (string, bool) {
	v, ok := l.evalAs(a, cty.String, ctx)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

// evalInt evaluates a whole number of at least min.
func (l *loader) evalInt(a *hcl.Attribute, ctx *hcl.EvalContext, min int64) (int64, bool) {
	v, ok := l.evalAs(a, cty.Number, ctx)
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if acc != big.Exact || n < min {
		l.errorf(a.Expr.Range(), "Invalid value for "+a.Name,
			"%s must be a whole number of at least %d, not %s.", a.Name, min, bf.Text('g', 10))
		return 0, false
	}
	return n, true
}

// evalDuration evaluates a duration string such as "30s", "24h", "30d".
func (l *loader) evalDuration(a *hcl.Attribute, ctx *hcl.EvalContext) (time.Duration, bool) {
	s, ok := l.evalString(a, ctx)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil || d < 0 {
		l.errorf(a.Expr.Range(), "Invalid duration",
			"%s = %q is not a duration. Write a number and a unit, such as \"30s\", \"15m\", \"24h\", \"30d\" or \"2w\".", a.Name, s)
		return 0, false
	}
	return d, true
}

// rangedString is one string of a list with the range it came from (the
// element, when the list is written out; else the whole expression).
type rangedString struct {
	Value string
	Range hcl.Range
}

// evalStrings evaluates a string or a list of strings.
func (l *loader) evalStrings(a *hcl.Attribute, ctx *hcl.EvalContext) ([]rangedString, bool) {
	exprs := listOrOne(a.Expr)
	var out []rangedString
	ok := true
	for _, e := range exprs {
		val, _, good := l.eval(e, ctx)
		if !good {
			ok = false
			continue
		}
		var add func(v cty.Value) bool
		add = func(v cty.Value) bool {
			if v.IsNull() {
				return true
			}
			ty := v.Type()
			if ty.IsListType() || ty.IsSetType() || ty.IsTupleType() {
				for it := v.ElementIterator(); it.Next(); {
					_, ev := it.Element()
					if !add(ev) {
						return false
					}
				}
				return true
			}
			if ty.IsObjectType() && ty.HasAttribute("value") {
				return add(v.GetAttr("value")) // a target
			}
			s, err := convert.Convert(v, cty.String)
			if err != nil || s.IsNull() {
				l.errorf(e.Range(), "Incorrect attribute value type",
					"%s must be a list of strings; this element is %s.", a.Name, ty.FriendlyName())
				return false
			}
			out = append(out, rangedString{Value: s.AsString(), Range: e.Range()})
			return true
		}
		if !add(val) {
			ok = false
		}
	}
	return out, ok
}
