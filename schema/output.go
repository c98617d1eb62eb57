package schema

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var outputSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "value", Required: true}, {Name: "description"}, {Name: "sensitive"},
}}

// FactType is the cty object type of a derived fact in expressions
// (the facts list of outputs and the console).
var FactType = cty.Object(map[string]cty.Type{
	"subject":  cty.String,
	"kind":     cty.String,
	"value":    cty.String,
	"evidence": cty.List(cty.String),
})

// FactsValue is a list of facts as the facts reference sees it.
func FactsValue(facts []Fact) cty.Value {
	if len(facts) == 0 {
		return cty.ListValEmpty(FactType)
	}
	vals := make([]cty.Value, len(facts))
	for i, f := range facts {
		ev := cty.ListValEmpty(cty.String)
		if len(f.Evidence) > 0 {
			es := make([]cty.Value, len(f.Evidence))
			for j, e := range f.Evidence {
				es[j] = cty.StringVal(e)
			}
			ev = cty.ListVal(es)
		}
		vals[i] = cty.ObjectVal(map[string]cty.Value{
			"subject": cty.StringVal(f.Subject), "kind": cty.StringVal(f.Kind),
			"value": cty.StringVal(f.Value), "evidence": ev,
		})
	}
	return cty.ListVal(vals)
}

// decodeOutputs decodes the module's output blocks. A value is any
// expression over variables, locals, targets, findings (query.NAME and
// pivot.NAME), facts and module outputs; it is evaluated here with
// findings unknown, so what is known at load time (targets, variables)
// can feed module inputs and for_each.
func (l *loader) decodeOutputs() {
	queries, pivots := l.unknownFindings()
	for _, b := range l.outputs {
		o := &OutputBlock{
			Name: b.Labels[0], DeclRange: blockRange(b), Module: l.mod,
			Addr: OutputAddr{Module: l.mod.Path, Name: b.Labels[0]}, loadValue: cty.DynamicVal,
		}
		l.mod.outputs[o.Name] = o
		l.mod.outputOrder = append(l.mod.outputOrder, o.Name)
		l.cfg.Outputs[o.Address()] = o
		body, diags := content(b.Body, outputSchema, "an output block")
		l.diags = append(l.diags, diags...)
		ctx := l.evalContext()
		if a, ok := body.Attributes["description"]; ok {
			o.Description, _ = l.evalString(a, ctx)
		}
		if a, ok := body.Attributes["sensitive"]; ok {
			if v, ok := l.evalAs(a, cty.Bool, ctx); ok {
				o.Sensitive = v.True()
			}
		}
		a, ok := body.Attributes["value"]
		if !ok {
			continue
		}
		o.DependsOn = l.blockDeps(a.Expr)
		if !l.checkRefs(a.Expr, "an output value", l.loadRoots("var", "local", "target", "query", "pivot", "facts")...) {
			continue
		}
		o.Value = a.Expr
		vctx := ctx.NewChild()
		vctx.Variables = map[string]cty.Value{"query": queries, "pivot": pivots, "facts": cty.UnknownVal(cty.List(FactType))}
		v, d := a.Expr.Value(vctx)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		o.loadValue = v
		// As in Terraform: an engagement output holding a secret must say
		// so, and then it is never stored or printed.
		if !l.isModule() && v.ContainsMarked() && !o.Sensitive {
			l.errorf(a.Expr.Range(), "Output refers to sensitive values",
				"The value of output %q is derived from a secret (env() or a sensitive variable). Add sensitive = true to the output block to confirm it; such a value is never written to the state nor printed.", o.Name)
		}
	}
}

// OutputValue is an output evaluated after a run.
type OutputValue struct {
	Name        string
	Description string
	// Value is the value without marks; cty.NilVal when it could not be
	// evaluated.
	Value cty.Value
	// Sensitive is the output block's sensitive; Secret is set when the
	// value is derived from a secret (env(), a sensitive variable): it is
	// then never stored.
	Sensitive bool
	Secret    bool
}

// EvalOutputs evaluates the engagement's outputs (the root module's)
// given the findings of every block by address and the facts.
func (c *Config) EvalOutputs(findings map[string][]Finding, facts []Fact) ([]OutputValue, hcl.Diagnostics) {
	root := c.root()
	var diags hcl.Diagnostics
	opts := evalOptions{marked: true, modules: true, facts: FactsValue(facts), diags: &diags}
	var out []OutputValue
	for _, o := range root.Outputs() {
		ov := OutputValue{Name: o.Name, Description: o.Description, Sensitive: o.Sensitive}
		if o.Value == nil {
			continue
		}
		ctx := c.blockContext(root, Each{}, findings, opts)
		v, d := o.Value.Value(ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			out = append(out, ov)
			continue
		}
		plain, marks := v.UnmarkDeep()
		if len(marks) > 0 {
			ov.Secret, ov.Sensitive = true, true
		}
		ov.Value = plain
		out = append(out, ov)
	}
	return out, diags
}

// ConsoleContext is the context of `reconform console`: the root
// module's variables, locals, targets, the findings of every block, the
// facts and the module outputs, with sensitive values marked.
func (c *Config) ConsoleContext(findings map[string][]Finding, facts []Fact) *hcl.EvalContext {
	return c.blockContext(c.root(), Each{}, findings, evalOptions{marked: true, modules: true, facts: FactsValue(facts)})
}
