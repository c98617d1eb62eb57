package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// loader holds the state of one Load: the blocks found in every file,
// grouped by type, and what has been declared so far (for duplicates and
// references).
type loader struct {
	cfg    *Config
	opts   LoadOptions
	diags  hcl.Diagnostics
	shared *loadShared
	// mod is the module instance being loaded (the root, or an instance
	// of a module block); display is its folder as diagnostics name it;
	// stack the folders of the modules that called it, itself last.
	mod     *Module
	display string
	stack   []string
	// inputs are a module instance's arguments (nil for the root).
	inputs map[string]moduleInput
	// providerAddr maps the provider addresses this module may refer to
	// to the root's provider configurations.
	providerAddr map[string]string
	calls        []*moduleCall
	callSources  map[string]*moduleSource
	outputs      []*hclsyntax.Block
	// modulesReady is set once the module blocks are expanded: from then
	// on, expressions may refer to module outputs.
	modulesReady bool
	// cur is the instance of the block being decoded (each, count).
	cur Each

	engagements []*hclsyntax.Block
	variables   []*hclsyntax.Block
	locals      map[string]*hclsyntax.Attribute
	scopes      []*hclsyntax.Block
	providers   []*hclsyntax.Block
	targets     []*hclsyntax.Block
	queries     []*hclsyntax.Block
	pivots      []*hclsyntax.Block
	checks      []*hclsyntax.Block
	notifies    []*hclsyntax.Block

	// declared maps each namespace ("var", "local", "target", "provider",
	// "query", "pivot") to the names declared in it and where.
	declared map[string]map[string]hcl.Range
	// duplicateVars are variables declared more than once: the duplicate
	// is the error, so the first declaration lacking a value is not
	// reported again.
	duplicateVars map[string]bool
	// typeDefaults are the defaults of optional attributes in variable
	// types, by variable name.
	typeDefaults map[string]*typeexpr.Defaults
	// validations are the variables' validation rules.
	validations []validationRule
	// localVals are the locals with their marks (sensitivity) kept.
	localVals map[string]cty.Value
	// topAttrs are arguments found outside any block, reported once all
	// variables are known.
	topAttrs []*hclsyntax.Attribute
	// ctxCache is the current evalContext; targetVals and funcs are the
	// parts of it that do not change once made.
	ctxCache     *hcl.EvalContext
	ctxNoTargets *hcl.EvalContext
	targetVals   map[string]cty.Value
	funcs        map[string]function.Function
	// firstFile is where a diagnostic with no better place points.
	firstFile string
}

func newLoader(cfg *Config, opts LoadOptions, shared *loadShared, mod *Module, display string) *loader {
	return &loader{
		cfg:           cfg,
		opts:          opts,
		shared:        shared,
		mod:           mod,
		display:       display,
		stack:         []string{mod.Dir},
		providerAddr:  map[string]string{},
		callSources:   map[string]*moduleSource{},
		locals:        map[string]*hclsyntax.Attribute{},
		typeDefaults:  map[string]*typeexpr.Defaults{},
		duplicateVars: map[string]bool{},
		targetVals:    map[string]cty.Value{},
		funcs:         shared.funcs,
		declared: map[string]map[string]hcl.Range{
			"var": {}, "local": {}, "target": {}, "provider": {}, "query": {}, "pivot": {}, "module": {}, "output": {}, "check": {}, "notify": {},
		},
	}
}

// childLoader is the loader of one instance of a module block.
func (l *loader) childLoader(mod *Module, src *moduleSource, inputs map[string]moduleInput, providers map[string]string) *loader {
	c := newLoader(l.cfg, l.opts, l.shared, mod, src.display)
	c.stack = append(append([]string(nil), l.stack...), mod.Dir)
	c.inputs = inputs
	c.providerAddr = providers
	for local, root := range providers {
		c.declared["provider"][local] = l.shared.providerRanges[root]
	}
	for i, body := range src.bodies {
		c.collect(body, src.names[i])
	}
	return c
}

// isModule reports whether the loader loads a module instance, not the
// root.
func (l *loader) isModule() bool { return l.inputs != nil }

func (l *loader) errorf(subject hcl.Range, summary, detail string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  subject.Ptr(),
	})
}

func (l *loader) warnf(subject hcl.Range, summary, detail string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(detail, args...),
		Subject:  subject.Ptr(),
	})
}

