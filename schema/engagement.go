package schema

import (
	"fmt"
	"net/netip"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

var engagementSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"}, {Name: "passive_only"}, {Name: "max_depth"}, {Name: "state"},
		{Name: "current_window"}, {Name: "forget_after"}, {Name: "asn_table"},
		{Name: "max_findings"}, {Name: "max_findings_per_query"}, {Name: "verify_every"}, {Name: "history_keep"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "ignore"}, {Type: "backend", LabelNames: []string{"type"}}},
}

var ignoreSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name"}, {Name: "type"}, {Name: "value"}, {Name: "reason"},
}}

// decodeEngagement decodes the one engagement block, with its defaults
// (passive_only true, the default state file and current window).
func (l *loader) decodeEngagement() {
	e := &l.cfg.Engagement
	e.PassiveOnly = true
	e.State = DefaultStateFile
	e.CurrentWindow = DefaultCurrentWindow
	e.MaxFindings, e.MaxFindingsPerQuery = DefaultMaxFindings, DefaultMaxFindingsPerQuery
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
	for _, limit := range []struct {
		name string
		to   *int
	}{{"max_findings", &e.MaxFindings}, {"max_findings_per_query", &e.MaxFindingsPerQuery}} {
		if a, ok := body.Attributes[limit.name]; ok {
			if n, ok := l.evalInt(a, ctx, 0); ok {
				*limit.to = int(min(n, 1<<40)) // 0: no bound
			}
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
	if a, ok := body.Attributes["verify_every"]; ok {
		if d, ok := l.evalDuration(a, ctx); ok {
			if d <= 0 {
				l.errorf(a.Expr.Range(), "Invalid duration", "verify_every must be longer than zero, e.g. \"7d\": how often every subject should be verified.")
			} else {
				e.VerifyEvery = d
			}
		}
	}
	if a, ok := body.Attributes["forget_after"]; ok {
		e.ForgetAfter, _ = l.evalDuration(a, ctx)
	}
	if a, ok := body.Attributes["history_keep"]; ok {
		l.decodeHistoryKeep(a, ctx)
	}
	if a, ok := body.Attributes["asn_table"]; ok {
		e.ASNTable, _ = l.evalString(a, ctx)
	}
	var backends []*hcl.Block
	for _, ib := range body.Blocks {
		if ib.Type == "backend" {
			backends = append(backends, ib)
			continue
		}
		rule := IgnoreRule{DeclRange: ib.DefRange}
		ic, d := content(ib.Body, ignoreSchema, "an ignore block")
		l.diags = append(l.diags, d...)
		if a, ok := ic.Attributes["name"]; ok {
			if s, ok := l.evalString(a, ctx); ok {
				rule.Name = NormalizeNamePattern(s)
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
	l.decodeBackend(backends, ctx)
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

var scopeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "domains"}, {Name: "cidrs"}, {Name: "exclude"},
}}

// decodeScope decodes the scope block: domains, CIDRs (a bare IP is a
// /32 or /128) and exclusions, each checked.
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
			name := scopeName(it.Value)
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
				l.errorf(it.Range, "Invalid CIDR", "%q is not a CIDR or IP address%s. Write a network such as \"203.0.113.0/24\" or \"2001:db8::/32\", or a single IP.", it.Value, cidrProblem(err))
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
				p, err := ParseCIDR(v)
				if err != nil {
					l.errorf(it.Range, "Invalid CIDR", "%q is not a valid CIDR%s. Exclude a name, an IP or a network such as \"203.0.113.128/25\".", it.Value, cidrProblem(err))
					continue
				}
				s.Exclude = append(s.Exclude, p.String())
				continue
			}
			if a, err := netip.ParseAddr(v); err == nil {
				s.Exclude = append(s.Exclude, a.Unmap().String())
				continue
			}
			name := scopeName(v)
			if err := checkDomain(name); err != nil {
				l.errorf(it.Range, "Invalid exclusion", "%s. Exclude a name (and its subdomains), an IP or a CIDR.", capitalize(err.Error()))
				continue
			}
			s.Exclude = append(s.Exclude, name)
		}
	}
}

// scopeName normalises a scope domain or exclusion. A scope domain covers
// its subdomains, so "*.acme.example" (as bug-bounty scopes write it) is
// read as acme.example, as it always was; a wildcard record's name is in
// scope when its parent is (Scope.Contains).
func scopeName(v string) string { return WildcardParent(NormalizeName(v)) }

// parsePrefixOrAddr parses a CIDR, or a bare IP as a /32 or /128.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		return ParseCIDR(s)
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

// targetAttr is the one argument of each target kind.
var targetAttr = map[SubjectKind]string{SubjectDomain: "name", SubjectIP: "address", SubjectCIDR: "cidr"}

