package schema

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

var querySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "provider", Required: true}, {Name: "op", Required: true}, {Name: "subjects", Required: true},
	{Name: "rrtypes"}, {Name: "params"}, {Name: "description"}, {Name: "for_each"}, {Name: "count"},
}}

var pivotSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "from", Required: true}, {Name: "when"}, {Name: "provider", Required: true}, {Name: "op", Required: true},
	{Name: "subject", Required: true}, {Name: "rrtypes"}, {Name: "params"}, {Name: "max_depth"},
	{Name: "description"}, {Name: "for_each"}, {Name: "count"},
}}

// decodeQueries expands every query block's for_each or count first, so
// that references between queries know which are repeated, then decodes
// each instance.
func (l *loader) decodeQueries() {
	type pending struct {
		b    *hclsyntax.Block
		body *hcl.BodyContent
		g    *group[*QueryBlock]
	}
	var todo []pending
	for _, b := range l.queries {
		body, diags := content(b.Body, querySchema, "a query block")
		l.diags = append(l.diags, diags...)
		x, ok := l.decodeExpansion(body.Attributes["for_each"], body.Attributes["count"], "a query block")
		if !ok {
			continue
		}
		g := newGroup[*QueryBlock](x, blockRange(b))
		l.mod.queries[b.Labels[0]] = g
		todo = append(todo, pending{b, body, g})
	}
	for _, p := range todo {
		for _, key := range p.g.expand.keys {
			l.cur = p.g.expand.each(key)
			q := l.decodeQuery(p.b, p.body)
			q.Addr = BlockAddr{Module: l.mod.Path, Kind: KindQuery, Name: q.Name, Key: key}
			q.Module, q.Each = l.mod, l.cur
			p.g.items[key] = q
			l.cfg.Queries[q.Address()] = q
		}
		l.cur = Each{}
	}
}

// decodeQuery decodes one instance of a query block. Providers are
// resolved statically; subjects stay an expression, evaluated by the
// engine once the blocks it depends on have findings.
func (l *loader) decodeQuery(b *hclsyntax.Block, body *hcl.BodyContent) *QueryBlock {
	q := &QueryBlock{Name: b.Labels[0], DeclRange: blockRange(b)}
	ctx := l.evalContext()
	if a, ok := body.Attributes["provider"]; ok {
		q.Providers, _ = l.providerRefs(a)
	}
	if a, ok := body.Attributes["op"]; ok {
		q.Op, _ = l.decodeOp(a, q.Providers, ctx)
	}
	if a, ok := body.Attributes["subjects"]; ok {
		// Dependencies are kept even from a bad expression, so cycle
		// checks still see them; the expression itself only if it is good.
		q.DependsOn = l.blockDeps(a.Expr)
		if l.checkRefs(a.Expr, "subjects", l.loadRoots("var", "local", "target", "query", "pivot")...) {
			q.Subjects = a.Expr
		}
	}
	if a, ok := body.Attributes["rrtypes"]; ok {
		q.RRTypes = l.decodeRRTypes(a, q.Providers, q.Op, ctx)
	}
	if a, ok := body.Attributes["params"]; ok {
		q.Params = l.decodeParams(a, ctx)
	}
	if a, ok := body.Attributes["description"]; ok {
		q.Description, _ = l.evalString(a, ctx)
	}
	return q
}

