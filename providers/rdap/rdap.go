// Package rdap asks domain registries whether a domain is registered and
// until when, over RDAP (RFC 9082 queries, RFC 9083 answers): op
// registration. It asks the registry, never the domain's own servers, so
// it is passive. engine/analysis turns its facts into dangling_ns and
// dangling_mx: a name server or mail host whose registrable domain is
// unregistered or expired can be registered by anyone, who then answers
// for the zone or receives its mail.
//
// Subjects are reduced to their registrable domain (public suffix list):
// asking about ns1.dns-vendor.example asks about dns-vendor.example. The
// subjects are typically the registrable domains of a run's NS and MX
// hosts, from a pivot or a known-after-apply query using the
// registered_domain() function; because a registry op asks the registry
// and not the subject, those subjects need not be in scope
// (schema.OpTraits.Registry), unlike other derived subjects.
//
// Which registry answers for a TLD comes from IANA's bootstrap registry
// (RFC 9224, https://data.iana.org/rdap/dns.json). A copy ships in the
// binary (dns.json); bootstrap = "path/dns.json" reads a newer one, e.g.
// after `curl -o dns.json https://data.iana.org/rdap/dns.json`. endpoint
// sends every query to one RDAP service instead: a mirror, a bootstrap
// redirector such as https://rdap.org, or a test server. A TLD without an
// RDAP service is a warning, not a verdict.
//
// Answers (facts about the registrable domain, no findings):
//
//	registration          registered, expired (the expiration event is past, or the
//	                      status is redemption period or pending delete) or
//	                      unregistered (the registry answers 404: RFC 9083 section 6,
//	                      with or without an error object)
//	registration_expires  the expiration event's date, YYYY-MM-DD (UTC)
//	registrar             the registrar entity's name (vCard fn, else its handle)
//
// A 404 whose error object says the TLD is not in a bootstrap file (a
// redirector such as rdap.org answers so) is not a verdict about the
// domain: it is a warning. 429 and 5xx are retried by the shared HTTP
// client; other errors fail the query with the registry's error title.
package rdap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Fact kinds the provider reports.
const (
	KindRegistration = "registration"
	KindExpires      = "registration_expires"
	KindRegistrar    = "registrar"
)

// Registration verdicts (the value of a registration fact).
const (
	Registered   = "registered"
	Expired      = "expired"
	Unregistered = "unregistered"
)

// Schema declares the rdap provider type.
var Schema = schema.ProviderSchema{
	Type:        "rdap",
	Description: "RDAP (RFC 9083): whether a domain is registered and until when, from its registry (passive).",
	Attributes: []schema.ProviderAttribute{
		{Name: "bootstrap", Type: cty.String, Description: "IANA RDAP bootstrap file (dns.json) to use instead of the copy built in " + shippedPublication() + "; refresh with: curl -o dns.json https://data.iana.org/rdap/dns.json."},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpRegistration: {Registry: true},
	},
	DefaultRate:    "1/s",
	DefaultBudget:  200,
	DefaultTimeout: 20 * time.Second,
	// Registration changes slowly; the engine default (24h) re-asks daily.
}

// shippedPublication says when the built-in bootstrap was published.
func shippedPublication() string {
	b, err := ShippedBootstrap()
	if err != nil || b.Publication.IsZero() {
		return "the binary"
	}
	return "the binary (published " + b.Publication.Format("2006-01-02") + ")"
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured rdap instance.
type Provider struct {
	cfg       providers.Config
	bootstrap *Bootstrap
	client    *providers.HTTPClient
	now       func() time.Time
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance. It reads the bootstrap file when one is
// set (a local file, checked now so a bad one fails before the run).
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	p := &Provider{cfg: cfg, now: time.Now}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("provider %q: endpoint must be an http(s) URL of an RDAP service, such as \"https://rdap.org\"", cfg.Address)
		}
	}
	if path := cfg.String("bootstrap"); path != "" {
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Dir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("provider %q: bootstrap: %w", cfg.Address, err)
		}
		if p.bootstrap, err = ParseBootstrap(data); err != nil {
			return nil, fmt.Errorf("provider %q: bootstrap %s: %w", cfg.Address, path, err)
		}
	} else {
		b, err := ShippedBootstrap()
		if err != nil {
			return nil, fmt.Errorf("provider %q: the built-in bootstrap: %w", cfg.Address, err)
		}
		p.bootstrap = b
	}
	p.client = providers.NewHTTPClient(cfg, providers.HTTPOptions{AcceptStatus: []int{http.StatusNotFound}, ErrorMessage: errorMessage,
		// Bootstrap redirectors (rdap.org) send each query on to the
		// registry's own server; RDAP needs no key.
		RedirectElsewhere: true})
	return p, nil
}