// declare records name in namespace ns, reporting a duplicate with the
// location of the first declaration.
func (l *loader) declare(ns, what, name string, rng hcl.Range) bool {
	if prev, dup := l.declared[ns][name]; dup {
		l.errorf(rng, "Duplicate "+what,
			"%s was already declared at %s. Each %s must have a unique name; rename or remove one of them.",
			describeAddr(ns, name), shortRange(prev), what)
		return false
	}
	l.declared[ns][name] = rng
	return true
}

func describeAddr(ns, name string) string {
	switch ns {
	case "var":
		return fmt.Sprintf("The variable %q", name)
	case "local":
		return fmt.Sprintf("The local value %q", name)
	case "target":
		return fmt.Sprintf("The target %q", name)
	case "provider":
		return fmt.Sprintf("The provider configuration %q", name)
	case "module":
		return fmt.Sprintf("The module block %q", name)
	case "output":
		return fmt.Sprintf("The output %q", name)
	case "check":
		return fmt.Sprintf("The check %q", name)
	case "notify":
		return fmt.Sprintf("The notify block %q", name)
	}
	return fmt.Sprintf("The %s block %q", ns, name)
}

// shortRange is "file:line,col" for messages that name another place.
func shortRange(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

// blockRange is the range of a block's header: type and labels.
func blockRange(b *hclsyntax.Block) hcl.Range {
	r := b.TypeRange
	if len(b.LabelRanges) > 0 {
		r = hcl.RangeBetween(r, b.LabelRanges[len(b.LabelRanges)-1])
	}
	return r
}

// collect checks the top level of one file and sorts its blocks by type.
func (l *loader) collect(body *hclsyntax.Body, filename string) {
	if l.firstFile == "" {
		l.firstFile = filename
	}
	var attrNames []string
	for name := range body.Attributes {
		attrNames = append(attrNames, name)
	}
	sort.Slice(attrNames, func(i, j int) bool {
		return body.Attributes[attrNames[i]].SrcRange.Start.Byte < body.Attributes[attrNames[j]].SrcRange.Start.Byte
	})
	for _, name := range attrNames {
		l.topAttrs = append(l.topAttrs, body.Attributes[name])
	}
	var typeNames []string
	for _, t := range topLevelBlocks {
		typeNames = append(typeNames, t.Type)
	}
	for _, b := range body.Blocks {
		var labels []string
		optional := false
		found := false
		for _, t := range topLevelBlocks {
			if t.Type == b.Type {
				labels, optional, found = t.Labels, t.OptionalLast, true
			}
		}
		if !found {
			detail := fmt.Sprintf("Blocks of type %q are not expected here; the language has %s.", b.Type, strings.Join(typeNames, ", "))
			if s := nameSuggestion(b.Type, typeNames); s != "" {
				detail = fmt.Sprintf("Blocks of type %q are not expected here. Did you mean %q?", b.Type, s)
			}
			l.errorf(b.TypeRange, "Unsupported block type", "%s", detail)
			continue
		}
		if !l.checkLabels(b, labels, optional) {
			continue
		}
		if l.isModule() {
			switch b.Type {
			case blockEngagement, blockScope, blockProvider, blockCheck, blockNotify:
				l.errorf(blockRange(b), capitalize(b.Type)+" block in a module", "%s", rootOnly[b.Type])
				continue
			}
		}
		switch b.Type {
		case blockEngagement:
			l.engagements = append(l.engagements, b)
		case blockVariable:
			if l.checkName(b.Labels[0], b.LabelRanges[0], "variable") {
				if l.declare("var", "variable", b.Labels[0], blockRange(b)) {
					l.variables = append(l.variables, b)
				} else {
					l.duplicateVars[b.Labels[0]] = true
				}
			}
		case blockLocals:
			l.collectLocals(b)
		case blockScope:
			l.scopes = append(l.scopes, b)
		case blockProvider:
			addr := strings.Join(b.Labels, ".")
			if len(b.Labels) == 2 && !l.checkName(b.Labels[1], b.LabelRanges[1], "provider instance") {
				continue
			}
			if l.declare("provider", "provider configuration", addr, blockRange(b)) {
				l.providers = append(l.providers, b)
			}
		case blockTarget:
			if !l.checkName(b.Labels[1], b.LabelRanges[1], "target") {
				continue
			}
			if l.declare("target", "target", b.Labels[0]+"."+b.Labels[1], blockRange(b)) {
				l.targets = append(l.targets, b)
			}
		case blockQuery:
			if l.checkName(b.Labels[0], b.LabelRanges[0], "query") && l.declare("query", "query block", b.Labels[0], blockRange(b)) {
				l.queries = append(l.queries, b)
			}
		case blockPivot:
			if l.checkName(b.Labels[0], b.LabelRanges[0], "pivot") && l.declare("pivot", "pivot block", b.Labels[0], blockRange(b)) {
				l.pivots = append(l.pivots, b)
			}
		case blockModule:
			if l.checkName(b.Labels[0], b.LabelRanges[0], "module") && l.declare("module", "module block", b.Labels[0], blockRange(b)) {
				l.collectModuleCall(b)
			}
		case blockOutput:
			if l.checkName(b.Labels[0], b.LabelRanges[0], "output") && l.declare("output", "output", b.Labels[0], blockRange(b)) {
				l.outputs = append(l.outputs, b)
			}
		case blockCheck:
			if l.checkName(b.Labels[0], b.LabelRanges[0], "check") && l.declare("check", "check", b.Labels[0], blockRange(b)) {
				l.checks = append(l.checks, b)
			}
		case blockNotify:
			if !contains(NotifyTypes, b.Labels[0]) {
				l.errorf(b.LabelRanges[0], "Unsupported notify type",
					"There is no notification channel %q.%s The channels are %s.", b.Labels[0], didYouMean(b.Labels[0], NotifyTypes), strings.Join(NotifyTypes, ", "))
				continue
			}
			if l.checkName(b.Labels[1], b.LabelRanges[1], "notify") && l.declare("notify", "notify block", b.Labels[0]+"."+b.Labels[1], blockRange(b)) {
				l.notifies = append(l.notifies, b)
			}
		}
	}
}

// checkLabels checks a block's label count.
func (l *loader) checkLabels(b *hclsyntax.Block, want []string, optionalLast bool) bool {
	min := len(want)
	if optionalLast {
		min--
	}
	if len(b.Labels) >= min && len(b.Labels) <= len(want) {
		return true
	}
	quoted := make([]string, len(want))
	for i, w := range want {
		quoted[i] = fmt.Sprintf("%q", w)
	}
	var expect string
	switch {
	case len(want) == 0:
		expect = fmt.Sprintf("A %s block takes no labels: write `%s {`.", b.Type, b.Type)
	case optionalLast:
		expect = fmt.Sprintf("A %s block takes one or two labels: %s, e.g. `%s \"file\" \"sonar\" {`.", b.Type, strings.Join(quoted, " and an optional "), b.Type)
	default:
		expect = fmt.Sprintf("A %s block takes %d label(s): %s.", b.Type, len(want), strings.Join(quoted, ", "))
	}
	rng := b.TypeRange
	summary := "Missing name for " + b.Type
	if len(b.Labels) > len(want) {
		rng = b.LabelRanges[len(want)]
		summary = "Extraneous label for " + b.Type
	} else if len(b.Labels) > 0 {
		rng = blockRange(b)
	}
	l.errorf(rng, summary, "%s", expect)
	return false
}

// checkName checks that a block name is a valid identifier, so that it
// can be referenced.
func (l *loader) checkName(name string, rng hcl.Range, what string) bool {
	if hclsyntax.ValidIdentifier(name) {
		return true
	}
	l.errorf(rng, "Invalid "+what+" name",
		"The name %q cannot be referenced in expressions. A name must start with a letter or underscore and contain only letters, digits, underscores and hyphens.", name)
	return false
}

func (l *loader) collectLocals(b *hclsyntax.Block) {
	for _, inner := range b.Body.Blocks {
		l.errorf(inner.TypeRange, "Unsupported block type",
			"Blocks of type %q are not expected inside locals; a locals block holds only name = expression pairs.", inner.Type)
	}
	var names []string
	for n := range b.Body.Attributes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return b.Body.Attributes[names[i]].SrcRange.Start.Byte < b.Body.Attributes[names[j]].SrcRange.Start.Byte
	})
	for _, n := range names {
		a := b.Body.Attributes[n]
		if l.declare("local", "local value", n, a.NameRange) {
			l.locals[n] = a
		}
	}
}

