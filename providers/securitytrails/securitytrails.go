// Package securitytrails is the SecurityTrails API v1 provider: current DNS
// records and DNS history of a name, subdomain lists, and reverse IP / NS /
// MX search through POST /domains/list.
//
// Cost, in requests charged to the provider's rate and budget:
//   - resolutions: 1 (current records) + for each history type asked for
//     (A, AAAA, MX, NS, TXT by default; narrow it with the query's
//     rrtypes) one request per history page, up to max_pages pages;
//   - subdomains: 1 (SecurityTrails caps the list at 2,000 labels on the
//     free plan, 10,000 on paid plans);
//   - reverse_ip, ns_reverse, mx_reverse: one request per result page of
//     100 names, up to the smallest of the vendor's total_pages, its
//     max_page and our max_pages.
//
// Readings of the vendor's answers (see testdata/real/securitytrails):
//   - SOA: current and historical SOA values are only the e-mail (rname)
//     and a TTL, never the record. Stored as an SOA value it would never
//     match the SOA live DNS or DNSDB report (seven fields), so every
//     source would disagree forever; kept as a fact it would come and go
//     with the provider's availability (a fact is not kept when its source
//     fails). SOA is therefore not offered: the current SOA bucket is
//     ignored and SOA history is not asked for. The name servers, which
//     SecurityTrails does give, carry the same hosting signal.
//   - MX history gives the host without its preference, current records
//     with it; each is stored as given, through the shared normaliser,
//     without borrowing a current preference for history (it may have
//     changed since).
//   - Subdomain lists stop at the plan's cap, 2,000 or 10,000 labels. The
//     recorded answer at the cap (github.com, 2019) has no meta; newer
//     answers are described with meta.limit_reached and subdomain_count. A
//     warning says the list may be incomplete when meta says the limit was
//     reached, when subdomain_count is larger than the list, or when the
//     list has exactly a cap's length and meta does not say otherwise.
//   - Every real answer has its data member: current_dns (current
//     records), subdomains (lists), records (history pages, searches). A
//     200 without it ({}, null, {"subdomains": null}, a bare message) is
//     malformed, or a quota when the message says the usage is exceeded;
//     {"subdomains": []} and "records": [] are real empty answers.
package securitytrails

import (
	"bytes"
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

// Schema declares the securitytrails provider type.
var Schema = schema.ProviderSchema{
	Type: "securitytrails",
	Description: "SecurityTrails API v1: current and historical DNS, subdomains, reverse IP/NS/MX search. " +
		"resolutions costs 1 request for current records plus at least 1 per history type asked for.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "SecurityTrails API key (APIKEY header), e.g. env(\"SECURITYTRAILS_API_KEY\")."},
		{Name: "max_pages", Type: cty.Number, Default: cty.NumberIntVal(defaultMaxPages), Description: "Most pages fetched per history type or domain search (each page is one request)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {RRTypes: historyTypes},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {},
		schema.OpMXReverse:   {},
	},
	DefaultRate:   "1/s",
	DefaultBudget: 50,
	// The free plan's 50 requests a month (hangmansROP/securitytrailsapi's
	// README, https://pypi.org/project/securitytrailsapi/, tested with a
	// free account; hakluke/haktrails issue 20). Plans have changed (a
	// 2019 answer of GET /v1/account/usage allowed 600): the usage
	// endpoint's allowed_monthly_usage, shown by reconform quota -refresh,
	// says what a key has; paid plans set quota (and quota_reset for a
	// billing month that does not start on the 1st).
	DefaultQuota:    []string{"50/month"},
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://api.securitytrails.com/v1",
}

// historyTypes are the record types read from SecurityTrails' current
// records and history, in request order (not SOA: see the package doc).
var historyTypes = []string{"A", "AAAA", "MX", "NS", "TXT"}

// subdomainCaps are the plans' subdomain list caps.
var subdomainCaps = []int{2000, 10000}

// Shapes of real answers: the member each endpoint's answers always have.
var (
	domainShape     = providers.Shape{Required: []providers.Field{{Name: "current_dns", Type: providers.JSONObject}}}
	subdomainsShape = providers.Shape{Required: []providers.Field{{Name: "subdomains", Type: providers.JSONArray}}}
	recordsShape    = providers.Shape{Required: []providers.Field{{Name: "records", Type: providers.JSONArray}}}
)

const defaultMaxPages = 10

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New, MinRequests: minRequests}
}

