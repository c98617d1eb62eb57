// Package providertest holds helpers for testing providers against httptest
// fakes: a counting Gate and a Config builder. It contains no fakes of our
// own interfaces pretending to be the network.
package providertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
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

// Serve serves h on a test server that closes when the test ends and
// returns its URL.
func Serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Build builds a provider from cfg with its log captured (for secret
// checks), failing the test when the factory refuses the config.
func Build(t testing.TB, newProvider providers.Factory, cfg providers.Config) (providers.Provider, *LogBuffer) {
	t.Helper()
	logs := CaptureLog(&cfg)
	p, err := newProvider(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p, logs
}

// Query builds a query of providerType; a subject that does not parse is
// a mistake in the test and panics.
func Query(providerType string, op schema.Op, subject string, rrtypes ...string) schema.Query {
	s, err := schema.ParseSubject(subject)
	if err != nil {
		panic(err)
	}
	return schema.Query{Provider: providerType, Op: op, Subject: s, RRTypes: rrtypes}
}

// Respond is a handler answering with code and body, after setting the
// headers given as name, value pairs.
func Respond(code int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}
