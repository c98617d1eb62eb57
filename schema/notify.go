package schema

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// NotifyTypes are the notification channels an engagement may declare.
var NotifyTypes = []string{"email", "slack", "teams", "webhook"}

// Notification events a notify block's on may list.
const (
	// NotifyDrift: the run found drift (after the filter).
	NotifyDrift = "drift"
	// NotifyCheckFailed: a check started failing (or erroring), or fails
	// with other messages than before (new offenders).
	NotifyCheckFailed = "check_failed"
	// NotifyCheckPassed: a check that failed passes again.
	NotifyCheckPassed = "check_passed"
	// NotifyRunFailed: the run failed (every query failed, interrupted,
	// or the state could not be committed).
	NotifyRunFailed = "run_failed"
)

// NotifyEvents are the values of on, and DefaultNotifyOn its default.
var (
	NotifyEvents    = []string{NotifyDrift, NotifyCheckFailed, NotifyCheckPassed, NotifyRunFailed}
	DefaultNotifyOn = []string{NotifyDrift, NotifyCheckFailed, NotifyRunFailed}
)

// ChangeKinds are the values of a notify block's changes filter: the
// lists of the drift JSON (docs/drift-json.md), facts prefixed.
// DefaultChangeKinds are the ones that are drift (not unverified).
var (
	ChangeKinds = []string{"added", "removed", "changed", "became_current", "went_historical", "unverified",
		"facts_added", "facts_removed", "facts_changed"}
	DefaultChangeKinds = []string{"added", "removed", "changed", "became_current", "went_historical",
		"facts_added", "facts_removed", "facts_changed"}
)

// Notify defaults.
const (
	DefaultNotifyMaxItems = 15
	DefaultNotifyTimeout  = 15 * time.Second
	DefaultNotifyRetries  = 3
	DefaultNotifyBackoff  = 2 * time.Second
	DefaultSMTPPort       = 587
)

// NotifyBlock is one notify block: notify "slack" "secops" { ... }.
type NotifyBlock struct {
	Type string
	Name string
	// Address is "TYPE.NAME" ("slack.secops"): how messages, logs and
	// the delivery ledger name the notifier.
	Address string
	// Attrs holds the channel's own arguments evaluated; Sensitive names
	// those that must never be printed, logged or stored (webhook URLs,
	// signing secrets, passwords, headers: always).
	Attrs     map[string]cty.Value
	Sensitive map[string]bool

	// On lists the events that are sent (NotifyEvents).
	On     []string
	Filter NotifyFilter
	// MaxItems bounds the changes a message lists one by one; the rest
	// are counted.
	MaxItems int
	// ReportURL, when set, is linked from messages as the full report
	// ({engagement} and {serial} are replaced).
	ReportURL string
	// Timeout bounds one delivery attempt; Retries is how many attempts a
	// run makes (with Backoff doubling between them) before the delivery
	// is kept for the next run.
	Timeout   time.Duration
	Retries   int
	Backoff   time.Duration
	DeclRange hcl.Range
}

// NotifyFilter says which changes and checks matter to a notifier. Empty
// lists match everything (Changes: DefaultChangeKinds).
type NotifyFilter struct {
	// Changes are change kinds (ChangeKinds).
	Changes []string
	// Names are globs over the finding's name or the fact's subject
	// ("*.acme.example" also matches acme.example itself).
	Names []string
	// Types are record types (A, MX, TXT); FactKinds fact kinds
	// (dmarc_policy, mail_provider).
	Types     []string
	FactKinds []string
	// Checks are check names; MinSeverity is "warning" (every check) or
	// "error" (only error checks).
	Checks      []string
	MinSeverity string
}

// String returns the channel argument name as a Go string ("" when unset).
func (n *NotifyBlock) String(name string) string {
	v, ok := n.Attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// Strings returns a list argument as Go strings.
func (n *NotifyBlock) Strings(name string) []string {
	v, ok := n.Attrs[name]
	if !ok || v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsListType() || v.Type().IsSetType()) {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() == cty.String && !e.IsNull() {
			out = append(out, e.AsString())
		}
	}
	return out
}

// StringMap returns a map argument as Go strings.
func (n *NotifyBlock) StringMap(name string) map[string]string {
	v, ok := n.Attrs[name]
	if !ok || v.IsNull() || !v.IsWhollyKnown() || !v.Type().IsMapType() {
		return nil
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if !e.IsNull() {
			out[k.AsString()] = e.AsString()
		}
	}
	return out
}