// minRequests is the least a query costs: resolutions reads current
// records and the first history page of every record type asked for.
func minRequests(q schema.Query) int {
	if q.Op != schema.OpResolutions {
		return 1
	}
	n := 1
	for _, t := range historyTypes {
		if q.WantsType(t) {
			n++
		}
	}
	return n
}

// Provider is one configured securitytrails instance.
type Provider struct {
	cfg      providers.Config
	client   *providers.HTTPClient
	endpoint string
	key      string
	maxPages int
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	key, err := providers.RequireKey(cfg, "api_key", "SECURITYTRAILS_API_KEY")
	if err != nil {
		return nil, err
	}
	maxPages, err := providers.AtLeastOne(cfg, "max_pages", defaultMaxPages)
	if err != nil {
		return nil, err
	}
	endpoint := providers.APIBase(cfg.Endpoint, Schema.DefaultEndpoint)
	p := &Provider{cfg: cfg, endpoint: endpoint, key: key, maxPages: maxPages}
	p.client = providers.NewHTTPClient(cfg, providers.HTTPOptions{
		Secrets:      []string{key},
		AcceptStatus: []int{http.StatusNotFound},
		Classify:     p.classify,
		ErrorMessage: errorMessage,
		AuthHint: fmt.Sprintf(`check api_key in provider %q (e.g. api_key = env("SECURITYTRAILS_API_KEY")); `+
			`a 403 can also mean your plan does not include this endpoint`, cfg.Address),
	})
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query answers one query.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	switch q.Op {
	case schema.OpResolutions:
		if q.Subject.Kind != schema.SubjectDomain {
			return providers.Answer{}, p.unsupported(q)
		}
		return p.resolutions(ctx, q)
	case schema.OpSubdomains:
		if q.Subject.Kind != schema.SubjectDomain {
			return providers.Answer{}, p.unsupported(q)
		}
		return p.subdomains(ctx, q.Subject.Value)
	case schema.OpReverseIP:
		if q.Subject.Kind != schema.SubjectIP {
			return providers.Answer{}, p.unsupported(q)
		}
		addr, err := netip.ParseAddr(q.Subject.Value)
		if err != nil {
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindBadInput, "%q is not an IP address", q.Subject.Value)
		}
		field, rrtype := "ipv4", "A"
		if addr.Unmap().Is6() {
			field, rrtype = "ipv6", "AAAA"
		}
		return p.search(ctx, field, addr.Unmap().String(), rrtype)
	case schema.OpNSReverse:
		if q.Subject.Kind != schema.SubjectDomain {
			return providers.Answer{}, p.unsupported(q)
		}
		return p.search(ctx, "ns", q.Subject.Value, "NS")
	case schema.OpMXReverse:
		if q.Subject.Kind != schema.SubjectDomain {
			return providers.Answer{}, p.unsupported(q)
		}
		return p.search(ctx, "mx", q.Subject.Value, "MX")
	}
	return providers.Answer{}, p.unsupported(q)
}

func (p *Provider) unsupported(q schema.Query) error {
	return providers.Errorf(p.cfg.Address, providers.KindUnsupported, "securitytrails does not answer %s for a %s subject (%s)", q.Op, q.Subject.Kind, q.Subject.Value)
}

// header carries the key the way every SecurityTrails client sends it: a
// header, so it never appears in a URL.
func (p *Provider) header() http.Header {
	h := http.Header{}
	h.Set("APIKEY", p.key)
	h.Set("Accept", "application/json")
	return h
}

