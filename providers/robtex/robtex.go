// Package robtex is the Robtex passive DNS provider: forward lookups
// (/pdns/forward/{name}) and reverse lookups of an IP address or of a
// name server (/pdns/reverse/{value}), on the free API or, with a key, the
// Pro API.
//
// Robtex answers NDJSON with `rrdata` (not `rdata`), CRLF line ends and
// repeated lines, and signals its rate limit either with HTTP 429 or with
// a 200 body {"status":"ratelimited"}. Each query is one request.
package robtex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the robtex provider type.
var Schema = schema.ProviderSchema{
	Type:        "robtex",
	Description: "Robtex passive DNS: forward lookups, reverse lookups of an IP or a name server; free API, or the Pro API with api_key.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: false, Sensitive: true, Description: "Robtex Pro API key (sent as ?key=), e.g. env(\"ROBTEX_API_KEY\"); with it the endpoint defaults to " + proEndpoint + ". Leave unset for the free API."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
		schema.OpNSReverse:   {RRTypes: []string{"NS"}},
	},
	DefaultRate:     "8/min",
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://freeapi.robtex.com",
}

const proEndpoint = "https://proapi.robtex.com"

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured robtex instance.
type Provider struct {
	cfg      providers.Config
	client   *providers.HTTPClient
	endpoint string
	key      string
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config. The key is optional.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	key := strings.TrimSpace(cfg.String("api_key"))
	endpoint := strings.TrimRight(cfg.Endpoint, "/")
	if key != "" && (endpoint == "" || endpoint == Schema.DefaultEndpoint) {
		endpoint = proEndpoint // a Pro key is only accepted by the Pro API
	}
	if endpoint == "" {
		endpoint = Schema.DefaultEndpoint
	}
	p := &Provider{cfg: cfg, endpoint: endpoint, key: key}
	hint := fmt.Sprintf(`the Robtex Pro API needs a valid key: check api_key in provider %q (e.g. api_key = env("ROBTEX_API_KEY")), or leave it unset to use the free API`, cfg.Address)
	p.client = providers.NewHTTPClient(cfg, providers.HTTPOptions{
		Secrets:      []string{key},
		AcceptStatus: []int{http.StatusNotFound},
		Classify:     p.classify,
		AuthHint:     hint,
	})
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query answers one query.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	var path string
	keep := q.WantsType
	switch {
	case q.Op == schema.OpResolutions && q.Subject.Kind == schema.SubjectDomain:
		path = "/pdns/forward/" + url.PathEscape(q.Subject.Value)
	case q.Op == schema.OpReverseIP && q.Subject.Kind == schema.SubjectIP:
		path = "/pdns/reverse/" + url.PathEscape(q.Subject.Value)
	case q.Op == schema.OpNSReverse && q.Subject.Kind == schema.SubjectDomain:
		// A reverse lookup of a name returns every record pointing to
		// it (CNAME, MX, NS ...); the op asks for delegations only.
		path = "/pdns/reverse/" + url.PathEscape(q.Subject.Value)
		keep = func(t string) bool { return t == "NS" }
	default:
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported,
			"robtex does not answer %s for a %s subject (%s)", q.Op, q.Subject.Kind, q.Subject.Value)
	}
	u := p.endpoint + path
	if p.key != "" {
		u += "?" + url.Values{"key": {p.key}}.Encode()
	}
	header := http.Header{}
	header.Set("Accept", "application/x-ndjson, application/json")
	resp, err := p.client.Get(ctx, u, header)
	if err != nil {
		return providers.Answer{}, err
	}
	ans := providers.Answer{Requests: 1}
	if resp.StatusCode == http.StatusNotFound {
		return ans, nil
	}
	found, skipped, err := parse(resp.Body, p.cfg.Address)
	if err != nil {
		return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed,
			Msg: "could not read the response from " + resp.URL, Err: errors.New(p.client.Redact(err.Error()))}
	}
	if skipped > 0 {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("skipped %d records without a name, type or data in the answer from %s", skipped, resp.URL))
	}
	kept := found[:0]
	for _, f := range found {
		if keep(f.Type) {
			kept = append(kept, f)
		}
	}
	ans.Findings = providers.MergeFindings(kept)
	return ans, nil
}

