// Package providers defines what a source of DNS records is to reconform:
// the Provider interface, the classified errors providers return, the
// per-run Config they are built from, and the shared HTTP client every
// HTTP provider uses (auth, retries, Retry-After, size limits, redaction).
// Each provider lives in its own package under providers/; providers/all
// registers them.
package providers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

// Provider answers queries for one configured provider instance. A Provider
// is built fresh for each run by its Factory and holds its own credentials;
// nothing is shared between instances.
type Provider interface {
	// Schema is the provider type's declaration.
	Schema() schema.ProviderSchema
	// Query answers q. "Nothing found" is an empty Answer and a nil error.
	// Errors should be *Error so the engine can tell retryable from
	// permanent. Query must return promptly when ctx is cancelled.
	Query(ctx context.Context, q schema.Query) (Answer, error)
}

// Answer is what a provider found for one query.
type Answer struct {
	Findings []schema.Finding
	// Requests is how many requests the answer cost (pages included). The
	// Gate has already charged them; this is for reporting.
	Requests int
	// Warnings are non-fatal problems (a malformed line skipped, a result
	// cap reached), shown to the user, never containing secrets.
	Warnings []string
	// Facts a provider states directly (e.g. live DNS: a name does not
	// resolve).
	Facts []schema.Fact
}

// Gate is the engine's per-provider rate limiter and budget. A provider
// calls Wait before every request it sends (every page, every retry).
type Gate interface {
	// Wait blocks until the rate limit allows one more request and charges
	// it to the budget. It returns ErrBudgetExhausted when the budget is
	// spent, or ctx.Err().
	Wait(ctx context.Context) error
}

// SendGate is a Gate that holds its rate where the vendor counts it: on
// the times requests were sent, not the times Wait let them go. A request
// can wait between the two (a quota reservation, a dial, a busy
// scheduler) while a later one does not; the vendor then sees them closer
// together than they were granted. The HTTP client asks WaitSend instead
// of Wait and reports when its request was written to the connection.
type SendGate interface {
	Gate
	// WaitSend is Wait, returning the function to call once with the
	// time the request was sent, or the zero time if it never was. Until
	// then the request counts as sent now in every window, so no later
	// request can take its place.
	WaitSend(ctx context.Context) (sent func(time.Time), err error)
}

// Pauser is a Gate that can hold back every request of its provider, not
// only the one that was told to wait: a vendor's Retry-After or 429 is
// about the account (or our address), so the provider's other in-flight
// and queued requests would run into the same wall. The engine's gates
// are Pausers; the HTTP client pauses the gate instead of sleeping alone.
type Pauser interface {
	// Pause holds every request (their Wait) for d from now. A pause
	// that already lasts longer is kept.
	Pause(d time.Duration)
}

// ErrBudgetExhausted is returned by a Gate when the provider's budget for
// this run is spent.
var ErrBudgetExhausted = errors.New("request budget exhausted")

// ErrQuotaExhausted is what a Gate's error is (errors.Is) when the
// vendor's quota for the key has nothing left for the request: it was
// not sent, and the query is deferred to the quota's next window.
var ErrQuotaExhausted = errors.New("vendor quota has nothing left")

// UsageReporter is a provider whose vendor reports the key's own usage
// (SecurityTrails' GET /v1/account/usage, VirusTotal's GET
// /api/v3/users/{id}/overall_quotas). The engine reconciles its quota
// ledger with it: the vendor's figure wins when it is higher (requests
// made elsewhere with the key). A usage request costs no quota.
type UsageReporter interface {
	Usage(ctx context.Context) ([]VendorUsage, error)
}

// VendorUsage is the vendor's count of one quota window of the key.
type VendorUsage struct {
	Period schema.QuotaPeriod
	Used   int
	// Limit is the vendor's allowance in the window (0: not given).
	Limit int
}

// RetryPolicy is how requests are retried on 429, 5xx and transient
// network errors. The engine sets it; the HTTP client applies it per request.
type RetryPolicy struct {
	MaxAttempts int           // total attempts including the first; >= 1
	BaseDelay   time.Duration // first backoff; doubles each attempt, with jitter
	MaxDelay    time.Duration // cap on one backoff and on an honoured Retry-After
}

// DefaultRetryPolicy is used when the engine sets none.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 500 * time.Millisecond, MaxDelay: 60 * time.Second}