// get fetches one JSON document of the given shape; found is false on a
// 404 ("no data").
func (p *Provider) get(ctx context.Context, path string, params url.Values, shape providers.Shape, out any) (found bool, err error) {
	u := p.endpoint + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	resp, err := p.client.Get(ctx, u, p.header())
	if err != nil {
		return false, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	return true, p.decode(resp, shape, out)
}

func (p *Provider) decode(resp *providers.Response, shape providers.Shape, out any) error {
	if err := shape.Check(resp.Body); err != nil {
		e := providers.WrongShape(p.cfg.Address, "SecurityTrails", resp.URL, resp.Body, err)
		e.Msg = p.client.Redact(e.Msg)
		return e
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed,
			Msg: p.client.Redact(fmt.Sprintf("could not read the response from %s (%s)", resp.URL, providers.BodySnippet(resp.Body))), Err: err}
	}
	return nil
}

// resolutions returns the current records and the history of a name.
func (p *Provider) resolutions(ctx context.Context, q schema.Query) (providers.Answer, error) {
	host := q.Subject.Value
	var ans providers.Answer
	var found []schema.Finding

	var cur domainResponse
	ans.Requests++
	// A 404 (no current records) leaves cur empty; the history is still
	// worth asking for, as decommissioned names keep their past.
	if _, err := p.get(ctx, "/domain/"+url.PathEscape(host), nil, domainShape, &cur); err != nil {
		return providers.Answer{}, err
	}
	for _, typ := range historyTypes {
		raw, present := cur.CurrentDNS[strings.ToLower(typ)]
		if !present {
			continue
		}
		var bucket bucket
		if err := json.Unmarshal(raw, &bucket); err != nil {
			ans.Warnings = append(ans.Warnings, fmt.Sprintf("skipped the current %s records of %s: unexpected shape %s", typ, host, p.client.Redact(providers.BodySnippet(raw))))
			continue
		}
		first := parseDate(string(bucket.FirstSeen))
		for _, v := range bucket.Values {
			f, ok := p.finding(host, typ, v)
			if !ok {
				continue
			}
			if !q.WantsType(f.Type) {
				continue
			}
			f.FirstSeen = first
			f.Current = true
			found = append(found, f)
		}
	}

	for _, typ := range historyTypes {
		if !q.WantsType(typ) {
			continue
		}
		fs, n, warn, err := p.history(ctx, host, typ)
		ans.Requests += n
		if err != nil {
			return providers.Answer{}, err
		}
		found = append(found, fs...)
		if warn != "" {
			ans.Warnings = append(ans.Warnings, warn)
		}
	}
	ans.Findings = providers.MergeFindings(found)
	return ans, nil
}

// history fetches every page (up to max_pages) of one record type's history.
func (p *Provider) history(ctx context.Context, host, typ string) (fs []schema.Finding, requests int, warning string, err error) {
	path := "/history/" + url.PathEscape(host) + "/dns/" + strings.ToLower(typ)
	total := 1
	for page := 1; page <= total; page++ {
		if page > p.maxPages {
			return fs, requests, fmt.Sprintf("%s history of %s has %d pages; fetched the first %d (raise max_pages to get more)", typ, host, total, p.maxPages), nil
		}
		var h historyResponse
		requests++
		ok, err := p.get(ctx, path, url.Values{"page": {strconv.Itoa(page)}}, recordsShape, &h)
		if err != nil {
			return nil, requests, "", err
		}
		if !ok && page > 1 {
			return fs, requests, fmt.Sprintf("%s history of %s: page %d of %d answered 404; kept the pages before it", typ, host, page, total), nil
		}
		if !ok || len(h.Records) == 0 {
			break
		}
		if page == 1 {
			total = int(h.Pages)
		}
		for _, rec := range h.Records {
			first, last := parseDate(string(rec.FirstSeen)), parseDate(string(rec.LastSeen))
			for _, v := range rec.Values {
				f, ok := p.finding(host, typ, v)
				if !ok {
					continue
				}
				f.FirstSeen, f.LastSeen = first, last
				fs = append(fs, f)
			}
		}
	}
	return fs, requests, "", nil
}

