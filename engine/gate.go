package engine

import (
	"context"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// gate is one provider instance's rate limiter and request budget for a
// run. Providers call Wait before every request; the budget is charged
// before the limiter is waited on, and refunded if the wait is abandoned,
// so a cancelled request costs nothing.
type gate struct {
	limiter   *rate.Limiter // nil: unlimited
	budget    int64         // 0: unlimited
	used      atomic.Int64
	exhausted atomic.Bool
}

var _ providers.Gate = (*gate)(nil)

func newGate(r schema.Rate, budget int) *gate {
	g := &gate{budget: int64(budget)}
	if ps := r.PerSecond(); ps > 0 {
		// Burst 1: requests are spaced evenly, so no window of one period
		// ever holds more than the limit.
		g.limiter = rate.NewLimiter(rate.Limit(ps), 1)
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
	n := g.used.Add(1)
	if g.budget > 0 && n > g.budget {
		g.used.Add(-1)
		g.exhausted.Store(true)
		return providers.ErrBudgetExhausted
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
	if c, ok := ctx.Value(requestCounterKey{}).(*atomic.Int64); ok {
		c.Add(1)
	}
	return nil
}

// Used is the number of requests charged so far.
func (g *gate) Used() int { return int(g.used.Load()) }

// Exhausted reports whether a request was refused for budget.
func (g *gate) Exhausted() bool {
	return g.exhausted.Load() || (g.budget > 0 && g.used.Load() >= g.budget)
}
