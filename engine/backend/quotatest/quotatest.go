// Package quotatest is the contract every quota ledger
// (backend.QuotaBook) keeps, run against the local ledger and the pg
// backend's on a real PostgreSQL: all-or-nothing reservations, given-back
// slots, spent windows, reconciliation that never lowers a count, the
// listing, and concurrent reservations from several ledgers on one
// storage that never grant more than a limit together.
package quotatest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
)

// Open returns a ledger on the test's storage: every call a new one on
// the same storage (another process would open it so).
type Open func(t *testing.T) backend.QuotaBook

// The windows are today's (ledgers prune windows that ended long ago).
var (
	day0  = time.Now().UTC().Truncate(24 * time.Hour)
	day   = backend.QuotaWindow{Start: day0, Length: 24 * time.Hour, Limit: 5}
	month = backend.QuotaWindow{Start: day0.AddDate(0, 0, 1-day0.Day()), Length: 31 * 24 * time.Hour, Limit: 8}
)

// Run runs the contract.
func Run(t *testing.T, open Open) {
	t.Run("ReserveAllOrNothing", func(t *testing.T) { reserveAllOrNothing(t, open) })
	t.Run("SpentAndReconciled", func(t *testing.T) { spentAndReconciled(t, open) })
	t.Run("SaltAndReport", func(t *testing.T) { saltAndReport(t, open) })
	t.Run("ConcurrentReservations", func(t *testing.T) { concurrent(t, open) })
}

func used(t *testing.T, b backend.QuotaBook, key backend.QuotaKey, ws ...backend.QuotaWindow) []int {
	t.Helper()
	counts, err := b.Windows(context.Background(), key, ws)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int, len(counts))
	for i, c := range counts {
		out[i] = c.Used
	}
	return out
}

func reserveAllOrNothing(t *testing.T, open Open) {
	ctx := context.Background()
	b := open(t)
	key := backend.QuotaKey{ProviderType: "virustotal", KeyHash: "k1"}
	ws := []backend.QuotaWindow{day, month}
	if got := used(t, b, key, ws...); got[0] != 0 || got[1] != 0 {
		t.Fatalf("a new key counts %v", got)
	}
	for _, step := range []struct{ n, want int }{{3, 3}, {3, 0}, {2, 2}, {1, 0}} {
		got, err := b.Reserve(ctx, key, ws, step.n)
		if err != nil || got != step.want {
			t.Fatalf("Reserve(%d) = %d, %v; want %d", step.n, got, err, step.want)
		}
	}
	if got := used(t, b, key, ws...); got[0] != 5 || got[1] != 5 {
		t.Fatalf("after 5 granted: %v", got)
	}
	if err := b.Release(ctx, key, ws, 2); err != nil {
		t.Fatal(err)
	}
	if got := used(t, b, key, ws...); got[0] != 3 || got[1] != 3 {
		t.Fatalf("after giving 2 back: %v", got)
	}
	// The next day: its window is empty, the month still counts. The
	// month's limit (8) now binds.
	next := day
	next.Start = day0.Add(24 * time.Hour)
	if got, _ := b.Reserve(ctx, key, []backend.QuotaWindow{next, month}, 5); got != 5 {
		t.Fatalf("the next day granted %d of 5", got)
	}
	if got, _ := b.Reserve(ctx, key, []backend.QuotaWindow{next, month}, 1); got != 0 {
		t.Fatal("the month's limit did not hold")
	}
	// Another ledger on the same storage sees the same counts; another
	// key does not.
	if got := used(t, open(t), key, day, next, month); got[0] != 3 || got[1] != 5 || got[2] != 8 {
		t.Fatalf("a second ledger reads %v", got)
	}
	other := backend.QuotaKey{ProviderType: "virustotal", KeyHash: "k2"}
	if got := used(t, b, other, day); got[0] != 0 {
		t.Fatalf("another key counts %v", got)
	}
	// A release never goes below zero.
	if err := b.Release(ctx, other, []backend.QuotaWindow{day}, 4); err != nil {
		t.Fatal(err)
	}
	if got := used(t, b, other, day); got[0] != 0 {
		t.Fatalf("released below zero: %v", got)
	}
}

