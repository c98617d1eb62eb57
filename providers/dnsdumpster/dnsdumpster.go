// Package dnsdumpster answers subdomain queries from the DNSDumpster JSON
// API (GET /domain/{domain}, X-API-Key header): the domain's hosts with
// their addresses, and the MX, NS and TXT records it reports, all current.
//
// Results are paged (?page=N on Plus accounts): pages are read until the
// A hosts collected reach total_a_recs, a page brings none, or max_pages
// is reached (a warning says the answer is partial).
//
// Every answer of the API carries the record lists (a, cname, mx, ns,
// txt), empty ones included; a 200 with none of them ({}, null, a bare
// message, the website's HTML) is malformed, or a quota when it says so,
// never "no hosts". No real API body is stored anywhere we could find
// (testdata/real/dnsdumpster holds the website's real pages); the lists
// are those every client reads. MX values go through the shared
// normaliser as given: with a preference ("10 mx1...") or without.
package dnsdumpster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the dnsdumpster provider type.
var Schema = schema.ProviderSchema{
	Type:        "dnsdumpster",
	Description: "DNSDumpster JSON API: hosts and records of a domain.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "DNSDumpster API key (X-API-Key header)."},
		{Name: "max_pages", Type: cty.Number, Description: "Pages read per domain (paging needs a Plus account).", Default: cty.NumberIntVal(defaultMaxPages)},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpSubdomains: {Current: true},
	},
	DefaultRate:     "30/min",
	DefaultTimeout:  60 * time.Second,
	DefaultEndpoint: "https://api.dnsdumpster.com",
}

const defaultMaxPages = 10

// rateLimitWait is how long the vendor's clients wait after a 429 that
// names no Retry-After (its limit is about one request every 2 s).
const rateLimitWait = 2 * time.Second

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured dnsdumpster instance.
type Provider struct {
	cfg      providers.Config
	key      string
	maxPages int
	client   *providers.HTTPClient
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	key := cfg.String("api_key")
	if strings.TrimSpace(key) == "" {
		return nil, fmt.Errorf(`provider %q: api_key is empty; set it, e.g. api_key = env("DNSDUMPSTER_API_KEY")`, cfg.Address)
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("provider %q: endpoint %q is not a URL", cfg.Address, cfg.Endpoint)
	}
	p := &Provider{cfg: cfg, key: key, maxPages: int(max(cfg.Int("max_pages", defaultMaxPages), 1))}
	p.client = providers.NewHTTPClient(cfg, providers.HTTPOptions{
		Secrets:      []string{key},
		Classify:     p.classify,
		ErrorMessage: errorMessage,
		AuthHint:     fmt.Sprintf("check api_key in provider %q (DNSDUMPSTER_API_KEY)", cfg.Address),
	})
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query lists the hosts and records DNSDumpster knows for a domain.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	if q.Op != schema.OpSubdomains {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "dnsdumpster does not answer op %q", q.Op)
	}
	if q.Subject.Kind != schema.SubjectDomain {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "dnsdumpster subdomains takes a domain name, not %q", q.Subject.Value)
	}
	base := strings.TrimRight(p.cfg.Endpoint, "/") + "/domain/" + url.PathEscape(q.Subject.Value)
	header := http.Header{"X-API-Key": {p.key}, "Accept": {"application/json"}}
	var (
		ans     providers.Answer
		all     []schema.Finding
		hostsA  = map[string]bool{}
		total   int64
		hasMore bool
	)
	for page := 1; page <= p.maxPages; page++ {
		u := base
		if page > 1 {
			u += "?page=" + strconv.Itoa(page)
		}
		resp, err := p.client.Get(ctx, u, header)
		if err != nil {
			if page > 1 && ctx.Err() == nil {
				// Paging is a Plus feature; keep what page 1 gave.
				ans.Warnings = append(ans.Warnings, fmt.Sprintf("DNSDumpster page %d failed, the answer is partial: %s", page, p.client.Redact(err.Error())))
				hasMore = false
				break
			}
			return providers.Answer{}, err
		}
		ans.Requests++
		if err := answerShape.Check(resp.Body); err != nil {
			e := providers.WrongShape(p.cfg.Address, "DNSDumpster", resp.URL, resp.Body, err)
			e.Msg = p.client.Redact(e.Msg)
			if page > 1 {
				ans.Warnings = append(ans.Warnings, fmt.Sprintf("DNSDumpster page %d failed, the answer is partial: %s", page, e.Msg))
				hasMore = false
				break
			}
			return providers.Answer{}, e
		}
		res, err := Parse(resp.Body)
		if err != nil {
			return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed, Msg: "reading " + resp.URL + ": " + p.client.Redact(err.Error())}
		}
		newHosts := 0
		for _, h := range res.A {
			if name := schema.NormalizeName(h.Host); !hostsA[name] {
				hostsA[name] = true
				newHosts++
			}
		}
		all = append(all, res.Findings(q.Subject.Value)...)
		total = max(total, int64(res.TotalA))
		hasMore = newHosts > 0 && int64(len(hostsA)) < total
		if !hasMore {
			break
		}
	}
	if hasMore {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("DNSDumpster reports %d hosts but %d pages gave %d; the answer is partial (raise max_pages in provider %q)", total, p.maxPages, len(hostsA), p.cfg.Address))
	}
	out := all[:0]
	for _, f := range all {
		if f.Type != schema.TypeHost && !q.WantsType(f.Type) {
			continue
		}
		f.Current = true
		f.Sources = []string{p.cfg.Address}
		out = append(out, f)
	}
	ans.Findings = providers.MergeFindings(out)
	return ans, nil
}

