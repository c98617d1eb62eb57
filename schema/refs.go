package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// nameSuggestion returns the name in suggestions closest to given, or ""
// when none is close enough to be what the user meant.
func nameSuggestion(given string, suggestions []string) string {
	best, bestDist := "", 3
	for _, s := range suggestions {
		if d := levenshtein.Distance(given, s, nil); d < bestDist {
			best, bestDist = s, d
		}
	}
	if best != "" {
		return best
	}
	// "rate_limit" for "rate", "api" for "api_key": one name is the
	// other plus a word.
	for _, s := range suggestions {
		if strings.HasPrefix(given, s+"_") || strings.HasPrefix(s, given+"_") {
			return s
		}
	}
	return ""
}

// didYouMean is " Did you mean "x"?" or "".
func didYouMean(given string, suggestions []string) string {
	if s := nameSuggestion(given, suggestions); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// traversalStep returns the name of step i of a traversal (an attribute
// or a string index) and its range.
func traversalStep(tr hcl.Traversal, i int) (string, hcl.Range, bool) {
	if i >= len(tr) {
		return "", hcl.Range{}, false
	}
	switch s := tr[i].(type) {
	case hcl.TraverseRoot:
		return s.Name, s.SrcRange, true
	case hcl.TraverseAttr:
		return s.Name, s.SrcRange, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString(), s.SrcRange, true
		}
	}
	return "", hcl.Range{}, false
}

// rootDescriptions say what each reference root is, for error details.
var rootDescriptions = map[string]string{
	"var":      "var.<name> (input variables)",
	"local":    "local.<name> (local values)",
	"target":   "target.<kind>.<name> (targets)",
	"query":    "query.<name>.findings (a query's findings)",
	"pivot":    "pivot.<name>.findings (a pivot's findings)",
	"finding":  "finding.<attribute> (the finding a pivot is looking at)",
	"provider": "provider.<type>[.<name>] (provider configurations)",
	"module":   "module.<name>.<output> (a module's outputs)",
	"each":     "each.key and each.value (in a block with for_each)",
	"count":    "count.index (in a block with count)",
	"facts":    "facts (the derived facts, after apply)",
	"findings": "findings (every finding of the state, in a check)",
	"drift":    "drift.<list> (this run's changes, in a check)",
}

// checkRefs reports every reference in expr that is not allowed in this
// place or names something undeclared. where describes the place for
// messages ("a provider block"). It returns false when there were errors,
// so the caller does not also evaluate the expression.
func (l *loader) checkRefs(expr hcl.Expression, where string, allowed ...string) bool {
	if expr == nil {
		return true
	}
	ok := true
	for _, tr := range expr.Variables() {
		if !l.checkRef(tr, where, allowed) {
			ok = false
		}
	}
	return ok
}