func spentAndReconciled(t *testing.T, open Open) {
	ctx := context.Background()
	b := open(t)
	key := backend.QuotaKey{ProviderType: "securitytrails", KeyHash: "k3"}
	at := day0.Add(time.Hour)
	if _, err := b.Reserve(ctx, key, []backend.QuotaWindow{month}, 2); err != nil {
		t.Fatal(err)
	}
	// The vendor counted more (another machine): its figure wins.
	if err := b.Reconcile(ctx, key, month, 6, 50, at); err != nil {
		t.Fatal(err)
	}
	counts, err := b.Windows(ctx, key, []backend.QuotaWindow{month})
	if err != nil {
		t.Fatal(err)
	}
	c := counts[0]
	if c.Used != 6 || c.VendorUsed != 6 || c.VendorLimit != 50 || !c.Reconciled.Equal(at) || c.Left() != 2 {
		t.Fatalf("after reconciling to 6: %+v", c)
	}
	// Lower than ours: ours stays.
	if err := b.Reconcile(ctx, key, month, 1, 50, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := used(t, b, key, month); got[0] != 6 {
		t.Fatalf("a lower vendor figure lowered the count to %d", got[0])
	}
	// Our own requests since add to it.
	if got, _ := b.Reserve(ctx, key, []backend.QuotaWindow{month}, 1); got != 1 {
		t.Fatal("reserve after reconcile")
	}
	if got := used(t, b, key, month); got[0] != 7 {
		t.Fatalf("count %d, want 7", got[0])
	}
	// A quota error: spent until the window ends, whatever is given back.
	if err := b.MarkSpent(ctx, key, month, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx, key, []backend.QuotaWindow{month}, 1); err != nil {
		t.Fatal(err)
	}
	counts, _ = b.Windows(ctx, key, []backend.QuotaWindow{month})
	if counts[0].Used != month.Limit || counts[0].Left() != 0 || counts[0].Spent.IsZero() {
		t.Fatalf("a spent window: %+v", counts[0])
	}
	if got, _ := open(t).Reserve(ctx, key, []backend.QuotaWindow{month}, 1); got != 0 {
		t.Fatal("a spent window granted a request")
	}
}

func saltAndReport(t *testing.T, open Open) {
	ctx := context.Background()
	b := open(t)
	s0, err := b.Salt(ctx, false)
	if err != nil || s0 != nil {
		t.Fatalf("a new ledger has a salt %x, %v", s0, err)
	}
	s1, err := b.Salt(ctx, true)
	if err != nil || len(s1) < 16 {
		t.Fatalf("salt %x, %v", s1, err)
	}
	s2, err := open(t).Salt(ctx, true)
	if err != nil || !bytes.Equal(s1, s2) {
		t.Fatalf("the salt changed: %x then %x (%v)", s1, s2, err)
	}
	key := backend.QuotaKey{ProviderType: "virustotal", KeyHash: "k4"}
	reset := time.Date(2000, 5, 17, 0, 0, 0, 0, time.UTC)
	for _, use := range []backend.QuotaUse{
		{Engagement: "acme", At: day0, Quota: []string{"500/day"}},
		{Engagement: "globex", At: day0.Add(time.Hour), Quota: []string{"500/day", "15500/month"}, QuotaReset: reset},
		{Engagement: "acme", At: day0.Add(30 * time.Minute), Quota: []string{"500/day", "15500/month"}, QuotaReset: reset},
	} {
		if err := b.Touch(ctx, key, use); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Reserve(ctx, key, []backend.QuotaWindow{day}, 1); err != nil {
		t.Fatal(err)
	}
	reps, err := open(t).Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var r *backend.QuotaKeyReport
	for i := range reps {
		if reps[i].Key == key {
			r = &reps[i]
		}
	}
	if r == nil {
		t.Fatalf("the report lacks the key: %+v", reps)
	}
	if fmt.Sprint(r.Quota) != "[500/day 15500/month]" || !r.QuotaReset.Equal(reset) || !r.LastUsed.Equal(day0.Add(time.Hour)) {
		t.Errorf("key report %+v", r)
	}
	if len(r.Engagements) != 2 || r.Engagements[0].Name != "acme" || !r.Engagements[0].LastUsed.Equal(day0.Add(30*time.Minute)) || r.Engagements[1].Name != "globex" {
		t.Errorf("engagements %+v", r.Engagements)
	}
	if len(r.Windows) != 1 || r.Windows[0].Used != 1 || !r.Windows[0].Start.Equal(day.Start) || r.Windows[0].Length != day.Length || r.Windows[0].Limit != day.Limit {
		t.Errorf("windows %+v", r.Windows)
	}
}

// concurrent: goroutines on several ledgers over one storage reserve one
// slot at a time; together they are granted exactly the limit.
func concurrent(t *testing.T, open Open) {
	ctx := context.Background()
	key := backend.QuotaKey{ProviderType: "hackertarget", KeyHash: "k5"}
	w := backend.QuotaWindow{Start: day0, Length: 24 * time.Hour, Limit: 40}
	books := []backend.QuotaBook{open(t), open(t), open(t)}
	var granted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := books[g%len(books)]
			for i := 0; i < 8; i++ {
				n, err := b.Reserve(ctx, key, []backend.QuotaWindow{w}, 1)
				if err != nil {
					t.Error(err)
					return
				}
				granted.Add(int64(n))
				if n == 1 && i%3 == 0 {
					// Some give their slot back: it may be taken again.
					if err := b.Release(ctx, key, []backend.QuotaWindow{w}, 1); err != nil {
						t.Error(err)
						return
					}
					granted.Add(-1)
				}
			}
		}()
	}
	wg.Wait()
	if got := used(t, open(t), key, w); int64(got[0]) != granted.Load() || got[0] > w.Limit {
		t.Fatalf("the ledger counts %d, the goroutines were granted %d, the limit is %d", got[0], granted.Load(), w.Limit)
	}
	// What was given back is taken again, up to the limit, not beyond.
	for {
		n, err := books[0].Reserve(ctx, key, []backend.QuotaWindow{w}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		granted.Add(1)
	}
	if granted.Load() != int64(w.Limit) {
		t.Fatalf("granted %d of a limit of %d", granted.Load(), w.Limit)
	}
}