// decodePivot decodes a pivot block; when and subject stay expressions
// over finding.*, type-checked here against an unknown finding.
func (l *loader) decodePivot(b *hclsyntax.Block) {
	p := &PivotBlock{Name: b.Labels[0], DeclRange: blockRange(b)}
	p.Addr = BlockAddr{Module: l.mod.Path, Kind: KindPivot, Name: p.Name}
	p.Module = l.mod
	body, diags := content(b.Body, pivotSchema, "a pivot block")
	l.diags = append(l.diags, diags...)
	for _, meta := range []string{"for_each", "count"} {
		if a, ok := body.Attributes[meta]; ok {
			l.errorf(a.NameRange, "Unsupported argument",
				"A pivot block takes no %s: a pivot already follows every finding of the blocks in from, every instance of a query with for_each included (from = [query.NAME]).", meta)
		}
	}
	ctx := l.evalContext()
	if a, ok := body.Attributes["from"]; ok {
		p.From, _ = l.blockRefs(a)
	}
	if a, ok := body.Attributes["provider"]; ok {
		p.Providers, _ = l.providerRefs(a)
	}
	if a, ok := body.Attributes["op"]; ok {
		p.Op, _ = l.decodeOp(a, p.Providers, ctx)
	}
	findingCtx := ctx.NewChild()
	findingCtx.Variables = map[string]cty.Value{"finding": cty.UnknownVal(FindingType)}
	if a, ok := body.Attributes["when"]; ok {
		if l.checkRefs(a.Expr, "when", l.loadRoots("var", "local", "target", "finding")...) {
			p.When = a.Expr
			v, d := a.Expr.Value(findingCtx)
			l.diags = append(l.diags, d...)
			if !d.HasErrors() {
				if _, err := convert.Convert(v, cty.Bool); err != nil {
					l.errorf(a.Expr.Range(), "Invalid pivot condition",
						"when must be true or false, not %s; e.g. when = finding.type == \"A\" && in_scope(finding.value).", v.Type().FriendlyName())
				}
			}
		}
	}
	if a, ok := body.Attributes["subject"]; ok {
		if l.checkRefs(a.Expr, "subject", l.loadRoots("var", "local", "target", "finding")...) {
			p.Subject = a.Expr
			_, d := a.Expr.Value(findingCtx)
			l.diags = append(l.diags, d...)
		}
	}
	if a, ok := body.Attributes["rrtypes"]; ok {
		p.RRTypes = l.decodeRRTypes(a, p.Providers, p.Op, ctx)
	}
	if a, ok := body.Attributes["params"]; ok {
		p.Params = l.decodeParams(a, ctx)
	}
	if a, ok := body.Attributes["description"]; ok {
		p.Description, _ = l.evalString(a, ctx)
	}
	if a, ok := body.Attributes["max_depth"]; ok {
		if n, ok := l.evalInt(a, ctx, 0); ok {
			p.MaxDepth = int(n) // 0: the engagement's
		}
	}
	if p.MaxDepth == 0 && l.cfg.Engagement.MaxDepth == 0 {
		l.errorf(b.LabelRanges[0], "Unbounded pivot",
			"pivot %q has no depth bound, so it could expand without end. Set max_depth in this pivot block or in the engagement block, e.g. max_depth = 2.", p.Name)
	}
	l.mod.pivots[p.Name] = p
	l.cfg.Pivots[p.Address()] = p
}

// decodeOp decodes op and checks that every provider answers it.
func (l *loader) decodeOp(a *hcl.Attribute, providers []string, ctx *hcl.EvalContext) (Op, bool) {
	s, ok := l.evalRequiredString(a, ctx)
	if !ok {
		return "", false
	}
	op := Op(strings.TrimSpace(s))
	var all []string
	for _, o := range AllOps {
		all = append(all, string(o))
	}
	valid := false
	for _, o := range AllOps {
		if o == op {
			valid = true
		}
	}
	if !valid {
		l.errorf(a.Expr.Range(), "Unsupported operation",
			"There is no operation %q.%s The operations are %s.", s, didYouMean(string(op), all), strings.Join(all, ", "))
		return "", false
	}
	ok = true
	for _, addr := range providers {
		pb, declared := l.cfg.Providers[addr]
		if !declared {
			continue
		}
		ps := l.opts.Providers[pb.Type]
		if !ps.Answers(op) {
			var ops []string
			for _, o := range AllOps {
				if ps.Answers(o) {
					ops = append(ops, string(o))
				}
			}
			var others []string
			for _, t := range sortedKeys(l.opts.Providers) {
				if l.opts.Providers[t].Answers(op) {
					others = append(others, t)
				}
			}
			l.errorf(a.Expr.Range(), "Operation not supported by provider",
				"The %s provider (provider.%s) does not answer %q; it answers %s.%s Use one of those, or a provider that answers %s: %s.",
				pb.Type, addr, op, strings.Join(ops, ", "), didYouMean(string(op), ops), op, strings.Join(others, ", "))
			ok = false
		}
	}
	return op, ok
}

