package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

func TestCacheCorruptEntryIsAMiss(t *testing.T) {
	dir := t.TempDir()
	c := &answerCache{store: &backend.DirCache{Dir: dir}}
	key := "ab" + "cdef0123"
	entryPath := filepath.Join(dir, key[:2], key+".json")
	ctx := context.Background()
	ans := providers.Answer{Findings: []schema.Finding{schema.NewFinding("a.example", "A", "192.0.2.1")}}
	if err := c.put(ctx, key, ans, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.get(ctx, key, time.Hour, t0.Add(time.Minute)); !ok {
		t.Fatal("fresh entry missed")
	}
	if _, ok := c.get(ctx, key, time.Hour, t0.Add(2*time.Hour)); ok {
		t.Error("expired entry hit")
	}
	for name, body := range map[string]string{
		"garbage":      "{not json",
		"wrong format": `{"format": 99, "stored": "2026-11-01T12:00:00Z"}`,
		"no time":      `{"format": 1}`,
	} {
		if err := os.WriteFile(entryPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.get(ctx, key, time.Hour, t0); ok {
			t.Errorf("%s: corrupt entry hit", name)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(entryPath))
	for _, e := range entries {
		if e.Name() != key+".json" {
			t.Errorf("left-over file %s", e.Name())
		}
	}
}

func TestBackoff(t *testing.T) {
	p := providers.RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for attempt, max := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 9: time.Second} {
		for range 50 {
			d := backoff(p, attempt, 0)
			if d < max/2 || d > max {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, max/2, max)
			}
		}
	}
	if d := backoff(p, 1, 700*time.Millisecond); d != 700*time.Millisecond {
		t.Errorf("Retry-After 700ms: waited %s", d)
	}
	if d := backoff(p, 1, time.Hour); d != time.Second {
		t.Errorf("Retry-After 1h: waited %s, want the 1s cap", d)
	}
}

func TestGateBudgetAndRefund(t *testing.T) {
	g := newGate(schema.Rate{}, 2)
	ctx := context.Background()
	for i := range 2 {
		if err := g.Wait(ctx); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if err := g.Wait(ctx); !errors.Is(err, providers.ErrBudgetExhausted) || !g.Exhausted() {
		t.Errorf("third request: %v", err)
	}
	if g.Used() != 2 {
		t.Errorf("used %d", g.Used())
	}

	// A request abandoned while waiting for the rate limit costs nothing.
	slow := newGate(schema.Rate{Count: 1, Per: time.Hour}, 5)
	if err := slow.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The limiter refuses at once: the next slot is beyond the deadline.
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := slow.Wait(cctx); err == nil {
		t.Error("cancelled wait succeeded")
	}
	if slow.Used() != 1 {
		t.Errorf("used %d after an abandoned wait, want 1", slow.Used())
	}
}

func FuzzCacheGet(f *testing.F) {
	f.Add([]byte(`{"format":1,"stored":"2026-11-01T12:00:00Z","findings":[{"name":"a.example","type":"A","value":"192.0.2.1"}]}`))
	f.Add([]byte(`{"format":1,"stored":"2026-11-01T12:00:00Z","findings":[{"name":"A.Example.","type":"a","value":"192.0.2.1"}]}`))
	f.Add([]byte(`{"format":1,"stored":"2026-11-01T12:00:00Z","findings":[{"name":"","type":"","value":""}]}`))
	f.Add([]byte(`{"format":1}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &answerCache{store: &backend.DirCache{Dir: dir}}
		key := "abcdef0123"
		p := filepath.Join(dir, key[:2], key+".json")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ans, ok := c.get(context.Background(), key, time.Hour, t0)
		if !ok {
			return
		}
		for _, f := range ans.Findings {
			if f.Name == "" || f.Type == "" || schema.NewFinding(f.Name, f.Type, f.Value).ID() != f.ID() {
				t.Fatalf("cache hit returned a finding no provider gives: %+v", f)
			}
		}
	})
}
