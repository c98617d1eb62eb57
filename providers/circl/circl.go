// Package circl is the CIRCL Passive DNS provider: records of a name and
// names seen on an IP address, read as Passive DNS Common Output Format
// (COF) NDJSON with HTTP Basic auth and the v2 "dribble" pagination
// headers.
//
// CIRCL's own documentation shows records with owner and value swapped
// (the IP in rrname, the queried name in rdata) and numbers as strings;
// classic servers send them the other way round and as numbers. Both are
// read here. Cost: one request per page of page_size records, up to
// max_pages pages per query.
package circl

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the circl provider type.
var Schema = schema.ProviderSchema{
	Type:        "circl",
	Description: "CIRCL Passive DNS (COF NDJSON, HTTP Basic auth, dribble paging): records of a name, names on an IP (no CIDR).",
	Attributes: []schema.ProviderAttribute{
		{Name: "username", Type: cty.String, Required: true, Sensitive: false, Description: "CIRCL pDNS user name, e.g. env(\"CIRCL_USERNAME\")."},
		{Name: "password", Type: cty.String, Required: true, Sensitive: true, Description: "CIRCL pDNS password, e.g. env(\"CIRCL_PASSWORD\")."},
		{Name: "page_size", Type: cty.Number, Default: cty.NumberIntVal(defaultPageSize), Description: "Records per page (dribble-paginate-count)."},
		{Name: "max_pages", Type: cty.Number, Default: cty.NumberIntVal(defaultMaxPages), Description: "Most pages fetched per query (each page is one request)."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpResolutions: {},
		schema.OpReverseIP:   {},
	},
	DefaultRate:     "1/s",
	DefaultTimeout:  30 * time.Second,
	DefaultEndpoint: "https://www.circl.lu/pdns/query",
}

const (
	defaultPageSize = 100
	defaultMaxPages = 10
)

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured circl instance.
type Provider struct {
	cfg      providers.Config
	client   *providers.HTTPClient
	endpoint string
	auth     string // the Authorization header value
	pageSize int
	maxPages int
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	user, pass := cfg.String("username"), cfg.String("password")
	if strings.TrimSpace(user) == "" {
		return nil, providers.Errorf(cfg.Address, providers.KindAuth,
			`provider %q: username is empty; set it, e.g. username = env("CIRCL_USERNAME")`, cfg.Address)
	}
	if pass == "" {
		return nil, providers.Errorf(cfg.Address, providers.KindAuth,
			`provider %q: password is empty; set it, e.g. password = env("CIRCL_PASSWORD")`, cfg.Address)
	}
	endpoint := providers.APIBase(cfg.Endpoint, Schema.DefaultEndpoint)
	pageSize, maxPages := cfg.Int("page_size", defaultPageSize), cfg.Int("max_pages", defaultMaxPages)
	if pageSize < 1 || maxPages < 1 {
		return nil, providers.Errorf(cfg.Address, providers.KindBadInput, "provider %q: page_size and max_pages must be at least 1", cfg.Address)
	}
	creds := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	p := &Provider{cfg: cfg, endpoint: endpoint, auth: "Basic " + creds, pageSize: int(pageSize), maxPages: int(maxPages)}
	p.client = providers.NewHTTPClient(cfg, providers.HTTPOptions{
		Secrets:      []string{pass, creds},
		AcceptStatus: []int{http.StatusNotFound},
		Classify:     p.classify,
		AuthHint: fmt.Sprintf(`check username and password in provider %q (e.g. username = env("CIRCL_USERNAME"), password = env("CIRCL_PASSWORD")); `+
			`CIRCL Passive DNS access is granted to vetted partners on request`, cfg.Address),
	})
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query answers one query.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	switch {
	case q.Op == schema.OpResolutions && q.Subject.Kind == schema.SubjectDomain,
		q.Op == schema.OpReverseIP && q.Subject.Kind == schema.SubjectIP:
	case q.Op == schema.OpReverseIP && q.Subject.Kind == schema.SubjectCIDR:
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported,
			"CIRCL Passive DNS does not answer CIDR queries (%s); query single addresses", q.Subject.Value)
	default:
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported,
			"circl does not answer %s for a %s subject (%s)", q.Op, q.Subject.Kind, q.Subject.Value)
	}
	header := http.Header{}
	header.Set("Authorization", p.auth)
	header.Set("Accept", "application/x-ndjson, application/json")
	header.Set("dribble-paginate-count", strconv.Itoa(p.pageSize))
	// Passive only: never let CIRCL resolve the subject on our behalf.
	header.Set("dribble-disable-active-query", "1")
	if len(q.RRTypes) == 1 {
		header.Set("dribble-filter-rrtype", q.RRTypes[0])
	}
	u := p.endpoint + "/" + url.PathEscape(q.Subject.Value)

	var ans providers.Answer
	var all []record
	skipped := 0
	cursors := map[string]bool{}
	for page := 1; ; page++ {
		ans.Requests++
		resp, err := p.client.Get(ctx, u, header)
		if err != nil {
			return providers.Answer{}, err
		}
		if resp.StatusCode == http.StatusNotFound {
			if page == 1 {
				break // nothing known
			}
			return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindTransient,
				"CIRCL answered page %d for %s with 404; run again", page, q.Subject.Value)
		}
		if e := strings.TrimSpace(resp.Header.Get("x-dribble-errors")); !noDribbleErrors(e) {
			ans.Warnings = append(ans.Warnings, p.client.Redact("CIRCL reported: "+providers.BodySnippet([]byte(e))))
		}
		recs, bad, err := parse(resp.Body)
		if err != nil {
			return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed,
				Msg: "could not read the response from " + resp.URL, Err: errors.New(p.client.Redact(err.Error()))}
		}
		skipped += bad
		all = append(all, recs...)
		cursor := strings.TrimSpace(resp.Header.Get("x-dribble-cursor"))
		if cursor == "" || cursors[cursor] || len(recs)+bad == 0 {
			break
		}
		if page >= p.maxPages {
			ans.Warnings = append(ans.Warnings, fmt.Sprintf("CIRCL has more than %d records for %s; fetched %d pages (raise max_pages or page_size to get more)",
				page*p.pageSize, q.Subject.Value, page))
			break
		}
		cursors[cursor] = true
		header.Set("dribble-paginate-cursor", cursor)
	}
	if skipped > 0 {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("skipped %d records without a name, type or data", skipped))
	}
	swappedAnswer := orientation(all)
	var found []schema.Finding
	seen := map[string]bool{}
	for _, r := range all {
		for _, f := range r.findings(q.Subject, swappedAnswer) {
			if !q.WantsType(f.Type) {
				continue
			}
			// Pages may repeat records; count each observation once.
			key := fmt.Sprint(f.ID(), f.FirstSeen.Unix(), f.LastSeen.Unix(), f.Count)
			if seen[key] {
				continue
			}
			seen[key] = true
			f.Sources = []string{p.cfg.Address}
			found = append(found, f)
		}
	}
	ans.Findings = providers.MergeFindings(found)
	return ans, nil
}

