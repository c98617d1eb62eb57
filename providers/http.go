package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
)

// DefaultMaxBodyBytes bounds a response body when the config sets no limit.
const DefaultMaxBodyBytes = 16 << 20

// DefaultParallelism is the requests a provider may have in flight when
// Config.Parallelism is unset: the engine's default parallelism.
const DefaultParallelism = 10

// HTTPClient is the HTTP layer every HTTP provider shares. Each request
// attempt passes the provider's Gate (rate limit and budget); 429, 5xx and
// transient network errors are retried with exponential backoff and jitter,
// honouring Retry-After; bodies are bounded; and every URL and error it
// produces is redacted of the provider's secrets.
//
// We do not use go-retryablehttp: it logs and reports the full request URL
// (HackerTarget, SecurityTrails and Robtex keys travel in the query
// string), honours Retry-After without a cap, and has no hook that can fail
// a request when our budget is spent. The loop below is short and owns all
// three.
type HTTPClient struct {
	cfg    Config
	opts   HTTPOptions
	client *http.Client
	log    hclog.Logger
	sleep  func(ctx context.Context, d time.Duration) error
}

// HTTPOptions tune an HTTPClient for one vendor.
type HTTPOptions struct {
	// Secrets are values to redact from every URL, log line and error
	// (API keys, passwords). Empty strings are ignored.
	Secrets []string
	// AcceptStatus are non-2xx statuses returned as responses rather than
	// errors (e.g. 404 meaning "no data" for some vendors).
	AcceptStatus []int
	// Classify inspects every response first. It returns an error for a
	// vendor-specific failure (an error inside a 200 body, a quota message)
	// or nil to fall through to the default handling by status.
	Classify func(resp *Response) *Error
	// ErrorMessage extracts the vendor's error text from a body for the
	// default handling; nil uses a short, sanitised prefix of the body.
	ErrorMessage func(body []byte) string
	// AuthHint is appended to authentication errors, e.g. `check api_key
	// in provider "virustotal" (VIRUSTOTAL_API_KEY)`.
	AuthHint string
	// RedirectElsewhere lets redirects reach other hosts, for a keyless
	// protocol built on them (RDAP's bootstrap redirectors send every
	// query on to the registry's server). Even then no header holding a
	// secret is sent on, no Referer, nothing from https to http, and no
	// redirect whose target holds a secret (a server echoing our
	// endpoint's path into its Location).
	RedirectElsewhere bool
}

// Response is a fully read, size-bounded HTTP response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// URL is the request URL with secrets redacted, safe to print.
	URL string
}