// finding turns one value object into a finding of type typ; ok is false
// when the object carries no value for that type.
func (p *Provider) finding(host, typ string, v value) (schema.Finding, bool) {
	var val string
	switch typ {
	case "A", "AAAA":
		val = firstNonEmpty(v.IP, v.IPv6, v.Value)
		if a, err := netip.ParseAddr(strings.TrimSpace(val)); err == nil {
			typ = "A"
			if a.Unmap().Is6() {
				typ = "AAAA"
			}
		}
	case "MX":
		name := schema.NormalizeName(firstNonEmpty(v.Hostname, v.Host, v.Value))
		if name == "" {
			return schema.Finding{}, false
		}
		val = name
		if v.Priority != nil {
			val = strconv.FormatInt(int64(*v.Priority), 10) + " " + name
		}
	case "NS":
		val = firstNonEmpty(v.Nameserver, v.Hostname, v.Host, v.Value)
	case "TXT":
		val = v.Value
	}
	if strings.TrimSpace(val) == "" {
		return schema.Finding{}, false
	}
	f := schema.NewFinding(host, typ, val)
	f.Sources = []string{p.cfg.Address}
	return f, true
}

// subdomains lists the names under a domain. SecurityTrails returns labels
// relative to the queried name; they become full names here.
func (p *Provider) subdomains(ctx context.Context, domain string) (providers.Answer, error) {
	var resp subdomainsResponse
	ans := providers.Answer{Requests: 1}
	ok, err := p.get(ctx, "/domain/"+url.PathEscape(domain)+"/subdomains",
		url.Values{"children_only": {"false"}, "include_inactive": {"true"}}, subdomainsShape, &resp)
	if err != nil || !ok {
		return ans, err
	}
	var found []schema.Finding
	skipped := 0
	for _, label := range resp.Subdomains {
		label = strings.TrimSpace(label)
		if label == "" {
			continue
		}
		var name string
		if strings.HasSuffix(label, ".") {
			name = label + domain
		} else {
			name = label + "." + domain
		}
		f := schema.NewFinding(name, schema.TypeHost, "")
		if schema.ValidateDomain(f.Name) != nil {
			skipped++
			continue
		}
		f.Sources = []string{p.cfg.Address}
		found = append(found, f)
	}
	if skipped > 0 {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("skipped %d subdomain labels of %s that do not form valid names", skipped, domain))
	}
	if w := capWarning(domain, resp); w != "" {
		ans.Warnings = append(ans.Warnings, w)
	}
	ans.Findings = providers.MergeFindings(found)
	return ans, nil
}