// classify recognises an HTML page served with 200 and words CIRCL's 429,
// which PyPDNS documents as an exhausted quota.
func (p *Provider) classify(resp *providers.Response) *providers.Error {
	switch {
	case resp.StatusCode == http.StatusOK && providers.LooksLikeHTML(resp.Body):
		return &providers.Error{Kind: providers.KindMalformed, Msg: "CIRCL answered " + resp.URL + " with an HTML page instead of COF NDJSON"}
	case resp.StatusCode == http.StatusTooManyRequests:
		return &providers.Error{Kind: providers.KindRateLimited, Retryable: true,
			RetryAfter: providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Msg:        fmt.Sprintf("CIRCL Passive DNS quota or rate limit exhausted (HTTP 429 from %s); CIRCL does not say when it resets: lower rate in provider %q or ask CIRCL", resp.URL, p.cfg.Address)}
	}
	return nil
}

// record is one COF line, tolerant of CIRCL's variants: numbers as
// strings, rdata as a string or an array, rrtype as a number, zone or
// millisecond times instead of time_first/time_last.
type record struct {
	RRName        providers.FlexString  `json:"rrname"`
	RRType        providers.FlexString  `json:"rrtype"`
	RData         providers.FlexStrings `json:"rdata"`
	Count         providers.FlexInt     `json:"count"`
	TimeFirst     providers.FlexInt     `json:"time_first"`
	TimeLast      providers.FlexInt     `json:"time_last"`
	ZoneTimeFirst providers.FlexInt     `json:"zone_time_first"`
	ZoneTimeLast  providers.FlexInt     `json:"zone_time_last"`
	TimeFirstMS   providers.FlexInt     `json:"time_first_ms"`
	TimeLastMS    providers.FlexInt     `json:"time_last_ms"`
}

