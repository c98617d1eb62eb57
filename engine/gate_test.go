package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// A Retry-After holds the whole provider, not only the request that got
// it: after a 429 with Retry-After: 1, no request of any instance of that
// provider reaches the server for a second.
func TestRetryAfterPausesTheProvider(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()

	g := newGate(schema.Rate{}, 0)
	client := func() *providers.HTTPClient {
		cfg, _ := providertest.Config(t, "vendor", srv.URL, nil)
		cfg.Gate = g
		cfg.Retry = providers.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}
		return providers.NewHTTPClient(cfg, providers.HTTPOptions{})
	}
	first, second := client(), client()
	done := make(chan error, 1)
	go func() {
		_, err := first.Get(context.Background(), srv.URL+"/a", nil)
		done <- err
	}()
	// Once the first instance has been told to wait, another instance of
	// the same provider asks.
	deadline := time.Now().Add(10 * time.Second)
	for g.pausedUntil().IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("the gate was never paused")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := second.Get(context.Background(), srv.URL+"/b", nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(times))
	}
	for i, at := range times[1:] {
		if gap := at.Sub(times[0]); gap < time.Second {
			t.Errorf("request %d came %s after the 429 with Retry-After: 1", i+2, gap)
		}
	}
}

// A paused gate gives up its wait when the context ends, refunding the
// request it charged.
func TestPausedGateHonoursCancel(t *testing.T) {
	g := newGate(schema.Rate{}, 5)
	g.Pause(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := g.Wait(ctx); err == nil {
		t.Fatal("Wait returned during an hour's pause")
	}
	if g.Used() != 0 {
		t.Errorf("a cancelled wait was charged: used %d", g.Used())
	}
	// A shorter pause never shortens a longer one.
	g.Pause(time.Millisecond)
	if time.Until(g.pausedUntil()) < 59*time.Minute {
		t.Errorf("a short pause cut the long one to %s", time.Until(g.pausedUntil()))
	}
}
