package schema

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Module is one module instance: the root module (the engagement folder),
// or one instance of a module block, with its own variables, locals,
// targets, queries, pivots and outputs. Modules expand at load time: the
// Config's Queries, Pivots and Targets hold every instance of every block
// of every module under its full address, so plan, walk and state see one
// graph; a Module keeps what expressions inside it see.
//
// What a module shares with the engagement: the providers (a module
// refers to the root's provider configurations, by the same address or
// as its module block's providers map says), the scope, and the
// engagement settings (passive_only, max_depth, windows). A module
// declares none of them.
type Module struct {
	Path ModulePath
	// Source is the module block's source ("" for the root); Dir the
	// folder it was read from.
	Source string
	Dir    string
	// CallRange is the module block that made this instance (zero for
	// the root).
	CallRange hcl.Range
	Variables map[string]*Variable
	Locals    map[string]cty.Value

	// What expressions in the module see, by local name.
	localVals map[string]cty.Value // with marks
	targets   map[string]*group[*Target]
	queries   map[string]*group[*QueryBlock]
	pivots    map[string]*PivotBlock
	calls     map[string]*group[*Module]
	outputs   map[string]*OutputBlock
	// outputOrder is the output names in declaration order.
	outputOrder []string
	// staticVars are var, local and target as objects, built once the
	// module is loaded.
	staticVars map[string]cty.Value
}

// Address is the module instance's address ("" for the root).
func (m *Module) Address() string {
	if m == nil {
		return ""
	}
	return m.Path.String()
}

// Outputs are the module's output blocks in declaration order.
func (m *Module) Outputs() []*OutputBlock {
	out := make([]*OutputBlock, 0, len(m.outputOrder))
	for _, n := range m.outputOrder {
		out = append(out, m.outputs[n])
	}
	return out
}

func newModule(path ModulePath) *Module {
	return &Module{
		Path:      path,
		Variables: map[string]*Variable{},
		Locals:    map[string]cty.Value{},
		localVals: map[string]cty.Value{},
		targets:   map[string]*group[*Target]{},
		queries:   map[string]*group[*QueryBlock]{},
		pivots:    map[string]*PivotBlock{},
		calls:     map[string]*group[*Module]{},
		outputs:   map[string]*OutputBlock{},
	}
}

// expandMode is how a block is repeated.
type expandMode uint8

const (
	expandNone expandMode = iota
	expandCount
	expandForEach
)

// expansion is a block's for_each or count, evaluated.
type expansion struct {
	mode expandMode
	// keys are the instance keys in order; one NoKey without expansion.
	keys []InstanceKey
	// values are each.value by key (for_each).
	values map[InstanceKey]cty.Value
}

var single = expansion{keys: []InstanceKey{NoKey}}

// Each is what each.key / each.value or count.index mean in one block
// instance.
type Each struct {
	Key   InstanceKey
	Value cty.Value // each.value; cty.NilVal without for_each
	mode  expandMode
}

// variables are "each" or "count" for an evaluation context (nil without
// expansion).
func (e Each) variables() map[string]cty.Value {
	switch e.mode {
	case expandForEach:
		v := e.Value
		if v == cty.NilVal {
			v = e.Key.Value()
		}
		return map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": e.Key.Value(), "value": v})}
	case expandCount:
		return map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": e.Key.Value()})}
	}
	return nil
}

func (x expansion) each(k InstanceKey) Each {
	return Each{Key: k, Value: x.values[k], mode: x.mode}
}

// group is every instance of one block, in key order.
type group[T any] struct {
	expand expansion
	items  map[InstanceKey]T
	// declRange is the block's header, for messages about it.
	declRange hcl.Range
}

func newGroup[T any](x expansion, rng hcl.Range) *group[T] {
	return &group[T]{expand: x, items: map[InstanceKey]T{}, declRange: rng}
}

// value is the group as a reference sees it: one value, a tuple by count
// index, or an object by for_each key. of gives an instance's value
// (cty.DynamicVal for one that failed to decode).
func (g *group[T]) value(of func(T, bool) cty.Value) cty.Value {
	get := func(k InstanceKey) cty.Value {
		it, ok := g.items[k]
		return of(it, ok)
	}
	switch g.expand.mode {
	case expandCount:
		vals := make([]cty.Value, len(g.expand.keys))
		for i, k := range g.expand.keys {
			vals[i] = get(k)
		}
		if len(vals) == 0 {
			return cty.EmptyTupleVal
		}
		return cty.TupleVal(vals)
	case expandForEach:
		attrs := make(map[string]cty.Value, len(g.expand.keys))
		for _, k := range g.expand.keys {
			attrs[k.str] = get(k)
		}
		return cty.ObjectVal(attrs)
	}
	return get(NoKey)
}

