package schema

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
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

// EvalContext is the context root-module expressions are evaluated in:
// var, local, target, module outputs, and query.<name>.findings /
// pivot.<name>.findings for the blocks whose findings are given, by
// address (others are unknown: "known after apply").
func (c *Config) EvalContext(findings map[string][]Finding) *hcl.EvalContext {
	return c.blockContext(c.root(), Each{}, findings, evalOptions{modules: true})
}

// evalOptions say what a runtime context holds.
type evalOptions struct {
	// marked keeps sensitive values marked (outputs, the console).
	marked bool
	// modules evaluates module outputs (module.NAME...); left out when
	// the expression does not refer to them, as they cost an evaluation
	// of every output of every instance.
	modules bool
	// facts are the facts (cty.NilVal: unknown, as during a run).
	facts cty.Value
	// diags collects problems of module outputs evaluated on the way.
	diags *hcl.Diagnostics
}

// root is the root module; a Config built by hand (tests, tools) gets one
// made from its maps, afresh each time since such a Config may still be
// growing.
func (c *Config) root() *Module {
	if c.Root != nil {
		return c.Root
	}
	{
		m := newModule(nil)
		m.Dir = c.Dir
		if c.Variables != nil {
			m.Variables = c.Variables
		}
		for n, v := range c.Locals {
			m.Locals[n], m.localVals[n] = v, v
		}
		for _, t := range c.Targets {
			g := newGroup[*Target](single, t.DeclRange)
			g.items[NoKey] = t
			m.targets[string(t.Kind)+"."+t.Name] = g
		}
		for _, q := range c.Queries {
			g := newGroup[*QueryBlock](single, q.DeclRange)
			g.items[NoKey] = q
			m.queries[q.Name] = g
		}
		for _, p := range c.Pivots {
			m.pivots[p.Name] = p
		}
		m.finish(c)
		return m
	}
}

func (c *Config) moduleOf(m *Module) *Module {
	if m == nil {
		return c.root()
	}
	return m
}

// finish builds the parts of the module's expression context that do not
// change after loading: var, local and target, without and with marks.
func (m *Module) finish(c *Config) { m.finishWith(c, nil) }

// finishWith is finish reusing the target values a loader already built
// (by local address, "domain.apex").
func (m *Module) finishWith(c *Config, targetVals map[string]cty.Value) {
	plainVars, markedVars := map[string]cty.Value{}, map[string]cty.Value{}
	for name, v := range m.Variables {
		val := v.Value
		if val == cty.NilVal {
			val = cty.DynamicVal
		}
		plainVars[name], markedVars[name] = val, val
		if v.Sensitive {
			markedVars[name] = val.Mark(SensitiveMark)
		}
	}
	targets := map[string]map[string]cty.Value{}
	for addr, g := range m.targets {
		kind, name, _ := strings.Cut(addr, ".")
		if targets[kind] == nil {
			targets[kind] = map[string]cty.Value{}
		}
		if v, ok := targetVals[addr]; ok {
			targets[kind][name] = v
			continue
		}
		targets[kind][name] = g.value(targetOrUnknown)
	}
	targetObj := map[string]cty.Value{}
	for kind, tm := range targets {
		targetObj[kind] = cty.ObjectVal(tm)
	}
	locals := m.localVals
	if locals == nil {
		locals = map[string]cty.Value{}
	}
	m.staticVars = map[string]cty.Value{
		"var":           cty.ObjectVal(plainVars),
		"local":         cty.ObjectVal(m.Locals),
		"target":        cty.ObjectVal(targetObj),
		"marked.var":    cty.ObjectVal(markedVars),
		"marked.local":  cty.ObjectVal(locals),
		"marked.target": cty.ObjectVal(targetObj),
	}
}

