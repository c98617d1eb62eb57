// Package crtsh finds subdomains in certificate transparency logs through
// crt.sh's JSON search (GET /?q=%25.<domain>&output=json).
//
// Every identity in a certificate's name_value (newline-separated SANs)
// that lies in the queried domain becomes a HOST finding; e-mail
// addresses and names outside the domain are dropped.
//
// A wildcard identity ("*.acme.example") becomes a HOST of its parent,
// acme.example. A certificate is no DNS record: its wildcard says that
// the names under acme.example are served with it (and that whoever
// asked for it proved control of acme.example), not that the zone has a
// wildcard record. Kept as "*.acme.example" it would read as one, next to
// the wildcard records passive DNS reports under that name, and the apex
// it does prove in use would be lost. An identity with more than one "*"
// label is no valid certificate name (RFC 6125) and is dropped.
//
// Count is the number of distinct certificates naming the host. crt.sh
// lists a precertificate and the certificate issued from it as two rows
// with their own ids (RFC 6962: the same issuer and serial number, so one
// certificate), and repeats rows per matching identity; a certificate is
// therefore counted once per (issuer, serial_number). Rows from before
// crt.sh sent serial_number (its 2020 output) count once per (issuer,
// not_before, not_after, names): a precertificate and its leaf agree on all
// of them, and a distinct certificate for the same names from the same
// issuer in the same second is a re-issue that counting once loses nothing
// of. Rows that carry neither a name_value nor a common_name are not
// certificate entries: skipped with a warning, and an answer with no
// certificate entry at all is malformed, not "no certificates" ([] is).
//
// Times: a name's first_seen is the earliest not_before of the
// certificates naming it (when it was first usable), its last_seen the
// latest not_after, capped at the time of the query, since an unexpired
// certificate is evidence up to now (so names on live certificates are
// current and names on expired ones history). A row without validity dates
// falls back to its entry_timestamp. Count is the number of distinct
// certificates.
//
// Each name's certificate issuers are facts too (cert_issuer,
// cert_issuer_past: IssuerFacts).
//
// crt.sh is often overloaded: 502/503/504 and HTML error pages served
// with status 200 are retried; a cut-off JSON array is retried too.
package crtsh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Schema declares the crtsh provider type.
var Schema = schema.ProviderSchema{
	Type:        "crtsh",
	Description: "crt.sh certificate transparency search: names from certificates.",
	Attributes: []schema.ProviderAttribute{
		{Name: "exclude_expired", Type: cty.Bool, Description: "Ask crt.sh only for unexpired certificates (exclude=expired).", Default: cty.False},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpSubdomains: {},
	},
	DefaultRate:     "1/s",
	DefaultTimeout:  60 * time.Second,
	DefaultEndpoint: "https://crt.sh",
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured crtsh instance.
type Provider struct {
	cfg            providers.Config
	excludeExpired bool
	client         *providers.HTTPClient
	now            func() time.Time
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance from its config.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	if u, err := url.Parse(cfg.Endpoint); err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("provider %q: endpoint %q is not a URL", cfg.Address, cfg.Endpoint)
	}
	return &Provider{
		cfg:            cfg,
		excludeExpired: cfg.Bool("exclude_expired", false),
		client:         providers.NewHTTPClient(cfg, providers.HTTPOptions{Classify: classify}),
		now:            time.Now,
	}, nil
}

// NewWithClock is New with a fixed clock for last_seen capping (tests).
func NewWithClock(ctx context.Context, cfg providers.Config, now func() time.Time) (providers.Provider, error) {
	p, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	p.(*Provider).now = now
	return p, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query searches crt.sh for certificates naming hosts under the domain.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	if q.Op != schema.OpSubdomains {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "crtsh does not answer op %q", q.Op)
	}
	if q.Subject.Kind != schema.SubjectDomain {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "crtsh subdomains takes a domain name, not %q", q.Subject.Value)
	}
	// "%25." is crt.sh's "any subdomain" wildcard, sent escaped.
	u := strings.TrimRight(p.cfg.Endpoint, "/") + "/?q=%25." + url.QueryEscape(q.Subject.Value) + "&output=json"
	if p.excludeExpired {
		u += "&exclude=expired"
	}
	resp, err := p.client.Get(ctx, u, nil)
	if err != nil {
		return providers.Answer{}, err
	}
	findings, warnings, err := Parse(q.Subject.Value, resp.Body, p.now())
	if err != nil {
		return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed, Msg: p.client.Redact("reading " + resp.URL + ": " + err.Error())}
	}
	for i := range findings {
		findings[i].Sources = []string{p.cfg.Address}
	}
	// Certificate intelligence (issuers.go): who issues the names' certificates.
	facts := IssuerFacts(q.Subject.Value, resp.Body, p.now())
	return providers.Answer{Findings: findings, Facts: facts, Requests: 1, Warnings: warnings}, nil
}

// classify catches crt.sh's habits: an HTML page with status 200 when
// overloaded (retried), a JSON array cut short (retried), anything else
// that is not a JSON array (malformed).
func classify(resp *providers.Response) *providers.Error {
	if resp.StatusCode != 200 {
		return nil
	}
	body := bytes.TrimSpace(resp.Body)
	switch {
	case providers.LooksLikeHTML(body):
		return &providers.Error{Kind: providers.KindTransient, Retryable: true, Msg: "crt.sh sent an HTML page with status 200 instead of JSON (it does so when overloaded); " + resp.URL}
	case len(body) == 0 || body[0] != '[':
		return &providers.Error{Kind: providers.KindMalformed, Msg: "crt.sh answer is not a JSON array (its answers always are): " + providers.BodySnippet(body)}
	case truncated(body):
		return &providers.Error{Kind: providers.KindTransient, Retryable: true, Msg: "crt.sh answer was cut short (truncated JSON); " + resp.URL}
	}
	return nil
}

