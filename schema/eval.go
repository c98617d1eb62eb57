package schema

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// FindingType is the cty object type of a finding in expressions.
var FindingType = cty.Object(map[string]cty.Type{
	"name":       cty.String,
	"type":       cty.String,
	"value":      cty.String,
	"first_seen": cty.String,
	"last_seen":  cty.String,
	"count":      cty.Number,
	"sources":    cty.List(cty.String),
	"current":    cty.Bool,
})

// FindingValue is a finding as an expression sees it. Times are RFC 3339
// strings, "" when unknown.
func FindingValue(f Finding) cty.Value {
	ts := func(t time.Time) cty.Value {
		if t.IsZero() {
			return cty.StringVal("")
		}
		return cty.StringVal(t.UTC().Format(time.RFC3339))
	}
	sources := cty.ListValEmpty(cty.String)
	if len(f.Sources) > 0 {
		vals := make([]cty.Value, len(f.Sources))
		for i, s := range f.Sources {
			vals[i] = cty.StringVal(s)
		}
		sources = cty.ListVal(vals)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"name":       cty.StringVal(f.Name),
		"type":       cty.StringVal(f.Type),
		"value":      cty.StringVal(f.Value),
		"first_seen": ts(f.FirstSeen),
		"last_seen":  ts(f.LastSeen),
		"count":      cty.NumberIntVal(f.Count),
		"sources":    sources,
		"current":    cty.BoolVal(f.Current),
	})
}

// FindingsValue is a list of findings as query.<name>.findings.
func FindingsValue(fs []Finding) cty.Value {
	if len(fs) == 0 {
		return cty.ListValEmpty(FindingType)
	}
	vals := make([]cty.Value, len(fs))
	for i, f := range fs {
		vals[i] = FindingValue(f)
	}
	return cty.ListVal(vals)
}

// TargetValue is a target as target.<kind>.<name>: an object whose
// "value" is the normalised subject (subjects lists accept it directly).
func TargetValue(t *Target) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"kind":  cty.StringVal(string(t.Kind)),
		"name":  cty.StringVal(t.Name),
		"value": cty.StringVal(t.Subject.Value),
	})
}

// EvalContext is the context expressions are evaluated in: var, local,
// target, and query.<name>.findings / pivot.<name>.findings for the blocks
// whose findings are given (others are unknown: "known after apply").
func (c *Config) EvalContext(findings map[string][]Finding) *hcl.EvalContext {
	vars := map[string]cty.Value{}
	for name, v := range c.Variables {
		vars[name] = v.Value
	}
	targets := map[string]map[string]cty.Value{}
	for _, t := range c.Targets {
		if targets[string(t.Kind)] == nil {
			targets[string(t.Kind)] = map[string]cty.Value{}
		}
		targets[string(t.Kind)][t.Name] = TargetValue(t)
	}
	targetObj := map[string]cty.Value{}
	for kind, m := range targets {
		targetObj[kind] = cty.ObjectVal(m)
	}
	blockObj := func(names []string, prefix string) cty.Value {
		m := map[string]cty.Value{}
		for _, name := range names {
			fs, ok := findings[prefix+name]
			v := cty.UnknownVal(cty.List(FindingType))
			if ok {
				v = FindingsValue(fs)
			}
			m[name] = cty.ObjectVal(map[string]cty.Value{"findings": v})
		}
		return cty.ObjectVal(m)
	}
	var qnames, pnames []string
	for n := range c.Queries {
		qnames = append(qnames, n)
	}
	for n := range c.Pivots {
		pnames = append(pnames, n)
	}
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":    cty.ObjectVal(vars),
			"local":  cty.ObjectVal(c.Locals),
			"target": cty.ObjectVal(targetObj),
			"query":  blockObj(qnames, "query."),
			"pivot":  blockObj(pnames, "pivot."),
		},
		Functions: Functions(c),
	}
}

// EvalSubjects evaluates a query block's subjects given the findings of the
// blocks it depends on (keyed by block address). The result is a list of
// strings or target objects, normalised to subjects and deduplicated.
// A value that is still unknown gives known=false and no diagnostics.
func (c *Config) EvalSubjects(q *QueryBlock, findings map[string][]Finding) (subjects []Subject, known bool, diags hcl.Diagnostics) {
	if q.Subjects == nil {
		return nil, true, nil
	}
	v, diags := q.Subjects.Value(c.EvalContext(findings))
	if diags.HasErrors() {
		return nil, false, diags
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return nil, false, nil
	}
	subjects, diags = subjectsFromValue(v, q.Subjects.Range())
	return subjects, true, diags
}

