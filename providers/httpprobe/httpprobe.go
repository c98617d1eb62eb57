// Package httpprobe fetches a host's web page now and recognises the page
// a hosted service serves for a resource nobody has claimed (op
// fingerprint): the HTTP half of confirming a subdomain takeover. The
// fingerprints are the takeover catalogue's (internal/takeover).
//
// It is active recon: the request goes to the name's own address, which
// for a dangling CNAME is the hosted service's. So, like live DNS, the
// engagement must say passive_only = false, and the engine sends it only
// in-scope subjects; otherwise the query is refused and the plan shows
// why.
//
// One GET per subject: {scheme}://{name}{path}, with the name as Host.
// Redirects are not followed (a redirect would reach another host; the
// service's page is the first answer), nothing is retried, the body read
// is bounded (1 MiB, or max_response_bytes when smaller), and TLS is
// verified (an unclaimed resource rarely has a certificate for the name,
// which is why the default scheme is http). endpoint, when set, is the
// address ("host:port" or a URL) connected to instead of the name's own:
// a proxy on the engagement's path, or a test server.
//
// Answers are facts about the subject (no findings):
//
//	http_status       the response status ("404"), or "nxdomain" when the name does not
//	                  resolve (absence is a result, not an error)
//	http_fingerprint  each catalogue service whose unclaimed-resource page the body shows
//
// engine/analysis joins http_fingerprint with the name's CNAME: a CNAME to
// the service whose page says "unclaimed" is takeover_confirmed.
package httpprobe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/takeover"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Fact kinds the provider reports.
const (
	KindStatus      = "http_status"
	KindFingerprint = "http_fingerprint"
)

// maxBody bounds the body read: fingerprints sit in small error pages.
const maxBody = 1 << 20

// Schema declares the httpprobe provider type.
var Schema = schema.ProviderSchema{
	Type:        "httpprobe",
	Description: "HTTP GET of a host now, recognising unclaimed-resource pages of hosted services (active recon: only with passive_only = false).",
	Attributes: []schema.ProviderAttribute{
		{Name: "scheme", Type: cty.String, Description: `"http" or "https" (TLS is always verified).`, Default: cty.StringVal("http")},
		{Name: "path", Type: cty.String, Description: "The path asked for.", Default: cty.StringVal("/")},
	},
	Ops: map[schema.Op]schema.OpTraits{
		schema.OpFingerprint: {Active: true},
	},
	DefaultRate:    "2/s",
	DefaultBudget:  100,
	DefaultTimeout: 10 * time.Second,
	// Active answers are never cached (the engine does not cache them).
	DefaultCacheTTL: -1,
}

// Registration registers the provider type.
func Registration() providers.Registration {
	return providers.Registration{Schema: Schema, New: New}
}

// Provider is one configured httpprobe instance.
type Provider struct {
	cfg    providers.Config
	scheme string
	path   string
	client *http.Client
	max    int64
}

var _ providers.Provider = (*Provider)(nil)

// New builds a provider instance; it sends nothing. Names resolve
// through the system's resolver.
func New(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
	return NewWithResolver(ctx, cfg, nil)
}