func (l *loader) checkRef(tr hcl.Traversal, where string, allowed []string) bool {
	root, rootRange, _ := traversalStep(tr, 0)
	isAllowed := false
	for _, a := range allowed {
		if a == root {
			isAllowed = true
		}
	}
	if !isAllowed && (root == "each" || root == "count") {
		what := map[string]string{"each": "each.key and each.value exist only in a block that sets for_each", "count": "count.index exists only in a block that sets count"}[root]
		l.errorf(tr.SourceRange(), "Reference to \""+root+"\" in the wrong place", "%s, and %s here is not in one.", what, where)
		return false
	}
	if !isAllowed && len(allowed) == 0 {
		l.errorf(tr.SourceRange(), "Variables not allowed",
			"%s must be a constant value; it cannot refer to %s.", capitalize(where), root)
		return false
	}
	if !isAllowed {
		var can []string
		for _, a := range allowed {
			can = append(can, rootDescriptions[a])
		}
		if _, known := rootDescriptions[root]; known {
			l.errorf(tr.SourceRange(), "Invalid reference",
				"A reference to %s cannot be used in %s; here you can refer to %s.", root, where, strings.Join(can, ", "))
			return false
		}
		l.errorf(rootRange, "Unknown reference",
			"There is no object named %q.%s References start with %s.", root, didYouMean(root, allowed), strings.Join(can, ", "))
		return false
	}
	if root == "facts" || root == "findings" {
		return true
	}
	if root == "drift" {
		return true // its attributes are checked by checkCheckRefs
	}
	name, nameRange, hasName := traversalStep(tr, 1)
	if !hasName {
		l.errorf(tr.SourceRange(), "Invalid reference",
			"A reference to %s must be followed by a name, as in %s.", root, rootDescriptions[root])
		return false
	}
	switch root {
	case "var", "local", "query", "pivot":
		decl := l.declared[root]
		if _, ok := decl[name]; !ok {
			what := map[string]string{"var": "input variable", "local": "local value", "query": "query block", "pivot": "pivot block"}[root]
			fix := map[string]string{
				"var":   "Declare it with a variable block, or correct the name.",
				"local": "Declare it in a locals block, or correct the name.",
				"query": "Declare a query block with that name, or correct the reference.",
				"pivot": "Declare a pivot block with that name, or correct the reference.",
			}[root]
			l.errorf(hcl.RangeBetween(rootRange, nameRange), "Reference to undeclared "+what,
				"%s named %q has not been declared.%s %s", capitalize(article(what)+" "+what), name, didYouMean(name, sortedKeys(decl)), fix)
			return false
		}
		if root == "query" || root == "pivot" {
			step := 2
			if g := l.mod.queries[name]; root == "query" && g != nil && g.expand.mode != expandNone {
				ok, next := l.checkInstanceIndex(tr, 2, root+"."+name, g.expand, g.declRange)
				if !ok {
					return false
				}
				step = next
			}
			if _, isIdx := safeStep(tr, step).(hcl.TraverseIndex); isIdx && step == 2 {
				l.errorf(tr[2].SourceRange(), "Unexpected index",
					"%s.%s has no for_each or count, so it has one instance and cannot be indexed; refer to %s.%s.findings.", root, name, root, name)
				return false
			}
			attr, attrRange, has := traversalStep(tr, step)
			if has && attr != "findings" {
				l.errorf(attrRange, "Unsupported attribute",
					"A %s block has only the attribute \"findings\", not %q.", root, attr)
				return false
			}
		}
	case "target":
		kind := name
		if kind != string(SubjectDomain) && kind != string(SubjectIP) && kind != string(SubjectCIDR) {
			l.errorf(nameRange, "Unknown target kind",
				"Targets are target.domain.<name>, target.ip.<name> or target.cidr.<name>, not target.%s.%s", kind,
				didYouMean(kind, []string{"domain", "ip", "cidr"}))
			return false
		}
		tname, tRange, has := traversalStep(tr, 2)
		if !has {
			l.errorf(tr.SourceRange(), "Invalid reference",
				"A target reference needs the kind and the name, as in target.%s.<name>.", kind)
			return false
		}
		if _, ok := l.declared["target"][kind+"."+tname]; !ok {
			var same []string
			for addr := range l.declared["target"] {
				if k, n, _ := strings.Cut(addr, "."); k == kind {
					same = append(same, n)
				}
			}
			sort.Strings(same)
			l.errorf(hcl.RangeBetween(rootRange, tRange), "Reference to undeclared target",
				"No target %q %q has been declared.%s Declare it with target %q %q { ... }, or correct the name.",
				kind, tname, didYouMean(tname, same), kind, tname)
			return false
		}
		if g := l.mod.targets[kind+"."+tname]; g != nil {
			if g.expand.mode != expandNone {
				ok, _ := l.checkInstanceIndex(tr, 3, "target."+kind+"."+tname, g.expand, g.declRange)
				return ok
			}
			if _, isIdx := safeStep(tr, 3).(hcl.TraverseIndex); isIdx {
				l.errorf(tr[3].SourceRange(), "Unexpected index",
					"target.%s.%s has no for_each or count, so it cannot be indexed.", kind, tname)
				return false
			}
		}
	case "module":
		if _, ok := l.declared["module"][name]; !ok {
			l.errorf(hcl.RangeBetween(rootRange, nameRange), "Reference to undeclared module",
				"No module block %q has been declared.%s Declare it with module %q { source = \"./modules/...\" }, or correct the name.",
				name, didYouMean(name, sortedKeys(l.declared["module"])), name)
			return false
		}
		g := l.mod.calls[name]
		if g == nil {
			return true // the module block failed to load: reported there
		}
		step := 2
		if g.expand.mode != expandNone {
			ok, next := l.checkInstanceIndex(tr, 2, "module."+name, g.expand, g.declRange)
			if !ok {
				return false
			}
			step = next
		} else if _, isIdx := safeStep(tr, 2).(hcl.TraverseIndex); isIdx {
			l.errorf(tr[2].SourceRange(), "Unexpected index",
				"module.%s has no for_each or count, so it has one instance and cannot be indexed.", name)
			return false
		}
		out, outRange, has := traversalStep(tr, step)
		if src := l.callSources[name]; has && src != nil && src.ok && !src.outputs[out] {
			l.errorf(outRange, "Unsupported attribute",
				"The module %q has no output %q.%s", name, out, didYouMean(out, sortedKeys(src.outputs)))
			return false
		}
	case "each":
		if name != "key" && name != "value" {
			l.errorf(nameRange, "Unsupported attribute", "each has the attributes key and value, not %q.", name)
			return false
		}
	case "count":
		if name != "index" {
			l.errorf(nameRange, "Unsupported attribute", "count has the attribute index, not %q.%s", name, didYouMean(name, []string{"index"}))
			return false
		}
	case "finding":
		var attrs []string
		for a := range FindingType.AttributeTypes() {
			attrs = append(attrs, a)
		}
		sort.Strings(attrs)
		if !FindingType.HasAttribute(name) {
			l.errorf(nameRange, "Unsupported attribute",
				"A finding has no attribute %q.%s Its attributes are %s.", name, didYouMean(name, attrs), strings.Join(attrs, ", "))
			return false
		}
	}
	return true
}

