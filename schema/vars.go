package schema

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// EnvVarPrefix starts the environment variables that set input
// variables: RECONFORM_VAR_apex=acme.example.
const EnvVarPrefix = "RECONFORM_VAR_"

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

// validationRule is a variable's validation block, checked once values
// are known.
type validationRule struct {
	variable  *Variable
	condition hcl.Expression
	message   string
	declRange hcl.Range
}

// decodeVariables decodes the variable blocks, then assigns their values
// from, in rising precedence, defaults, RECONFORM_VAR_<name>, var files
// and -var options.
func (l *loader) decodeVariables() {
	for _, b := range l.variables {
		v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, DeclRange: blockRange(b)}
		body, diags := content(b.Body, variableSchema, "a variable block")
		l.diags = append(l.diags, diags...)
		for _, vb := range body.Blocks {
			vc, d := content(vb.Body, validationSchema, "a validation block")
			l.diags = append(l.diags, d...)
			cond, hasCond := vc.Attributes["condition"]
			msgAttr, hasMsg := vc.Attributes["error_message"]
			if !hasCond || !hasMsg {
				continue
			}
			msg, ok := l.evalString(msgAttr, nil)
			if !ok || !l.checkRefs(cond.Expr, "a validation condition", "var") {
				continue
			}
			l.validations = append(l.validations, validationRule{variable: v, condition: cond.Expr, message: msg, declRange: vb.DefRange})
		}
		if a, ok := body.Attributes["type"]; ok {
			ty, defaults, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
			l.diags = append(l.diags, d...)
			if !d.HasErrors() {
				v.Type = ty
				if defaults != nil {
					l.typeDefaults[v.Name] = defaults
				}
			}
		}
		if a, ok := body.Attributes["description"]; ok {
			if s, ok := l.evalString(a, nil); ok {
				v.Description = s
			}
		}
		if a, ok := body.Attributes["sensitive"]; ok {
			if val, ok := l.evalAs(a, cty.Bool, nil); ok {
				v.Sensitive = val.True()
			}
		}
		if a, ok := body.Attributes["default"]; ok {
			// An invalid default is reported once, not again as missing.
			v.Default = cty.UnknownVal(v.Type)
			if l.checkRefs(a.Expr, "a variable default") {
				val, d := a.Expr.Value(nil)
				l.diags = append(l.diags, d...)
				if !d.HasErrors() {
					conv, err := l.convertVar(v, val)
					if err != nil {
						l.errorf(a.Expr.Range(), "Invalid default value for variable",
							"This default value does not fit the variable's type constraint %s: %s.", typeexpr.TypeString(v.Type), err)
					} else {
						v.Default = conv
					}
				}
			}
		}
		l.mod.Variables[v.Name] = v
	}

	values := map[string]cty.Value{}
	if l.isModule() {
		l.varsFromInputs(values)
	} else {
		l.varsFromEnv(values)
		l.varsFromFiles(values)
		l.varsFromArgs(values)
	}

	for _, name := range sortedKeys(l.mod.Variables) {
		v := l.mod.Variables[name]
		if val, ok := values[name]; ok {
			v.Value = val
			continue
		}
		if v.Default != cty.NilVal {
			v.Value = v.Default
			if !v.Default.IsKnown() {
				v.Default = cty.NilVal
			}
			continue
		}
		if l.duplicateVars[name] || l.isModule() {
			// A module's missing argument is reported at its module block.
			v.Value = cty.UnknownVal(v.Type)
			continue
		}
		l.errorf(v.DeclRange, "No value for required variable",
			"The variable %q has no default, so it needs a value: -var '%s=...', a -var-file, or the environment variable %s%s.",
			name, name, EnvVarPrefix, name)
		v.Value = cty.UnknownVal(v.Type)
	}
	l.checkValidations()
}

// convertVar converts a value to the variable's type, first filling the
// defaults of optional object attributes (optional(string, "x")).
func (l *loader) convertVar(v *Variable, val cty.Value) (cty.Value, error) {
	if d := l.typeDefaults[v.Name]; d != nil {
		val = d.Apply(val)
	}
	return convert.Convert(val, v.Type)
}

// parseVarValue turns a raw string given outside the configuration into a
// value of the variable's type: strings, numbers and bools are taken
// literally; other types are parsed as an HCL expression, as in
// -var 'extra=["a.example"]'.
func (l *loader) parseVarValue(v *Variable, raw, source string) (cty.Value, error) {
	var val cty.Value
	if v.Type.IsPrimitiveType() || v.Type == cty.DynamicPseudoType {
		val = cty.StringVal(raw)
	} else {
		expr, diags := ParseExpression([]byte(raw), source)
		if diags.HasErrors() {
			return cty.NilVal, fmt.Errorf("%s is not a valid HCL expression for a %s: %s", source, typeexpr.TypeString(v.Type), diags[0].Summary)
		}
		var d hcl.Diagnostics
		val, d = expr.Value(nil)
		if d.HasErrors() {
			return cty.NilVal, fmt.Errorf("%s: %s; %s", source, d[0].Summary, d[0].Detail)
		}
	}
	conv, err := l.convertVar(v, val)
	if err != nil {
		return cty.NilVal, fmt.Errorf("%s does not fit the type constraint %s: %s", source, typeexpr.TypeString(v.Type), err)
	}
	return conv, nil
}

