package schema

import (
	"fmt"
	"math/big"
	"net/netip"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
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

// plainRoots may be referred to by ordinary arguments.
var plainRoots = []string{"var", "local", "target"}

// eval evaluates expr after checking its references. ok is false when it
// failed (reported) or is unknown because of an earlier error.
func (l *loader) eval(expr hcl.Expression, ctx *hcl.EvalContext) (val cty.Value, sensitive, ok bool) {
	if ctx != nil && !l.checkRefs(expr, "this argument", plainRoots...) {
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
	exprs, d := hcl.ExprList(a.Expr)
	if d.HasErrors() {
		exprs = []hcl.Expression{a.Expr}
	}
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

// ---- engagement ----

var engagementSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"}, {Name: "passive_only"}, {Name: "max_depth"}, {Name: "state"},
		{Name: "current_window"}, {Name: "forget_after"}, {Name: "asn_table"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "ignore"}},
}

var ignoreSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name"}, {Name: "type"}, {Name: "value"}, {Name: "reason"},
}}

func (l *loader) decodeEngagement() {
	e := &l.cfg.Engagement
	e.PassiveOnly = true
	e.State = DefaultStateFile
	e.CurrentWindow = DefaultCurrentWindow
	if len(l.engagements) == 0 {
		d := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing engagement block",
			Detail:   "Every engagement needs exactly one engagement block, e.g. engagement \"acme\" { description = \"ACME external footprint\" }, in one of its files.",
		}
		if l.firstFile != "" {
			d.Subject = &hcl.Range{Filename: l.firstFile, Start: hcl.InitialPos, End: hcl.InitialPos}
		}
		l.diags = append(l.diags, d)
		return
	}
	first := l.engagements[0]
	for _, b := range l.engagements[1:] {
		l.errorf(blockRange(b), "Duplicate engagement block",
			"An engagement is already declared at %s. A folder holds exactly one engagement block; merge the two or move one into another folder.",
			shortRange(blockRange(first)))
	}
	b := first
	e.Name = b.Labels[0]
	e.DeclRange = blockRange(b)
	if strings.TrimSpace(e.Name) == "" {
		l.errorf(b.LabelRanges[0], "Invalid engagement name", "The engagement needs a non-empty name, e.g. engagement \"acme\" { ... }.")
	}
	body, diags := content(b.Body, engagementSchema, "an engagement block")
	l.diags = append(l.diags, diags...)
	ctx := l.evalContext()
	if a, ok := body.Attributes["description"]; ok {
		e.Description, _ = l.evalString(a, ctx)
	}
	if a, ok := body.Attributes["passive_only"]; ok {
		if v, ok := l.evalAs(a, cty.Bool, ctx); ok {
			e.PassiveOnly = v.True()
		}
	}
	if a, ok := body.Attributes["max_depth"]; ok {
		if n, ok := l.evalInt(a, ctx, 0); ok {
			e.MaxDepth = int(n) // 0: no engagement-wide bound
		}
	}
	if a, ok := body.Attributes["state"]; ok {
		if s, ok := l.evalString(a, ctx); ok {
			if strings.TrimSpace(s) == "" {
				l.errorf(a.Expr.Range(), "Invalid state path", "state must be a file path such as \"acme.rfstate\"; leave it out for the default %q.", DefaultStateFile)
			} else {
				e.State = s
			}
		}
	}
	if a, ok := body.Attributes["current_window"]; ok {
		if d, ok := l.evalDuration(a, ctx); ok {
			if d == 0 {
				l.errorf(a.Expr.Range(), "Invalid duration", "current_window must be longer than zero, e.g. \"30d\".")
			} else {
				e.CurrentWindow = d
			}
		}
	}
	if a, ok := body.Attributes["forget_after"]; ok {
		e.ForgetAfter, _ = l.evalDuration(a, ctx)
	}
	if a, ok := body.Attributes["asn_table"]; ok {
		e.ASNTable, _ = l.evalString(a, ctx)
	}
	for _, ib := range body.Blocks {
		rule := IgnoreRule{DeclRange: ib.DefRange}
		ic, d := content(ib.Body, ignoreSchema, "an ignore block")
		l.diags = append(l.diags, d...)
		if a, ok := ic.Attributes["name"]; ok {
			if s, ok := l.evalString(a, ctx); ok {
				rule.Name = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
				if _, err := path.Match(rule.Name, ""); err != nil {
					l.errorf(a.Expr.Range(), "Invalid name pattern", "%q is not a valid glob pattern: %s.", s, err)
				}
			}
		}
		if a, ok := ic.Attributes["type"]; ok {
			if s, ok := l.evalString(a, ctx); ok {
				rule.Type = strings.ToUpper(strings.TrimSpace(s))
				l.checkRRType(rule.Type, a.Expr.Range())
			}
		}
		if a, ok := ic.Attributes["value"]; ok {
			if s, ok := l.evalString(a, ctx); ok {
				rule.Value = s
				if _, perr := netip.ParsePrefix(s); perr != nil {
					if _, err := path.Match(s, ""); err != nil {
						l.errorf(a.Expr.Range(), "Invalid value pattern", "%q is neither a CIDR nor a valid glob pattern: %s.", s, err)
					}
				}
			}
		}
		if a, ok := ic.Attributes["reason"]; ok {
			rule.Reason, _ = l.evalString(a, ctx)
		}
		if rule.Name == "" && rule.Type == "" && rule.Value == "" {
			l.errorf(ib.DefRange, "Ignore rule matches everything",
				"An ignore block needs at least one of name, type or value; an empty rule would hide all drift.")
			continue
		}
		e.Ignore = append(e.Ignore, rule)
	}
}