// rootOnly says why a block type belongs to the root module only.
var rootOnly = map[string]string{
	blockEngagement: "A module shares the engagement it is called from: only the root folder declares the engagement block (passive_only, max_depth and the windows apply to every module).",
	blockScope:      "The scope is the engagement's: only the root folder declares it, and it bounds the queries and pivots of every module. Give the root scope the domains the module instances watch, e.g. domains = var.apexes.",
	blockCheck:      "Checks are the engagement's: declare check blocks in the root folder; they see every finding, including those of module instances (findings, facts, drift, module.NAME outputs).",
	blockNotify:     "Notifications are the engagement's: declare notify blocks in the root folder.",
	blockProvider:   "Providers are configured in the root folder and passed to modules: a module refers to provider.TYPE[.NAME] as the root declares it, or as its module block's providers = { ... } maps it.",
}

// decode decodes every collected block in dependency order: variables,
// locals and targets, the engagement settings, module blocks, then the
// queries, pivots and outputs that may refer to all of them.
func (l *loader) decode() {
	for _, a := range l.topAttrs {
		if _, isVar := l.declared["var"][a.Name]; isVar && !l.isModule() {
			l.errorf(a.NameRange, "Unsupported argument",
				"%q looks like a value for the variable %q. Every *.hcl file in the folder is configuration; keep files of variable values elsewhere and pass them with -var-file.", a.Name, a.Name)
			continue
		}
		l.errorf(a.NameRange, "Unsupported argument",
			"An argument named %q is not expected at the top level of a file; arguments belong inside a block such as engagement, provider or query.", a.Name)
	}
	l.decodeVariables()
	l.decodeLocalsAndTargets()
	if !l.isModule() {
		l.decodeEngagement()
		l.decodeScope()
		for _, b := range l.providers {
			l.decodeProvider(b)
		}
		for addr, rng := range l.declared["provider"] {
			l.providerAddr[addr] = addr
			l.shared.providerRanges[addr] = rng
		}
	}
	l.modulesReady = true
	l.invalidate(false)
	l.decodeModuleCalls()
	l.decodeQueries()
	for _, b := range l.pivots {
		l.decodePivot(b)
	}
	l.decodeOutputs()
	if !l.isModule() {
		l.decodeChecks(l.checks)
		l.decodeNotifies(l.notifies)
	}
	l.checkSubjects()
	l.mod.finishWith(l.cfg, l.targetVals)
	if !l.isModule() {
		l.checkCycles()
	}
}

