// Package virustotal is the VirusTotal API v3 provider: passive DNS
// resolutions of a domain or an IP address, and the subdomains VirusTotal
// has seen, read through cursor-paged collections.
//
// Cost: one request per page of up to 40 objects, up to max_pages pages
// per query. The public API allows 4 requests a minute, 500 a day and
// 15.5K a month (the daily quota resets at 00:00 UTC), which the default
// rate, budget and quota follow; Usage reads the key's own counts for the
// quota ledger (docs/quota.md).
//
// Readings of the vendor's semantics:
//   - A resolution's date is when VirusTotal last saw the host name
//     resolve to the address, not when it first did: findings carry it as
//     last_seen and leave first_seen unknown (zero), which state, currency
//     and reports treat as "not given" (currency then follows last_seen).
//   - VirusTotal answers HTTP 429 QuotaExceededError "Quota exceeded" for
//     its per-minute, daily and monthly quotas alike, and the body does not
//     say which. Retrying cannot tell them apart either, and a spent daily
//     or monthly quota would only burn the run's time in backoff, so the
//     error is a quota (KindQuota): the provider stops for this run. A 429
//     without that code (TooManyRequestsError, or none) stays a rate limit
//     and is retried.
//   - Every real collection has a data array (meta and links are not
//     always there: one-page answers recorded in 2019 carry neither meta
//     nor links.next). A 200 without it is malformed, or a quota when it
//     carries QuotaExceededError; {"data": []} is a real empty answer.
package virustotal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the virustotal provider type.
var Schema = schema.ProviderSchema{
	Type:        "virustotal",
	Description: "VirusTotal API v3: domain and IP resolutions, subdomains (cursor paging, 40 objects per request).",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "VirusTotal API key (x-apikey header), e.g. env(\"VIRUSTOTAL_API_KEY\")."},
		{Name: "max_pages", Type: cty.Number, Default: cty.NumberIntVal(defaultMaxPages), Description: "Most pages of 40 objects fetched per query (each page is one request)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {RRTypes: []string{"A", "AAAA"}},
		schema.OpReverseIP:   {},
		schema.OpSubdomains:  {},
	},
	DefaultRate:   "4/min",
	DefaultBudget: 500,
	// The public API's quotas: 500 requests a day and 15.5K a month
	// (https://docs.virustotal.com/reference/public-vs-premium-api; the
	// v2 notice https://docs.virustotal.com/v2.0/reference/public-vs-private-api
	// states the daily one); daily quotas reset at 00:00 UTC, monthly ones
	// at 00:00 UTC on the 1st
	// (https://docs.virustotal.com/docs/consumption-quotas-handled). The
	// 4-a-minute limit is the rate.
	DefaultQuota:    []string{"500/day", "15500/month"},
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://www.virustotal.com/api/v3",
}

const (
	defaultMaxPages = 10
	pageLimit       = 40 // the most objects VirusTotal returns per page
)

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured virustotal instance.
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
	key, err := providers.RequireKey(cfg, "api_key", "VIRUSTOTAL_API_KEY")
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
		Classify:     classify,
		ErrorMessage: errorMessage,
		AuthHint: fmt.Sprintf(`check api_key in provider %q (e.g. api_key = env("VIRUSTOTAL_API_KEY")); `+
			`a 403 ForbiddenError means the endpoint needs a premium key`, cfg.Address),
	})
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query answers one query.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	switch {
	case q.Op == schema.OpResolutions && q.Subject.Kind == schema.SubjectDomain:
		return p.resolutions(ctx, q, "/domains/"+url.PathEscape(q.Subject.Value)+"/resolutions")
	case q.Op == schema.OpReverseIP && q.Subject.Kind == schema.SubjectIP:
		return p.resolutions(ctx, q, "/ip_addresses/"+url.PathEscape(q.Subject.Value)+"/resolutions")
	case q.Op == schema.OpSubdomains && q.Subject.Kind == schema.SubjectDomain:
		return p.subdomains(ctx, q.Subject.Value)
	}
	return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported,
		"virustotal does not answer %s for a %s subject (%s)", q.Op, q.Subject.Kind, q.Subject.Value)
}

// resolutions reads a collection of resolution objects: each is one
// (host name, IP address) pair with the date VirusTotal last saw it.
func (p *Provider) resolutions(ctx context.Context, q schema.Query, path string) (providers.Answer, error) {
	var found []schema.Finding
	bad := 0
	ans, err := p.collect(ctx, path, func(obj object) {
		var a resolutionAttributes
		if len(obj.Attributes) > 0 && json.Unmarshal(obj.Attributes, &a) != nil {
			bad++
			return
		}
		host, ip := resolutionPair(obj.ID, a, q.Subject)
		addr, err := netip.ParseAddr(ip)
		name := schema.NormalizeName(host)
		if err != nil || schema.ValidateDomain(name) != nil {
			bad++
			return
		}
		rrtype := "A"
		if addr.Unmap().Is6() {
			rrtype = "AAAA"
		}
		if !q.WantsType(rrtype) {
			return
		}
		f := schema.NewFinding(name, rrtype, addr.String())
		// date is the last time VirusTotal saw the pair; it does not
		// know the first (see the package doc).
		f.LastSeen = providers.UnixTime(int64(a.Date))
		f.Sources = []string{p.cfg.Address}
		found = append(found, f)
	})
	if err != nil {
		return providers.Answer{}, err
	}
	if bad > 0 {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("skipped %d resolutions without a valid host name and IP address", bad))
	}
	ans.Findings = providers.MergeFindings(found)
	return ans, nil
}

