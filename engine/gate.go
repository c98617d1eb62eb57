package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/reconform/reconform/engine/quota"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// gate is one provider instance's rate limiter and request budget for a
// run. Providers call Wait before every request; the budget is charged
// before the limiter is waited on, and refunded if the wait is abandoned,
// so a cancelled request costs nothing. Pause holds every request of the
// provider for a while: the vendor said to stay away (Retry-After, 429),
// and the other instances' requests would only run into the same wall.
type gate struct {
	limiter *rate.Limiter // nil: unlimited
	// window holds the grant times of the last Count requests, so no
	// window of one Per ever holds more than Count: the token bucket alone
	// can let timer jitter squeeze one extra request into a window.
	mu        sync.Mutex
	window    []time.Time
	next      int
	per       time.Duration
	until     time.Time // paused until then (under mu)
	budget    int64     // 0: unlimited
	used      atomic.Int64
	exhausted atomic.Bool
	// quota is the vendor's quota for the provider's key, reserved last,
	// right before the request goes out (gatequota.go); nil: none.
	quota *quota.Meter
}

var (
	_ providers.Gate   = (*gate)(nil)
	_ providers.Pauser = (*gate)(nil)
)

func newGate(r schema.Rate, budget int) *gate {
	g := &gate{budget: int64(budget)}
	if ps := r.PerSecond(); ps > 0 {
		// Requests are spaced evenly, with a small burst (a tenth of the
		// limit) so a waiter that the scheduler wakes late does not lose
		// its slot for good; the window log below still keeps every
		// window of one period at or under the limit.
		g.limiter = rate.NewLimiter(rate.Limit(ps), max(1, r.Count/10))
		if r.Count <= maxWindowLog {
			// A margin of 1% on the window: whoever counts our requests
			// (the vendor, a test) sees them a little after we grant them,
			// and jitter in that delay must not put Count+1 into one of
			// their windows.
			g.window, g.per = make([]time.Time, r.Count), r.Per+r.Per/100
		}
	}
	return g
}

// requestCounterKey carries an instance's request counter in its context,
// so requests are attributed to the instance that made them.
type requestCounterKey struct{}

func withRequestCounter(ctx context.Context, c *atomic.Int64) context.Context {
	return context.WithValue(ctx, requestCounterKey{}, c)
}

// Wait charges one request and waits for the rate limit.
func (g *gate) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if quota.IsFree(ctx) {
		return g.waitFree(ctx)
	}
	n := g.used.Add(1)
	if g.budget > 0 && n > g.budget {
		g.used.Add(-1)
		g.exhausted.Store(true)
		return providers.ErrBudgetExhausted
	}
	if err := g.waitPause(ctx); err != nil {
		g.used.Add(-1)
		return err
	}
	if g.limiter != nil {
		if err := g.limiter.Wait(ctx); err != nil {
			g.used.Add(-1)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
	if err := g.waitWindow(ctx); err != nil {
		g.used.Add(-1)
		return err
	}
	// A pause may have begun while this request waited for its slot.
	if err := g.waitPause(ctx); err != nil {
		g.used.Add(-1)
		return err
	}
	if err := g.takeQuota(ctx); err != nil {
		g.used.Add(-1)
		return err
	}
	if c, ok := ctx.Value(requestCounterKey{}).(*atomic.Int64); ok {
		c.Add(1)
	}
	return nil
}

// Pause holds every request of the provider for d from now; a pause
// already longer is kept.
func (g *gate) Pause(d time.Duration) { g.pause(d) }

// pause is Pause returning when the pause ends.
func (g *gate) pause(d time.Duration) time.Time {
	until := time.Now().Add(d)
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.until) {
		g.until = until
	}
	return g.until
}

// pauseServedKey marks a context whose instance has already waited out
// the gate's pause until the time it holds (in the engine's retry sleep,
// a clock tests substitute), so its retry is not held a second time.
type pauseServedKey struct{}

func withPauseServed(ctx context.Context, until time.Time) context.Context {
	return context.WithValue(ctx, pauseServedKey{}, until)
}

// pausedUntil is when the latest pause ends (zero: never paused).
func (g *gate) pausedUntil() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until
}

// waitPause waits until no pause holds the provider.
func (g *gate) waitPause(ctx context.Context) error {
	served, _ := ctx.Value(pauseServedKey{}).(time.Time)
	for {
		until := g.pausedUntil()
		if !until.After(served) {
			return nil
		}
		wait := time.Until(until)
		if wait <= 0 {
			return nil
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// maxWindowLog is the largest Count whose grant times are kept; larger
// limits rely on the token bucket alone.
const maxWindowLog = 100000

// waitWindow waits until the request granted Count requests ago is at least
// Per in the past, then records this grant.
func (g *gate) waitWindow(ctx context.Context) error {
	if g.window == nil {
		return nil
	}
	for {
		g.mu.Lock()
		now := time.Now()
		oldest := g.window[g.next]
		if oldest.IsZero() || now.Sub(oldest) >= g.per {
			g.window[g.next] = now
			g.next = (g.next + 1) % len(g.window)
			g.mu.Unlock()
			return nil
		}
		wait := g.per - now.Sub(oldest)
		g.mu.Unlock()
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
}

// Used is the number of requests charged so far.
func (g *gate) Used() int { return int(g.used.Load()) }

// Affords reports whether n more requests fit in the budget.
func (g *gate) Affords(n int) bool {
	return g.budget <= 0 || g.used.Load()+int64(n) <= g.budget
}

// Exhausted reports whether a request was refused for budget.
func (g *gate) Exhausted() bool {
	return g.exhausted.Load() || (g.budget > 0 && g.used.Load() >= g.budget)
}