// NewHTTPClient builds the client for one provider instance.
func NewHTTPClient(cfg Config, opts HTTPOptions) *HTTPClient {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	// One byte more is read to tell "exactly the limit" from "over it";
	// keep that from overflowing into a negative limit that reads nothing.
	cfg.MaxBodyBytes = min(cfg.MaxBodyBytes, math.MaxInt64-1)
	if cfg.Retry.MaxAttempts <= 0 {
		cfg.Retry = DefaultRetryPolicy
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "reconform"
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// TLS verification is always on: no option turns it off.
	transport.TLSClientConfig = nil
	// Every request in flight must be able to park its connection when
	// its response is read: with fewer idle slots than the requests the
	// run keeps in flight (its parallelism), each round closes the
	// surplus and the next round dials, and handshakes TLS, again (8 idle
	// slots under a parallelism of 10 made 1,192 connections per 100k
	// requests; docs/performance.md, internal/benchhttp).
	// Nor more connections than that: when requests start together, Go's
	// transport dials for a request and hands it whichever connection
	// frees first, parking the dialled one beside it; capped, a request
	// waits for a connection instead (it cannot wait long: no more than
	// the parallelism are in flight).
	conns := max(cfg.Parallelism, DefaultParallelism)
	transport.MaxIdleConnsPerHost = conns
	transport.MaxConnsPerHost = conns
	transport.MaxIdleConns = max(transport.MaxIdleConns, conns)
	c := &HTTPClient{cfg: cfg, opts: opts, log: log, sleep: sleepCtx}
	c.client = &http.Client{Transport: transport, CheckRedirect: c.checkRedirect}
	return c
}

// maxRedirects bounds the redirects one request follows.
const maxRedirects = 5

// errRedirect marks a redirect the client refused to follow.
var errRedirect = errors.New("refused redirect")

// checkRedirect follows a redirect only within the API's own origin: the
// same host and port, never from https down to http. Go's client would
// re-send our own key headers (APIKEY, x-apikey, X-API-Key: it strips only
// Authorization and Cookie) to any host, and repeat a key carried in the
// query string as Referer; a vendor that moves its API answers on the same
// host, while a redirect elsewhere is a mirror we were not told of or a
// hostile server collecting keys. No Referer is ever sent, not even to the
// same host: it adds nothing and repeats the query string. See
// HTTPOptions.RedirectElsewhere for the keyless exception.
func (c *HTTPClient) checkRedirect(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	if len(via) >= maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
	}
	from := via[0].URL
	switch {
	case req.URL.Scheme != from.Scheme && !(from.Scheme == "http" && req.URL.Scheme == "https"):
		return fmt.Errorf("%w: the server redirected from %s to %s, which would send the key in clear text", errRedirect, from.Scheme, req.URL.Scheme)
	case sameHost(req.URL, from):
		return nil
	case !c.opts.RedirectElsewhere:
		// Only the host is named: the rest of the target may echo our
		// request (and its key) back.
		return fmt.Errorf("%w to another host (%s): keys are only sent to the endpoint's own host; set endpoint to the address the vendor moved to if this is expected", errRedirect, hostOnly(req.URL))
	case c.Redact(req.URL.String()) != req.URL.String():
		return fmt.Errorf("%w to another host (%s) with a secret of the configuration in the address", errRedirect, hostOnly(req.URL))
	}
	for name, values := range req.Header {
		for _, v := range values {
			if c.Redact(v) != v {
				req.Header.Del(name)
			}
		}
	}
	return nil
}

// sameHost compares hosts without case, with default ports made explicit.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(hostPort(a), hostPort(b))
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// hostOnly is the host of u, printable: no userinfo, path or query, and
// not more than a host name can be.
func hostOnly(u *url.URL) string {
	h := u.Host
	if len(h) > 255 {
		h = h[:255] + "..."
	}
	q := strconv.QuoteToASCII(h)
	return q[1 : len(q)-1]
}

// Get sends a GET request.
func (c *HTTPClient) Get(ctx context.Context, rawURL string, header http.Header) (*Response, error) {
	return c.Do(ctx, http.MethodGet, rawURL, header, nil)
}

// Do sends a request with retries and returns the response, or a classified
// *Error whose text never holds a secret.
func (c *HTTPClient) Do(ctx context.Context, method, rawURL string, header http.Header, body []byte) (*Response, error) {
	safeURL := c.Redact(rawURL)
	policy := c.cfg.Retry
	var lastErr *Error
	for attempt := 1; attempt <= policy.MaxAttempts; attempt++ {
		if attempt > 1 {
			wait := backoff(policy, attempt-1, lastErr.RetryAfter)
			c.log.Debug("retrying", "url", safeURL, "attempt", attempt, "wait", wait, "reason", lastErr.Msg)
			if p, ok := c.cfg.Gate.(Pauser); ok && holdsProvider(lastErr) {
				// Every request of the provider waits, this one too,
				// in Gate.Wait below.
				p.Pause(wait)
			} else if err := c.sleep(ctx, wait); err != nil {
				return nil, c.ctxError(err)
			}
		}
		sent, werr := c.wait(ctx)
		if werr != nil {
			if errors.Is(werr, ErrBudgetExhausted) {
				return nil, &Error{Provider: c.cfg.Address, Kind: KindBudget, Msg: "request budget for this run is spent (raise budget in the provider block)"}
			}
			return nil, c.ctxError(werr)
		}
		resp, err := c.attempt(ctx, method, rawURL, safeURL, header, body, sent)
		if err == nil {
			return resp, nil
		}
		if !err.Retryable {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, c.ctxError(ctx.Err())
		}
		if err.RetryAfter > max(maxDelay(policy), longRetryAfter) {
			// The vendor asks us to stay away far longer than we ever
			// wait: retrying sooner only spends requests and minutes (a
			// daily quota answers 429 with a Retry-After of hours).
			err.Retryable = false
			if err.Kind == KindRateLimited {
				err.Kind = KindQuota
			}
			err.Msg += fmt.Sprintf("; the server asks to wait %s before the next request", err.RetryAfter.Round(time.Second))
			return nil, err
		}
		lastErr = err
	}
	lastErr.Retryable = false
	lastErr.Msg = fmt.Sprintf("%s (gave up after %d attempts)", lastErr.Msg, policy.MaxAttempts)
	return nil, lastErr
}