// checkInstanceIndex checks step i of a reference to a block with for_each
// or count: it may be left out (the whole map or tuple), or be a key the
// block has. next is the step after the index.
func (l *loader) checkInstanceIndex(tr hcl.Traversal, i int, what string, x expansion, decl hcl.Range) (ok bool, next int) {
	step := safeStep(tr, i)
	if step == nil {
		return true, i
	}
	idx, isIdx := step.(hcl.TraverseIndex)
	if !isIdx {
		shape, example := "an object by for_each key", what+"[\"KEY\"]"
		if x.mode == expandCount {
			shape, example = "a tuple by count index", what+"[0]"
		}
		l.errorf(step.SourceRange(), "Missing instance key",
			"%s has %s (at %s), so it is %s: refer to one instance, as in %s, or to all of them with a for expression.",
			what, map[expandMode]string{expandCount: "count", expandForEach: "for_each"}[x.mode], shortRange(decl), shape, example)
		return false, i
	}
	k, err := keyOf(idx.Key)
	if err != nil {
		l.errorf(idx.SrcRange, "Invalid instance key", "%s: %s.", what, err)
		return false, i
	}
	if (x.mode == expandCount) != (k.kind == keyInt) {
		want := "a string key (it has for_each)"
		if x.mode == expandCount {
			want = "a number (it has count)"
		}
		l.errorf(idx.SrcRange, "Invalid instance key", "%s is indexed by %s.", what, want)
		return false, i
	}
	for _, have := range x.keys {
		if have.compare(k) == 0 {
			return true, i + 1
		}
	}
	var keys []string
	for _, have := range x.keys {
		keys = append(keys, have.String())
	}
	if len(keys) > 8 {
		keys = append(keys[:8], "...")
	}
	l.errorf(idx.SrcRange, "Invalid instance key", "%s has no instance %s; its instances are %s.", what, k.String(), strings.Join(keys, " "))
	return false, i
}

// listOrOne returns the elements of a static list expression, or expr
// itself when it is no list (a single reference).
func listOrOne(expr hcl.Expression) []hcl.Expression {
	exprs, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		return []hcl.Expression{expr}
	}
	return exprs
}

