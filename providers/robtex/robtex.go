// Package robtex is the Robtex passive DNS provider: forward lookups
// (/pdns/forward/{name}) and reverse lookups of an IP address or of a
// name server (/pdns/reverse/{value}), on the free API or, with a key, the
// Pro API.
//
// Robtex answers NDJSON with `rrdata` (not `rdata`), CRLF line ends and
// repeated lines, and signals its rate limit either with HTTP 429 or with
// a 200 body {"status":"ratelimited"}. Each query is one request.
//
// Where Robtex's semantics are unclear, these are the readings taken (the
// recorded bodies in testdata/real/robtex show each case):
//
//   - Repeated lines. A reverse answer repeats whole lines (15 lines, 9
//     records for a.iana-servers.net): the same observation read twice
//     counts once, whatever the spacing or key order of the line; records
//     of one tuple with another window or count add up
//     (providers.MergeObservations, the rule of every COF reader, the
//     file provider's included).
//   - Lines are read as COF records (providers.COFRecord): rrdata or
//     rdata, numbers or numeric strings, times through the shared COF
//     time parser.
//   - An unknown name is a 200 with an empty body: no findings. A 200 body
//     with lines and no record ({}, null, an error object) is malformed,
//     or a quota or rate limit when it says so, never "nothing there".
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
	pg, err := parse(resp.Body, p.cfg.Address)
	if err != nil {
		return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed,
			Msg: "could not read the response from " + resp.URL, Err: errors.New(p.client.Redact(err.Error()))}
	}
	if pg.skipped > 0 {
		ans.Warnings = append(ans.Warnings, p.client.Redact(fmt.Sprintf("skipped %d records that could not be used in the answer from %s (%s)", pg.skipped, resp.URL, pg.reason)))
	}
	if pg.foreign > 0 {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("ignored %d lines of the answer from %s that are not pDNS records", pg.foreign, resp.URL))
	}
	var kept []schema.Finding
	for _, f := range pg.found {
		if keep(f.Type) {
			kept = append(kept, f)
		}
	}
	// Robtex repeats lines: an observation read twice counts once.
	ans.Findings = providers.MergeObservations(kept)
	return ans, nil
}

// parsed is what an answer held.
type parsed struct {
	found []schema.Finding
	// skipped counts lines of the pDNS shape that could not be used;
	// reason is why the first was not. foreign counts JSON values that
	// are not pDNS records at all ({}, null, an error object).
	skipped, foreign int
	reason           string
}

// parse reads an NDJSON answer. Each line is read as every COF reader
// reads a record (providers.COFRecord: rrdata, which Robtex writes, or
// rdata; numbers as strings; times through providers.ParseCOFTime). A
// line that is not JSON fails the answer (the body is damaged); a record
// that cannot be used is skipped and counted with a reason; a value that
// is not a record at all is counted apart. Repeated lines are kept here
// and counted once by the caller (providers.MergeObservations).
func parse(body []byte, source string) (p parsed, err error) {
	err = providers.EachLine(body, func(lineNo int, line []byte) error {
		if !json.Valid(line) {
			return fmt.Errorf("line %d is not JSON: %s", lineNo, providers.BodySnippet(line))
		}
		var st struct {
			Status string `json:"status"`
		}
		if json.Unmarshal(line, &st) == nil && st.Status != "" && !providers.IsCOFRecord(line) {
			if st.Status == "ok" {
				return nil
			}
			return fmt.Errorf("line %d: status %q", lineNo, st.Status)
		}
		if !providers.IsCOFRecord(line) {
			p.foreign++
			return nil
		}
		var r providers.COFRecord
		why := ""
		if err := json.Unmarshal(line, &r); err != nil {
			why = err.Error()
		} else if missing := r.Missing(); missing != "" {
			why = "no " + strings.ReplaceAll(missing, "rdata", "rrdata")
		}
		if why != "" {
			if p.skipped == 0 {
				p.reason = fmt.Sprintf("line %d: %s", lineNo, why)
			}
			p.skipped++
			return nil
		}
		first, last := r.Window()
		for _, d := range r.RData {
			if strings.TrimSpace(d) == "" {
				continue
			}
			f := schema.NewFinding(r.RRName, r.Type(), d)
			f.FirstSeen, f.LastSeen, f.Count = first, last, r.Count
			f.Sources = []string{source}
			p.found = append(p.found, f)
		}
		return nil
	})
	return p, err
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
		// Records, nothing, or no answer at all: a body with lines and no
		// pDNS record in it ({}, null, an error object) is never "nothing
		// there".
		pg, err := parse(resp.Body, p.cfg.Address)
		if err != nil || len(pg.found) > 0 || pg.skipped+pg.foreign == 0 {
			return nil
		}
		e := providers.NotAnAnswer("Robtex", resp.URL, resp.Body, "pDNS records (rrname, rrtype, rrdata)")
		if pg.reason != "" {
			e.Msg += " (" + pg.reason + ")"
		}
		return e
	}
	if st.Status == "ratelimited" {
		if rateLimited.RetryAfter == 0 {
			rateLimited.RetryAfter = 5 * time.Second // Robtex wants seconds between calls
		}
		return rateLimited
	}
	if providers.SpentOrSlow(st.Status) == providers.KindQuota {
		return &providers.Error{Kind: providers.KindQuota, Msg: fmt.Sprintf("Robtex says the quota is spent: status %q from %s", providers.BodySnippet([]byte(st.Status)), resp.URL)}
	}
	return &providers.Error{Kind: providers.KindBadInput, Msg: fmt.Sprintf("Robtex answered %s with status %q", resp.URL, providers.BodySnippet([]byte(st.Status)))}
}