// decodeExpansion reads a block's count or for_each. what names the block
// for messages ("a query block"). ok is false when they were invalid
// (reported) or unknown because of an earlier error: the block is then
// not decoded.
func (l *loader) decodeExpansion(forEach, count *hcl.Attribute, what string) (expansion, bool) {
	if forEach != nil && count != nil {
		l.errorf(count.NameRange, "Invalid combination of \"count\" and \"for_each\"",
			"The \"count\" and \"for_each\" meta-arguments are mutually exclusive, and %s sets for_each too (at %s). Use one of them.",
			what, shortRange(forEach.NameRange))
		return expansion{}, false
	}
	if forEach == nil && count == nil {
		return single, true
	}
	a := forEach
	if a == nil {
		a = count
	}
	if !l.checkRefs(a.Expr, a.Name, l.loadRoots("var", "local", "target", "module")...) {
		return expansion{}, false
	}
	val, diags := a.Expr.Value(l.evalContext())
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return expansion{}, false
	}
	if val.ContainsMarked() {
		l.errorf(a.Expr.Range(), "Invalid "+a.Name+" argument",
			"Sensitive values, or values derived from them (env(), sensitive variables), cannot be used in %s: instance keys become part of addresses printed in plans, states and reports.", a.Name)
		return expansion{}, false
	}
	if !val.IsWhollyKnown() {
		if l.refersToFindings(a.Expr) {
			l.errorf(a.Expr.Range(), "Invalid "+a.Name+" argument",
				"The %s value depends on findings, which are known only after apply. Modules and blocks expand when the engagement loads; use values known then: variables, locals, targets, or module outputs that do not depend on findings.", a.Name)
		}
		return expansion{}, false
	}
	if val.IsNull() {
		l.errorf(a.Expr.Range(), "Invalid "+a.Name+" argument", "%s must not be null.", a.Name)
		return expansion{}, false
	}
	if a == count {
		if val.Type() != cty.Number {
			l.errorf(a.Expr.Range(), "Invalid count argument", "count must be a whole number, not %s.", val.Type().FriendlyName())
			return expansion{}, false
		}
		n, acc := val.AsBigFloat().Int64()
		if acc != big.Exact || n < 0 || n > maxInstances {
			l.errorf(a.Expr.Range(), "Invalid count argument", "count must be a whole number from 0 to %d, not %s.", maxInstances, val.AsBigFloat().Text('g', 10))
			return expansion{}, false
		}
		x := expansion{mode: expandCount}
		for i := range int(n) {
			x.keys = append(x.keys, IntKey(i))
		}
		return x, true
	}
	ty := val.Type()
	x := expansion{mode: expandForEach, values: map[InstanceKey]cty.Value{}}
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := val.ElementIterator(); it.Next(); {
			k, v := it.Element()
			key := StringKey(k.AsString())
			x.keys = append(x.keys, key)
			x.values[key] = v
		}
	case ty.IsSetType() && ty.ElementType() == cty.String:
		for it := val.ElementIterator(); it.Next(); {
			_, v := it.Element()
			if v.IsNull() {
				l.errorf(a.Expr.Range(), "Invalid for_each argument", "for_each sets must not contain null.")
				return expansion{}, false
			}
			key := StringKey(v.AsString())
			x.keys = append(x.keys, key)
			x.values[key] = v
		}
	case ty.IsSetType():
		l.errorf(a.Expr.Range(), "Invalid for_each argument",
			"for_each needs a map, or a set of strings; this is a set of %s.", ty.ElementType().FriendlyName())
		return expansion{}, false
	case ty.IsListType() || ty.IsTupleType():
		l.errorf(a.Expr.Range(), "Invalid for_each argument",
			"for_each needs a map, or a set of strings, not a list: a list's order would become part of every address. Convert it with toset(...), as in for_each = toset(var.apexes).")
		return expansion{}, false
	default:
		l.errorf(a.Expr.Range(), "Invalid for_each argument", "for_each needs a map, or a set of strings, not %s.", ty.FriendlyName())
		return expansion{}, false
	}
	if len(x.keys) > maxInstances {
		l.errorf(a.Expr.Range(), "Invalid for_each argument", "for_each gives %d instances; at most %d are allowed.", len(x.keys), maxInstances)
		return expansion{}, false
	}
	sort.Slice(x.keys, func(i, j int) bool { return x.keys[i].compare(x.keys[j]) < 0 })
	return x, true
}