// knownRRTypes are the record types queries may ask for.
var knownRRTypes = []string{
	"A", "AAAA", "CAA", "CNAME", "DNAME", "DNSKEY", "DS", "HINFO", "HOST", "HTTPS", "MX", "NAPTR",
	"NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT", "ANY",
}

func (l *loader) checkRRType(t string, rng hcl.Range) bool {
	for _, k := range knownRRTypes {
		if k == t {
			return true
		}
	}
	l.errorf(rng, "Unknown record type",
		"%q is not a DNS record type reconform knows.%s Known types: %s.", t, didYouMean(t, knownRRTypes), strings.Join(knownRRTypes, ", "))
	return false
}

// ---- scope ----

var scopeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "domains"}, {Name: "cidrs"}, {Name: "exclude"},
}}

func (l *loader) decodeScope() {
	if len(l.scopes) == 0 {
		if len(l.pivots) > 0 {
			b := l.pivots[0]
			l.warnf(blockRange(b), "Pivots without a scope",
				"There is no scope block, so nothing is in scope and pivots will not expand. Add scope { domains = [...] cidrs = [...] }.")
		}
		return
	}
	first := l.scopes[0]
	for _, b := range l.scopes[1:] {
		l.errorf(b.TypeRange, "Duplicate scope block",
			"A scope block is already declared at %s. Put all domains, CIDRs and exclusions in one scope block.", shortRange(first.TypeRange))
	}
	s := &l.cfg.Scope
	s.DeclRange = first.TypeRange
	body, diags := content(first.Body, scopeSchema, "a scope block")
	l.diags = append(l.diags, diags...)
	ctx := l.evalContext()
	if a, ok := body.Attributes["domains"]; ok {
		items, _ := l.evalStrings(a, ctx)
		for _, it := range items {
			name := NormalizeName(it.Value)
			if err := checkDomain(name); err != nil {
				l.errorf(it.Range, "Invalid domain name", "%s. A scope domain is a name such as \"acme.example\"; it covers its subdomains.", capitalize(err.Error()))
				continue
			}
			s.Domains = append(s.Domains, name)
		}
	}
	if a, ok := body.Attributes["cidrs"]; ok {
		items, _ := l.evalStrings(a, ctx)
		for _, it := range items {
			p, err := parsePrefixOrAddr(it.Value)
			if err != nil {
				l.errorf(it.Range, "Invalid CIDR", "%q is not a CIDR or IP address. Write a network such as \"203.0.113.0/24\" or \"2001:db8::/32\", or a single IP.", it.Value)
				continue
			}
			s.CIDRs = append(s.CIDRs, p)
		}
	}
	if a, ok := body.Attributes["exclude"]; ok {
		items, _ := l.evalStrings(a, ctx)
		for _, it := range items {
			v := strings.TrimSpace(it.Value)
			if strings.Contains(v, "/") {
				p, err := netip.ParsePrefix(v)
				if err != nil {
					l.errorf(it.Range, "Invalid CIDR", "%q is not a valid CIDR. Exclude a name, an IP or a network such as \"203.0.113.128/25\".", it.Value)
					continue
				}
				s.Exclude = append(s.Exclude, p.Masked().String())
				continue
			}
			if a, err := netip.ParseAddr(v); err == nil {
				s.Exclude = append(s.Exclude, a.Unmap().String())
				continue
			}
			name := NormalizeName(v)
			if err := checkDomain(name); err != nil {
				l.errorf(it.Range, "Invalid exclusion", "%s. Exclude a name (and its subdomains), an IP or a CIDR.", capitalize(err.Error()))
				continue
			}
			s.Exclude = append(s.Exclude, name)
		}
	}
}