// record is one pDNS line as Robtex writes it.
type record struct {
	RRName    string                `json:"rrname"`
	RRData    providers.FlexStrings `json:"rrdata"`
	RData     providers.FlexStrings `json:"rdata"` // tolerated: the COF name
	RRType    providers.FlexString  `json:"rrtype"`
	TimeFirst providers.FlexInt     `json:"time_first"`
	TimeLast  providers.FlexInt     `json:"time_last"`
	Count     providers.FlexInt     `json:"count"`
	Status    string                `json:"status"`
}

// parse reads an NDJSON answer. Repeated lines are dropped; a line that is
// not JSON fails the answer (the body is damaged); a JSON line of another
// shape or without a name, type or data is skipped and counted.
func parse(body []byte, source string) (found []schema.Finding, skipped int, err error) {
	seen := map[string]bool{}
	err = providers.EachLine(body, func(lineNo int, line []byte) error {
		if seen[string(line)] {
			return nil
		}
		seen[string(line)] = true
		if !json.Valid(line) {
			return fmt.Errorf("line %d is not JSON: %s", lineNo, providers.BodySnippet(line))
		}
		var r record
		if json.Unmarshal(line, &r) != nil {
			skipped++ // JSON of another shape: a vendor quirk, not damage
			return nil
		}
		if r.Status != "" && r.RRName == "" {
			if r.Status == "ok" {
				return nil
			}
			return fmt.Errorf("line %d: status %q", lineNo, r.Status)
		}
		data := r.RRData
		if len(data) == 0 {
			data = r.RData
		}
		if strings.TrimSpace(r.RRName) == "" || strings.TrimSpace(string(r.RRType)) == "" || len(data) == 0 {
			skipped++
			return nil
		}
		for _, d := range data {
			if strings.TrimSpace(d) == "" {
				continue
			}
			f := schema.NewFinding(r.RRName, string(r.RRType), d)
			f.FirstSeen = providers.UnixTime(int64(r.TimeFirst))
			f.LastSeen = providers.UnixTime(int64(r.TimeLast))
			f.Count = int64(r.Count)
			f.Sources = []string{source}
			found = append(found, f)
		}
		return nil
	})
	return found, skipped, err
}

// classify turns Robtex's rate-limit signals (429, or 200 with
// {"status":"ratelimited"}) into a retryable error, and an HTML page
// served with 200 into a malformed-response error.
func (p *Provider) classify(resp *providers.Response) *providers.Error {
	rateLimited := &providers.Error{Kind: providers.KindRateLimited, Retryable: true,
		RetryAfter: providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Msg:        fmt.Sprintf("Robtex rate limit reached at %s; lower rate in provider %q, or use a Pro key (api_key)", resp.URL, p.cfg.Address)}
	if resp.StatusCode == http.StatusTooManyRequests {
		return rateLimited
	}
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	if providers.LooksLikeHTML(resp.Body) {
		return &providers.Error{Kind: providers.KindMalformed, Msg: "Robtex answered " + resp.URL + " with an HTML page instead of NDJSON"}
	}
	first := bytes.TrimSpace(resp.Body)
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = bytes.TrimSpace(first[:i])
	}
	var st struct {
		Status string `json:"status"`
		RRName string `json:"rrname"`
	}
	if json.Unmarshal(first, &st) != nil || st.Status == "" || st.RRName != "" || st.Status == "ok" {
		return nil
	}
	if st.Status == "ratelimited" {
		if rateLimited.RetryAfter == 0 {
			rateLimited.RetryAfter = 5 * time.Second // Robtex wants seconds between calls
		}
		return rateLimited
	}
	return &providers.Error{Kind: providers.KindBadInput, Msg: fmt.Sprintf("Robtex answered %s with status %q", resp.URL, providers.BodySnippet([]byte(st.Status)))}
}