// Int returns a number argument (def when unset).
func (n *NotifyBlock) Int(name string, def int) int {
	v, ok := n.Attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return def
	}
	i, _ := v.AsBigFloat().Int64()
	return int(i)
}

// Subscribed reports whether the notifier sends event.
func (n *NotifyBlock) Subscribed(event string) bool { return contains(n.On, event) }

// notifyAttr is one channel argument.
type notifyAttr struct {
	Name      string
	Type      cty.Type
	Required  bool
	Sensitive bool
	// URL: an http(s) URL, https unless it points at this machine.
	URL bool
}

var notifyAttrs = map[string][]notifyAttr{
	"slack": {{Name: "webhook_url", Type: cty.String, Required: true, Sensitive: true, URL: true}},
	"teams": {{Name: "webhook_url", Type: cty.String, Required: true, Sensitive: true, URL: true}},
	"webhook": {
		{Name: "url", Type: cty.String, Required: true, Sensitive: true, URL: true},
		{Name: "secret", Type: cty.String, Sensitive: true},
		{Name: "headers", Type: cty.Map(cty.String), Sensitive: true},
	},
	"email": {
		{Name: "host", Type: cty.String, Required: true},
		{Name: "port", Type: cty.Number},
		{Name: "username", Type: cty.String},
		{Name: "password", Type: cty.String, Sensitive: true},
		{Name: "from", Type: cty.String, Required: true},
		{Name: "to", Type: cty.List(cty.String), Required: true},
		{Name: "security", Type: cty.String},
		{Name: "ca_file", Type: cty.String},
		{Name: "subject_prefix", Type: cty.String},
	},
}

// notifyCommon are the arguments every notify block takes.
var notifyCommon = []string{"on", "changes", "names", "types", "facts", "checks", "severity", "max_items", "report_url", "timeout", "retries", "backoff"}

// SMTPSecurity are the values of an email block's security.
var SMTPSecurity = []string{"starttls", "tls", "none"}

// decodeNotifies decodes the notify blocks (root module only).
func (l *loader) decodeNotifies(blocks []*hclsyntax.Block) {
	for _, b := range blocks {
		l.decodeNotify(b)
	}
}

