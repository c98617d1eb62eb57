// Package dnsdb answers queries from the Farsight/DomainTools DNSDB API v2:
// rrset lookups (resolutions, subdomains through "*.domain") and rdata
// lookups (reverse IP by address or prefix, NS and MX reverse).
//
// DNSDB streams NDJSON in its Streaming API Framing (SAF): a "begin" line,
// object lines, and a terminating "succeeded", "limited" or "failed"
// line. A 200 status only means the query started: a stream without its
// terminator is truncated and an error, "failed" is an error with the
// vendor's message, and "limited" is a partial answer that is paged with
// offset (while the account's offset_max allows) and otherwise reported as
// a warning.
//
// Where DNSDB's semantics are unclear, these are the readings taken (the
// bodies in testdata/real/dnsdb show each case):
//
//   - Windows. A record may carry a sensor window (time_first/time_last),
//     a zone-file window (zone_time_*) or both; each is an observation of
//     the tuple, so its window is their union. With humantime (and in
//     client exports) the times are RFC 3339 strings, read by the one COF
//     time parser (providers.ParseCOFTime).
//   - Counts. RRsets of one tuple from different bailiwicks, zone-file
//     and sensor records, and aggr=false windows are different
//     observations and their counts add up; a record repeated exactly (a
//     limited answer paged by offset, whose order DNSDB does not promise)
//     counts once (providers.MergeObservations).
//   - Shapes. A 200 body that is not a SAF stream ({}, null, an error
//     object, COF without the framing) or whose objects are none of them
//     records (no rrname, rrtype or rdata) is malformed, or a quota when
//     it says so, never "nothing there". No results is begin and
//     succeeded, or 204 (which go-dnsdb also reads as no results).
package dnsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the dnsdb provider type.
var Schema = schema.ProviderSchema{
	Type:        "dnsdb",
	Description: "Farsight/DomainTools DNSDB API v2 (SAF streaming): rrset and rdata lookups.",
	Attributes: []schema.ProviderAttribute{
		{Name: "api_key", Type: cty.String, Required: true, Sensitive: true, Description: "DNSDB API key (X-API-Key header)."},
		{Name: "limit", Type: cty.Number, Description: "Results asked for per request (DNSDB limit); 0 asks for the account's results_max.", Default: cty.NumberIntVal(defaultLimit)},
		{Name: "max_pages", Type: cty.Number, Description: "Requests per query when DNSDB reports the result limit reached and offset paging is allowed.", Default: cty.NumberIntVal(defaultMaxPages)},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {RRTypes: []string{"A", "AAAA"}},
		schema.OpSubdomains:  {},
		schema.OpNSReverse:   {RRTypes: []string{"NS"}},
		schema.OpMXReverse:   {RRTypes: []string{"MX"}},
	},
	DefaultRate:     "1/s",
	DefaultTimeout:  60 * time.Second,
	DefaultEndpoint: "https://api.dnsdb.info/dnsdb/v2",
}

// timeFences are DNSDB's time-fencing parameters a query may pass in its
// params (unix seconds, or negative for relative seconds ago).
var timeFences = []string{"time_first_before", "time_first_after", "time_last_before", "time_last_after"}