// blockContext is the context of an expression of module m, instance
// each, given the findings of blocks by address.
func (c *Config) blockContext(m *Module, each Each, findings map[string][]Finding, o evalOptions) *hcl.EvalContext {
	m = c.moduleOf(m)
	if m.staticVars == nil {
		m.finish(c)
	}
	prefix := ""
	if o.marked {
		prefix = "marked."
	}
	vars := map[string]cty.Value{
		"var":    m.staticVars[prefix+"var"],
		"local":  m.staticVars[prefix+"local"],
		"target": m.staticVars[prefix+"target"],
	}
	blockFindings := func(addr string) cty.Value {
		if fs, ok := findings[addr]; ok {
			return cty.ObjectVal(map[string]cty.Value{"findings": FindingsValue(fs)})
		}
		return cty.ObjectVal(map[string]cty.Value{"findings": cty.UnknownVal(cty.List(FindingType))})
	}
	qs := map[string]cty.Value{}
	for name, g := range m.queries {
		qs[name] = g.value(func(q *QueryBlock, ok bool) cty.Value {
			if !ok {
				return cty.DynamicVal
			}
			return blockFindings(q.Address())
		})
	}
	ps := map[string]cty.Value{}
	for name, p := range m.pivots {
		ps[name] = blockFindings(p.Address())
	}
	vars["query"], vars["pivot"] = cty.ObjectVal(qs), cty.ObjectVal(ps)
	facts := o.facts
	if facts == cty.NilVal {
		facts = cty.UnknownVal(cty.List(FactType))
	}
	vars["facts"] = facts
	if o.modules {
		vars["module"] = c.moduleOutputs(m, findings, o)
	}
	for k, v := range each.variables() {
		vars[k] = v
	}
	return &hcl.EvalContext{Variables: vars, Functions: c.functions()}
}

// moduleOutputs is module.NAME for the module calls of m: every
// instance's outputs evaluated over findings.
func (c *Config) moduleOutputs(m *Module, findings map[string][]Finding, o evalOptions) cty.Value {
	calls := map[string]cty.Value{}
	for name, g := range m.calls {
		calls[name] = g.value(func(child *Module, ok bool) cty.Value {
			if !ok {
				return cty.DynamicVal
			}
			outs := map[string]cty.Value{}
			for _, out := range child.Outputs() {
				if out.Value == nil {
					outs[out.Name] = cty.DynamicVal
					continue
				}
				v, d := out.Value.Value(c.blockContext(child, Each{}, findings, o))
				if o.diags != nil {
					*o.diags = append(*o.diags, d...)
				}
				if d.HasErrors() {
					v = cty.DynamicVal
				}
				if !o.marked {
					v, _ = v.UnmarkDeep()
				}
				outs[out.Name] = v
			}
			return cty.ObjectVal(outs)
		})
	}
	return cty.ObjectVal(calls)
}

// functions are the functions of c's expressions, made once.
func (c *Config) functions() map[string]function.Function {
	c.funcsOnce.Do(func() { c.funcs = Functions(c) })
	return c.funcs
}

// refersTo reports whether any of exprs refers to root.
func refersTo(root string, exprs ...hcl.Expression) bool {
	for _, e := range exprs {
		if e == nil {
			continue
		}
		for _, tr := range e.Variables() {
			if tr.RootName() == root {
				return true
			}
		}
	}
	return false
}

// EvalSubjects evaluates a query block's subjects given the findings of the
// blocks it depends on (keyed by block address). The result is a list of
// strings or target objects, normalised to subjects and deduplicated.
// A value that is still unknown gives known=false and no diagnostics.
func (c *Config) EvalSubjects(q *QueryBlock, findings map[string][]Finding) (subjects []Subject, known bool, diags hcl.Diagnostics) {
	if q.Subjects == nil {
		return nil, true, nil
	}
	ctx := c.blockContext(q.Module, q.Each, findings, evalOptions{modules: refersTo("module", q.Subjects), diags: &diags})
	v, d := q.Subjects.Value(ctx)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, false, diags
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		return nil, false, nil
	}
	subjects, d = subjectsFromValue(v, q.Subjects.Range())
	return subjects, true, append(diags, d...)
}

// PivotContext is the context a pivot's when and subject are evaluated
// in, without the finding (a child adds it).
func (c *Config) PivotContext(p *PivotBlock) *hcl.EvalContext {
	return c.blockContext(p.Module, Each{}, nil, evalOptions{modules: refersTo("module", p.When, p.Subject)})
}

// EvalPivot evaluates a pivot's when and subject for one finding. ok is
// false when `when` is false or the subject is empty.
func (c *Config) EvalPivot(p *PivotBlock, f Finding) (subject Subject, ok bool, diags hcl.Diagnostics) {
	ctx := c.PivotContext(p).NewChild()
	ctx.Variables = map[string]cty.Value{"finding": FindingValue(f)}
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
		case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
			// Lists, and the instances of a target with for_each (an
			// object by key) or count (a tuple).
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