// wait passes the gate; sent is to be called with the time the request
// was sent (the zero time: never), for a SendGate's window log.
func (c *HTTPClient) wait(ctx context.Context) (sent func(time.Time), err error) {
	switch g := c.cfg.Gate.(type) {
	case nil:
		return func(time.Time) {}, nil
	case SendGate:
		return g.WaitSend(ctx)
	default:
		return func(time.Time) {}, g.Wait(ctx)
	}
}

// holdsProvider reports whether a retryable error is the vendor asking
// us to slow down (a Retry-After, a rate limit), which concerns every
// request to it, rather than one request's bad luck (a 502, a reset).
func holdsProvider(e *Error) bool {
	return e.RetryAfter > 0 || e.Kind == KindRateLimited
}

// attempt sends one request under the per-request timeout, and reports
// when it was written (sent): the moment the vendor starts counting it.
func (c *HTTPClient) attempt(ctx context.Context, method, rawURL, safeURL string, header http.Header, body []byte, sent func(time.Time)) (*Response, *Error) {
	if c.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	var bodyReader io.Reader
	if body != nil {
		bodyReader = bytes.NewReader(body)
	}
	var once sync.Once
	report := func(t time.Time) { once.Do(func() { sent(t) }) }
	// A request that fails before it is written may still have reached
	// the server in part: it counts as sent when the attempt gives up,
	// unless it was never built.
	defer func() { report(time.Now()) }()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		// Only the first: a redirect's request is written under the
		// same trace.
		WroteRequest: func(httptrace.WroteRequestInfo) { report(time.Now()) },
	})
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bodyReader)
	if err != nil {
		report(time.Time{})
		return nil, &Error{Provider: c.cfg.Address, Kind: KindBadInput, Msg: "building request for " + safeURL}
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	start := time.Now()
	c.log.Debug("request", "method", method, "url", safeURL)
	httpResp, err := c.client.Do(req)
	report(time.Now())
	if err != nil {
		return nil, c.transportError(ctx, safeURL, err)
	}
	defer httpResp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(httpResp.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, c.transportError(ctx, safeURL, err)
	}
	if int64(len(data)) > c.cfg.MaxBodyBytes {
		return nil, &Error{Provider: c.cfg.Address, Kind: KindMalformed,
			Msg: fmt.Sprintf("response from %s is larger than %d bytes; raise max_response_bytes if this is expected", safeURL, c.cfg.MaxBodyBytes)}
	}
	resp := &Response{StatusCode: httpResp.StatusCode, Header: httpResp.Header, Body: data, URL: safeURL}
	c.log.Debug("response", "url", safeURL, "status", resp.StatusCode, "bytes", len(data), "took", time.Since(start))
	if c.opts.Classify != nil {
		if e := c.opts.Classify(resp); e != nil {
			e.Provider = c.cfg.Address
			e.Msg = c.Redact(e.Msg)
			return nil, e
		}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	for _, s := range c.opts.AcceptStatus {
		if s == resp.StatusCode {
			return resp, nil
		}
	}
	return nil, c.statusError(resp)
}

// statusError is the default classification of a non-2xx response.
func (c *HTTPClient) statusError(resp *Response) *Error {
	msg := ""
	if c.opts.ErrorMessage != nil {
		msg = c.opts.ErrorMessage(resp.Body)
	}
	if msg == "" {
		msg = BodySnippet(resp.Body)
	}
	msg = c.Redact(msg)
	e := &Error{Provider: c.cfg.Address, Msg: fmt.Sprintf("HTTP %d from %s", resp.StatusCode, resp.URL)}
	if msg != "" {
		e.Msg += ": " + msg
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.Kind = KindAuth
		if c.opts.AuthHint != "" {
			e.Msg += "; " + c.opts.AuthHint
		}
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
		e.Retryable = true
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode >= 500:
		e.Kind = KindTransient
		e.Retryable = true
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	default:
		e.Kind = KindBadInput
	}
	return e
}

func (c *HTTPClient) transportError(ctx context.Context, safeURL string, err error) *Error {
	if parent := context.Cause(ctx); parent != nil && !errors.Is(parent, context.DeadlineExceeded) {
		// Err is ctx's own error, so callers can tell a cancelled request
		// (errors.Is(err, context.Canceled)) from a failed one.
		return &Error{Provider: c.cfg.Address, Kind: KindTransient, Msg: "request to " + safeURL + " cancelled", Err: ctx.Err()}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the unredacted URL
	}
	if errors.Is(err, errRedirect) {
		// Asking again is redirected again: not retried.
		return &Error{Provider: c.cfg.Address, Kind: KindBadInput, Msg: "request to " + safeURL + ": " + c.Redact(err.Error())}
	}
	reason := c.Redact(err.Error())
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		reason = fmt.Sprintf("timed out after %s", c.cfg.Timeout)
	}
	return &Error{Provider: c.cfg.Address, Kind: KindTransient, Retryable: true, Msg: "request to " + safeURL + " failed: " + reason}
}

