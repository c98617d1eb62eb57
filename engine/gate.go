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
	// sends is the rate's window log of send times (sendlog.go): the
	// token bucket spaces requests, the log keeps every window of one
	// Per at or under the limit where the vendor counts. nil: unlimited,
	// or a limit too large to log.
	sends     *sendLog
	mu        sync.Mutex
	until     time.Time // paused until then (under mu)
	budget    int64     // 0: unlimited
	used      atomic.Int64
	exhausted atomic.Bool
	// quota is the vendor's quota for the provider's key, reserved last,
	// right before the request goes out (gatequota.go); nil: none.
	quota *quota.Meter
}

var (
	_ providers.Gate     = (*gate)(nil)
	_ providers.SendGate = (*gate)(nil)
	_ providers.Pauser   = (*gate)(nil)
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
			g.sends = newSendLog(r.Count, r.Per)
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

// Wait charges one request and waits for the rate limit. The request
// counts as sent when Wait returns.
func (g *gate) Wait(ctx context.Context) error {
	sent, err := g.WaitSend(ctx)
	if err != nil {
		return err
	}
	sent(time.Now())
	return nil
}

// WaitSend is Wait for a caller that reports when its request was sent
// (providers.SendGate).
func (g *gate) WaitSend(ctx context.Context) (func(time.Time), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if quota.IsFree(ctx) {
		return g.waitFree(ctx)
	}
	n := g.used.Add(1)
	if g.budget > 0 && n > g.budget {
		g.used.Add(-1)
		g.exhausted.Store(true)
		return nil, providers.ErrBudgetExhausted
	}
	sent, err := g.waitRate(ctx)
	if err != nil {
		g.used.Add(-1)
		return nil, err
	}
	if err := g.takeQuota(ctx); err != nil {
		sent(time.Time{})
		g.used.Add(-1)
		return nil, err
	}
	if c, ok := ctx.Value(requestCounterKey{}).(*atomic.Int64); ok {
		c.Add(1)
	}
	return sent, nil
}

// waitRate waits out any pause, the token bucket and the window log,
// and returns the window log's report of the admitted request.
func (g *gate) waitRate(ctx context.Context) (func(time.Time), error) {
	if err := g.waitPause(ctx); err != nil {
		return nil, err
	}
	if g.limiter != nil {
		if err := g.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
	}
	sent := func(time.Time) {}
	if g.sends != nil {
		var err error
		if sent, err = g.sends.admit(ctx); err != nil {
			return nil, err
		}
	}
	// A pause may have begun while this request waited for its slot.
	if err := g.waitPause(ctx); err != nil {
		sent(time.Time{})
		return nil, err
	}
	return sent, nil
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

// maxWindowLog is the largest Count whose send times are kept; larger
// limits rely on the token bucket alone.
const maxWindowLog = 100000

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