// NewWithResolver is New with the resolver names are looked up with (nil:
// the system's), for tests against an in-process DNS server.
func NewWithResolver(ctx context.Context, cfg providers.Config, resolver *net.Resolver) (providers.Provider, error) {
	p := &Provider{cfg: cfg, scheme: cfg.String("scheme"), path: cfg.String("path"), max: maxBody}
	if p.scheme == "" {
		p.scheme = "http"
	}
	if p.scheme != "http" && p.scheme != "https" {
		return nil, fmt.Errorf("provider %q: scheme = %q: give \"http\" or \"https\"", cfg.Address, p.scheme)
	}
	if p.path == "" {
		p.path = "/"
	}
	if !strings.HasPrefix(p.path, "/") || strings.ContainsAny(p.path, " \r\n#") {
		return nil, fmt.Errorf("provider %q: path = %q: give an absolute path such as \"/\"", cfg.Address, p.path)
	}
	if cfg.MaxBodyBytes > 0 && cfg.MaxBodyBytes < p.max {
		p.max = cfg.MaxBodyBytes
	}
	dialTo := ""
	if cfg.Endpoint != "" {
		addr, err := dialAddress(cfg.Endpoint, p.scheme)
		if err != nil {
			return nil, fmt.Errorf("provider %q: endpoint: %w", cfg.Address, err)
		}
		dialTo = addr
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Resolver: resolver}
	transport := &http.Transport{
		Proxy:                  nil, // the probe goes where the name points, not through an ambient proxy
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dialTo != "" {
				addr = dialTo
			} else if host, port, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) == nil && !strings.HasSuffix(host, ".") {
				// The absolute name: a resolver's search domains would
				// send queries for names nobody put in scope.
				addr = net.JoinHostPort(host+".", port)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	p.client = &http.Client{
		Transport: transport,
		// The first answer is the service's page; following a redirect
		// would send a request to a host nobody put in scope.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return p, nil
}

// dialAddress turns the endpoint ("host:port", "host" or a URL) into the
// address to connect to.
func dialAddress(endpoint, scheme string) (string, error) {
	hostport := endpoint
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("%q is not a URL or host:port", endpoint)
		}
		hostport = u.Host
		if u.Port() == "" {
			scheme = u.Scheme
		}
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		hostport = net.JoinHostPort(strings.Trim(hostport, "[]"), port)
	}
	return hostport, nil
}

// Schema returns the provider type's declaration.
func (p *Provider) Schema() schema.ProviderSchema { return Schema }

// Query fetches q.Subject's page once.
func (p *Provider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	if q.Op != schema.OpFingerprint {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "httpprobe answers op fingerprint, not %s", q.Op)
	}
	if q.Subject.Kind != schema.SubjectDomain {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindUnsupported, "fingerprint fetches a host name, not the %s %s", q.Subject.Kind, q.Subject.Value)
	}
	name := q.Subject.Value
	if ok, why := p.cfg.Allows(q.Subject); !ok {
		// The engine admits only in-scope subjects; this is the last
		// line before a packet reaches the target (providers.Config.InScope).
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindBadInput,
			"refused: %s is out of scope (%s); active lookups only run on in-scope subjects, so nothing was sent", name, why)
	}
	if p.cfg.Gate != nil {
		if err := p.cfg.Gate.Wait(ctx); err != nil {
			if errors.Is(err, providers.ErrBudgetExhausted) {
				return providers.Answer{}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindBudget, Msg: "request budget for this run is spent (raise budget in the provider block)"}
			}
			return providers.Answer{}, err
		}
	}
	target := p.scheme + "://" + name + p.path
	if p.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.cfg.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return providers.Answer{}, providers.Errorf(p.cfg.Address, providers.KindBadInput, "%s is not a URL", target)
	}
	if p.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", p.cfg.UserAgent)
	}
	req.Header.Set("Accept", "text/html,*/*;q=0.8")
	ans := providers.Answer{Requests: 1}
	resp, err := p.client.Do(req)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			ans.Facts = []schema.Fact{{Subject: name, Kind: KindStatus, Value: "nxdomain"}}
			return ans, nil
		}
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return providers.Answer{Requests: 1}, ctx.Err()
		}
		return providers.Answer{Requests: 1}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindTransient, Msg: "GET " + target + ": " + shortError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, p.max))
	if err != nil && len(body) == 0 {
		return providers.Answer{Requests: 1}, &providers.Error{Provider: p.cfg.Address, Kind: providers.KindTransient, Msg: "reading " + target + ": " + shortError(err)}
	}
	ans.Facts = append(ans.Facts, schema.Fact{Subject: name, Kind: KindStatus, Value: strconv.Itoa(resp.StatusCode)})
	for _, service := range takeover.MatchBody(body) {
		ans.Facts = append(ans.Facts, schema.Fact{Subject: name, Kind: KindFingerprint, Value: service})
	}
	schema.SortFacts(ans.Facts)
	return ans, nil
}

// shortError is a network error without Go's "Get \"url\": " prefix.
func shortError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