func (c *HTTPClient) ctxError(err error) error {
	return fmt.Errorf("%s: %w", c.cfg.Address, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Redact replaces every secret of the provider in s, in plain and URL-
// escaped forms, and blanks credential-like query parameters and userinfo
// in URLs.
func (c *HTTPClient) Redact(s string) string {
	return Redact(Redact(s, c.opts.Secrets...), c.cfg.Secrets...)
}

// secretParams are query parameter names whose values are never printed.
var secretParams = []string{"apikey", "api_key", "key", "token", "access_token", "password", "secret", "sig", "signature"}

// Redact replaces each secret in s with "REDACTED": as written, and in any
// percent-escaping of it (query or path escapes, upper- or lower-case hex,
// "+" for a space), which is how a server echoing our request repeats it.
// It also blanks the values of credential-like query parameters and the
// userinfo of URLs in s. URLs are edited as written, never decoded and
// encoded again: that would turn a key echoed in one escaping back into
// the very form we sent.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, "REDACTED")
			s = redactCut(s, form)
		}
		if strings.IndexByte(s, '%') >= 0 {
			s = escapedForms(sec).ReplaceAllLiteralString(s, "REDACTED")
		}
	}
	if strings.Contains(s, "://") {
		s = redactURLParts(s)
	}
	return s
}

// escaped caches escapedForms: the same few secrets are redacted from
// every URL and message of a run.
var escaped sync.Map // secret -> *regexp.Regexp

// escapedForms matches sec with any of its bytes percent-escaped, in either
// case of hex digit, and a space also as "+".
func escapedForms(sec string) *regexp.Regexp {
	if re, ok := escaped.Load(sec); ok {
		return re.(*regexp.Regexp)
	}
	var b strings.Builder
	for i := 0; i < len(sec); i++ {
		c := sec[i]
		fmt.Fprintf(&b, "(?:%s|%%(?i:%02x)", regexp.QuoteMeta(string([]byte{c})), c)
		if c == ' ' {
			b.WriteString(`|\+`)
		}
		b.WriteByte(')')
	}
	re := regexp.MustCompile(b.String())
	escaped.Store(sec, re)
	return re
}