// truncated reports whether body is JSON that stops before its end: the
// decoder runs out of input rather than meeting a wrong byte (a NUL, a
// second value), which no retry would mend.
func truncated(body []byte) bool {
	var v json.RawMessage
	return errors.Is(json.NewDecoder(bytes.NewReader(body)).Decode(&v), io.ErrUnexpectedEOF)
}

// Entry is one row of crt.sh's JSON output.
type Entry struct {
	IssuerCAID     providers.FlexInt `json:"issuer_ca_id"`
	IssuerName     string            `json:"issuer_name"`
	CommonName     *string           `json:"common_name"`
	NameValue      *string           `json:"name_value"`
	ID             providers.FlexInt `json:"id"`
	EntryTimestamp string            `json:"entry_timestamp"`
	NotBefore      string            `json:"not_before"`
	NotAfter       string            `json:"not_after"`
	SerialNumber   string            `json:"serial_number"`
}

// Parse reads crt.sh's JSON array and returns a HOST finding per name in
// domain (see the package doc for names, times and counts), sorted.
func Parse(domain string, body []byte, now time.Time) ([]schema.Finding, []string, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, nil, fmt.Errorf("crt.sh answer is not a JSON array: %w", err)
	}
	type seen struct {
		first, last time.Time
		certs       map[string]bool
	}
	names := map[string]*seen{}
	var order []string
	var warnings []string
	entries := 0
	for i, raw := range rows {
		var e Entry
		if err := json.Unmarshal(raw, &e); err != nil || e.NameValue == nil && e.CommonName == nil {
			if len(warnings) < 5 {
				warnings = append(warnings, fmt.Sprintf("crt.sh row %d is not a certificate entry; skipped", i+1))
			}
			continue
		}
		entries++
		first, last := validity(e, now)
		cert := certificateKey(e)
		for _, id := range strings.Split(deref(e.NameValue)+"\n"+deref(e.CommonName), "\n") {
			name, ok := hostIn(domain, id)
			if !ok {
				continue
			}
			s := names[name]
			if s == nil {
				s = &seen{certs: map[string]bool{}}
				names[name] = s
				order = append(order, name)
			}
			s.certs[cert] = true
			if !first.IsZero() && (s.first.IsZero() || first.Before(s.first)) {
				s.first = first
			}
			if last.After(s.last) {
				s.last = last
			}
		}
	}
	if len(rows) > 0 && entries == 0 {
		return nil, nil, fmt.Errorf("none of its %d rows is a certificate entry (no name_value or common_name)", len(rows))
	}
	out := make([]schema.Finding, 0, len(order))
	for _, name := range order {
		s := names[name]
		f := schema.NewFinding(name, schema.TypeHost, "")
		f.FirstSeen, f.LastSeen, f.Count = s.first, s.last, int64(len(s.certs))
		out = append(out, f)
	}
	schema.SortFindings(out)
	return out, warnings, nil
}

// certificateKey identifies the certificate a row lists: its issuer and
// serial number, which a precertificate shares with its leaf; without a
// serial (older output), the issuer, validity and names they also share.
func certificateKey(e Entry) string {
	issuer := strconv.FormatInt(int64(e.IssuerCAID), 10)
	if e.IssuerCAID == 0 {
		issuer = e.IssuerName
	}
	if serial := strings.TrimLeft(strings.ToLower(strings.TrimSpace(e.SerialNumber)), "0"); serial != "" {
		return "serial " + issuer + " " + serial
	}
	ids := strings.Split(strings.ToLower(deref(e.NameValue)), "\n")
	for i := range ids {
		ids[i] = strings.TrimSpace(ids[i])
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return "validity " + issuer + " " + e.NotBefore + " " + e.NotAfter + " " + strings.Join(ids, ",")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// validity is a certificate's window for its names: not_before to
// not_after capped at now, falling back to the log entry time.
func validity(e Entry, now time.Time) (first, last time.Time) {
	logged, _ := providers.ParseDate(e.EntryTimestamp)
	first, err := providers.ParseDate(e.NotBefore)
	if err != nil {
		first = logged
	}
	last, err = providers.ParseDate(e.NotAfter)
	if err != nil {
		last = logged
	}
	if !now.IsZero() && last.After(now) {
		last = now.UTC().Truncate(time.Second)
	}
	return first, last
}

// hostIn normalises one certificate identity and reports whether it is a
// host name in domain (e-mail addresses, IPs and other names are not).
func hostIn(domain, id string) (string, bool) {
	id = strings.TrimSpace(id)
	if id == "" || strings.Contains(id, "@") {
		return "", false
	}
	if _, err := netip.ParseAddr(id); err == nil {
		return "", false
	}
	name := schema.WildcardParent(schema.NormalizeName(id)) // see the package doc
	if schema.IsWildcard(name) || schema.ValidateDomain(name) != nil {
		return "", false
	}
	if name != domain && !strings.HasSuffix(name, "."+domain) {
		return "", false
	}
	return name, true
}
