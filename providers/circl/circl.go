// Package circl is the CIRCL Passive DNS provider: records of a name and
// names seen on an IP address, read as Passive DNS Common Output Format
// (COF) NDJSON with HTTP Basic auth and the v2 "dribble" pagination
// headers.
//
// Where CIRCL's semantics are unclear, these are the readings taken (the
// bodies in testdata/real/circl show each case):
//
//   - Orientation. CIRCL's own documentation shows records with owner and
//     value swapped (the IP in rrname, the queried name in rdata, "10
//     cppy.circl.lu" as the rrname of an MX) and numbers as strings;
//     classic servers (CIRCL's D4 COF server, clients' recordings) send
//     them the other way round and as numbers. Both are read; the syntax
//     of A/AAAA and MX records decides, and the subject decides when an
//     answer gives no evidence.
//   - Spelling. CIRCL's pdns-qof server and first COF draft write rrdata
//     instead of rdata; both are read, as every COF reader does
//     (providers.COFRecord).
//   - Times. COF says unix seconds; bodies also carry numeric strings,
//     milliseconds and RFC 3339 (time_*_rfc3339, humantime exports served
//     by COF servers). All are read by the one COF time parser
//     (providers.ParseCOFTime). A record's window is the union of its
//     sensor and zone-file windows.
//   - Repeats. Paged answers are in no stable order and may repeat a
//     record across pages: an observation read twice counts once; records
//     of one tuple with other windows or counts add up
//     (providers.MergeObservations).
//   - Empty and wrong-shaped answers. CIRCL answers an unknown name with
//     200 and an empty body (or 404): no findings. A 200 body with no COF
//     record in it ({}, null, an error object) is not "nothing there": it
//     is malformed, or a quota or rate limit when it says so.
//
// Cost: one request per page of page_size records, up to max_pages pages
// per query.
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
	skipped, foreign, reason := 0, 0, ""
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
		pg, err := parse(resp.Body)
		if err != nil {
			return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed,
				Msg: "could not read the response from " + resp.URL, Err: errors.New(p.client.Redact(err.Error()))}
		}
		if skipped == 0 && pg.skipped > 0 {
			reason = pg.reason
			if page > 1 {
				reason = fmt.Sprintf("page %d, %s", page, reason)
			}
		}
		skipped += pg.skipped
		foreign += pg.foreign
		all = append(all, pg.recs...)
		cursor := strings.TrimSpace(resp.Header.Get("x-dribble-cursor"))
		if cursor == "" || cursors[cursor] || len(pg.recs)+pg.skipped == 0 {
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
		ans.Warnings = append(ans.Warnings, p.client.Redact(fmt.Sprintf("skipped %d records that could not be used (%s)", skipped, reason)))
	}
	if foreign > 0 {
		ans.Warnings = append(ans.Warnings, fmt.Sprintf("ignored %d lines of the answer that are not COF records", foreign))
	}
	swappedAnswer := orientation(all)
	var found []schema.Finding
	for _, r := range all {
		for _, f := range r.findings(q.Subject, swappedAnswer) {
			if q.WantsType(f.Type) {
				f.Sources = []string{p.cfg.Address}
				found = append(found, f)
			}
		}
	}
	// Pages may repeat records: an observation read twice counts once.
	ans.Findings = providers.MergeObservations(found)
	return ans, nil
}