// loadRoots are the references an argument decoded at load time may
// use: base, plus module outputs once module blocks are expanded, plus
// each or count in a block that has them.
func (l *loader) loadRoots(base ...string) []string {
	var out []string
	for _, r := range base {
		if r != "module" {
			out = append(out, r)
		}
	}
	if l.modulesReady && len(base) > 0 {
		out = append(out, "module")
	}
	return append(out, expansionRoots(l.cur.mode)...)
}

// evalContext is the context for expressions decoded at load time:
// variables, locals and targets decoded so far, the outputs of module
// blocks expanded so far, each or count of the block instance being
// decoded, and the functions. The shared part is built once per change
// (see invalidate); callers must not modify it, only make children of
// it.
func (l *loader) evalContext() *hcl.EvalContext {
	if l.ctxCache == nil {
		l.ctxCache = l.buildEvalContext(true)
	}
	return l.withEach(l.ctxCache)
}

// withEach adds each or count of the current block instance.
func (l *loader) withEach(ctx *hcl.EvalContext) *hcl.EvalContext {
	if vars := l.cur.variables(); vars != nil {
		ctx = ctx.NewChild()
		ctx.Variables = vars
	}
	return ctx
}

// evalContextFor is evalContext for one expression: one that does not
// refer to targets gets a context without them, which need not be
// rebuilt as each target is decoded (loading stays linear in the number
// of targets).
func (l *loader) evalContextFor(expr hcl.Expression) *hcl.EvalContext {
	for _, tr := range expr.Variables() {
		if tr.RootName() == "target" {
			return l.evalContext()
		}
	}
	if l.ctxNoTargets == nil {
		l.ctxNoTargets = l.buildEvalContext(false)
	}
	return l.withEach(l.ctxNoTargets)
}

// invalidate drops the cached contexts after a local or target was
// decoded; onlyTargets keeps the one without targets.
func (l *loader) invalidate(onlyTargets bool) {
	l.ctxCache = nil
	if !onlyTargets {
		l.ctxNoTargets = nil
	}
}