// varsFromInputs takes a module instance's variables from its module
// block's arguments. A value derived from a secret keeps the variable
// sensitive inside the module, whether or not it is declared so.
func (l *loader) varsFromInputs(values map[string]cty.Value) {
	for _, name := range sortedKeys(l.inputs) {
		in := l.inputs[name]
		v, declared := l.mod.Variables[name]
		if !declared {
			continue // reported at the module block
		}
		if !in.value.IsWhollyKnown() {
			values[name] = cty.UnknownVal(v.Type)
			continue
		}
		plain, marks := in.value.UnmarkDeep()
		if len(marks) > 0 {
			v.Sensitive = true
		}
		conv, err := l.convertVar(v, plain)
		if err != nil {
			shown := ""
			if !v.Sensitive {
				if js, jerr := ctyjson.Marshal(plain, plain.Type()); jerr == nil && len(js) <= 200 {
					shown = " " + string(js)
				}
			}
			l.errorf(in.rng, "Invalid value for module argument",
				"The value%s for %q does not fit the variable's type constraint %s (at %s): %s.", shown, name, typeexpr.TypeString(v.Type), shortRange(v.DeclRange), err)
			values[name] = cty.UnknownVal(v.Type)
			continue
		}
		values[name] = conv
	}
}

func (l *loader) varsFromEnv(values map[string]cty.Value) {
	for _, kv := range l.opts.Environ {
		key, raw, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(key, EnvVarPrefix) {
			continue
		}
		name := strings.TrimPrefix(key, EnvVarPrefix)
		v, declared := l.mod.Variables[name]
		if !declared {
			continue // like Terraform: the environment may hold variables for other engagements
		}
		val, err := l.parseVarValue(v, raw, "the environment variable "+key)
		if err != nil {
			l.errorf(v.DeclRange, "Invalid value for variable", "The value of %s.", err)
			continue
		}
		values[name] = val
	}
}

func (l *loader) varsFromFiles(values map[string]cty.Value) {
	for i, path := range l.opts.VarFiles {
		shown := path
		if i < len(l.opts.VarFileNames) && l.opts.VarFileNames[i] != "" {
			shown = l.opts.VarFileNames[i]
		}
		src, err := os.ReadFile(path)
		if err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read variables file",
				Detail:   fmt.Sprintf("Reading the -var-file %s failed: %s.", shown, cleanOSError(err)),
			})
			continue
		}
		var file *hcl.File
		var diags hcl.Diagnostics
		if strings.HasSuffix(path, ".json") {
			file, diags = ParseHCLJSON(src, shown)
		} else {
			file, diags = ParseHCL(src, shown)
		}
		l.diags = append(l.diags, diags...)
		if file == nil || diags.HasErrors() {
			continue
		}
		l.cfg.Files[shown] = file
		attrs, diags := file.Body.JustAttributes()
		l.diags = append(l.diags, diags...)
		names := sortedKeys(attrs)
		sort.Slice(names, func(i, j int) bool { return attrs[names[i]].Range.Start.Byte < attrs[names[j]].Range.Start.Byte })
		for _, name := range names {
			a := attrs[name]
			v, declared := l.mod.Variables[name]
			if !declared {
				l.warnf(a.NameRange, "Value for undeclared variable",
					"The file sets %q, but the engagement declares no such variable.%s The value is ignored.",
					name, didYouMean(name, sortedKeys(l.mod.Variables)))
				continue
			}
			if !l.checkRefs(a.Expr, "a variables file") {
				continue
			}
			val, d := a.Expr.Value(nil)
			l.diags = append(l.diags, d...)
			if d.HasErrors() {
				continue
			}
			conv, err := l.convertVar(v, val)
			if err != nil {
				l.errorf(a.Expr.Range(), "Invalid value for variable",
					"The value for %q does not fit its type constraint %s: %s.", name, typeexpr.TypeString(v.Type), err)
				continue
			}
			values[name] = conv
		}
	}
}