// NewWithClock is New with a fixed clock, which decides "expired" (tests).
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

// Query asks the registry of q.Subject's registrable domain about it.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	if q.Op != schema.OpRegistration {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "rdap answers op registration, not %s", q.Op)
	}
	if q.Subject.Kind != schema.SubjectDomain {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "registration asks about a domain name, not the %s %s", q.Subject.Kind, q.Subject.Value)
	}
	domain := schema.RegisteredDomain(q.Subject.Value)
	if domain == "" {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindBadInput, "%s has no registrable domain (it is a public suffix)", q.Subject.Value)
	}
	base := ""
	if p.cfg.Endpoint != "" {
		base = strings.TrimRight(p.cfg.Endpoint, "/") + "/"
	} else if bases := p.bootstrap.Lookup(domain); len(bases) > 0 {
		base = bases[0]
	} else {
		tld := domain[strings.LastIndex(domain, ".")+1:]
		return providers.Answer{Warnings: []string{fmt.Sprintf("%s: the RDAP bootstrap registry%s has no service for .%s, so its registration is unknown (a newer dns.json may have one: set bootstrap)", domain, p.published(), tld)}}, nil
	}
	resp, err := p.client.Get(ctx, base+"domain/"+url.PathEscape(domain), http.Header{"Accept": {"application/rdap+json, application/json;q=0.9"}})
	if err != nil {
		return providers.Answer{}, err
	}
	ans := providers.Answer{Requests: 1}
	facts, warning, err := Parse(domain, resp.StatusCode, resp.Body, p.now())
	if err != nil {
		return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindMalformed, Msg: "reading " + resp.URL + ": " + err.Error()}
	}
	if warning != "" {
		ans.Warnings = append(ans.Warnings, warning)
	}
	ans.Facts = facts
	return ans, nil
}

func (p *Provider) published() string {
	if p.bootstrap.Publication.IsZero() {
		return ""
	}
	return " (published " + p.bootstrap.Publication.Format("2006-01-02") + ")"
}

// domainObject is the part of an RDAP domain object (RFC 9083 section
// 5.3) or error object (section 6) we read.
type domainObject struct {
	ObjectClassName string   `json:"objectClassName"`
	LDHName         string   `json:"ldhName"`
	Status          []string `json:"status"`
	Events          []event  `json:"events"`
	Entities        []entity `json:"entities"`
	ErrorCode       *int     `json:"errorCode"`
	Title           string   `json:"title"`
	Description     []string `json:"description"`
}

type event struct {
	Action string `json:"eventAction"`
	Date   string `json:"eventDate"`
}

type entity struct {
	Handle string          `json:"handle"`
	Roles  []string        `json:"roles"`
	VCard  json.RawMessage `json:"vcardArray"`
}