// parsePrefixOrAddr parses a CIDR, or a bare IP as a /32 or /128.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// checkDomain is ValidateDomain with the most telling problem first: a
// character that can never be in a name before a missing dot.
func checkDomain(name string) error {
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return fmt.Errorf("%q is not a domain name: it contains %q", name, r)
		}
	}
	return ValidateDomain(name)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ---- target ----

// targetAttr is the one argument of each target kind.
var targetAttr = map[SubjectKind]string{SubjectDomain: "name", SubjectIP: "address", SubjectCIDR: "cidr"}

func (l *loader) decodeTarget(b *hclsyntax.Block) {
	kind := SubjectKind(b.Labels[0])
	attrName, known := targetAttr[kind]
	if !known {
		l.errorf(b.LabelRanges[0], "Unsupported target kind",
			"A target is \"domain\", \"ip\" or \"cidr\", not %q.%s", b.Labels[0], didYouMean(b.Labels[0], []string{"domain", "ip", "cidr"}))
		return
	}
	body, diags := content(b.Body, &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: attrName, Required: true}}}, fmt.Sprintf("a %s target", kind))
	l.diags = append(l.diags, diags...)
	a, ok := body.Attributes[attrName]
	if !ok {
		return
	}
	s, ok := l.evalString(a, l.evalContext())
	if !ok {
		return
	}
	var subj Subject
	var err error
	switch kind {
	case SubjectDomain:
		name := NormalizeName(s)
		if err = checkDomain(name); err == nil {
			if _, ipErr := netip.ParseAddr(name); ipErr == nil {
				err = fmt.Errorf("%q is an IP address; use a target \"ip\" block for it", s)
			}
		}
		subj = Subject{Kind: SubjectDomain, Value: name}
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid domain name", "%s. A domain target is a name such as \"acme.example\".", capitalize(err.Error()))
			return
		}
	case SubjectIP:
		var addr netip.Addr
		addr, err = netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid IP address", "%q is not an IP address. Write one such as \"203.0.113.10\" or \"2001:db8::10\"; for a network use a target \"cidr\" block.", s)
			return
		}
		subj = Subject{Kind: SubjectIP, Value: addr.Unmap().String()}
	case SubjectCIDR:
		var p netip.Prefix
		p, err = netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid CIDR", "%q is not a CIDR. Write a network such as \"203.0.113.0/24\"; for a single address use a target \"ip\" block.", s)
			return
		}
		subj = Subject{Kind: SubjectCIDR, Value: p.Masked().String()}
	}
	t := &Target{Kind: kind, Name: b.Labels[1], Subject: subj, DeclRange: blockRange(b)}
	l.cfg.Targets[t.Address()] = t
}

// ---- provider ----