// answerShape: the record lists every real answer has, at least one of
// them (a list may be left out, never all).
var answerShape = providers.Shape{AnyOf: []providers.Field{
	{Name: "a", Type: providers.JSONArray}, {Name: "cname", Type: providers.JSONArray}, {Name: "mx", Type: providers.JSONArray},
	{Name: "ns", Type: providers.JSONArray}, {Name: "txt", Type: providers.JSONArray},
}}

// classify handles an "error" inside a 200 body, an HTML page, and 429s
// without Retry-After (the vendor's clients wait 2 s).
func (p *Provider) classify(resp *providers.Response) *providers.Error {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if wait == 0 {
			wait = rateLimitWait
		}
		return &providers.Error{Kind: providers.KindRateLimited, Retryable: true, RetryAfter: wait, Msg: "DNSDumpster rate limit (HTTP 429, about one request every 2 s)"}
	case resp.StatusCode != http.StatusOK:
		return nil
	case providers.LooksLikeHTML(resp.Body):
		return &providers.Error{Kind: providers.KindMalformed, Msg: "DNSDumpster sent an HTML page instead of JSON (" + resp.URL + ")"}
	}
	msg := errorMessage(resp.Body)
	if msg == "" {
		return nil
	}
	lower := strings.ToLower(msg)
	// Order matters: "Rate limit exceeded" is a rate limit, "exceeded
	// the allowed usage of your API key" a quota, "Invalid API key" auth.
	switch {
	case strings.Contains(lower, "rate limit") || strings.Contains(lower, "too many"):
		return &providers.Error{Kind: providers.KindRateLimited, Retryable: true, RetryAfter: rateLimitWait, Msg: "DNSDumpster rate limit: " + msg}
	case strings.Contains(lower, "quota") || strings.Contains(lower, "exceeded") || strings.Contains(lower, "usage"):
		return &providers.Error{Kind: providers.KindQuota, Msg: "DNSDumpster quota: " + msg}
	case strings.Contains(lower, "key") || strings.Contains(lower, "auth"):
		return &providers.Error{Kind: providers.KindAuth, Msg: fmt.Sprintf("DNSDumpster: %s; check api_key in provider %q (DNSDUMPSTER_API_KEY)", msg, p.cfg.Address)}
	case strings.Contains(lower, "limit"):
		return &providers.Error{Kind: providers.KindQuota, Msg: "DNSDumpster quota: " + msg}
	}
	return &providers.Error{Kind: providers.KindBadInput, Msg: "DNSDumpster: " + msg}
}

// errorMessage is the "error" field of a JSON body, if any, or its
// "message" when the body holds no records (a gateway's answer).
func errorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if len(e.Error) == 0 {
		if e.Message != "" && answerShape.Check(body) != nil {
			return providers.BodySnippet([]byte(e.Message))
		}
		return ""
	}
	var s string
	if json.Unmarshal(e.Error, &s) != nil {
		s = string(e.Error)
	}
	if s == "null" || s == "false" {
		return ""
	}
	return providers.BodySnippet([]byte(s))
}

// Result is one page of DNSDumpster's answer.
type Result struct {
	A      []Host            `json:"a"`
	CNAME  []Host            `json:"cname"`
	MX     []Host            `json:"mx"`
	NS     []Host            `json:"ns"`
	TXT    []string          `json:"txt"`
	TotalA providers.FlexInt `json:"total_a_recs"`
}

// Host is a host name with the addresses DNSDumpster resolved for it.
type Host struct {
	Host string   `json:"host"`
	IPs  []IPInfo `json:"ips"`
}

// IPInfo is one address with its network context (only the address is
// used).
type IPInfo struct {
	IP      string `json:"ip"`
	ASN     string `json:"asn"`
	ASNName string `json:"asn_name"`
	Country string `json:"country"`
	PTR     string `json:"ptr"`
}

// Parse reads one page.
func Parse(body []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(body, &r); err != nil {
		return Result{}, fmt.Errorf("not DNSDumpster JSON: %w", err)
	}
	return r, nil
}

// Findings are the page's records for domain: HOST and A/AAAA for hosts
// (CNAME entries are hosts resolved through an alias), MX and NS of the
// domain with their servers' addresses, TXT of the domain.
func (r Result) Findings(domain string) []schema.Finding {
	var out []schema.Finding
	addrs := func(name string, ips []IPInfo) {
		for _, ip := range ips {
			a, err := netip.ParseAddr(strings.TrimSpace(ip.IP))
			if err != nil {
				continue
			}
			t := "A"
			if a.Unmap().Is6() {
				t = "AAAA"
			}
			out = append(out, schema.NewFinding(name, t, a.String()))
		}
	}
	for _, h := range append(append([]Host(nil), r.A...), r.CNAME...) {
		name := schema.NormalizeName(h.Host)
		if schema.ValidateDomain(name) != nil {
			continue
		}
		out = append(out, schema.NewFinding(name, schema.TypeHost, ""))
		addrs(name, h.IPs)
	}
	for _, set := range []struct {
		rrtype string
		hosts  []Host
	}{{"MX", r.MX}, {"NS", r.NS}} {
		for _, h := range set.hosts {
			f := schema.NewFinding(domain, set.rrtype, h.Host)
			server := f.Value
			if set.rrtype == "MX" {
				if _, host, ok := strings.Cut(f.Value, " "); ok {
					server = host
				}
			}
			if schema.ValidateDomain(server) != nil {
				continue
			}
			out = append(out, f)
			addrs(server, h.IPs)
		}
	}
	for _, txt := range r.TXT {
		if strings.TrimSpace(txt) != "" {
			out = append(out, schema.NewFinding(domain, "TXT", txt))
		}
	}
	return out
}