func (l *loader) decodeNotify(b *hclsyntax.Block) {
	typ := b.Labels[0]
	attrs, ok := notifyAttrs[typ]
	if !ok {
		l.errorf(b.LabelRanges[0], "Unsupported notify type",
			"There is no notification channel %q.%s The channels are %s.", typ, didYouMean(typ, NotifyTypes), strings.Join(NotifyTypes, ", "))
		return
	}
	n := &NotifyBlock{
		Type: typ, Name: b.Labels[1], Address: typ + "." + b.Labels[1],
		Attrs: map[string]cty.Value{}, Sensitive: map[string]bool{},
		On: DefaultNotifyOn, MaxItems: DefaultNotifyMaxItems, Timeout: DefaultNotifyTimeout,
		Retries: DefaultNotifyRetries, Backoff: DefaultNotifyBackoff, DeclRange: blockRange(b),
	}
	n.Filter.MinSeverity = SeverityWarning
	bs := &hcl.BodySchema{}
	byName := map[string]notifyAttr{}
	for _, a := range attrs {
		bs.Attributes = append(bs.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
		byName[a.Name] = a
	}
	for _, name := range notifyCommon {
		bs.Attributes = append(bs.Attributes, hcl.AttributeSchema{Name: name})
	}
	body, diags := content(b.Body, bs, "a "+typ+" notify block")
	l.diags = append(l.diags, diags...)
	ctx := l.evalContext()
	for _, name := range sortedKeys(body.Attributes) {
		a := body.Attributes[name]
		na, channel := byName[name]
		if !channel {
			l.notifyCommon(n, a, ctx)
			continue
		}
		val, marked, ok := l.eval(a.Expr, ctx)
		if !ok || val.IsNull() {
			continue
		}
		conv, err := convert.Convert(val, na.Type)
		if err != nil || conv.IsNull() {
			l.errorf(a.Expr.Range(), "Incorrect attribute value type",
				"Inappropriate value for %q: %s is required.", name, na.Type.FriendlyName())
			continue
		}
		n.Attrs[name] = conv
		if na.Sensitive || marked {
			n.Sensitive[name] = true
		}
		if na.Sensitive && isLiteral(a.Expr) {
			l.warnf(a.Expr.Range(), "Secret written in the configuration",
				"%s is a secret (whoever has it can post to the channel or sign as reconform); keep it out of files that go to version control: %s = env(\"%s\").",
				name, name, strings.ToUpper("RECONFORM_"+typ+"_"+n.Name+"_"+name))
		}
		if na.URL && conv.AsString() != "" {
			// Empty (an unset environment variable) is reported when a
			// delivery is tried, and the deliveries are kept until then.
			l.checkNotifyURL(a, conv.AsString())
		}
	}
	switch typ {
	case "email":
		l.checkEmail(n, body)
	}
	if prev, dup := l.cfg.Notifiers[n.Address]; dup {
		l.errorf(n.DeclRange, "Duplicate notify block", "notify %q %q was already declared at %s.", typ, n.Name, shortRange(prev.DeclRange))
		return
	}
	l.cfg.Notifiers[n.Address] = n
}

// checkNotifyURL checks a webhook URL without ever quoting it: whoever
// reads it can post to the channel.
func (l *loader) checkNotifyURL(a *hcl.Attribute, s string) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.errorf(a.Expr.Range(), "Invalid webhook URL", "%s must be an https:// URL (the value is not shown: it is a secret).", a.Name)
		return
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		l.errorf(a.Expr.Range(), "Webhook URL without TLS",
			"%s is an http:// URL to another machine: the URL (a secret) and every message would travel in clear. Use https://; plain http is accepted only for 127.0.0.1, ::1 and localhost.", a.Name)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkEmail checks an email block's addresses and security.
func (l *loader) checkEmail(n *NotifyBlock, body *hcl.BodyContent) {
	if a, ok := body.Attributes["from"]; ok && n.String("from") != "" {
		if _, err := mail.ParseAddress(n.String("from")); err != nil {
			l.errorf(a.Expr.Range(), "Invalid address", "from must be an e-mail address such as \"reconform@acme.example\" or \"Recon <reconform@acme.example>\": %v.", err)
		}
	}
	if a, ok := body.Attributes["to"]; ok {
		to := n.Strings("to")
		if len(to) == 0 && n.Attrs["to"] != cty.NilVal {
			l.errorf(a.Expr.Range(), "No recipients", "to must list at least one e-mail address.")
		}
		for _, t := range to {
			if _, err := mail.ParseAddress(t); err != nil {
				l.errorf(a.Expr.Range(), "Invalid address", "%q in to is not an e-mail address: %v.", t, err)
			}
		}
	}
	if a, ok := body.Attributes["security"]; ok {
		if s := n.String("security"); s != "" && !contains(SMTPSecurity, s) {
			l.errorf(a.Expr.Range(), "Invalid security", "security must be \"starttls\" (the default: STARTTLS is required), \"tls\" (implicit TLS, port 465) or \"none\" (no TLS, for a relay on this machine), not %q.", s)
		}
	}
	if a, ok := body.Attributes["port"]; ok {
		if p := n.Int("port", 0); p < 1 || p > 65535 {
			l.errorf(a.Expr.Range(), "Invalid port", "port must be between 1 and 65535.")
		}
	}
	if n.String("security") == "none" && n.String("password") != "" && !isLoopback(n.String("host")) {
		l.errorf(n.DeclRange, "Password without TLS",
			"This email block sends a password with security = \"none\" to another machine: it would travel in clear. Use security = \"starttls\" or \"tls\".")
	}
	if _, ok := n.Attrs["port"]; !ok {
		port := DefaultSMTPPort
		if n.String("security") == "tls" {
			port = 465
		}
		n.Attrs["port"] = cty.NumberIntVal(int64(port))
	}
	if _, ok := n.Attrs["security"]; !ok {
		n.Attrs["security"] = cty.StringVal("starttls")
	}
}

// notifyCommon applies one of the arguments every notify block takes.
func (l *loader) notifyCommon(n *NotifyBlock, a *hcl.Attribute, ctx *hcl.EvalContext) {
	strs := func(allowed []string) ([]string, bool) {
		rs, ok := l.evalStrings(a, ctx)
		if !ok {
			return nil, false
		}
		out := make([]string, 0, len(rs))
		for _, r := range rs {
			if allowed != nil && !contains(allowed, r.Value) {
				l.errorf(r.Range, "Invalid value for "+a.Name, "%q is not one of %s.%s", r.Value, strings.Join(allowed, ", "), didYouMean(r.Value, allowed))
				return nil, false
			}
			out = append(out, r.Value)
		}
		return out, true
	}
	switch a.Name {
	case "on":
		if v, ok := strs(NotifyEvents); ok {
			n.On = v
		}
	case "changes":
		if v, ok := strs(ChangeKinds); ok {
			n.Filter.Changes = v
		}
	case "names":
		if v, ok := strs(nil); ok {
			for i := range v {
				v[i] = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(v[i]), "."))
			}
			n.Filter.Names = v
		}
	case "types":
		if v, ok := strs(nil); ok {
			for i := range v {
				v[i] = strings.ToUpper(strings.TrimSpace(v[i]))
			}
			n.Filter.Types = v
		}
	case "facts":
		if v, ok := strs(nil); ok {
			n.Filter.FactKinds = v
		}
	case "checks":
		if v, ok := strs(nil); ok {
			n.Filter.Checks = v
		}
	case "severity":
		if s, ok := l.evalString(a, ctx); ok {
			if s != SeverityError && s != SeverityWarning {
				l.errorf(a.Expr.Range(), "Invalid severity", "severity is the least severe check sent: \"warning\" (every check, the default) or \"error\", not %q.", s)
				return
			}
			n.Filter.MinSeverity = s
		}
	case "max_items":
		if v, ok := l.evalInt(a, ctx, 1); ok {
			n.MaxItems = int(min(v, 200))
		}
	case "retries":
		if v, ok := l.evalInt(a, ctx, 1); ok {
			n.Retries = int(min(v, 10))
		}
	case "timeout", "backoff":
		if d, ok := l.evalDuration(a, ctx); ok {
			if a.Name == "timeout" {
				if d <= 0 {
					l.errorf(a.Expr.Range(), "Invalid timeout", "timeout must be more than 0.")
					return
				}
				n.Timeout = d
			} else {
				n.Backoff = d
			}
		}
	case "report_url":
		if s, ok := l.evalString(a, ctx); ok {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				l.errorf(a.Expr.Range(), "Invalid report URL", "report_url must be an http:// or https:// URL, such as the CI job's artifacts page.")
				return
			}
			n.ReportURL = s
		}
	}
}