// classify recognises an HTML page served with 200, a 200 body with no
// COF record in it (`{}`, `null`, an error object: never "nothing
// there"), and words CIRCL's 429, which PyPDNS documents as an exhausted
// quota.
func (p *Provider) classify(resp *providers.Response) *providers.Error {
	switch {
	case resp.StatusCode == http.StatusOK && providers.LooksLikeHTML(resp.Body):
		return &providers.Error{Kind: providers.KindMalformed, Msg: "CIRCL answered " + resp.URL + " with an HTML page instead of COF NDJSON"}
	case resp.StatusCode == http.StatusOK && !firstLineIsRecord(resp.Body):
		pg, err := parse(resp.Body)
		if err != nil || len(pg.recs) > 0 || pg.skipped+pg.foreign == 0 {
			return nil // damaged (reported by Query), an answer, or empty
		}
		e := providers.NotAnAnswer("CIRCL", resp.URL, resp.Body, "COF records (rrname, rrtype, rdata)")
		if pg.reason != "" {
			e.Msg += " (" + pg.reason + ")"
		}
		return e
	case resp.StatusCode == http.StatusTooManyRequests:
		return &providers.Error{Kind: providers.KindRateLimited, Retryable: true,
			RetryAfter: providers.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Msg:        fmt.Sprintf("CIRCL Passive DNS quota or rate limit exhausted (HTTP 429 from %s); CIRCL does not say when it resets: lower rate in provider %q or ask CIRCL", resp.URL, p.cfg.Address)}
	}
	return nil
}

// record is one COF line as every COF reader decodes it
// (providers.COFRecord): numbers as strings, rdata or rrdata (CIRCL's
// pdns-qof server and first COF draft), a string or an array, rrtype as a
// number, times in any form providers.ParseCOFTime reads, zone,
// millisecond or RFC 3339 times instead of time_first/time_last.
type record struct{ providers.COFRecord }

// parsed is one page of an answer.
type parsed struct {
	recs []record
	// skipped counts the lines that were records of COF's shape but not
	// usable (no rrname, rrtype or rdata; a member that would not
	// decode); reason is the first of them, with its line number.
	skipped int
	reason  string
	// foreign counts JSON values that are not COF records at all ({},
	// null, an error object).
	foreign int
}

// parse reads a COF body: one JSON object per line, or (from servers
// that frame COF as one JSON array) an array of them. A line that is not
// JSON means the body is damaged and fails the answer. Records of the COF
// shape that cannot be used are skipped and counted with a reason; values
// that are not COF records at all are counted apart, so that a body of
// nothing else is not taken for an empty answer.
func parse(body []byte) (p parsed, err error) {
	take := func(where string, raw []byte) {
		if !providers.IsCOFRecord(raw) {
			p.foreign++
			return
		}
		var r record
		why := ""
		if err := json.Unmarshal(raw, &r.COFRecord); err != nil {
			why = err.Error()
		} else if missing := r.Missing(); missing != "" {
			why = "no " + missing
		}
		if why != "" {
			if p.skipped == 0 {
				p.reason = where + ": " + why
			}
			p.skipped++
			return
		}
		p.recs = append(p.recs, r)
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return parsed{}, fmt.Errorf("the body is neither NDJSON nor a JSON array: %w", err)
		}
		for i, raw := range list {
			take(fmt.Sprintf("element %d", i+1), raw)
		}
		return p, nil
	}
	err = providers.EachLine(body, func(lineNo int, line []byte) error {
		if !json.Valid(line) {
			return fmt.Errorf("line %d is not JSON: %s", lineNo, providers.BodySnippet(line))
		}
		take(fmt.Sprintf("line %d", lineNo), line)
		return nil
	})
	return p, err
}

// firstLineIsRecord reports whether a body starts with a usable COF
// record: the common case, which needs no look at the rest before Query
// parses it.
func firstLineIsRecord(body []byte) bool {
	line := bytes.TrimSpace(body)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = bytes.TrimSpace(line[:i])
	}
	var r providers.COFRecord
	return len(line) > 0 && line[0] == '{' && json.Unmarshal(line, &r) == nil && r.Missing() == ""
}

// rrtype is the record type mnemonic; RFC 3597 numbers become mnemonics
// where one exists, "TYPEn" otherwise.
func (r record) rrtype() string { return r.Type() }

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
		owner, value := r.RRName, r.RData[0]
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
	owner, rrtype, values := r.RRName, r.rrtype(), r.RData
	if len(values) == 1 && swapped(owner, rrtype, values[0], subject, swappedAnswer) {
		owner, values = values[0], []string{owner}
	}
	first, last := r.Window()
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