const (
	defaultLimit    = 10000
	defaultMaxPages = 20
)

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured dnsdb instance.
type Provider struct {
	cfg      providers.Config
	base     string // the API root, ending in /dnsdb/v2
	key      string
	limit    int64
	maxPages int64
	client   *providers.HTTPClient
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	key := cfg.String("api_key")
	if strings.TrimSpace(key) == "" {
		return nil, fmt.Errorf(`provider %q: api_key is empty; set it, e.g. api_key = env("DNSDB_API_KEY")`, cfg.Address)
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("provider %q: endpoint %q is not a URL", cfg.Address, cfg.Endpoint)
	}
	p := &Provider{
		cfg:      cfg,
		base:     providers.APIBase(cfg.Endpoint, Schema.DefaultEndpoint),
		key:      key,
		limit:    cfg.Int("limit", defaultLimit),
		maxPages: max(cfg.Int("max_pages", defaultMaxPages), 1),
	}
	if p.limit < 0 {
		return nil, fmt.Errorf("provider %q: limit must be 0 or more", cfg.Address)
	}
	p.client = providers.NewHTTPClient(cfg, providers.HTTPOptions{
		Secrets:      []string{key},
		AcceptStatus: []int{http.StatusRequestedRangeNotSatisfiable},
		Classify:     p.classify,
		AuthHint:     fmt.Sprintf("check api_key in provider %q (DNSDB_API_KEY); DNSDB also answers 403 to client IPs the key does not allow", cfg.Address),
	})
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query runs one DNSDB lookup for q, paging while the answer is limited.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	path, err := lookupPath(q)
	if err != nil {
		return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindUnsupported, Msg: err.Error()}
	}
	limit := p.limit
	if v, ok := q.Params["limit"]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			limit = n
		}
	}
	header := http.Header{"X-API-Key": {p.key}, "Accept": {"application/x-ndjson"}}
	base := p.base + "/" + path
	var (
		ans    providers.Answer
		all    []schema.Finding
		offset int
	)
	for page := 1; ; page++ {
		params := url.Values{"limit": {strconv.FormatInt(limit, 10)}}
		for _, name := range timeFences {
			if v := q.Params[name]; v != "" {
				params.Set(name, v)
			}
		}
		if offset > 0 {
			params.Set("offset", strconv.Itoa(offset))
		}
		resp, err := p.client.Get(ctx, base+"?"+params.Encode(), header)
		if err != nil {
			return providers.Answer{}, err
		}
		ans.Requests++
		if resp.StatusCode == http.StatusNoContent {
			break
		}
		if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			if page == 1 {
				return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindBadInput, Msg: "DNSDB refused the offset: " + providers.BodySnippet(resp.Body)}
			}
			ans.Warnings = append(ans.Warnings, fmt.Sprintf("DNSDB result limit reached after %d records and the account does not allow paging further (offset_max); the answer is partial", offset))
			break
		}
		stream, err := ParseSAF(resp.Body)
		if err != nil {
			// classify has already turned these into errors; this is a guard.
			return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed, Msg: "reading " + resp.URL + ": " + p.client.Redact(err.Error())}
		}
		ans.Warnings = append(ans.Warnings, stream.Warnings...)
		for _, rec := range stream.Records {
			all = append(all, p.findings(q, rec)...)
		}
		if stream.Cond == CondSucceeded {
			break
		}
		// limited: more may exist.
		offset += len(stream.Records)
		if len(stream.Records) == 0 || int64(page) >= p.maxPages {
			msg := stream.Msg
			if msg == "" {
				msg = "result limit reached"
			}
			ans.Warnings = append(ans.Warnings, fmt.Sprintf("DNSDB: %s after %d records in %d requests; the answer is partial (raise limit or max_pages in provider %q)", msg, offset, page, p.cfg.Address))
			break
		}
	}
	if v := ans.Warnings; len(v) > 0 && p.cfg.Logger != nil {
		p.cfg.Logger.Warn("partial answer", "query", q.Key(), "warnings", len(v))
	}
	// Offset pages are in no promised order and may repeat a record: an
	// observation read twice counts once.
	ans.Findings = providers.MergeObservations(all)
	return ans, nil
}