// maxInstances bounds count and for_each: a typo such as count = 1e9
// must not exhaust memory.
const maxInstances = 100000

// refersToFindings reports whether expr refers to something known only
// after apply: findings, facts, or a module output that depends on them.
func (l *loader) refersToFindings(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		switch tr.RootName() {
		case "query", "pivot", "finding", "facts":
			return true
		case "module":
			if len(l.moduleDeps(tr)) > 0 {
				return true
			}
		}
	}
	return false
}

// moduleSource is a module folder, parsed once however many instances
// use it.
type moduleSource struct {
	dir     string // absolute
	display string // as diagnostics name it
	bodies  []*hclsyntax.Body
	names   []string // file names shown, index for index with bodies
	// variables and outputs are the names the module declares, for
	// checking the arguments of module blocks and references to outputs.
	variables map[string]*hclsyntax.Block
	outputs   map[string]bool
	ok        bool // it parsed without errors
}

// readModuleSource parses a module folder once.
func (l *loader) readModuleSource(dir, display string, rng hcl.Range) *moduleSource {
	if src, ok := l.shared.sources[dir]; ok {
		return src
	}
	src := &moduleSource{dir: dir, display: display, variables: map[string]*hclsyntax.Block{}, outputs: map[string]bool{}}
	l.shared.sources[dir] = src
	entries, err := os.ReadDir(dir)
	if err != nil {
		l.errorf(rng, "Cannot read the module folder", "Reading %s failed: %s. A module source is a folder of *.hcl files, relative to the module that calls it.", display, cleanOSError(err))
		return src
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".hcl") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		l.errorf(rng, "Module folder has no configuration", "The folder %s holds no *.hcl files.", display)
		return src
	}
	src.ok = true
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		shown := filepath.Join(display, name)
		if err != nil {
			l.errorf(rng, "Cannot read configuration file", "Reading %s failed: %s.", shown, cleanOSError(err))
			src.ok = false
			continue
		}
		rel, err := filepath.Rel(l.cfg.Dir, filepath.Join(dir, name))
		if err != nil {
			rel = filepath.Join(dir, name)
		}
		fmt.Fprintf(l.shared.hash, "module file %q %d\n", filepath.ToSlash(rel), len(b))
		l.shared.hash.Write(b)
		file, diags := hclsyntax.ParseConfig(b, shown, hcl.InitialPos)
		// Syntax errors are the file's, whichever instance reads it.
		l.shared.fileDiags = append(l.shared.fileDiags, diags...)
		if diags.HasErrors() {
			src.ok = false
		}
		if file == nil {
			continue
		}
		l.cfg.Files[shown] = file
		body, ok := file.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		src.bodies = append(src.bodies, body)
		src.names = append(src.names, shown)
		for _, blk := range body.Blocks {
			if len(blk.Labels) == 0 {
				continue
			}
			switch blk.Type {
			case blockVariable:
				if _, dup := src.variables[blk.Labels[0]]; !dup {
					src.variables[blk.Labels[0]] = blk
				}
			case blockOutput:
				src.outputs[blk.Labels[0]] = true
			}
		}
	}
	return src
}

// moduleCall is a module block of the module being loaded.
type moduleCall struct {
	block   *hclsyntax.Block
	name    string
	source  *hcl.Attribute
	forEach *hcl.Attribute
	count   *hcl.Attribute
	prov    *hcl.Attribute
	inputs  map[string]*hcl.Attribute
	deps    []string // other module calls it refers to
}

// moduleMeta are the arguments of a module block that are not inputs.
var moduleMeta = map[string]bool{"source": true, "for_each": true, "count": true, "providers": true, "depends_on": true}

