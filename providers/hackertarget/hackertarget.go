// Package hackertarget answers queries from the HackerTarget IP Tools API:
// hostsearch (subdomains), reverseiplookup (reverse IP), findshareddns
// (domains sharing a name server) and dnslookup (current records).
//
// HackerTarget answers everything with HTTP 200 and plain text, errors
// included ("API count exceeded ...", "error check your search parameter",
// "Error invalid key"), so every body is classified before it is read as
// data. The member key travels in the query string (&apikey=) and is
// redacted from every URL, log line and error.
//
// Readings of the vendor's answers (see testdata/real/hackertarget):
//   - hostsearch lines are "host,ip", "host,ip ip ..." (several addresses
//     separated by spaces, as for mail.splunk.com) or just "host" (no
//     address known): each host in the queried domain is a HOST finding,
//     with an A or AAAA finding per address.
//   - "Nothing found" is a sentence ("No DNS A records found ...", "No PTR
//     records found", "No records"). An empty 200, or one without a single
//     line of the tool's format ({}, null, a JSON message), is malformed,
//     never an empty answer that would mark earlier findings as gone.
package hackertarget

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the hackertarget provider type.
var Schema = schema.ProviderSchema{
	Type:        "hackertarget",
	Description: "HackerTarget: hostsearch, reverseiplookup, findshareddns, dnslookup.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: false, Sensitive: true, Description: "HackerTarget membership key (sent as &apikey=); the free tier needs none."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {Current: true, RRTypes: []string{"A", "AAAA", "MX", "NS", "SOA", "TXT", "CNAME"}},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
	},
	DefaultRate:   "1/s",
	DefaultBudget: 50,
	// The free tier allows 50 requests a day per source address (the
	// hackertarget.com FAQ, as quoted by pipeworx-io/mcp-hackertarget
	// src/index.ts; see ../shared/provider-apis.md). A membership key
	// raises it: set quota in the block.
	DefaultQuota:    []string{"50/day"},
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://api.hackertarget.com",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured hackertarget instance.
type Provider struct {
	cfg    providers.Config
	key    string
	client *providers.HTTPClient
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config. The key is optional.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	if _, err := url.Parse(cfg.Endpoint); err != nil || cfg.Endpoint == "" {
		return nil, fmt.Errorf("provider %q: endpoint %q is not a URL", cfg.Address, cfg.Endpoint)
	}
	p := &Provider{cfg: cfg, key: cfg.String("api_key")}
	p.client = providers.NewHTTPClient(cfg, providers.HTTPOptions{
		Secrets:  []string{p.key},
		Classify: p.classify,
		AuthHint: fmt.Sprintf("check api_key in provider %q (HACKERTARGET_API_KEY)", cfg.Address),
	})
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query runs one HackerTarget tool for q.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	var tool string
	switch q.Op {
	case schema.OpSubdomains:
		tool = "hostsearch"
	case schema.OpResolutions:
		tool = "dnslookup"
	case schema.OpNSReverse:
		tool = "findshareddns"
	case schema.OpReverseIP:
		tool = "reverseiplookup"
	default:
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "hackertarget does not answer op %q", q.Op)
	}
	if tool == "reverseiplookup" {
		if a, err := netip.ParseAddr(q.Subject.Value); q.Subject.Kind != schema.SubjectIP || err != nil || !a.Is4() {
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "reverseiplookup takes a single IPv4 address, not %q", q.Subject.Value)
		}
	} else if q.Subject.Kind != schema.SubjectDomain {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "%s takes a domain name, not %q", tool, q.Subject.Value)
	}
	u := strings.TrimRight(p.cfg.Endpoint, "/") + "/" + tool + "/?q=" + url.QueryEscape(q.Subject.Value)
	if p.key != "" {
		u += "&apikey=" + url.QueryEscape(p.key)
	}
	resp, err := p.client.Get(ctx, u, nil)
	if err != nil {
		return providers.Answer{}, err
	}
	findings, warnings, err := Parse(tool, q.Subject.Value, resp.Body)
	if err != nil {
		return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed, Msg: "reading " + resp.URL + ": " + p.client.Redact(err.Error())}
	}
	out := findings[:0]
	for _, f := range findings {
		if q.Op == schema.OpResolutions && !q.WantsType(f.Type) {
			continue
		}
		f.Sources = []string{p.cfg.Address}
		f.Current = q.Op == schema.OpResolutions
		out = append(out, f)
	}
	return providers.Answer{Findings: providers.MergeFindings(out), Requests: 1, Warnings: warnings}, nil
}

var (
	// errorBody is the vendor's clients' rule, a first line starting
	// "error" (any case) or "API count exceeded", narrowed to sentences so
	// that a host named error.example.com is data, not an error.
	errorBody = regexp.MustCompile(`(?i)^(error(\s|:|$)|api count exceeded)`)
	// emptyBody matches the "nothing found" sentences: "No DNS A records
	// found for x", "No records", "No results found" (and not a host
	// named no-records.example.com).
	emptyBody = regexp.MustCompile(`(?i)^no\s+(\S+\s+){0,2}(records|results)\b`)
)