// EvalPivot evaluates a pivot's when and subject for one finding. ok is
// false when `when` is false or the subject is empty.
func (c *Config) EvalPivot(p *PivotBlock, f Finding) (subject Subject, ok bool, diags hcl.Diagnostics) {
	ctx := c.EvalContext(nil)
	ctx.Variables["finding"] = FindingValue(f)
	if p.When != nil {
		w, d := p.When.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			return Subject{}, false, diags
		}
		w, _ = w.UnmarkDeep()
		if w.IsNull() || !w.IsKnown() || w.Type() != cty.Bool {
			return Subject{}, false, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid pivot condition",
				Detail: "The when expression must be true or false.", Subject: p.When.Range().Ptr(),
			})
		}
		if w.False() {
			return Subject{}, false, diags
		}
	}
	if p.Subject == nil {
		return Subject{}, false, diags
	}
	sv, d := p.Subject.Value(ctx)
	diags = append(diags, d...)
	if d.HasErrors() {
		return Subject{}, false, diags
	}
	sv, _ = sv.UnmarkDeep()
	subs, d := subjectsFromValue(sv, p.Subject.Range())
	diags = append(diags, d...)
	if len(subs) == 0 {
		return Subject{}, false, diags
	}
	return subs[0], true, diags
}

// subjectsFromValue accepts a string, a target object, or a list/set/tuple
// of them.
func subjectsFromValue(v cty.Value, rng hcl.Range) ([]Subject, hcl.Diagnostics) {
	var out []Subject
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	var add func(v cty.Value)
	add = func(v cty.Value) {
		if v.IsNull() {
			return
		}
		ty := v.Type()
		switch {
		case ty == cty.String:
			s := v.AsString()
			if strings.TrimSpace(s) == "" {
				return
			}
			subj, err := ParseSubject(s)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Invalid subject",
					Detail: fmt.Sprintf("%s. A subject is a domain name, an IP address or a CIDR.", capitalize(err.Error())), Subject: rng.Ptr(),
				})
				return
			}
			if !seen[subj.Value] {
				seen[subj.Value] = true
				out = append(out, subj)
			}
		case ty.IsObjectType() && ty.HasAttribute("value"):
			add(v.GetAttr("value"))
		case ty.IsListType() || ty.IsSetType() || ty.IsTupleType():
			for it := v.ElementIterator(); it.Next(); {
				_, e := it.Element()
				add(e)
			}
		default:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid subjects",
				Detail:  fmt.Sprintf("Subjects must be strings, targets or lists of them, not %s.", ty.FriendlyName()),
				Subject: rng.Ptr(),
			})
		}
	}
	add(v)
	return out, diags
}

// Contains reports whether subj is in scope and, when it is not, why.
// A domain is in scope when it equals or is under a scope domain; an IP
// when it lies in a scope CIDR; a CIDR when it lies wholly inside one.
// Exclusions win. With no scope block at all, nothing is in scope for
// pivots, and the reason says so.
func (s Scope) Contains(subj Subject) (bool, string) {
	for _, ex := range s.Exclude {
		if excludes(ex, subj) {
			return false, fmt.Sprintf("excluded by scope rule %q", ex)
		}
	}
	if len(s.Domains) == 0 && len(s.CIDRs) == 0 {
		return false, "not in scope: the engagement declares no scope domains or CIDRs"
	}
	switch subj.Kind {
	case SubjectDomain:
		for _, d := range s.Domains {
			if subj.Value == d || strings.HasSuffix(subj.Value, "."+d) {
				return true, ""
			}
		}
		return false, "not under any scope domain"
	case SubjectIP:
		a, err := netip.ParseAddr(subj.Value)
		if err != nil {
			return false, "not a valid IP"
		}
		a = a.Unmap()
		for _, p := range s.CIDRs {
			if p.Contains(a) {
				return true, ""
			}
		}
		return false, "not inside any scope CIDR"
	case SubjectCIDR:
		q, err := ParseCIDR(subj.Value)
		if err != nil {
			return false, "not a valid CIDR"
		}
		for _, p := range s.CIDRs {
			if p.Bits() <= q.Bits() && p.Contains(q.Addr()) {
				return true, ""
			}
		}
		return false, "not inside any scope CIDR"
	}
	return false, "unknown subject kind"
}

func excludes(rule string, subj Subject) bool {
	rule = strings.TrimSpace(rule)
	if p, err := ParseCIDR(rule); err == nil {
		switch subj.Kind {
		case SubjectIP:
			a, err := netip.ParseAddr(subj.Value)
			return err == nil && p.Contains(a.Unmap())
		case SubjectCIDR:
			q, err := ParseCIDR(subj.Value)
			return err == nil && p.Bits() <= q.Bits() && p.Contains(q.Addr())
		}
		return false
	}
	if a, err := netip.ParseAddr(rule); err == nil {
		return subj.Kind == SubjectIP && subj.Value == a.Unmap().String()
	}
	name := NormalizeName(rule)
	return subj.Kind == SubjectDomain && (subj.Value == name || strings.HasSuffix(subj.Value, "."+name))
}