// collectModuleCall sorts a module block's arguments.
func (l *loader) collectModuleCall(b *hclsyntax.Block) {
	c := &moduleCall{block: b, name: b.Labels[0], inputs: map[string]*hcl.Attribute{}}
	for _, inner := range b.Body.Blocks {
		l.errorf(inner.TypeRange, "Unsupported block type",
			"Blocks of type %q are not expected inside a module block; it holds source, for_each or count, providers, and the module's input variables as name = value.", inner.Type)
	}
	for name, a := range b.Body.Attributes {
		attr := a.AsHCLAttribute()
		switch name {
		case "source":
			c.source = attr
		case "for_each":
			c.forEach = attr
		case "count":
			c.count = attr
		case "providers":
			c.prov = attr
		case "depends_on":
			l.errorf(a.NameRange, "Unsupported argument",
				"depends_on is not needed in a module block: a module's queries wait for the findings they read, wherever those come from.")
		default:
			c.inputs[name] = attr
		}
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() == "module" {
				if n, _, ok := traversalStep(tr, 1); ok && n != c.name && !contains(c.deps, n) {
					c.deps = append(c.deps, n)
				}
			}
		}
	}
	if c.source == nil {
		l.errorf(blockRange(b), "Missing required argument",
			"The module block %q needs source, the folder of the module, as in source = \"./modules/footprint\".", c.name)
		return
	}
	l.calls = append(l.calls, c)
}

// decodeModuleCalls expands every module block of the module being
// loaded, in the order their references to each other's outputs need.
func (l *loader) decodeModuleCalls() {
	pending := map[string]*moduleCall{}
	for _, c := range l.calls {
		pending[c.name] = c
	}
	for len(pending) > 0 {
		progress := false
		for _, name := range sortedKeys(pending) {
			c := pending[name]
			ready := true
			for _, d := range c.deps {
				if _, waiting := pending[d]; waiting {
					ready = false
				}
			}
			if !ready {
				continue
			}
			delete(pending, name)
			progress = true
			l.decodeModuleCall(c)
			l.invalidate(false)
		}
		if progress {
			continue
		}
		for _, name := range sortedKeys(pending) {
			c := pending[name]
			var others []string
			for _, d := range c.deps {
				if _, waiting := pending[d]; waiting {
					others = append(others, "module."+d)
				}
			}
			l.errorf(blockRange(c.block), "Cycle between module blocks",
				"module.%s refers to the outputs of %s, which refer back to it. Break the cycle.", name, strings.Join(others, ", "))
		}
		return
	}
}