// resolutionPair is the host name and IP address of a resolution. When
// the attributes lack them (relationship descriptors carry only the id),
// they come from the id, which is the IP address immediately followed by
// the host name, split at the queried subject.
func resolutionPair(id string, a resolutionAttributes, subject schema.Subject) (host, ip string) {
	host, ip = strings.TrimSpace(a.HostName), strings.TrimSpace(a.IPAddress)
	id = strings.ToLower(strings.TrimSpace(id))
	switch subject.Kind {
	case schema.SubjectDomain:
		if host == "" {
			host = subject.Value
		}
		if rest, ok := strings.CutSuffix(id, subject.Value); ip == "" && ok {
			ip = rest
		}
	case schema.SubjectIP:
		if ip == "" {
			ip = subject.Value
		}
		if rest, ok := strings.CutPrefix(id, strings.ToLower(subject.Value)); host == "" && ok {
			host = rest
		}
	}
	return host, ip
}

// subdomains reads the domain objects under a domain; each id is a name.
func (p *Provider) subdomains(ctx context.Context, domain string) (providers.Answer, error) {
	var found []schema.Finding
	bad := 0
	ans, err := p.collect(ctx, "/domains/"+url.PathEscape(domain)+"/subdomains", func(obj object) {
		f := schema.NewFinding(obj.ID, schema.TypeHost, "")
		if schema.ValidateDomain(f.Name) != nil {
			bad++
			return
		}
		f.Sources = []string{p.cfg.Address}
		found = append(found, f)
	})
	if err != nil {
		return providers.Answer{}, err
	}
	if bad > 0 {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("skipped %d subdomain ids that are not valid names", bad))
	}
	ans.Findings = providers.MergeFindings(found)
	return ans, nil
}

// collect pages through a collection with the opaque cursor VirusTotal
// returns in meta.cursor (or in links.next), calling fn for every object.
// The next page is always requested from our endpoint, never from the host
// links.next names, so mirrors and test servers keep working.
func (p *Provider) collect(ctx context.Context, path string, fn func(object)) (providers.Answer, error) {
	var ans providers.Answer
	header := http.Header{}
	header.Set("x-apikey", p.key)
	header.Set("Accept", "application/json")
	seen := map[string]bool{}
	cursor := ""
	for page := 1; ; page++ {
		params := url.Values{"limit": {fmt.Sprint(pageLimit)}}
		if cursor != "" {
			params.Set("cursor", cursor)
		}
		ans.Requests++
		resp, err := p.client.Get(ctx, p.endpoint+path+"?"+params.Encode(), header)
		if err != nil {
			return providers.Answer{}, err
		}
		if resp.StatusCode == http.StatusNotFound {
			if page == 1 {
				return ans, nil // VirusTotal has no object for the subject
			}
			// Losing the collection half-way must not pass for a
			// complete answer.
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindTransient,
				"VirusTotal answered page %d of %s with 404 (%s); run again", page, path, errorMessage(resp.Body))
		}
		if err := collectionShape.Check(resp.Body); err != nil {
			e := providers.WrongShape(p.cfg.Address, "VirusTotal", resp.URL, resp.Body, err)
			e.Msg = p.client.Redact(e.Msg)
			return providers.Answer{}, e
		}
		var c collection
		if err := json.Unmarshal(resp.Body, &c); err != nil {
			return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed,
				Msg: p.client.Redact(fmt.Sprintf("could not read the response from %s (%s)", resp.URL, providers.BodySnippet(resp.Body))), Err: err}
		}
		for _, obj := range c.Data {
			fn(obj)
		}
		cursor = c.next()
		if cursor == "" || len(c.Data) == 0 || seen[cursor] {
			return ans, nil
		}
		seen[cursor] = true
		if page >= p.maxPages {
			has := "more objects"
			if c.Meta.Count > 0 {
				has = fmt.Sprintf("%d objects", int(c.Meta.Count))
			}
			ans.Warnings = append(ans.Warnings, fmt.Sprintf(
				"VirusTotal has %s at %s; fetched the first %d pages of %d (raise max_pages to get more)",
				has, path, p.maxPages, pageLimit))
			return ans, nil
		}
	}
}

// collectionShape is what every real collection page has.
var collectionShape = providers.Shape{Required: []providers.Field{{Name: "data", Type: providers.JSONArray}}}