// decodeTargetGroup decodes a target block: every instance of it when it
// has for_each or count.
func (l *loader) decodeTargetGroup(b *hclsyntax.Block) {
	kind := SubjectKind(b.Labels[0])
	attrName, known := targetAttr[kind]
	if !known {
		l.errorf(b.LabelRanges[0], "Unsupported target kind",
			"A target is \"domain\", \"ip\" or \"cidr\", not %q.%s", b.Labels[0], didYouMean(b.Labels[0], []string{"domain", "ip", "cidr"}))
		return
	}
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: attrName, Required: true}, {Name: "for_each"}, {Name: "count"}}}
	body, diags := content(b.Body, schema, fmt.Sprintf("a %s target", kind))
	l.diags = append(l.diags, diags...)
	x, ok := l.decodeExpansion(body.Attributes["for_each"], body.Attributes["count"], "a target block")
	if !ok {
		return
	}
	local := b.Labels[0] + "." + b.Labels[1]
	g := newGroup[*Target](x, blockRange(b))
	l.mod.targets[local] = g
	a, ok := body.Attributes[attrName]
	if !ok {
		return
	}
	for _, key := range x.keys {
		l.cur = x.each(key)
		if t := l.decodeTarget(b, kind, a); t != nil {
			t.Addr = BlockAddr{Module: l.mod.Path, Kind: KindTarget, Type: string(kind), Name: b.Labels[1], Key: key}
			t.Module = l.mod
			g.items[key] = t
			l.cfg.Targets[t.Address()] = t
		}
	}
	l.cur = Each{}
}

// decodeTarget decodes one instance of a target block into a normalised
// subject of its kind.
func (l *loader) decodeTarget(b *hclsyntax.Block, kind SubjectKind, a *hcl.Attribute) *Target {
	s, ok := l.evalRequiredString(a, l.evalContextFor(a.Expr))
	if !ok {
		return nil
	}
	var subj Subject
	var err error
	switch kind {
	case SubjectDomain:
		name := NormalizeName(s)
		if IsWildcard(name) {
			// A wildcard's records come with the answers that list the
			// names under its parent (subdomains, reverse_ip): there is no
			// host of that name to ask about.
			err = fmt.Errorf("%q is a wildcard name, not a name to ask about; make %q the target: its subdomains answers list the wildcard's records", s, WildcardParent(name))
		} else if err = checkDomain(name); err == nil {
			if _, ipErr := netip.ParseAddr(name); ipErr == nil {
				err = fmt.Errorf("%q is an IP address; use a target \"ip\" block for it", s)
			}
		}
		subj = Subject{Kind: SubjectDomain, Value: name}
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid domain name", "%s. A domain target is a name such as \"acme.example\".", capitalize(err.Error()))
			return nil
		}
	case SubjectIP:
		var addr netip.Addr
		addr, err = netip.ParseAddr(strings.TrimSpace(s))
		if err == nil && addr.Zone() != "" {
			// fe80::1%eth0 names an interface of this machine, not a host
			// passive DNS knows about.
			err = fmt.Errorf("zone %q", addr.Zone())
		}
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid IP address", "%q is not an IP address. Write one such as \"203.0.113.10\" or \"2001:db8::10\"; for a network use a target \"cidr\" block.", s)
			return nil
		}
		subj = Subject{Kind: SubjectIP, Value: addr.Unmap().String()}
	case SubjectCIDR:
		var p netip.Prefix
		p, err = ParseCIDR(s)
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid CIDR", "%q is not a CIDR%s. Write a network such as \"203.0.113.0/24\"; for a single address use a target \"ip\" block.", s, cidrProblem(err))
			return nil
		}
		subj = Subject{Kind: SubjectCIDR, Value: p.String()}
	}
	return &Target{Kind: kind, Name: b.Labels[1], Subject: subj, DeclRange: blockRange(b)}
}

// decodeHistoryKeep decodes history_keep: a count of past states
// (history_keep = 50) or an age (history_keep = "180d").
func (l *loader) decodeHistoryKeep(a *hcl.Attribute, ctx *hcl.EvalContext) {
	val, _, ok := l.eval(a.Expr, ctx)
	if !ok || val.IsNull() || !val.IsKnown() {
		return
	}
	const how = "history_keep is how much history to keep: a number of past states (history_keep = 50) or an age (history_keep = \"180d\"); leave it out to keep everything."
	switch val.Type() {
	case cty.Number:
		if n, ok := l.evalInt(a, ctx, 1); ok {
			l.cfg.Engagement.HistoryKeep = HistoryKeep{Count: int(min(n, 1<<30))}
		}
	case cty.String:
		d, err := ParseDuration(val.AsString())
		if err != nil || d <= 0 {
			l.errorf(a.Expr.Range(), "Invalid history_keep", "%q is not a duration longer than zero. %s", val.AsString(), how)
			return
		}
		l.cfg.Engagement.HistoryKeep = HistoryKeep{Age: d}
	default:
		l.errorf(a.Expr.Range(), "Invalid history_keep", "history_keep is a %s. %s", val.Type().FriendlyName(), how)
	}
}