func (l *loader) buildEvalContext(withTargets bool) *hcl.EvalContext {
	vars := map[string]cty.Value{}
	for name, v := range l.mod.Variables {
		vars[name] = v.Value
		if v.Sensitive && v.Value != cty.NilVal {
			vars[name] = v.Value.Mark(SensitiveMark)
		}
	}
	locals := l.localVals
	if locals == nil {
		locals = map[string]cty.Value{}
	}
	// Every declared target is there; one that failed to decode is
	// unknown, so what refers to it is not reported a second time.
	targets := map[string]map[string]cty.Value{}
	for addr := range l.declared["target"] {
		if !withTargets {
			break
		}
		kind, name, _ := strings.Cut(addr, ".")
		if targets[kind] == nil {
			targets[kind] = map[string]cty.Value{}
		}
		targets[kind][name] = cty.DynamicVal
		if g, ok := l.mod.targets[addr]; ok {
			v, cached := l.targetVals[addr]
			if !cached {
				v = g.value(targetOrUnknown)
				l.targetVals[addr] = v
			}
			targets[kind][name] = v
		}
	}
	targetObj := map[string]cty.Value{}
	for kind, m := range targets {
		targetObj[kind] = cty.ObjectVal(m)
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":    cty.ObjectVal(vars),
			"local":  cty.ObjectVal(locals),
			"target": cty.ObjectVal(targetObj),
		},
		Functions: l.funcs,
	}
	if l.modulesReady {
		ctx.Variables["module"] = l.moduleLoadValues()
	}
	return ctx
}

// moduleLoadValues is module.NAME as expressions see it at load time:
// each instance's outputs as far as they are known before apply.
func (l *loader) moduleLoadValues() cty.Value {
	calls := map[string]cty.Value{}
	for name := range l.declared["module"] {
		g, ok := l.mod.calls[name]
		if !ok {
			calls[name] = cty.DynamicVal
			continue
		}
		calls[name] = g.value(func(m *Module, ok bool) cty.Value {
			if !ok {
				return cty.DynamicVal
			}
			outs := map[string]cty.Value{}
			for n, o := range m.outputs {
				outs[n] = o.loadValue
			}
			return cty.ObjectVal(outs)
		})
	}
	return cty.ObjectVal(calls)
}

func targetOrUnknown(t *Target, ok bool) cty.Value {
	if !ok {
		return cty.DynamicVal
	}
	return TargetValue(t)
}

// argumentName finds the name in hcl's "An argument named "x" is not
// expected here."
var argumentName = regexp.MustCompile(`argument named "([^"]+)"`)

// content decodes a block body against its schema, and makes hcl's
// "Unsupported argument" and "Unsupported block type" say what is
// accepted when no near name was found. what names the block for the
// message ("a query block").
func content(body hcl.Body, schema *hcl.BodySchema, what string) (*hcl.BodyContent, hcl.Diagnostics) {
	c, diags := body.Content(schema)
	for _, d := range diags {
		if strings.Contains(d.Detail, "Did you mean") {
			continue
		}
		switch d.Summary {
		case "Unsupported argument":
			var names []string
			for _, a := range schema.Attributes {
				names = append(names, a.Name)
			}
			if m := argumentName.FindStringSubmatch(d.Detail); m != nil {
				if s := nameSuggestion(m[1], names); s != "" {
					d.Detail += fmt.Sprintf(" Did you mean %q?", s)
					continue
				}
			}
			if len(names) == 0 {
				d.Detail += fmt.Sprintf(" %s takes no arguments.", capitalize(what))
			} else {
				d.Detail += fmt.Sprintf(" The arguments of %s are %s.", what, strings.Join(names, ", "))
			}
		case "Unsupported block type":
			var names []string
			for _, b := range schema.Blocks {
				names = append(names, b.Type)
			}
			if len(names) == 0 {
				d.Detail += fmt.Sprintf(" %s has no nested blocks.", capitalize(what))
			} else {
				d.Detail += fmt.Sprintf(" The blocks allowed in %s are %s.", what, strings.Join(names, ", "))
			}
		}
	}
	return c, dropExplainedMissing(diags)
}

// suggestedName finds the name in "Did you mean "x"?".
var suggestedName = regexp.MustCompile(`Did you mean "([^"]+)"\?`)

// dropExplainedMissing removes "Missing required argument" for an argument
// that an "Unsupported argument ... Did you mean" already names: a typo'd
// argument is one mistake, reported once, at the typo.
func dropExplainedMissing(diags hcl.Diagnostics) hcl.Diagnostics {
	suggested := map[string]bool{}
	for _, d := range diags {
		if d.Summary == "Unsupported argument" {
			if m := suggestedName.FindStringSubmatch(d.Detail); m != nil {
				suggested[m[1]] = true
			}
		}
	}
	if len(suggested) == 0 {
		return diags
	}
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Summary == "Missing required argument" {
			if m := requiredName.FindStringSubmatch(d.Detail); m != nil && suggested[m[1]] {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// requiredName finds the name in hcl's "The argument "x" is required".
var requiredName = regexp.MustCompile(`argument "([^"]+)" is required`)