func (l *loader) varsFromArgs(values map[string]cty.Value) {
	for _, arg := range l.opts.Vars {
		name, raw, ok := strings.Cut(arg, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("The option -var %q is not of the form -var 'name=value'.", arg),
			})
			continue
		}
		v, declared := l.mod.Variables[name]
		if !declared {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("A value for %q was given with -var, but the engagement declares no such variable.%s Declare it with a variable block, or correct the name.",
					name, didYouMean(name, sortedKeys(l.mod.Variables))),
			})
			continue
		}
		source := fmt.Sprintf("-var %q", arg)
		if v.Sensitive {
			source = fmt.Sprintf("-var %s=(sensitive value)", name)
		}
		val, err := l.parseVarValue(v, raw, source)
		if err != nil {
			l.errorf(v.DeclRange, "Invalid value for variable", "The value of %s.", err)
			continue
		}
		values[name] = val
	}
}

// decodeLocalsAndTargets evaluates locals and targets in dependency order:
// a local may refer to variables, other locals and targets, and a target
// to variables and locals. A cycle is reported on each of its members.
func (l *loader) decodeLocalsAndTargets() {
	l.localVals = l.mod.localVals
	type node struct {
		local  *hclsyntax.Attribute
		target *hclsyntax.Block
		deps   []string
	}
	pending := map[string]*node{}
	depsOf := func(expr hcl.Expression) []string {
		var out []string
		for _, tr := range expr.Variables() {
			name, _, ok := traversalStep(tr, 1)
			if !ok {
				continue
			}
			switch tr.RootName() {
			case "local":
				out = append(out, "local."+name)
			case "target":
				if n, _, ok := traversalStep(tr, 2); ok {
					out = append(out, "target."+name+"."+n)
				}
			}
		}
		return out
	}
	for name, a := range l.locals {
		if !l.checkRefs(a.Expr, "a local value", l.loadRoots("var", "local", "target")...) {
			l.localVals[name] = cty.DynamicVal
			continue
		}
		pending["local."+name] = &node{local: a, deps: depsOf(a.Expr)}
	}
	for _, b := range l.targets {
		n := &node{target: b}
		for _, a := range b.Body.Attributes {
			n.deps = append(n.deps, depsOf(a.Expr)...)
		}
		pending["target."+b.Labels[0]+"."+b.Labels[1]] = n
	}
	for len(pending) > 0 {
		progress := false
		for _, key := range sortedKeys(pending) {
			n := pending[key]
			ready := true
			for _, d := range n.deps {
				if _, waiting := pending[d]; waiting && d != key {
					ready = false
				}
			}
			if !ready {
				continue
			}
			delete(pending, key)
			progress = true
			if n.target != nil {
				l.decodeTargetGroup(n.target)
				l.invalidate(true)
				continue
			}
			name := strings.TrimPrefix(key, "local.")
			val, d := n.local.Expr.Value(l.evalContext())
			l.diags = append(l.diags, d...)
			if d.HasErrors() {
				val = cty.DynamicVal
			}
			l.localVals[name] = val
			plain, _ := val.UnmarkDeep()
			l.mod.Locals[name] = plain
			l.invalidate(false)
		}
		if progress {
			continue
		}
		for _, key := range sortedKeys(pending) {
			n := pending[key]
			var others []string
			for _, d := range n.deps {
				if _, waiting := pending[d]; waiting {
					others = append(others, d)
				}
			}
			var rng hcl.Range
			if n.local != nil {
				rng = n.local.NameRange
				l.localVals[strings.TrimPrefix(key, "local.")] = cty.DynamicVal
			} else {
				rng = blockRange(n.target)
			}
			summary := "Cycle between local values"
			for k := range pending {
				if strings.HasPrefix(k, "target.") {
					summary = "Cycle between local values and targets"
				}
			}
			l.errorf(rng, summary,
				"%s refers to %s, which refer back to it. Break the cycle.", key, strings.Join(others, ", "))
		}
		l.invalidate(false)
		return
	}
}

// checkValidations evaluates the validation rules of the variables against
// their values.
func (l *loader) checkValidations() {
	vars := map[string]cty.Value{}
	for name, v := range l.mod.Variables {
		vars[name] = v.Value
	}
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)}, Functions: Functions(l.cfg)}
	for _, r := range l.validations {
		val, diags := r.condition.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		val, _ = val.UnmarkDeep()
		if !val.IsKnown() {
			continue
		}
		ok, err := convert.Convert(val, cty.Bool)
		if err != nil || ok.IsNull() {
			l.errorf(r.condition.Range(), "Invalid validation condition", "The condition must be true or false, not %s.", val.Type().FriendlyName())
			continue
		}
		if ok.False() {
			shown := "(sensitive value)"
			if !r.variable.Sensitive {
				if js, err := ctyjson.Marshal(r.variable.Value, r.variable.Value.Type()); err == nil {
					shown = string(js)
				}
			}
			l.errorf(r.variable.DeclRange, "Invalid value for variable",
				"%s\n\nThe value %s of var.%s fails the validation rule at %s.", r.message, shown, r.variable.Name, shortRange(r.declRange))
		}
	}
}