// Parse reads a registry's answer for domain: the HTTP status and body.
// It returns the facts (see the package doc), or a warning and no facts
// when the answer says nothing about the domain (a redirector that does
// not know the TLD). now decides whether the expiration date is past.
func Parse(domain string, status int, body []byte, now time.Time) ([]schema.Fact, string, error) {
	var obj domainObject
	trimmed := strings.TrimSpace(string(body))
	if trimmed != "" {
		if err := json.Unmarshal([]byte(trimmed), &obj); err != nil {
			if status == http.StatusNotFound && providers.LooksLikeHTML([]byte(trimmed)) {
				// A 404 page, not an RDAP error object: still "not found".
				return []schema.Fact{{Subject: domain, Kind: KindRegistration, Value: Unregistered}}, "", nil
			}
			return nil, "", fmt.Errorf("not an RDAP object: %w", err)
		}
	}
	if status == http.StatusNotFound || (obj.ErrorCode != nil && *obj.ErrorCode == http.StatusNotFound) {
		text := strings.ToLower(obj.Title + " " + strings.Join(obj.Description, " "))
		// rdap.org writes "not found in IANA boostrap file", sic.
		if strings.Contains(text, "bootstrap") || strings.Contains(text, "boostrap") {
			return nil, fmt.Sprintf("%s: the RDAP service does not know the registry of its TLD (%s); its registration is unknown", domain, clean(obj.Title)), nil
		}
		return []schema.Fact{{Subject: domain, Kind: KindRegistration, Value: Unregistered}}, "", nil
	}
	if obj.ErrorCode != nil {
		return nil, "", fmt.Errorf("RDAP error %d: %s", *obj.ErrorCode, clean(obj.Title))
	}
	if trimmed == "" {
		return nil, "", fmt.Errorf("empty body with status %d", status)
	}
	if obj.ObjectClassName != "" && obj.ObjectClassName != "domain" {
		return nil, "", fmt.Errorf("the answer is a %q object, not a domain", clean(obj.ObjectClassName))
	}
	if obj.ObjectClassName == "" && obj.LDHName == "" {
		return nil, "", fmt.Errorf("the answer is not an RDAP domain object (no objectClassName or ldhName)")
	}

	verdict := Registered
	var facts []schema.Fact
	for _, e := range obj.Events {
		if !strings.EqualFold(strings.TrimSpace(e.Action), "expiration") {
			continue
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(e.Date))
		if err != nil {
			continue // a registry's odd date is no reason to lose the rest
		}
		facts = append(facts, schema.Fact{Subject: domain, Kind: KindExpires, Value: t.UTC().Format("2006-01-02")})
		if !now.IsZero() && t.Before(now) {
			verdict = Expired
		}
		break
	}
	for _, s := range obj.Status {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "redemption period", "pending delete", "pending restore":
			verdict = Expired // deleted by the registrar, soon free
		}
	}
	if name := registrar(obj.Entities); name != "" {
		facts = append(facts, schema.Fact{Subject: domain, Kind: KindRegistrar, Value: name})
	}
	facts = append(facts, schema.Fact{Subject: domain, Kind: KindRegistration, Value: verdict})
	schema.SortFacts(facts)
	return facts, "", nil
}

// registrar names the entity with the registrar role: its vCard fn, else
// its handle.
func registrar(entities []entity) string {
	for _, e := range entities {
		for _, r := range e.Roles {
			if !strings.EqualFold(r, "registrar") {
				continue
			}
			if fn := vcardFN(e.VCard); fn != "" {
				return fn
			}
			return clean(e.Handle)
		}
	}
	return ""
}

// vcardFN is the fn property of a jCard (RFC 7095):
// ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Name"]]].
func vcardFN(raw json.RawMessage) string {
	var card []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &card) != nil || len(card) != 2 {
		return ""
	}
	var props [][]json.RawMessage
	if json.Unmarshal(card[1], &props) != nil {
		return ""
	}
	for _, prop := range props {
		var name, value string
		if len(prop) < 4 || json.Unmarshal(prop[0], &name) != nil || !strings.EqualFold(name, "fn") {
			continue
		}
		if json.Unmarshal(prop[3], &value) == nil {
			return clean(value)
		}
	}
	return ""
}

// maxValue bounds a fact value taken from a registry's text.
const maxValue = 120

// clean makes registry text a fact value: control characters dropped
// (it is printed on terminals), spaces collapsed, length bounded.
func clean(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) > maxValue {
		cut := maxValue
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// errorMessage is an RDAP error object's title for the HTTP client's
// error messages.
func errorMessage(body []byte) string {
	var obj domainObject
	if json.Unmarshal(body, &obj) != nil || obj.ErrorCode == nil {
		return ""
	}
	return clean(obj.Title)
}