// decodeModuleCall resolves a module block's source, expands its
// for_each or count, evaluates its inputs per instance and loads each
// instance.
func (l *loader) decodeModuleCall(c *moduleCall) {
	what := fmt.Sprintf("the module block %q", c.name)
	srcVal, ok := l.evalLiteralString(c.source)
	if !ok {
		return
	}
	if !strings.HasPrefix(srcVal, "./") && !strings.HasPrefix(srcVal, "../") {
		l.errorf(c.source.Expr.Range(), "Invalid module source",
			"Only local modules are supported: source is a folder relative to the module that calls it and starts with ./ or ../, as in source = \"./modules/footprint\"; %q is not.", srcVal)
		return
	}
	dir := filepath.Clean(filepath.Join(l.mod.Dir, filepath.FromSlash(srcVal)))
	display := filepath.Join(l.display, filepath.FromSlash(srcVal))
	for _, onStack := range l.stack {
		if onStack == dir {
			l.errorf(c.source.Expr.Range(), "Module calls itself",
				"%s is already being loaded by a module that calls this one, so loading it would never end. A module cannot call itself, directly or through others.", display)
			return
		}
	}
	if len(l.stack) >= maxModuleDepth {
		l.errorf(c.source.Expr.Range(), "Modules nested too deeply",
			"Modules may be nested at most %d deep.", maxModuleDepth)
		return
	}
	src := l.readModuleSource(dir, display, c.source.Expr.Range())

	// Arguments that are not variables of the module, and variables
	// without a default that get no argument, are the call's mistakes:
	// reported once, not per instance.
	for _, name := range sortedKeys(c.inputs) {
		if _, ok := src.variables[name]; !ok && src.ok {
			a := c.inputs[name]
			l.errorf(a.NameRange, "Unsupported argument",
				"The module %s declares no variable %q.%s The arguments of a module block are source, for_each, count, providers and the module's variables%s.",
				srcVal, name, didYouMean(name, sortedKeys(src.variables)), variableList(src))
		}
	}
	for _, name := range sortedKeys(src.variables) {
		if _, given := c.inputs[name]; given {
			continue
		}
		if !variableHasDefault(src.variables[name]) {
			l.errorf(blockRange(c.block), "Missing required argument",
				"The module %s needs a value for its variable %q, which has no default: add %s = ... to %s.", srcVal, name, name, what)
		}
	}
	providerMap, ok := l.decodeProvidersMap(c)
	if !ok {
		return
	}
	x, ok := l.decodeExpansion(c.forEach, c.count, what)
	if !ok {
		return
	}
	g := newGroup[*Module](x, blockRange(c.block))
	l.mod.calls[c.name] = g
	l.callSources[c.name] = src
	if !src.ok {
		return
	}
	if len(x.keys) == 0 {
		l.validateUnused(c, src, dir, srcVal, providerMap)
	}
	for _, key := range x.keys {
		each := x.each(key)
		ctx := l.evalContext()
		if vars := each.variables(); vars != nil {
			ctx = ctx.NewChild()
			ctx.Variables = vars
		}
		inputs := map[string]moduleInput{}
		for name, a := range c.inputs {
			if _, ok := src.variables[name]; !ok {
				continue
			}
			roots := l.loadRoots("var", "local", "target", "module")
			roots = append(roots, expansionRoots(x.mode)...)
			if !l.checkRefs(a.Expr, "a module input", roots...) {
				inputs[name] = moduleInput{value: cty.DynamicVal, rng: a.Expr.Range()}
				continue
			}
			v, diags := a.Expr.Value(ctx)
			l.diags = append(l.diags, diags...)
			if !diags.HasErrors() && !v.IsWhollyKnown() && l.refersToFindings(a.Expr) {
				l.errorf(a.Expr.Range(), "Module input depends on findings",
					"The value of %s depends on findings, which are known only after apply; module inputs are known when the engagement loads (variables, locals, targets, outputs of modules that do not depend on findings).", name)
			}
			if diags.HasErrors() {
				v = cty.DynamicVal
			}
			inputs[name] = moduleInput{value: v, rng: a.Expr.Range()}
		}
		child := newModule(l.mod.Path.Child(c.name, key))
		child.Source, child.Dir, child.CallRange = srcVal, dir, blockRange(c.block)
		cl := l.childLoader(child, src, inputs, providerMap)
		cl.decode()
		l.shared.collect(cl.diags, child.Path)
		g.items[key] = child
		l.cfg.Modules[child.Address()] = child
	}
}

// validateUnused checks a module block whose for_each or count gives no
// instance, so its mistakes show before the day it gets one: the module is
// loaded once with unknown inputs into a scratch configuration that is
// then dropped.
func (l *loader) validateUnused(c *moduleCall, src *moduleSource, dir, source string, providers map[string]string) {
	scratch := &Config{
		Dir: l.cfg.Dir, Files: l.cfg.Files, Engagement: l.cfg.Engagement, Scope: l.cfg.Scope, Providers: l.cfg.Providers,
		Targets: map[string]*Target{}, Queries: map[string]*QueryBlock{}, Pivots: map[string]*PivotBlock{},
		Outputs: map[string]*OutputBlock{}, Modules: map[string]*Module{},
	}
	inputs := map[string]moduleInput{}
	for name, a := range c.inputs {
		inputs[name] = moduleInput{value: cty.DynamicVal, rng: a.Expr.Range()}
	}
	child := newModule(l.mod.Path.Child(c.name, NoKey))
	child.Source, child.Dir, child.CallRange = source, dir, blockRange(c.block)
	cl := l.childLoader(child, src, inputs, providers)
	cl.cfg = scratch
	cl.decode()
	l.shared.collect(cl.diags, nil)
}

// maxModuleDepth bounds module nesting.
const maxModuleDepth = 16

// moduleInput is one argument of a module block for one instance.
type moduleInput struct {
	value cty.Value
	rng   hcl.Range
}

func variableHasDefault(b *hclsyntax.Block) bool {
	_, ok := b.Body.Attributes["default"]
	return ok
}

func variableList(src *moduleSource) string {
	if len(src.variables) == 0 {
		return " (it declares none)"
	}
	return " (" + strings.Join(sortedKeys(src.variables), ", ") + ")"
}

// expansionRoots are the extra references a block with count or for_each
// allows.
func expansionRoots(m expandMode) []string {
	switch m {
	case expandCount:
		return []string{"count"}
	case expandForEach:
		return []string{"each"}
	}
	return nil
}