// NotifierByName finds a notifier by its address ("slack.secops") or,
// when that is unambiguous, by its name alone ("secops").
func (c *Config) NotifierByName(name string) (*NotifyBlock, error) {
	name = strings.TrimPrefix(name, "notify.")
	if n, ok := c.Notifiers[name]; ok {
		return n, nil
	}
	var matches []*NotifyBlock
	for _, n := range c.Notifiers {
		if n.Name == name {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		names := c.NotifierAddresses()
		if len(names) == 0 {
			return nil, fmt.Errorf("the engagement declares no notify blocks")
		}
		return nil, fmt.Errorf("no notify block %q; the engagement declares %s%s", name, strings.Join(names, ", "), didYouMean(name, names))
	}
	var addrs []string
	for _, m := range matches {
		addrs = append(addrs, m.Address)
	}
	sort.Strings(addrs)
	return nil, fmt.Errorf("%q names several notify blocks (%s); give TYPE.NAME", name, strings.Join(addrs, ", "))
}

// NotifierAddresses are the notifiers' addresses, sorted.
func (c *Config) NotifierAddresses() []string { return sortedKeys(c.Notifiers) }

// notifySecrets adds every sensitive notify argument to add: whole, and
// the parts of a URL an error message might quote on their own.
func (c *Config) notifySecrets(add func(cty.Value)) {
	for _, n := range c.Notifiers {
		for name, sensitive := range n.Sensitive {
			if !sensitive {
				continue
			}
			v := n.Attrs[name]
			switch {
			case v.Type() == cty.String && !v.IsNull():
				add(v)
				if u, err := url.Parse(v.AsString()); err == nil && u.Host != "" {
					if len(u.Path) > 1 {
						add(cty.StringVal(u.Path))
					}
					if u.RawQuery != "" {
						add(cty.StringVal(u.RawQuery))
					}
					if pw, ok := u.User.Password(); ok {
						add(cty.StringVal(pw))
					}
				}
			case v.Type().IsMapType() && v.IsWhollyKnown() && !v.IsNull():
				for it := v.ElementIterator(); it.Next(); {
					_, e := it.Element()
					add(e)
				}
			}
		}
	}
}