// Config is one provider block, decoded, for one run.
type Config struct {
	// Type is the provider type ("securitytrails"); Name the instance name
	// ("" for the default instance); Address is "type" or "type.name".
	Type, Name, Address string
	// Attrs holds every attribute set in the block (sensitive ones
	// included), already evaluated. Use the helpers String, Int, Duration.
	Attrs map[string]cty.Value
	// Dir is the engagement folder, for resolving relative paths.
	Dir string
	// WorkDir is the engagement's .reconform folder, for provider-owned
	// data such as persisted file indexes.
	WorkDir string

	Endpoint     string        // attribute or schema default
	Timeout      time.Duration // per request
	MaxBodyBytes int64         // response size bound
	UserAgent    string        // "reconform/<version>"
	Retry        RetryPolicy
	// Parallelism is how many requests of the instance the run may have
	// in flight at once (the run's parallelism); the HTTP client keeps as
	// many idle connections. 0: DefaultParallelism.
	Parallelism int
	Gate        Gate
	Logger      hclog.Logger
	// Secrets are every sensitive value of the configuration (all
	// providers' keys, sensitive variables, env() values), which the HTTP
	// client redacts along with the provider's own.
	Secrets []string
	// InScope is the run's scope check (the engagement's, narrowed by a
	// reviewed plan's). The engine admits only in-scope subjects to
	// active ops; an active provider asks InScope again before every
	// packet it sends, the lookups it adds on its own (a _dmarc name, a
	// wildcard probe) included, and sends nothing it refuses. It returns
	// why a subject is out of scope. nil allows everything (a provider's
	// unit tests); the engine always sets it.
	InScope func(schema.Subject) (bool, string)
}

// Allows reports whether the scope lets the provider send a question
// about subj, and why not.
func (c Config) Allows(subj schema.Subject) (bool, string) {
	if c.InScope == nil {
		return true, ""
	}
	return c.InScope(subj)
}

// String returns a string attribute, or "" when unset or null.
func (c Config) String(name string) string {
	v, ok := c.Attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// Int returns a number attribute as int64, or def when unset.
func (c Config) Int(name string, def int64) int64 {
	v, ok := c.Attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return def
	}
	i, _ := v.AsBigFloat().Int64()
	return i
}

// Bool returns a bool attribute, or def when unset.
func (c Config) Bool(name string, def bool) bool {
	v, ok := c.Attrs[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return def
	}
	return v.True()
}

// Factory builds a Provider from its Config. It must not do I/O beyond
// cheap local checks; bad config is returned as an error naming the
// attribute to fix.
type Factory func(ctx context.Context, cfg Config) (Provider, error)

// Registration pairs a provider type's schema with its factory.
type Registration struct {
	Schema schema.ProviderSchema
	New    Factory
	// MinRequests, when set, says how many requests one query costs at
	// least when the vendor has data (e.g. SecurityTrails resolutions:
	// current records plus one history request per record type); pages
	// beyond the first cannot be known before running. nil means 1. The
	// plan uses it to compare request counts with budgets.
	MinRequests func(q schema.Query) int
}

// MinRequestsFor is r.MinRequests(q), or 1 when the provider sets none.
func (r Registration) MinRequestsFor(q schema.Query) int {
	if r.MinRequests == nil {
		return 1
	}
	return max(r.MinRequests(q), 1)
}

// ErrorKind classifies a provider error.
type ErrorKind string

const (
	KindRateLimited ErrorKind = "rate_limited" // 429 or vendor "slow down"
	KindQuota       ErrorKind = "quota"        // daily/monthly quota spent
	KindTransient   ErrorKind = "transient"    // 5xx, timeout, connection reset
	KindAuth        ErrorKind = "auth"         // bad or missing credentials
	KindBadInput    ErrorKind = "bad_input"    // the vendor rejected the subject
	KindMalformed   ErrorKind = "malformed"    // a response we could not read
	KindBudget      ErrorKind = "budget"       // our own budget is spent
	KindUnsupported ErrorKind = "unsupported"  // op or subject kind not answered
)

// Error is a classified provider error. Messages must never contain a
// secret: no key, password, token or URL carrying one.
type Error struct {
	Provider string // instance address
	Kind     ErrorKind
	// Retryable says the engine may run the query again later; the HTTP
	// client clears it once it has spent its own retries.
	Retryable  bool
	RetryAfter time.Duration // vendor-requested wait, 0 if none
	// QuotaPeriod is the window a KindQuota error says is spent, when the
	// vendor says (SecurityTrails' monthly plan); "" when it does not.
	QuotaPeriod schema.QuotaPeriod
	Msg         string // what happened and, when known, how to fix it
	Err         error  // underlying cause (already redacted)
}

func (e *Error) Error() string {
	s := e.Provider + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a classified, non-retryable error.
func Errorf(provider string, kind ErrorKind, format string, args ...any) *Error {
	return &Error{Provider: provider, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// IsRetryable reports whether err is a provider error the engine may retry,
// and the wait the vendor asked for.
func IsRetryable(err error) (bool, time.Duration) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Retryable, pe.RetryAfter
	}
	return false, 0
}
