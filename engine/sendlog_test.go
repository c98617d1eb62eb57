package engine

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// TestSendLogHoldsTheLimitOnSendTimes drives the window log on a fake
// clock: ten clients ask for a slot whenever they are free, and an
// admitted request leaves after a delay (now and then a long one, as a
// quota reservation, a dial or a busy scheduler cause), reporting its
// send time. No window of one second may hold more sends than the limit
// less its margin, a stall must not be followed by a burst, and the
// throughput must stay near the limit.
func TestSendLogHoldsTheLimitOnSendTimes(t *testing.T) {
	for _, tc := range []struct {
		// minShare is the least share of the limit achieved: a request
		// that stalls holds its slot, so long stalls cost throughput.
		name     string
		count    int
		per      time.Duration
		minShare float64
		stall    func(r *rand.Rand) time.Duration
	}{
		{"50/s, steady", 50, time.Second, 0.93, func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(3)) * time.Millisecond }},
		{"50/s, one request in ten stalls", 50, time.Second, 0.9, func(r *rand.Rand) time.Duration {
			if r.IntN(10) == 0 {
				return time.Duration(100+r.IntN(400)) * time.Millisecond
			}
			return time.Millisecond
		}},
		{"10/s, a request in four stalls up to 0.9 s", 10, time.Second, 0.8, func(r *rand.Rand) time.Duration {
			if r.IntN(4) == 0 {
				return time.Duration(r.IntN(900)) * time.Millisecond
			}
			return 0
		}},
		{"4/min", 4, time.Minute, 0.9, func(r *rand.Rand) time.Duration { return time.Duration(r.IntN(5000)) * time.Millisecond }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			l := newSendLog(tc.count, tc.per)
			const clients = 10
			step := tc.per / 1000
			start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			end := start.Add(20 * tc.per)
			type flight struct {
				at     time.Time // sends at
				report func(time.Time)
			}
			var inFlight []flight
			var sends []time.Time
			free := clients
			for now := start; now.Before(end); now = now.Add(step) {
				// Requests whose delay is over are sent now.
				kept := inFlight[:0]
				for _, f := range inFlight {
					if !f.at.After(now) {
						sends = append(sends, now)
						f.report(now)
						free++
						continue
					}
					kept = append(kept, f)
				}
				inFlight = kept
				for free > 0 {
					ok, wait, _ := l.tryAdmit(now)
					if !ok {
						if wait < 0 {
							t.Fatalf("negative wait %s", wait)
						}
						break
					}
					free--
					inFlight = append(inFlight, flight{at: now.Add(tc.stall(rng)), report: l.report})
				}
			}
			sort.Slice(sends, func(i, j int) bool { return sends[i].Before(sends[j]) })
			most, j := 0, 0
			for i := range sends {
				for j < len(sends) && sends[j].Sub(sends[i]) < tc.per {
					j++
				}
				most = max(most, j-i)
			}
			if most > l.max || l.max > tc.count {
				t.Errorf("%d sends in one window of %s, want at most %d (limit %d)", most, tc.per, l.max, tc.count)
			}
			perWindow := float64(len(sends)) / 20
			if perWindow < tc.minShare*float64(tc.count) {
				t.Errorf("%.1f sends per %s, want at least %.0f%% of %d", perWindow, tc.per, 100*tc.minShare, tc.count)
			}
		})
	}
}

// TestSendLogCountsPendingRequests: a request admitted but not reported
// holds its slot; one abandoned before it was sent gives it back.
func TestSendLogCountsPendingRequests(t *testing.T) {
	l := newSendLog(3, time.Second)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _, _ := l.tryAdmit(now); !ok {
			t.Fatalf("request %d refused in an empty window", i+1)
		}
	}
	ok, wait, changed := l.tryAdmit(now.Add(time.Hour))
	if ok || wait != 0 {
		t.Fatalf("a fourth request was admitted (%v) or told to wait %s while three are pending", ok, wait)
	}
	l.report(time.Time{}) // abandoned: never sent
	select {
	case <-changed:
	default:
		t.Fatal("a report did not wake the waiters")
	}
	later := now.Add(time.Hour)
	if ok, _, _ := l.tryAdmit(later); !ok {
		t.Fatal("an abandoned request kept its slot")
	}
	l.report(later)
	l.report(later.Add(100 * time.Millisecond))
	// Two sent, one pending: full until the first sent leaves the window.
	ok, wait, _ = l.tryAdmit(later.Add(200 * time.Millisecond))
	if ok || wait != l.per-200*time.Millisecond {
		t.Fatalf("admitted %v, wait %s; want a wait of %s", ok, wait, l.per-200*time.Millisecond)
	}
	if ok, _, _ := l.tryAdmit(later.Add(l.per + time.Millisecond)); !ok {
		t.Fatal("refused after a send left the window")
	}
}

// TestGateLogsHTTPSends checks the HTTP client's reports to the gate: a
// request sent is logged once, one that could not even be built is not,
// and one that failed on the way counts as sent (it may have arrived).
func TestGateLogsHTTPSends(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	g := newGate(schema.Rate{Count: 100, Per: time.Second}, 0)
	c := providers.NewHTTPClient(providers.Config{Address: "test", Gate: g, Retry: providers.RetryPolicy{MaxAttempts: 1}}, providers.HTTPOptions{})
	logged := func() (sent, pending int) {
		g.sends.mu.Lock()
		defer g.sends.mu.Unlock()
		return len(g.sends.sent) - g.sends.head, g.sends.pending
	}
	ctx := context.Background()
	if _, err := c.Get(ctx, srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	if s, p := logged(); s != 1 || p != 0 {
		t.Fatalf("after one request: %d sends logged, %d pending; want 1, 0", s, p)
	}
	if _, err := c.Get(ctx, "http://[::1", nil); err == nil {
		t.Fatal("a bad URL was sent")
	}
	if s, p := logged(); s != 1 || p != 0 {
		t.Fatalf("after a request never built: %d sends logged, %d pending; want 1, 0", s, p)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if _, err := c.Get(ctx, closed.URL, nil); err == nil {
		t.Fatal("a closed server answered")
	}
	if s, p := logged(); s != 2 || p != 0 {
		t.Fatalf("after a failed request: %d sends logged, %d pending; want 2, 0", s, p)
	}
}
