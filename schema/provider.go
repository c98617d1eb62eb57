package schema

import (
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// decodeProvider decodes a provider block against the common attributes
// and its type's schema, filling the settings the engine uses from the
// block or the type's defaults.
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
	if len(ps.DefaultQuota) > 0 {
		if qs, err := ParseQuotas(ps.DefaultQuota); err == nil {
			p.Quota = qs
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
		if pa.File && !p.Sensitive[name] {
			l.checkFile(p, a, conv)
		}
		l.providerCommon(p, a, conv)
	}
	l.cfg.Providers[p.Address] = p
}

// checkFile reports a provider's file attribute (ProviderAttribute.File)
// that names no readable regular file, at the attribute. A value not
// known at load (unknown, or not a string yet) is left to the provider.
func (l *loader) checkFile(p *ProviderBlock, a *hcl.Attribute, v cty.Value) {
	if !v.IsWhollyKnown() || v.Type() != cty.String || v.AsString() == "" {
		return
	}
	path := v.AsString()
	full := path
	if !filepath.IsAbs(full) {
		full = filepath.Join(l.cfg.Dir, full)
	}
	fi, err := os.Stat(full)
	switch {
	case err == nil && fi.Mode().IsRegular():
		return
	case err == nil:
		l.errorf(a.Expr.Range(), "Not a data file",
			"%s of %s is %q, which is a %s, not a file. Give the path of the data file, relative to the engagement folder.",
			a.Name, p.Address, path, describeMode(fi.Mode()))
	case errors.Is(err, fs.ErrNotExist):
		shown := full
		if d := l.opts.DisplayDir; d != "" && !filepath.IsAbs(path) {
			shown = filepath.Join(d, path)
		}
		l.errorf(a.Expr.Range(), "No such file",
			"%s of %s is %q, and there is no such file (looked for %s). The path is relative to the engagement folder.%s",
			a.Name, p.Address, path, shown, nearbyFile(path, full))
	default:
		l.errorf(a.Expr.Range(), "Cannot read the file",
			"%s of %s is %q: %s.", a.Name, p.Address, path, cleanOSError(err))
	}
}

// describeMode names what a path that is not a regular file is.
func describeMode(m fs.FileMode) string {
	if m.IsDir() {
		return "folder"
	}
	return "special file"
}

// nearbyFile suggests a file in the same folder whose name is close to
// the one asked for (a typo, a .gz left off or added).
func nearbyFile(path, full string) string {
	entries, err := os.ReadDir(filepath.Dir(full))
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	base := filepath.Base(full)
	as := func(n string) string { return filepath.ToSlash(filepath.Join(filepath.Dir(path), n)) }
	for _, n := range names {
		if strings.TrimSuffix(n, ".gz") == strings.TrimSuffix(base, ".gz") || strings.TrimSuffix(n, ".zst") == strings.TrimSuffix(base, ".zst") {
			return fmt.Sprintf(" Did you mean %q?", as(n))
		}
	}
	if n := nameSuggestion(base, names); n != "" {
		return fmt.Sprintf(" Did you mean %q?", as(n))
	}
	return ""
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
	// shown is the value as a diagnostic may quote it: never a sensitive
	// one (set from env() or a sensitive variable).
	shown := func(s string) string {
		if p.Sensitive[a.Name] {
			return "(sensitive value)"
		}
		return fmt.Sprintf("%q", s)
	}
	switch a.Name {
	case "endpoint":
		ep := strings.TrimSpace(v.AsString())
		// A provider whose default endpoint is a URL needs a URL.
		if def := l.opts.Providers[p.Type].DefaultEndpoint; strings.HasPrefix(def, "http") {
			u, err := url.Parse(ep)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				l.errorf(a.Expr.Range(), "Invalid endpoint",
					"The %s provider talks HTTP, so endpoint must be an http:// or https:// URL such as %q, not %s.", p.Type, def, shown(ep))
				return
			}
			if u.User != nil {
				l.errorf(a.Expr.Range(), "Credentials in endpoint",
					"Do not put credentials in the endpoint URL: URLs are printed and logged. Use the provider's key or password arguments.")
				return
			}
		}
		p.Endpoint = ep
	case "rate":
		r, err := ParseRate(v.AsString())
		if err != nil {
			msg := capitalize(err.Error())
			if p.Sensitive[a.Name] {
				msg = "The rate (a sensitive value) is not a rate"
			}
			l.errorf(a.Expr.Range(), "Invalid rate",
				"%s. Write requests per unit: \"1/s\", \"4/min\", \"100/h\", \"500/day\" or \"1/7s\".", msg)
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
			l.errorf(a.Expr.Range(), "Invalid duration", "timeout = %s is not a positive duration; write e.g. \"30s\" or \"2m\".", shown(v.AsString()))
			return
		}
		p.Timeout = d
	case "cache_ttl":
		d, err := ParseDuration(v.AsString())
		if err != nil || d < 0 {
			l.errorf(a.Expr.Range(), "Invalid duration", "cache_ttl = %s is not a duration; write e.g. \"24h\" or \"7d\", or \"0s\" to disable the cache.", shown(v.AsString()))
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
	case "quota":
		var list []string
		for _, e := range v.AsValueSlice() {
			if e.IsNull() {
				continue
			}
			list = append(list, e.AsString())
		}
		qs, err := ParseQuotas(list)
		if err != nil {
			msg := capitalize(err.Error())
			if p.Sensitive[a.Name] {
				msg = "The quota (a sensitive value) is not a list of quotas"
			}
			l.errorf(a.Expr.Range(), "Invalid quota",
				"%s. Write the vendor's quotas per window, e.g. quota = [\"500/day\", \"15500/month\"], or quota = [] for none.", msg)
			return
		}
		p.Quota = qs
	case "quota_reset":
		t, err := ParseQuotaReset(v.AsString())
		if err != nil {
			l.errorf(a.Expr.Range(), "Invalid quota_reset", "%s.", capitalize(err.Error()))
			return
		}
		p.QuotaReset = t
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