// classify recognises HTML served with 200, VirusTotal's quota error
// (whatever the status it comes with) and an error body served with 200.
func classify(resp *providers.Response) *providers.Error {
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok && providers.LooksLikeHTML(resp.Body) {
		return &providers.Error{Kind: providers.KindMalformed, Msg: "VirusTotal answered " + resp.URL + " with an HTML page instead of JSON"}
	}
	code, msg := parseError(resp.Body)
	detail := strings.Trim(code+": "+msg, ": ")
	switch {
	case code == "QuotaExceededError":
		return &providers.Error{Kind: providers.KindQuota,
			Msg: fmt.Sprintf("VirusTotal quota of this API key is spent (HTTP %d %s); VirusTotal answers so for its minute, daily and monthly quotas alike, "+
				"so the provider stops for this run (the public API allows 4 requests a minute and 500 a day; the daily quota resets at 00:00 UTC)", resp.StatusCode, detail)}
	case ok && code != "":
		return &providers.Error{Kind: providers.KindMalformed, Msg: fmt.Sprintf("VirusTotal answered %s with status %d and an error instead of data (%s)", resp.URL, resp.StatusCode, detail)}
	case resp.StatusCode != http.StatusTooManyRequests:
		return nil
	}
	retryAfter := providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if retryAfter == 0 {
		retryAfter = 15 * time.Second // one slot of the 4/min quota
	}
	if detail == "" {
		detail = providers.BodySnippet(resp.Body)
	}
	return &providers.Error{Kind: providers.KindRateLimited, Retryable: true, RetryAfter: retryAfter,
		Msg: fmt.Sprintf("VirusTotal rate limit (HTTP 429 %s); the public API allows 4 requests a minute", detail)}
}

// errorMessage reads {"error": {"code": ..., "message": ...}}.
func errorMessage(body []byte) string {
	code, msg := parseError(body)
	switch {
	case code != "" && msg != "":
		return code + ": " + msg
	case code != "":
		return code
	}
	return msg
}

func parseError(body []byte) (code, msg string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	return providers.BodySnippet([]byte(e.Error.Code)), providers.BodySnippet([]byte(e.Error.Message))
}

// Wire format.

type collection struct {
	Meta struct {
		Count  providers.FlexInt `json:"count"`
		Cursor string            `json:"cursor"`
	} `json:"meta"`
	Data  []object `json:"data"`
	Links struct {
		Next string `json:"next"`
	} `json:"links"`
}

// next is the cursor of the following page, "" on the last page.
func (c collection) next() string {
	if c.Meta.Cursor != "" {
		return c.Meta.Cursor
	}
	if c.Links.Next != "" {
		if u, err := url.Parse(c.Links.Next); err == nil {
			return u.Query().Get("cursor")
		}
	}
	return ""
}

type object struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Attributes json.RawMessage `json:"attributes"`
}

type resolutionAttributes struct {
	Date      providers.FlexInt `json:"date"`
	HostName  string            `json:"host_name"`
	IPAddress string            `json:"ip_address"`
}

var _ providers.UsageReporter = (*Provider)(nil)

// overallQuotasShape is what every real overall_quotas answer has.
var overallQuotasShape = providers.Shape{Required: []providers.Field{{Name: "data", Type: providers.JSONObject}}}

// Usage reads the key's own counts from GET /users/{id}/overall_quotas
// (the id may be the API key itself, as VirusTotal documents): the
// "user" figures of api_requests_hourly, _daily and _monthly (a key in a
// group also has the group's, which the group's other keys share). See
// testdata/real/virustotal/users_overall_quotas.json.
func (p *Provider) Usage(ctx context.Context) ([]providers.VendorUsage, error) {
	header := http.Header{}
	header.Set("x-apikey", p.key)
	header.Set("Accept", "application/json")
	resp, err := p.client.Get(ctx, p.endpoint+"/users/"+url.PathEscape(p.key)+"/overall_quotas", header)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, providers.Errorf(p.cfg.Address, providers.KindBadInput, "VirusTotal has no quotas for this key (HTTP 404 from %s)", resp.URL)
	}
	if err := overallQuotasShape.Check(resp.Body); err != nil {
		e := providers.WrongShape(p.cfg.Address, "VirusTotal", resp.URL, resp.Body, err)
		e.Msg = p.client.Redact(e.Msg)
		return nil, e
	}
	var body struct {
		Data map[string]struct {
			User *struct {
				Used    *int `json:"used"`
				Allowed int  `json:"allowed"`
			} `json:"user"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return nil, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed,
			Msg: p.client.Redact(fmt.Sprintf("could not read the quotas from %s (%s)", resp.URL, providers.BodySnippet(resp.Body))), Err: err}
	}
	var out []providers.VendorUsage
	for name, period := range map[string]schema.QuotaPeriod{"api_requests_hourly": schema.QuotaHour, "api_requests_daily": schema.QuotaDay, "api_requests_monthly": schema.QuotaMonth} {
		q, ok := body.Data[name]
		if !ok || q.User == nil || q.User.Used == nil || *q.User.Used < 0 {
			continue
		}
		out = append(out, providers.VendorUsage{Period: period, Used: *q.User.Used, Limit: max(q.User.Allowed, 0)})
	}
	if len(out) == 0 {
		return nil, providers.Errorf(p.cfg.Address, providers.KindMalformed, "VirusTotal's quotas at %s name no API request quota", resp.URL)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period.Approx() < out[j].Period.Approx() })
	return out, nil
}