// classify turns HackerTarget's 200-with-error-text bodies into errors.
func (p *Provider) classify(resp *providers.Response) *providers.Error {
	first := firstLine(resp.Body)
	lower := strings.ToLower(first)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case strings.HasPrefix(lower, "api count exceeded"):
		// Quota text is final whatever the status (some see it with 429).
		msg := fmt.Sprintf("HackerTarget daily API quota exceeded (free tier: 50 requests a day per source IP); set api_key in provider %q (HACKERTARGET_API_KEY) for a membership quota, or wait for the daily reset", p.cfg.Address)
		if p.key != "" {
			msg = fmt.Sprintf("HackerTarget daily API quota of the membership key in provider %q is spent; it resets daily", p.cfg.Address)
		}
		return &providers.Error{Kind: providers.KindQuota, QuotaPeriod: schema.QuotaDay, Msg: msg}
	case !ok:
		return nil // the shared client classifies by status
	case providers.LooksLikeHTML(resp.Body):
		return &providers.Error{Kind: providers.KindMalformed, Msg: "HackerTarget sent an HTML page instead of its text answer (" + resp.URL + ")"}
	case !errorBody.MatchString(first):
		return nil
	case strings.Contains(lower, "invalid key"):
		return &providers.Error{Kind: providers.KindAuth, Msg: fmt.Sprintf("HackerTarget rejected the key: check api_key in provider %q (HACKERTARGET_API_KEY)", p.cfg.Address)}
	case strings.Contains(lower, "key required"):
		return &providers.Error{Kind: providers.KindAuth, Msg: fmt.Sprintf("this HackerTarget tool needs a membership key: set api_key in provider %q (HACKERTARGET_API_KEY)", p.cfg.Address)}
	case strings.Contains(lower, "search parameter"):
		return &providers.Error{Kind: providers.KindBadInput, Msg: "HackerTarget rejected the search parameter of " + resp.URL}
	}
	return &providers.Error{Kind: providers.KindBadInput, Msg: "HackerTarget error: " + providers.BodySnippet([]byte(first))}
}

func firstLine(body []byte) string {
	s := strings.TrimSpace(string(body[:min(len(body), 512)]))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// Parse reads the text answer of a HackerTarget tool about subject.
// Unreadable lines are skipped with a warning; an empty body, or one with
// lines but none readable, is an error. "Nothing found" sentences give no
// findings.
func Parse(tool, subject string, body []byte) ([]schema.Finding, []string, error) {
	if emptyBody.MatchString(firstLine(body)) {
		return nil, nil, nil
	}
	var (
		findings []schema.Finding
		warnings []string
		lines    int
		bad      int
	)
	warn := func(msg string) {
		if len(warnings) < 5 {
			warnings = append(warnings, msg)
		}
	}
	err := providers.EachLine(body, func(n int, raw []byte) error {
		lines++
		line := string(raw)
		fs, skipped := parseLine(tool, subject, line)
		if fs == nil {
			bad++
			warn(fmt.Sprintf("%s line %d is not in the expected format; skipped: %s", tool, n, providers.BodySnippet([]byte(line))))
			return nil
		}
		if skipped > 0 {
			warn(fmt.Sprintf("%s line %d: kept the host name, skipped %d values that are not IP addresses: %s", tool, n, skipped, providers.BodySnippet([]byte(line))))
		}
		findings = append(findings, fs...)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	switch {
	case lines == 0:
		return nil, nil, fmt.Errorf("%s answer is empty (HackerTarget says in words when it found nothing)", tool)
	case bad == lines:
		return nil, nil, fmt.Errorf("%s answer has no line in the expected format (first: %s)", tool, providers.BodySnippet([]byte(firstLine(body))))
	}
	if bad > len(warnings) {
		warnings = append(warnings, fmt.Sprintf("%s: %d more unreadable lines skipped", tool, bad-len(warnings)))
	}
	return findings, warnings, nil
}

// parseLine reads one line; nil means unreadable. skipped counts values
// of a readable line that were left out (a hostsearch address that is
// not an IP address).
func parseLine(tool, subject, line string) (fs []schema.Finding, skipped int) {
	switch tool {
	case "hostsearch": // "host,ip", "host,ip ip ..." or "host"
		host, addrs, _ := strings.Cut(line, ",")
		name, ok := hostName(host)
		if !ok || name != subject && !strings.HasSuffix(name, "."+subject) {
			return nil, 0
		}
		out := []schema.Finding{schema.NewFinding(name, schema.TypeHost, "")}
		for _, field := range strings.Fields(addrs) {
			a, err := netip.ParseAddr(field)
			if err != nil {
				skipped++
				continue
			}
			t := "A"
			if a.Unmap().Is6() {
				t = "AAAA"
			}
			out = append(out, schema.NewFinding(name, t, a.String()))
		}
		return out, skipped
	case "reverseiplookup": // one host name per line
		if name, ok := hostName(line); ok {
			return []schema.Finding{schema.NewFinding(name, "A", subject)}, 0
		}
	case "findshareddns": // one domain per line
		if name, ok := hostName(line); ok {
			return []schema.Finding{schema.NewFinding(name, "NS", subject)}, 0
		}
	case "dnslookup": // "TYPE : value"
		rrtype, value, ok := strings.Cut(line, ":")
		rrtype, value = strings.TrimSpace(rrtype), strings.TrimSpace(value)
		if !ok || value == "" || !isRRType(rrtype) {
			return nil, 0
		}
		return []schema.Finding{schema.NewFinding(subject, rrtype, value)}, 0
	}
	return nil, 0
}

// hostName normalises and checks a host name from a body.
func hostName(s string) (string, bool) {
	name := schema.NormalizeName(s)
	return name, schema.ValidateDomain(name) == nil
}

func isRRType(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
