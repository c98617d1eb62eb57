package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/reconform/reconform/schema"
)

// Channel delivers messages to one receiver. Implementations live in
// engine/notify/<channel>; engine/notify/all makes them from notify
// blocks.
type Channel interface {
	// Send delivers m. An error a retry cannot help (a 404, a refused
	// address) is a *SendError with Permanent set; a receiver's "try again
	// later" a *SendError with RetryAfter.
	Send(ctx context.Context, m *Message) error
}

// PerEvent is implemented by channels whose receivers take one delivery
// per run (a webhook: one drift document each, deduplicated by its
// delivery ID); chat and e-mail channels get every pending run of a
// notifier in one message.
type PerEvent interface {
	PerEvent() bool
}

// Options are what every channel is made with.
type Options struct {
	// Client is the HTTP client (nil: NewHTTPClient with the notifier's
	// timeout).
	Client *http.Client
	Logger hclog.Logger
	// UserAgent is sent with every request ("reconform/1.2.3").
	UserAgent string
	// TLSConfig is the base TLS configuration of e-mail connections (nil:
	// the system's roots, or the block's ca_file).
	TLSConfig *tls.Config
	// Secrets are redacted from every error a channel returns.
	Secrets []string
}

// NewHTTPClient is the client channels use by default: the notifier's
// timeout, the environment's proxy, and no redirects (a redirect would
// carry the message, and maybe the URL's secret, elsewhere).
func NewHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// SendError is a failed delivery attempt.
type SendError struct {
	// Status is the HTTP status (0: none).
	Status int
	// RetryAfter is how long the receiver asked to wait (0: not said).
	RetryAfter time.Duration
	// Permanent: retrying the same message cannot help.
	Permanent bool
	Err       error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Permanentf is a SendError a retry cannot help.
func Permanentf(format string, args ...any) error {
	return &SendError{Permanent: true, Err: fmt.Errorf(format, args...)}
}

// maxErrorBody is how much of a receiver's error response is quoted.
const maxErrorBody = 200

// PostJSON posts body to target as JSON and classifies the answer: 2xx is
// success (ok may reject it further, e.g. Slack's body "ok"), 408, 425,
// 429 and 5xx are worth a retry (honouring Retry-After), other statuses
// are permanent. Errors never contain the URL: what is wrong is said
// with what (e.g. "the Slack webhook").
func PostJSON(ctx context.Context, client *http.Client, target, what string, body []byte, headers http.Header, ok func(status int, body []byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanentf("%s: the URL is not valid", what)
	}
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		return &SendError{Err: fmt.Errorf("posting to %s: %s", what, transportError(err))}
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if ok != nil {
			return ok(resp.StatusCode, rb)
		}
		return nil
	}
	se := &SendError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	detail := strings.TrimSpace(string(rb))
	if detail != "" {
		detail = ": " + cut(strings.Join(strings.Fields(detail), " "), maxErrorBody)
	}
	se.Err = fmt.Errorf("%s answered %s%s", what, resp.Status, detail)
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooEarly, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
	default:
		se.Permanent = true
	}
	return se
}

// transportError is err without the URL net/http puts in it.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// EncodeJSON encodes v compactly without HTML escaping: messages carry
// DNS names and TXT values, not markup.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Endpoint is the URL a channel posts to, with its client: what the
// slack, teams and webhook channels share.
type Endpoint struct {
	URL       string
	Client    *http.Client
	UserAgent string
	// What names it in errors ("the Slack webhook"), never the URL.
	What string
}

// NewEndpoint is the endpoint of n's URL argument attr; an empty URL (an
// unset environment variable) is an error that says so.
func NewEndpoint(n *schema.NotifyBlock, attr, what string, o Options) (*Endpoint, error) {
	u := n.String(attr)
	if u == "" {
		return nil, fmt.Errorf("%s is empty (is its environment variable set?)", attr)
	}
	c := o.Client
	if c == nil {
		c = NewHTTPClient(n.Timeout)
	}
	return &Endpoint{URL: u, Client: c, UserAgent: o.UserAgent, What: what}, nil
}

// Post posts body with headers (and the User-Agent), as PostJSON.
func (e *Endpoint) Post(ctx context.Context, body []byte, headers http.Header, ok func(status int, body []byte) error) error {
	if headers == nil {
		headers = http.Header{}
	}
	if e.UserAgent != "" {
		headers.Set("User-Agent", e.UserAgent)
	}
	return PostJSON(ctx, e.Client, e.URL, e.What, body, headers, ok)
}