// evalLiteralString evaluates an argument that must be a constant string
// (a module's source: where to read configuration from cannot depend on
// it).
func (l *loader) evalLiteralString(a *hcl.Attribute) (string, bool) {
	if !l.checkRefs(a.Expr, a.Name) {
		return "", false
	}
	v, diags := a.Expr.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return "", false
	}
	if v.IsNull() || v.Type() != cty.String {
		l.errorf(a.Expr.Range(), "Invalid "+a.Name, "%s must be a string, as in source = \"./modules/footprint\".", a.Name)
		return "", false
	}
	return v.AsString(), true
}

// decodeProvidersMap reads a module block's providers = { file.pdns =
// provider.file.acme }: which of this module's provider configurations
// the module's own provider.file.pdns means. Every provider the module
// does not map is passed under its own address.
func (l *loader) decodeProvidersMap(c *moduleCall) (map[string]string, bool) {
	out := map[string]string{}
	for local, root := range l.providerAddr {
		out[local] = root
	}
	if c.prov == nil {
		return out, true
	}
	pairs, diags := hcl.ExprMap(c.prov.Expr)
	if diags.HasErrors() {
		l.errorf(c.prov.Expr.Range(), "Invalid providers argument",
			"providers maps the module's provider addresses to this module's, as in providers = { file.pdns = provider.file.acme }.")
		return nil, false
	}
	ok := true
	for _, p := range pairs {
		key, good := providerKey(p.Key)
		if !good {
			l.errorf(p.Key.Range(), "Invalid providers argument",
				"A key of providers is a provider address as the module writes it, such as file.pdns or securitytrails.")
			ok = false
			continue
		}
		addrs, good := l.providerRefs(&hcl.Attribute{Name: "providers", Expr: p.Value, Range: p.Value.Range(), NameRange: p.Key.Range()})
		if !good || len(addrs) != 1 {
			if good {
				l.errorf(p.Value.Range(), "Invalid providers argument", "Each key of providers maps to one provider configuration.")
			}
			ok = false
			continue
		}
		out[key] = addrs[0]
	}
	return out, ok
}

// providerKey reads a key of a providers map: file.pdns,
// provider.file.pdns or "file.pdns".
func providerKey(e hcl.Expression) (string, bool) {
	if tr, d := hcl.AbsTraversalForExpr(e); !d.HasErrors() {
		var parts []string
		for i := range tr {
			n, _, ok := traversalStep(tr, i)
			if !ok {
				return "", false
			}
			parts = append(parts, n)
		}
		if len(parts) > 0 && parts[0] == "provider" {
			parts = parts[1:]
		}
		if len(parts) == 1 || len(parts) == 2 {
			return strings.Join(parts, "."), true
		}
		return "", false
	}
	v, d := e.Value(nil)
	if d.HasErrors() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	s := strings.TrimPrefix(v.AsString(), "provider.")
	n := strings.Count(s, ".")
	return s, s != "" && n <= 1
}

// moduleDeps are the block addresses a module reference (module.NAME,
// module.NAME[KEY], module.NAME[KEY].OUTPUT) depends on through the
// outputs it reaches.
func (l *loader) moduleDeps(tr hcl.Traversal) []string {
	name, _, ok := traversalStep(tr, 1)
	if !ok {
		return nil
	}
	g := l.mod.calls[name]
	if g == nil {
		return nil
	}
	// module.NAME[KEY] narrows to one instance when the key is written.
	i := 2
	keys := g.expand.keys
	if g.expand.mode != expandNone && len(tr) > 2 {
		if idx, isIdx := tr[2].(hcl.TraverseIndex); isIdx {
			if k, err := keyOf(idx.Key); err == nil {
				keys = []InstanceKey{k}
			}
			i = 3
		}
	}
	output, _, hasOutput := traversalStep(tr, i)
	if _, isAttr := safeStep(tr, i).(hcl.TraverseAttr); !isAttr {
		hasOutput = false
	}
	var out []string
	for _, k := range keys {
		m := g.items[k]
		if m == nil {
			continue
		}
		for _, o := range m.outputs {
			if hasOutput && o.Name != output {
				continue
			}
			out = append(out, o.DependsOn...)
		}
	}
	return out
}

func safeStep(tr hcl.Traversal, i int) hcl.Traverser {
	if i < len(tr) {
		return tr[i]
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
