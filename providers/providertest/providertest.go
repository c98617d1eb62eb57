// Package providertest holds helpers for testing providers against httptest
// fakes: a counting Gate and a Config builder. It contains no fakes of our
// own interfaces pretending to be the network.
package providertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
)

// Gate counts requests and fails with ErrBudgetExhausted past Budget
// (0: unlimited). It never sleeps.
type Gate struct {
	Budget int
	mu     sync.Mutex
	n      int
}

// Wait charges one request.
func (g *Gate) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.Budget > 0 && g.n >= g.Budget {
		return providers.ErrBudgetExhausted
	}
	g.n++
	return nil
}

// Count is the number of requests charged.
func (g *Gate) Count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Config builds a provider Config for tests: endpoint set, fast retries,
// a short timeout, a counting gate and a logger writing to the test log.
func Config(t testing.TB, providerType, endpoint string, attrs map[string]string) (providers.Config, *Gate) {
	t.Helper()
	values := map[string]cty.Value{}
	for k, v := range attrs {
		values[k] = cty.StringVal(v)
	}
	gate := &Gate{}
	return providers.Config{
		Type:         providerType,
		Address:      providerType,
		Attrs:        values,
		Dir:          t.TempDir(),
		WorkDir:      t.TempDir(),
		Endpoint:     endpoint,
		Timeout:      5 * time.Second,
		MaxBodyBytes: 1 << 20,
		UserAgent:    "reconform/test",
		Retry:        providers.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 50 * time.Millisecond},
		Gate:         gate,
		Logger:       hclog.New(&hclog.LoggerOptions{Name: providerType, Level: hclog.Debug, Output: testWriter{t}}),
	}, gate
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