func (l *loader) decodeProvider(b *hclsyntax.Block) {
	typ := b.Labels[0]
	ps, known := l.opts.Providers[typ]
	if !known {
		types := sortedKeys(l.opts.Providers)
		l.errorf(b.LabelRanges[0], "Unsupported provider type",
			"There is no provider type %q.%s The provider types are %s.", typ, didYouMean(typ, types), strings.Join(types, ", "))
		return
	}
	p := &ProviderBlock{
		Type:             typ,
		Address:          typ,
		Attrs:            map[string]cty.Value{},
		Sensitive:        map[string]bool{},
		Budget:           ps.DefaultBudget,
		Timeout:          ps.DefaultTimeout,
		CacheTTL:         ps.DefaultCacheTTL,
		Endpoint:         ps.DefaultEndpoint,
		MaxResponseBytes: DefaultMaxResponseBytes,
		DeclRange:        blockRange(b),
	}
	if len(b.Labels) == 2 {
		p.Name = b.Labels[1]
		p.Address = typ + "." + p.Name
	}
	if ps.DefaultRate != "" {
		if r, err := ParseRate(ps.DefaultRate); err == nil {
			p.Rate = r
		}
	}
	if ps.IsActive() && l.cfg.Engagement.PassiveOnly {
		where := ""
		if l.cfg.Engagement.DeclRange.Filename != "" {
			where = " (at " + shortRange(l.cfg.Engagement.DeclRange) + ")"
		}
		l.errorf(b.LabelRanges[0], "Active provider in a passive engagement",
			"The %s provider is active recon: it sends queries towards the target's own infrastructure. Set passive_only = false in the engagement block%s to allow it, or remove this provider.",
			typ, where)
	}

	attrs := append(append([]ProviderAttribute{}, CommonProviderAttributes...), ps.Attributes...)
	bs := &hcl.BodySchema{}
	byName := map[string]ProviderAttribute{}
	for _, pa := range attrs {
		bs.Attributes = append(bs.Attributes, hcl.AttributeSchema{Name: pa.Name, Required: pa.Required})
		byName[pa.Name] = pa
	}
	body, diags := content(b.Body, bs, fmt.Sprintf("a %s provider block", typ))
	for _, d := range diags {
		// Say what a missing argument is and how to give it.
		if d.Summary == "Missing required argument" {
			for _, pa := range ps.Attributes {
				if pa.Required && strings.Contains(d.Detail, fmt.Sprintf("%q", pa.Name)) {
					d.Detail = fmt.Sprintf("The %s provider needs %s: %s", typ, pa.Name, pa.Description)
					if pa.Sensitive && !strings.Contains(pa.Description, "env(") {
						d.Detail += fmt.Sprintf(" Keep it out of the file: %s = env(\"%s_%s\").", pa.Name, strings.ToUpper(typ), strings.ToUpper(pa.Name))
					}
				}
			}
		}
	}
	l.diags = append(l.diags, diags...)
	ctx := l.evalContext()
	names := sortedKeys(body.Attributes)
	for _, name := range names {
		a := body.Attributes[name]
		pa := byName[name]
		val, marked, ok := l.eval(a.Expr, ctx)
		if !ok || val.IsNull() {
			continue
		}
		conv, err := convert.Convert(val, pa.Type)
		if err != nil {
			l.errorf(a.Expr.Range(), "Incorrect attribute value type",
				"Inappropriate value for %q: %s is required, got %s.", name, pa.Type.FriendlyName(), val.Type().FriendlyName())
			continue
		}
		p.Attrs[name] = conv
		if pa.Sensitive || marked {
			p.Sensitive[name] = true
		}
		if pa.Sensitive && isLiteral(a.Expr) && conv.Type() == cty.String && conv.AsString() != "" {
			l.warnf(a.Expr.Range(), "Secret written in the configuration",
				"%s is a secret; keep it out of files that go to version control: %s = env(\"%s_%s\").",
				name, name, strings.ToUpper(typ), strings.ToUpper(name))
		}
		l.providerCommon(p, a, conv)
	}
	l.cfg.Providers[p.Address] = p
}