// search pages through POST /domains/list with a filter; every hostname
// found becomes (hostname, rrtype, value). The search runs over current
// DNS, so its findings are current, but only when every page was read: a
// capped answer cannot vouch for what it left out.
func (p *Provider) search(ctx context.Context, field, val, rrtype string) (providers.Answer, error) {
	body, err := json.Marshal(map[string]any{"filter": map[string]string{field: val}})
	if err != nil {
		return providers.Answer{}, err
	}
	h := p.header()
	h.Set("Content-Type", "application/json")
	var ans providers.Answer
	var found []schema.Finding
	last, complete := 1, true
	for page := 1; page <= last; page++ {
		ans.Requests++
		resp, err := p.client.Do(ctx, http.MethodPost, p.endpoint+"/domains/list?page="+strconv.Itoa(page), h, body)
		if err != nil {
			return providers.Answer{}, err
		}
		if resp.StatusCode == http.StatusNotFound {
			if page > 1 {
				complete = false
				ans.Warnings = append(ans.Warnings, fmt.Sprintf("SecurityTrails answered page %d of the search for %s = %s with 404; kept the pages before it", page, field, val))
			}
			break
		}
		var sr searchResponse
		if err := p.decode(resp, recordsShape, &sr); err != nil {
			return providers.Answer{}, err
		}
		if len(sr.Records) == 0 {
			break
		}
		for _, r := range sr.Records {
			name := schema.NormalizeName(r.Hostname)
			if name == "" {
				continue
			}
			f := schema.NewFinding(name, rrtype, val)
			f.Sources = []string{p.cfg.Address}
			found = append(found, f)
		}
		if page == 1 {
			total := max(int(sr.Meta.TotalPages), 1)
			last = total
			if mp := int(sr.Meta.MaxPage); mp > 0 && mp < last {
				last = mp
			}
			if p.maxPages < last {
				last = p.maxPages
			}
			if last < total {
				complete = false
				ans.Warnings = append(ans.Warnings, fmt.Sprintf(
					"SecurityTrails has %d result pages (%d names) for %s = %s; fetching %d (the vendor's max_page and our max_pages cap it)",
					total, int(sr.RecordCount), field, val, last))
			}
		}
	}
	if complete {
		for i := range found {
			found[i].Current = true
		}
	}
	ans.Findings = providers.MergeFindings(found)
	return ans, nil
}

// capWarning says when a subdomain list may have been cut at the plan's
// cap (see the package doc), "" otherwise.
func capWarning(domain string, resp subdomainsResponse) string {
	n := len(resp.Subdomains)
	switch {
	case resp.Meta.LimitReached != nil && *resp.Meta.LimitReached:
		return fmt.Sprintf("SecurityTrails capped the subdomain list of %s at %d names (2,000 on the free plan, 10,000 on paid plans)", domain, n)
	case int(resp.SubdomainCount) > n:
		return fmt.Sprintf("SecurityTrails knows %d subdomains of %s and gave %d: the list is incomplete (plan cap 2,000 free, 10,000 paid)", int(resp.SubdomainCount), domain, n)
	case resp.Meta.LimitReached != nil:
		return "" // meta says the list is whole
	}
	for _, c := range subdomainCaps {
		if n == c {
			return fmt.Sprintf("SecurityTrails gave exactly %d subdomains of %s, its plan cap (2,000 free, 10,000 paid): the list may be incomplete", n, domain)
		}
	}
	return ""
}

// classify recognises what the status alone does not tell: HTML served
// with 200, and an exhausted quota, answered with 429 like the rate limit
// or as a bare message with 200.
func (p *Provider) classify(resp *providers.Response) *providers.Error {
	if resp.StatusCode == http.StatusOK && providers.LooksLikeHTML(resp.Body) {
		return &providers.Error{Kind: providers.KindMalformed, Msg: "SecurityTrails answered " + resp.URL + " with an HTML page instead of JSON"}
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusOK {
		return nil
	}
	msg := errorMessage(resp.Body)
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "usage limit") || strings.Contains(lower, "allowed usage") || strings.Contains(lower, "quota"):
		return &providers.Error{Kind: providers.KindQuota, QuotaPeriod: schema.QuotaMonth,
			Msg: fmt.Sprintf("SecurityTrails monthly quota of this API key is spent (HTTP %d %q); it resets with your billing month, see GET /account/usage or your SecurityTrails account", resp.StatusCode, msg)}
	case resp.StatusCode == http.StatusOK && strings.Contains(lower, "rate limit"):
		return &providers.Error{Kind: providers.KindRateLimited, Retryable: true,
			Msg: fmt.Sprintf("SecurityTrails rate limit (HTTP 200 %q)", msg)}
	}
	return nil
}

// errorMessage reads SecurityTrails' error body, {"message": "..."}.
func errorMessage(body []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message != "" {
		return providers.BodySnippet([]byte(e.Message))
	}
	return ""
}