// providerRefs resolves a provider attribute statically: one reference
// provider.TYPE / provider.TYPE.NAME or a list of them. It returns the
// provider addresses.
func (l *loader) providerRefs(attr *hcl.Attribute) ([]string, bool) {
	exprs := listOrOne(attr.Expr)
	if len(exprs) == 0 {
		l.errorf(attr.Expr.Range(), "No provider given",
			"Set provider to a provider configuration such as provider.securitytrails, or a list of them.")
		return nil, false
	}
	var out []string
	ok := true
	seen := map[string]bool{}
	for _, e := range exprs {
		tr, d := hcl.AbsTraversalForExpr(e)
		if d.HasErrors() || tr.RootName() != "provider" || len(tr) < 2 || len(tr) > 3 {
			l.errorf(e.Range(), "Invalid provider reference",
				"Refer to a provider configuration as provider.TYPE or provider.TYPE.NAME, e.g. provider.securitytrails or provider.file.sonar, or give a list of them.")
			ok = false
			continue
		}
		var parts []string
		valid := true
		for i := 1; i < len(tr); i++ {
			n, _, has := traversalStep(tr, i)
			if !has {
				valid = false
			}
			parts = append(parts, n)
		}
		if !valid {
			l.errorf(e.Range(), "Invalid provider reference",
				"Refer to a provider configuration as provider.TYPE or provider.TYPE.NAME.")
			ok = false
			continue
		}
		addr := strings.Join(parts, ".")
		if _, declared := l.declared["provider"][addr]; !declared {
			typ := parts[0]
			detail := fmt.Sprintf("No provider configuration %q has been declared.", addr)
			if _, known := l.opts.Providers[typ]; !known {
				detail = fmt.Sprintf("There is no provider type %q.%s The provider types are %s.",
					typ, didYouMean(typ, sortedKeys(l.opts.Providers)), strings.Join(sortedKeys(l.opts.Providers), ", "))
			} else if s := nameSuggestion(addr, sortedKeys(l.declared["provider"])); s != "" {
				detail += fmt.Sprintf(" Did you mean provider.%s?", s)
			} else if same := sameTypeProviders(l.declared["provider"], typ); len(same) > 0 {
				detail += fmt.Sprintf(" The %s configurations are %s.", typ, strings.Join(same, ", "))
			} else if len(parts) == 2 {
				detail += fmt.Sprintf(" Declare it with provider %q %q { ... }.", parts[0], parts[1])
			} else {
				detail += fmt.Sprintf(" Declare it with provider %q { ... }.", parts[0])
			}
			l.errorf(e.Range(), "Reference to undeclared provider", "%s", detail)
			ok = false
			continue
		}
		root := l.providerAddr[addr]
		if root == "" {
			root = addr
		}
		if !seen[root] {
			seen[root] = true
			out = append(out, root)
		}
	}
	return out, ok
}

// blockRefs resolves a pivot's from attribute statically: a list of
// query.NAME / pivot.NAME references (".findings" may follow).
func (l *loader) blockRefs(attr *hcl.Attribute) ([]string, bool) {
	exprs := listOrOne(attr.Expr)
	if len(exprs) == 0 {
		l.errorf(attr.Expr.Range(), "No blocks given",
			"Set from to the query or pivot blocks whose findings the pivot follows, e.g. from = [query.history].")
		return nil, false
	}
	var out []string
	ok := true
	seen := map[string]bool{}
	for _, e := range exprs {
		tr, d := hcl.AbsTraversalForExpr(e)
		root := tr.RootName()
		if d.HasErrors() || (root != "query" && root != "pivot") || len(tr) < 2 || len(tr) > 4 {
			l.errorf(e.Range(), "Invalid block reference",
				"A pivot's from lists query or pivot blocks, as in from = [query.history, pivot.expand].")
			ok = false
			continue
		}
		if !l.checkRef(tr, "from", []string{"query", "pivot"}) {
			ok = false
			continue
		}
		for _, addr := range l.traversalDeps(tr) {
			if !seen[addr] {
				seen[addr] = true
				out = append(out, addr)
			}
		}
	}
	return out, ok
}