// redactCut replaces the start of secret where BodySnippet cut it off
// ("...key abc12..."): the whole-secret replacement cannot see it.
func redactCut(s, secret string) string {
	const minPartial = 4
	for from := 0; ; {
		i := strings.Index(s[from:], "...")
		if i < 0 {
			return s
		}
		i += from
		head := s[:i]
		for n := len(secret) - 1; n >= minPartial; n-- {
			if strings.HasSuffix(head, secret[:n]) {
				head = head[:len(head)-n] + "REDACTED"
				break
			}
		}
		s = head + s[i:]
		from = len(head) + 3
	}
}

// redactURLParts blanks userinfo and credential query values in any URLs
// inside s, editing each URL's text in place.
func redactURLParts(s string) string {
	for _, f := range strings.Fields(s) {
		raw := strings.Trim(f, `"'<>(),`)
		scheme, rest, ok := strings.Cut(raw, "://")
		if !ok || scheme == "" {
			continue
		}
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		authority, tail := rest[:end], rest[end:]
		changed := false
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			authority = "REDACTED" + authority[at:]
			changed = true
		}
		if q := strings.IndexByte(tail, '?'); q >= 0 {
			path, query, frag := tail[:q], tail[q+1:], ""
			if h := strings.IndexByte(query, '#'); h >= 0 {
				query, frag = query[:h], query[h:]
			}
			pairs := strings.Split(query, "&")
			for i, pair := range pairs {
				name, _, _ := strings.Cut(pair, "=")
				if n, err := url.QueryUnescape(name); err == nil {
					name = n
				}
				for _, p := range secretParams {
					if strings.EqualFold(name, p) {
						raw, _, _ := strings.Cut(pair, "=")
						pairs[i] = raw + "=REDACTED"
						changed = true
					}
				}
			}
			tail = path + "?" + strings.Join(pairs, "&") + frag
		}
		if changed {
			s = strings.ReplaceAll(s, raw, scheme+"://"+authority+tail)
		}
	}
	return s
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date. It returns 0 when absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// backoff is the wait before retry n (1-based): exponential from BaseDelay
// with full jitter on the upper half, or the vendor's Retry-After, both
// capped at MaxDelay.
func backoff(p RetryPolicy, n int, retryAfter time.Duration) time.Duration {
	maxDelay := maxDelay(p)
	if retryAfter > 0 {
		return min(retryAfter, maxDelay)
	}
	d := p.BaseDelay << (n - 1)
	if d <= 0 || d > maxDelay {
		d = maxDelay
	}
	half := d / 2
	return half + rand.N(half+1)
}

// longRetryAfter is the Retry-After beyond which a request is not retried
// at all (unless the policy's MaxDelay is longer still).
const longRetryAfter = 5 * time.Minute

// maxDelay is the longest single wait between attempts.
func maxDelay(p RetryPolicy) time.Duration {
	if p.MaxDelay <= 0 {
		return time.Minute
	}
	return p.MaxDelay
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// BodySnippet is a short, single-line, printable prefix of a body for error
// messages (HTML pages are summarised, not dumped).
func BodySnippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "<!doctype html") || strings.HasPrefix(lower, "<html") {
		return "an HTML page instead of data"
	}
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		// Cut on a rune boundary: half a rune is invalid UTF-8 in a message.
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// LooksLikeHTML reports whether a body is an HTML page (vendors' error pages
// served with status 200).
func LooksLikeHTML(body []byte) bool {
	s := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 512)])))
	return strings.HasPrefix(s, "<!doctype html") || strings.HasPrefix(s, "<html") || strings.HasPrefix(s, "<head") || strings.HasPrefix(s, "<body")
}

// APIBase is the API root for a configured endpoint. An empty endpoint
// gives def; a bare host ("http://127.0.0.1:8080") gets def's path (e.g.
// "/v1"), since a vendor's API always lives there and mirrors and test
// servers are usually given as a host; an endpoint with a path is used as
// given. The result has no trailing slash.
func APIBase(endpoint, def string) string {
	base := strings.TrimRight(strings.TrimSpace(endpoint), "/")
	if base == "" {
		return strings.TrimRight(def, "/")
	}
	u, err := url.Parse(base)
	if err != nil || u.Path != "" {
		return base
	}
	if d, err := url.Parse(def); err == nil {
		base += strings.TrimRight(d.Path, "/")
	}
	return base
}