// lookupPath maps an op to its DNSDB lookup path (below the endpoint).
func lookupPath(q schema.Query) (string, error) {
	sub := q.Subject
	rrtype := ""
	if len(q.RRTypes) == 1 {
		rrtype = "/" + q.RRTypes[0]
	}
	switch q.Op {
	case schema.OpResolutions, schema.OpSubdomains:
		if sub.Kind != schema.SubjectDomain {
			return "", fmt.Errorf("dnsdb %s takes a domain name, not %q", q.Op, sub.Value)
		}
		if schema.IsWildcard(sub.Value) {
			// DNSDB reads a leading "*." as a search of every name under
			// the rest: not the question asked.
			return "", fmt.Errorf("dnsdb %s takes a host name, not the wildcard name %q", q.Op, sub.Value)
		}
		owner := sub.Value
		if q.Op == schema.OpSubdomains {
			owner = "*." + owner
		}
		return "lookup/rrset/name/" + owner + rrtype, nil
	case schema.OpReverseIP:
		value := sub.Value
		switch sub.Kind {
		case schema.SubjectCIDR: // DNSDB writes prefixes with a comma
			value = strings.Replace(value, "/", ",", 1)
		case schema.SubjectIP:
		default:
			return "", fmt.Errorf("dnsdb reverse_ip takes an IP address or CIDR, not %q", sub.Value)
		}
		if rrtype != "/A" && rrtype != "/AAAA" {
			rrtype = ""
		}
		return "lookup/rdata/ip/" + strings.ReplaceAll(value, ":", "%3A") + rrtype, nil
	case schema.OpNSReverse, schema.OpMXReverse:
		if sub.Kind != schema.SubjectDomain {
			return "", fmt.Errorf("dnsdb %s takes a host name, not %q", q.Op, sub.Value)
		}
		t := "NS"
		if q.Op == schema.OpMXReverse {
			t = "MX"
		}
		return "lookup/rdata/name/" + sub.Value + "/" + t, nil
	}
	return "", fmt.Errorf("dnsdb does not answer op %q", q.Op)
}

// findings turns one COF record into findings for q: one per rdata value,
// and for subdomains a HOST finding for the owner.
func (p *Provider) findings(q schema.Query, rec Record) []schema.Finding {
	rrtype := rec.Type()
	first, last := rec.Window()
	var out []schema.Finding
	add := func(f schema.Finding) {
		f.FirstSeen, f.LastSeen, f.Count = first, last, rec.Count
		f.Sources = []string{p.cfg.Address}
		out = append(out, f)
	}
	if q.Op == schema.OpSubdomains {
		add(schema.NewFinding(rec.RRName, schema.TypeHost, ""))
	}
	filtered := q.Op == schema.OpResolutions || q.Op == schema.OpSubdomains
	if rrtype == "" || (filtered && !q.WantsType(rrtype)) {
		return out
	}
	for _, v := range rec.RData {
		add(schema.NewFinding(rec.RRName, rrtype, v))
	}
	return out
}