func parseDate(s string) time.Time {
	t, err := providers.ParseDate(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// Wire format.

type domainResponse struct {
	// CurrentDNS is read per known type so that an unknown or odd key
	// does not spoil the rest.
	CurrentDNS map[string]json.RawMessage `json:"current_dns"`
}

// bucket is one record type of current_dns; a type without data is {}
// (tolerated too: null, or a bare array of values).
type bucket struct {
	FirstSeen providers.FlexString `json:"first_seen"`
	Values    values               `json:"values"`
}

func (b *bucket) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		*b = bucket{}
		return nil
	case data[0] == '[':
		*b = bucket{}
		return b.Values.UnmarshalJSON(data)
	}
	type plain bucket // without this method
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*b = bucket(p)
	return nil
}

type historyResponse struct {
	Pages   providers.FlexInt `json:"pages"`
	Records []struct {
		FirstSeen providers.FlexString `json:"first_seen"`
		LastSeen  providers.FlexString `json:"last_seen"`
		Values    values               `json:"values"`
	} `json:"records"`
}

type subdomainsResponse struct {
	Subdomains     []string          `json:"subdomains"`
	SubdomainCount providers.FlexInt `json:"subdomain_count"`
	Meta           struct {
		LimitReached *bool `json:"limit_reached"`
	} `json:"meta"`
}

type searchResponse struct {
	RecordCount providers.FlexInt `json:"record_count"`
	Meta        struct {
		TotalPages providers.FlexInt `json:"total_pages"`
		MaxPage    providers.FlexInt `json:"max_page"`
	} `json:"meta"`
	Records []struct {
		Hostname string `json:"hostname"`
	} `json:"records"`
}

// value is one record value; which field is set depends on the type
// (history MX uses host, current MX hostname).
type value struct {
	IP         string             `json:"ip"`
	IPv6       string             `json:"ipv6"`
	Hostname   string             `json:"hostname"`
	Host       string             `json:"host"`
	Priority   *providers.FlexInt `json:"priority"`
	Nameserver string             `json:"nameserver"`
	Email      string             `json:"email"`
	Value      string             `json:"value"`
}

// values is a list of value objects that SecurityTrails sometimes sends as
// a single object (or a bare string) instead of an array.
type values []value

func (vs *values) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*vs = nil
		return nil
	case b[0] == '[':
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make(values, 0, len(raw))
		for _, r := range raw {
			var one values
			if err := one.UnmarshalJSON(r); err != nil {
				return err
			}
			out = append(out, one...)
		}
		*vs = out
		return nil
	case b[0] == '{':
		var v value
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*vs = values{v}
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*vs = values{{Value: s}}
		return nil
	}
	return fmt.Errorf("values: unexpected JSON %.20s", b)
}

var _ providers.UsageReporter = (*Provider)(nil)

// usageShape is what every real account usage answer has.
var usageShape = providers.Shape{Required: []providers.Field{{Name: "current_monthly_usage", Type: providers.JSONNumber}}}

// Usage reads the key's monthly count from GET /v1/account/usage,
// {"current_monthly_usage": 9, "allowed_monthly_usage": 600} (see
// testdata/real/securitytrails/account_usage.json). The month is the
// plan's billing month (quota_reset when it does not start on the 1st).
func (p *Provider) Usage(ctx context.Context) ([]providers.VendorUsage, error) {
	var u struct {
		Current int `json:"current_monthly_usage"`
		Allowed int `json:"allowed_monthly_usage"`
	}
	found, err := p.get(ctx, "/account/usage", nil, usageShape, &u)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, providers.Errorf(p.cfg.Address, providers.KindBadInput, "SecurityTrails answered its account usage with 404")
	}
	if u.Current < 0 {
		return nil, providers.Errorf(p.cfg.Address, providers.KindMalformed, "SecurityTrails reported a negative monthly usage (%d)", u.Current)
	}
	return []providers.VendorUsage{{Period: schema.QuotaMonth, Used: u.Current, Limit: max(u.Allowed, 0)}}, nil
}