// providerCommon applies one of the common attributes.
func (l *loader) providerCommon(p *ProviderBlock, a *hcl.Attribute, v cty.Value) {
	wholeAtLeast := func(min int64) (int64, bool) {
		n, acc := v.AsBigFloat().Int64()
		if acc != big.Exact || n < min {
			l.errorf(a.Expr.Range(), "Invalid value for "+a.Name, "%s must be a whole number of at least %d.", a.Name, min)
			return 0, false
		}
		return n, true
	}
	switch a.Name {
	case "endpoint":
		p.Endpoint = strings.TrimSpace(v.AsString())
	case "rate":
		r, err := ParseRate(v.AsString())
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid rate",
				"%s. Write requests per unit: \"1/s\", \"4/min\", \"100/h\", \"500/day\" or \"1/7s\".", capitalize(err.Error()))
			return
		}
		p.Rate = r
	case "budget":
		if n, ok := wholeAtLeast(0); ok {
			p.Budget = int(n)
		}
	case "timeout":
		d, err := ParseDuration(v.AsString())
		if err != nil || d <= 0 {
			l.errorf(a.Expr.Range(), "Invalid duration", "timeout = %q is not a positive duration; write e.g. \"30s\" or \"2m\".", v.AsString())
			return
		}
		p.Timeout = d
	case "cache_ttl":
		d, err := ParseDuration(v.AsString())
		if err != nil || d < 0 {
			l.errorf(a.Expr.Range(), "Invalid duration", "cache_ttl = %q is not a duration; write e.g. \"24h\" or \"7d\", or \"0s\" to disable the cache.", v.AsString())
			return
		}
		if d == 0 {
			d = -1
		}
		p.CacheTTL = d
	case "max_response_bytes":
		if n, ok := wholeAtLeast(1); ok {
			p.MaxResponseBytes = n
		}
	}
}

// isLiteral reports whether expr is a constant written in the file (no
// references, no function calls).
func isLiteral(expr hcl.Expression) bool {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return true
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if !isLiteral(p) {
				return false
			}
		}
		return true
	case *hclsyntax.TemplateWrapExpr:
		return isLiteral(e.Wrapped)
	}
	return false
}

// ---- query and pivot ----

var querySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "provider", Required: true}, {Name: "op", Required: true}, {Name: "subjects", Required: true},
	{Name: "rrtypes"}, {Name: "params"},
}}

var pivotSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "from", Required: true}, {Name: "when"}, {Name: "provider", Required: true}, {Name: "op", Required: true},
	{Name: "subject", Required: true}, {Name: "rrtypes"}, {Name: "params"}, {Name: "max_depth"},
}}

func (l *loader) decodeQuery(b *hclsyntax.Block) {
	q := &QueryBlock{Name: b.Labels[0], DeclRange: blockRange(b)}
	body, diags := content(b.Body, querySchema, "a query block")
	l.diags = append(l.diags, diags...)
	ctx := l.evalContext()
	if a, ok := body.Attributes["provider"]; ok {
		q.Providers, _ = l.providerRefs(a)
	}
	if a, ok := body.Attributes["op"]; ok {
		q.Op, _ = l.decodeOp(a, q.Providers, ctx)
	}
	if a, ok := body.Attributes["subjects"]; ok {
		q.Subjects = a.Expr
		if l.checkRefs(a.Expr, "subjects", "var", "local", "target", "query", "pivot") {
			q.DependsOn = blockDeps(a.Expr)
		} else {
			q.Subjects = nil
			q.DependsOn = blockDeps(a.Expr)
		}
	}
	if a, ok := body.Attributes["rrtypes"]; ok {
		q.RRTypes = l.decodeRRTypes(a, q.Providers, q.Op, ctx)
	}
	if a, ok := body.Attributes["params"]; ok {
		q.Params = l.decodeParams(a, ctx)
	}
	l.cfg.Queries[q.Name] = q
}

func (l *loader) decodePivot(b *hclsyntax.Block) {
	p := &PivotBlock{Name: b.Labels[0], DeclRange: blockRange(b)}
	body, diags := content(b.Body, pivotSchema, "a pivot block")
	l.diags = append(l.diags, diags...)
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
		if l.checkRefs(a.Expr, "when", "var", "local", "target", "finding") {
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
		if l.checkRefs(a.Expr, "subject", "var", "local", "target", "finding") {
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
	if a, ok := body.Attributes["max_depth"]; ok {
		if n, ok := l.evalInt(a, ctx, 0); ok {
			p.MaxDepth = int(n) // 0: the engagement's
		}
	}
	if p.MaxDepth == 0 && l.cfg.Engagement.MaxDepth == 0 {
		l.errorf(b.LabelRanges[0], "Unbounded pivot",
			"pivot %q has no depth bound, so it could expand without end. Set max_depth in this pivot block or in the engagement block, e.g. max_depth = 2.", p.Name)
	}
	l.cfg.Pivots[p.Name] = p
}

// decodeOp decodes op and checks that every provider answers it.
func (l *loader) decodeOp(a *hcl.Attribute, providers []string, ctx *hcl.EvalContext) (Op, bool) {
	s, ok := l.evalString(a, ctx)
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