func (p *Provider) classify(resp *providers.Response) *providers.Error {
	switch resp.StatusCode {
	case http.StatusOK:
		stream, err := ParseSAF(resp.Body)
		var failed *FailedError
		switch {
		case err == nil && len(stream.Records) == 0 && stream.Skipped > 0:
			// Objects, none of them a record: not "nothing there".
			return &providers.Error{Kind: providers.KindMalformed, Msg: fmt.Sprintf("DNSDB's stream from %s has %d objects and no COF record among them (%s)", resp.URL, stream.Objects, stream.Reason)}
		case err == nil:
			return nil
		case errors.As(err, &failed):
			if providers.SpentOrSlow(failed.Msg) == providers.KindQuota {
				return &providers.Error{Kind: providers.KindQuota, Msg: "DNSDB ended the stream from " + resp.URL + " because the quota is spent: " + providers.BodySnippet([]byte(failed.Msg))}
			}
			// Not retried: a failed query (often a server-side timeout on a
			// large answer) would fail again and spend quota each time.
			return &providers.Error{Kind: providers.KindTransient, Msg: "DNSDB query failed: " + providers.BodySnippet([]byte(failed.Msg)) + " (narrow the query, e.g. with rrtypes)"}
		case errors.Is(err, ErrTruncated):
			return &providers.Error{Kind: providers.KindTransient, Retryable: true, Msg: "DNSDB stream from " + resp.URL + " ended without its terminating line (truncated)"}
		case providers.LooksLikeHTML(resp.Body):
			return &providers.Error{Kind: providers.KindMalformed, Msg: "DNSDB sent an HTML page instead of a SAF stream (" + resp.URL + ")"}
		default:
			// {}, null, an error object, COF lines without the framing:
			// malformed, or a quota when the body says so.
			e := providers.NotAnAnswer("DNSDB", resp.URL, resp.Body, `SAF stream (a "begin" line, COF objects, a terminating cond)`)
			e.Msg += " (" + err.Error() + ")" // redacted by the client
			return e
		}
	case http.StatusNoContent:
		return nil // an empty answer (go-dnsdb reads 204 as no results)
	case http.StatusUnauthorized:
		if strings.Contains(strings.ToLower(string(resp.Body)), "quota") {
			msg := fmt.Sprintf("DNSDB block quota of the api_key in provider %q has expired", p.cfg.Address)
			if t := headerTime(resp.Header.Get("X-RateLimit-Expires")); !t.IsZero() {
				msg += " (expired " + t.Format(time.RFC3339) + ")"
			}
			return &providers.Error{Kind: providers.KindQuota, Msg: msg}
		}
		return &providers.Error{Kind: providers.KindAuth, Msg: fmt.Sprintf("DNSDB does not allow this key on API v2 (HTTP 401: %s); check api_key in provider %q (DNSDB_API_KEY)", providers.BodySnippet(resp.Body), p.cfg.Address)}
	case http.StatusTooManyRequests:
		return p.tooMany(resp)
	}
	return nil
}

// tooMany classifies a 429: a spent daily or block quota is final and says
// when it resets; a burst limit is retried.
func (p *Provider) tooMany(resp *providers.Response) *providers.Error {
	h := resp.Header
	if wait := providers.ParseRetryAfter(h.Get("Retry-After"), time.Now()); wait > 0 || h.Get("Retry-After") != "" {
		return &providers.Error{Kind: providers.KindRateLimited, Retryable: true, RetryAfter: wait, Msg: "DNSDB rate limit (HTTP 429)"}
	}
	if strings.TrimSpace(h.Get("X-RateLimit-Remaining")) != "0" {
		return &providers.Error{Kind: providers.KindRateLimited, Retryable: true, Msg: "DNSDB burst limit or quota reached (HTTP 429): " + providers.BodySnippet(resp.Body)}
	}
	msg := "DNSDB quota exhausted"
	if l := strings.TrimSpace(h.Get("X-RateLimit-Limit")); l != "" {
		msg += " (" + l + " queries"
		if headerTime(h.Get("X-RateLimit-Reset")).IsZero() && !headerTime(h.Get("X-RateLimit-Expires")).IsZero() {
			msg += " in a block quota)"
		} else {
			msg += " a day)"
		}
	}
	switch {
	case !headerTime(h.Get("X-RateLimit-Reset")).IsZero():
		msg += "; it resets at " + headerTime(h.Get("X-RateLimit-Reset")).Format(time.RFC3339)
	case !headerTime(h.Get("X-RateLimit-Expires")).IsZero():
		msg += "; the block quota expires at " + headerTime(h.Get("X-RateLimit-Expires")).Format(time.RFC3339)
	default:
		msg += "; daily quotas reset at 00:00 UTC"
	}
	return &providers.Error{Kind: providers.KindQuota, Msg: msg}
}

// headerTime reads a unix-seconds rate-limit header; "n/a" and junk are
// the zero time.
func headerTime(v string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return providers.UnixTime(n)
}

// SAF conditions.
const (
	CondBegin     = "begin"
	CondOngoing   = "ongoing"
	CondSucceeded = "succeeded"
	CondLimited   = "limited"
	CondFailed    = "failed"
)