// decodeRRTypes decodes rrtypes: known record types, upper-case, sorted,
// with a warning for a type a provider's op does not return.
func (l *loader) decodeRRTypes(a *hcl.Attribute, providers []string, op Op, ctx *hcl.EvalContext) []string {
	items, _ := l.evalStrings(a, ctx)
	seen := map[string]bool{}
	var out []string
	for _, it := range items {
		t := strings.ToUpper(strings.TrimSpace(it.Value))
		if !l.checkRRType(t, it.Range) || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
		for _, addr := range providers {
			pb, ok := l.cfg.Providers[addr]
			if !ok {
				continue
			}
			traits := l.opts.Providers[pb.Type].Ops[op]
			if len(traits.RRTypes) == 0 {
				continue
			}
			offered := false
			for _, r := range traits.RRTypes {
				if strings.EqualFold(r, t) {
					offered = true
				}
			}
			if !offered {
				l.warnf(it.Range, "Record type not offered",
					"The %s provider's %s operation returns %s, not %s; it will not contribute %s records.",
					pb.Type, op, strings.Join(traits.RRTypes, ", "), t, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

// decodeParams decodes params, a map of strings (numbers and bools are
// written as strings).
func (l *loader) decodeParams(a *hcl.Attribute, ctx *hcl.EvalContext) map[string]string {
	val, _, ok := l.eval(a.Expr, ctx)
	if !ok || val.IsNull() {
		return nil
	}
	ty := val.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type",
			"params must be a map of strings, e.g. params = { limit = \"100\" }, not %s.", ty.FriendlyName())
		return nil
	}
	out := map[string]string{}
	for it := val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if v.IsNull() {
			continue
		}
		s, err := convert.Convert(v, cty.String)
		if err != nil {
			l.errorf(a.Expr.Range(), "Incorrect attribute value type",
				"params.%s must be a string, number or bool, not %s.", k.AsString(), v.Type().FriendlyName())
			continue
		}
		out[k.AsString()] = s.AsString()
	}
	return out
}

// OpSubjectKinds are the kinds of subject each op asks about; a query
// whose subject is of another kind finds nothing.
var OpSubjectKinds = map[Op][]SubjectKind{
	OpResolutions:  {SubjectDomain, SubjectIP},
	OpReverseIP:    {SubjectIP, SubjectCIDR},
	OpSubdomains:   {SubjectDomain},
	OpNSReverse:    {SubjectDomain},
	OpMXReverse:    {SubjectDomain},
	OpResolve:      {SubjectDomain, SubjectIP},
	OpRegistration: {SubjectDomain},
	OpFingerprint:  {SubjectDomain},
}

// OpAccepts reports whether op asks about subjects of kind.
func OpAccepts(op Op, kind SubjectKind) bool {
	kinds, known := OpSubjectKinds[op]
	if !known {
		return true
	}
	for _, k := range kinds {
		if k == kind {
			return true
		}
	}
	return false
}

// kindNames and kindPlurals are subject kinds in prose.
var (
	kindNames   = map[SubjectKind]string{SubjectDomain: "a domain name", SubjectIP: "an IP address", SubjectCIDR: "a CIDR"}
	kindPlurals = map[SubjectKind]string{SubjectDomain: "domain names", SubjectIP: "IP addresses", SubjectCIDR: "CIDRs"}
)