// parse reads a COF body: one JSON object per line, or (from servers
// that frame COF as one JSON array) an array of them. A line that is not
// JSON means the body is damaged and fails the answer; a JSON value of the
// wrong shape or without name, type or data is skipped and counted.
func parse(body []byte) (recs []record, skipped int, err error) {
	take := func(raw []byte) {
		var r record
		if json.Unmarshal(raw, &r) != nil || strings.TrimSpace(string(r.RRName)) == "" || r.rrtype() == "" || len(r.RData) == 0 {
			skipped++
			return
		}
		recs = append(recs, r)
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return nil, 0, fmt.Errorf("the body is neither NDJSON nor a JSON array: %w", err)
		}
		for _, raw := range list {
			take(raw)
		}
		return recs, skipped, nil
	}
	err = providers.EachLine(body, func(lineNo int, line []byte) error {
		if !json.Valid(line) {
			return fmt.Errorf("line %d is not JSON: %s", lineNo, providers.BodySnippet(line))
		}
		take(line)
		return nil
	})
	return recs, skipped, err
}

// rrtype is the record type mnemonic; RFC 3597 numbers become mnemonics
// where one exists, "TYPEn" otherwise.
func (r record) rrtype() string {
	t := strings.ToUpper(strings.TrimSpace(string(r.RRType)))
	if n, err := strconv.ParseUint(t, 10, 16); err == nil {
		if name, ok := dns.TypeToString[uint16(n)]; ok {
			return name
		}
		return "TYPE" + t
	}
	return t
}

func (r record) times() (first, last time.Time) {
	pick := func(secs, zone, ms providers.FlexInt) time.Time {
		switch {
		case secs > 0:
			return providers.UnixTime(int64(secs))
		case zone > 0:
			return providers.UnixTime(int64(zone))
		case ms > 0:
			return providers.UnixTime(int64(ms) / 1000)
		}
		return time.Time{}
	}
	return pick(r.TimeFirst, r.ZoneTimeFirst, r.TimeFirstMS), pick(r.TimeLast, r.ZoneTimeLast, r.TimeLastMS)
}

// orientation reports whether an answer as a whole has owner and value
// swapped: some A/AAAA or MX record shows it by its syntax (an address or
// "pref host" as owner) and none shows the classic orientation. With no
// evidence either way it also returns true, so that the subject decides.
func orientation(recs []record) (swappedAnswer bool) {
	swappedSeen, classicSeen := false, false
	for _, r := range recs {
		if len(r.RData) != 1 {
			continue
		}
		owner, value := string(r.RRName), r.RData[0]
		switch r.rrtype() {
		case "A", "AAAA":
			swappedSeen = swappedSeen || isIP(owner) && !isIP(value)
			classicSeen = classicSeen || !isIP(owner) && isIP(value)
		case "MX":
			swappedSeen = swappedSeen || isMX(owner) && !isMX(value)
			classicSeen = classicSeen || !isMX(owner) && isMX(value)
		}
	}
	return !classicSeen
}

// findings turns a record into findings, one per rdata value, putting
// owner and value the right way round.
func (r record) findings(subject schema.Subject, swappedAnswer bool) []schema.Finding {
	owner, rrtype, values := string(r.RRName), r.rrtype(), []string(r.RData)
	if len(values) == 1 && swapped(owner, rrtype, values[0], subject, swappedAnswer) {
		owner, values = values[0], []string{owner}
	}
	first, last := r.times()
	var out []schema.Finding
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		f := schema.NewFinding(owner, rrtype, v)
		if f.Name == "" {
			continue
		}
		f.FirstSeen, f.LastSeen, f.Count = first, last, int64(r.Count)
		out = append(out, f)
	}
	return out
}

// swapped reports whether a record has its owner in rdata and its value in
// rrname, as in CIRCL's v2 documentation: an address as the owner of an A
// record, "pref host" as the owner of an MX, or, in an answer that is not
// in the classic orientation, the queried name as the value of a record
// owned by another name.
func swapped(owner, rrtype, value string, subject schema.Subject, swappedAnswer bool) bool {
	switch rrtype {
	case "A", "AAAA":
		return isIP(owner) && !isIP(value)
	case "MX":
		if isMX(owner) && !isMX(value) {
			return true
		}
	}
	if swappedAnswer && subject.Kind == schema.SubjectDomain {
		return schema.NormalizeName(owner) != subject.Value && schema.NormalizeName(value) == subject.Value
	}
	return false
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(strings.TrimSpace(s))
	return err == nil
}

// isMX reports whether s looks like MX presentation data: "pref host".
func isMX(s string) bool {
	pref, host, ok := strings.Cut(strings.TrimSpace(s), " ")
	_, err := strconv.ParseUint(pref, 10, 16)
	return ok && err == nil && strings.TrimSpace(host) != ""
}

// noDribbleErrors reports whether an x-dribble-errors header says nothing:
// absent, or an empty JSON object, array or null, as servers send on
// success.
func noDribbleErrors(h string) bool {
	if h == "" {
		return true
	}
	var v any
	if json.Unmarshal([]byte(h), &v) != nil {
		return false
	}
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