// ErrTruncated is a SAF stream without its terminating line.
var ErrTruncated = errors.New("stream ended without a terminating condition (truncated)")

// FailedError is a stream that ended with cond "failed".
type FailedError struct{ Msg string }

func (e *FailedError) Error() string { return "query failed: " + e.Msg }

// Stream is a complete SAF answer: its records and how it ended
// (succeeded or limited).
type Stream struct {
	Records []Record
	Cond    string
	Msg     string
	// Objects counts the obj lines; Skipped those that were not usable
	// records (Reason says why the first was not).
	Objects, Skipped int
	Reason           string
	Warnings         []string
}

// Record is a COF record as DNSDB sends it, decoded as every COF reader
// decodes one (providers.COFRecord): rdata as a string (rdata lookups) or
// an array (rrset lookups), rrtype as a mnemonic or a number, sensor
// (time_*) and zone-file (zone_time_*) windows as unix seconds or, with
// humantime, RFC 3339 strings. Window is the union of both windows.
type Record struct{ providers.COFRecord }

// ParseSAF reads a SAF body. It returns ErrTruncated when the terminating
// line is missing, *FailedError for cond "failed", and another error when
// the body is not SAF. A record line that is JSON but not a usable record
// is skipped with a warning.
func ParseSAF(body []byte) (Stream, error) {
	var (
		s     Stream
		lines int
		ended bool
	)
	type line struct {
		Cond string          `json:"cond"`
		Msg  string          `json:"msg"`
		Obj  json.RawMessage `json:"obj"`
	}
	err := providers.EachLine(body, func(n int, raw []byte) error {
		lines++
		if ended {
			return fmt.Errorf("line %d: data after the terminating condition", n)
		}
		var l line
		if err := json.Unmarshal(raw, &l); err != nil {
			return &lineError{n: n, err: err}
		}
		if lines == 1 {
			if l.Cond != CondBegin {
				return fmt.Errorf("line %d: stream does not start with cond \"begin\"", n)
			}
			return nil
		}
		if len(l.Obj) > 0 {
			s.Objects++
			var rec Record
			why := ""
			if err := json.Unmarshal(l.Obj, &rec.COFRecord); err != nil {
				why = err.Error()
			} else if missing := rec.Missing(); missing != "" {
				why = "no " + missing
			}
			if why == "" {
				s.Records = append(s.Records, rec)
			} else {
				s.Skipped++
				if s.Reason == "" {
					s.Reason = fmt.Sprintf("line %d: %s", n, why)
				}
				if len(s.Warnings) < 5 {
					s.Warnings = append(s.Warnings, fmt.Sprintf("DNSDB line %d is not a usable record (%s); skipped", n, why))
				}
			}
		}
		switch l.Cond {
		case "", CondOngoing:
		case CondSucceeded, CondLimited:
			s.Cond, s.Msg, ended = l.Cond, l.Msg, true
		case CondFailed:
			return &FailedError{Msg: l.Msg}
		default:
			return fmt.Errorf("line %d: unknown cond %q", n, providers.BodySnippet([]byte(l.Cond)))
		}
		return nil
	})
	var le *lineError
	switch {
	case errors.As(err, &le):
		// A broken last line is a stream cut mid-line.
		if isLastLine(body, le.n) && lines > 1 {
			return Stream{}, ErrTruncated
		}
		return Stream{}, fmt.Errorf("line %d is not JSON: %w", le.n, le.err)
	case err != nil:
		return Stream{}, err
	case lines == 0:
		return Stream{}, errors.New("empty body")
	case !ended:
		return Stream{}, ErrTruncated
	}
	return s, nil
}

type lineError struct {
	n   int
	err error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.n, e.err) }

// isLastLine reports whether line n (1-based) is the last non-empty line.
func isLastLine(body []byte, n int) bool {
	last := 0
	providers.EachLine(body, func(i int, _ []byte) error { last = i; return nil })
	return n == last
}