// blockDeps are the query/pivot instance addresses an expression refers
// to, directly or through module outputs. An index known at load time
// narrows a reference to one instance: module.footprint[each.key].hosts in
// a query with for_each reads the blocks of one module instance only.
func (l *loader) blockDeps(expr hcl.Expression) []string {
	if expr == nil {
		return nil
	}
	var trs []hcl.Traversal
	if syn, ok := expr.(hclsyntax.Expression); ok {
		trs = l.indexedTraversals(syn)
	} else {
		trs = expr.Variables()
	}
	seen := map[string]bool{}
	var out []string
	for _, tr := range trs {
		for _, addr := range l.traversalDeps(tr) {
			if !seen[addr] {
				seen[addr] = true
				out = append(out, addr)
			}
		}
	}
	sort.Strings(out)
	return out
}

// indexedTraversals are the references of expr, with the index that
// follows a query or module reference (query.NAME[KEY],
// module.NAME[KEY].OUTPUT) folded in when it can be evaluated now.
func (l *loader) indexedTraversals(expr hclsyntax.Expression) []hcl.Traversal {
	var out []hcl.Traversal
	var stack []hclsyntax.Node
	hclsyntax.Walk(expr, walker{
		enter: func(n hclsyntax.Node) {
			defer func() { stack = append(stack, n) }()
			st, ok := n.(*hclsyntax.ScopeTraversalExpr)
			if !ok {
				return
			}
			tr := st.Traversal
			root := tr.RootName()
			if (root != "query" && root != "module") || len(tr) != 2 || len(stack) == 0 {
				out = append(out, tr)
				return
			}
			idx, ok := stack[len(stack)-1].(*hclsyntax.IndexExpr)
			if !ok || idx.Collection != n {
				out = append(out, tr)
				return
			}
			key, diags := idx.Key.Value(l.evalContext())
			if diags.HasErrors() || !key.IsWhollyKnown() || key.IsNull() {
				out = append(out, tr)
				return
			}
			key, _ = key.Unmark()
			full := append(append(hcl.Traversal{}, tr...), hcl.TraverseIndex{Key: key, SrcRange: idx.Key.Range()})
			if len(stack) > 1 {
				if rel, ok := stack[len(stack)-2].(*hclsyntax.RelativeTraversalExpr); ok && rel.Source == idx && len(rel.Traversal) > 0 {
					full = append(full, rel.Traversal[0])
				}
			}
			out = append(out, full)
		},
		exit: func(hclsyntax.Node) { stack = stack[:len(stack)-1] },
	})
	return out
}

// walker adapts two functions to hclsyntax.Walker.
type walker struct {
	enter func(hclsyntax.Node)
	exit  func(hclsyntax.Node)
}

func (w walker) Enter(n hclsyntax.Node) hcl.Diagnostics { w.enter(n); return nil }
func (w walker) Exit(n hclsyntax.Node) hcl.Diagnostics  { w.exit(n); return nil }

// traversalDeps are the block instance addresses one reference reads:
// query.NAME (every instance, or the one its index names), pivot.NAME,
// or the blocks behind a module output.
func (l *loader) traversalDeps(tr hcl.Traversal) []string {
	root := tr.RootName()
	name, _, ok := traversalStep(tr, 1)
	if !ok {
		return nil
	}
	switch root {
	case "query":
		g := l.mod.queries[name]
		if g == nil {
			// Not expanded (an error reported elsewhere): the plain
			// address keeps cycle checks honest.
			return []string{BlockAddr{Module: l.mod.Path, Kind: KindQuery, Name: name}.String()}
		}
		keys := g.expand.keys
		if g.expand.mode != expandNone {
			if idx, isIdx := safeStep(tr, 2).(hcl.TraverseIndex); isIdx {
				if k, err := keyOf(idx.Key); err == nil {
					keys = []InstanceKey{k}
				}
			}
		}
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			out = append(out, BlockAddr{Module: l.mod.Path, Kind: KindQuery, Name: name, Key: k}.String())
		}
		return out
	case "pivot":
		return []string{BlockAddr{Module: l.mod.Path, Kind: KindPivot, Name: name}.String()}
	case "module":
		return l.moduleDeps(tr)
	}
	return nil
}

// article is "a" or "an" for word.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// sameTypeProviders lists the declared provider references of one type.
func sameTypeProviders(declared map[string]hcl.Range, typ string) []string {
	var out []string
	for _, addr := range sortedKeys(declared) {
		if t, _, _ := strings.Cut(addr, "."); t == typ {
			out = append(out, "provider."+addr)
		}
	}
	return out
}
