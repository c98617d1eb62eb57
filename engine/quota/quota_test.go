package quota

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindows(t *testing.T) {
	reset17, _ := schema.ParseQuotaReset("17")
	reset31, _ := schema.ParseQuotaReset("31")
	resetPST, _ := schema.ParseQuotaReset("2025-01-17T00:00:00-08:00")
	for _, c := range []struct {
		limit        string
		anchor       time.Time
		at           string
		start, end   string
		wantPeriod   schema.QuotaPeriod
		wantDuration time.Duration
	}{
		{"500/day", time.Time{}, "2025-06-02T13:45:00Z", "2025-06-02T00:00:00Z", "2025-06-03T00:00:00Z", schema.QuotaDay, 0},
		{"500/day", time.Time{}, "2025-06-02T00:00:00Z", "2025-06-02T00:00:00Z", "2025-06-03T00:00:00Z", schema.QuotaDay, 0},
		{"15500/month", time.Time{}, "2025-06-30T23:59:59Z", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z", schema.QuotaMonth, 0},
		{"15500/month", time.Time{}, "2024-12-31T10:00:00Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z", schema.QuotaMonth, 0},
		// A plan that renews on the 17th.
		{"50/month", reset17, "2025-06-02T10:00:00Z", "2025-05-17T00:00:00Z", "2025-06-17T00:00:00Z", schema.QuotaMonth, 0},
		{"50/month", reset17, "2025-06-17T00:00:00Z", "2025-06-17T00:00:00Z", "2025-07-17T00:00:00Z", schema.QuotaMonth, 0},
		{"50/month", reset17, "2025-01-10T00:00:00Z", "2024-12-17T00:00:00Z", "2025-01-17T00:00:00Z", schema.QuotaMonth, 0},
		// The 31st: on the last day of shorter months.
		{"50/month", reset31, "2025-02-28T12:00:00Z", "2025-02-28T00:00:00Z", "2025-03-31T00:00:00Z", schema.QuotaMonth, 0},
		{"50/month", reset31, "2025-02-27T12:00:00Z", "2025-01-31T00:00:00Z", "2025-02-28T00:00:00Z", schema.QuotaMonth, 0},
		// Renewing at 00:00 Pacific (08:00 UTC): days too.
		{"500/day", resetPST, "2025-06-02T07:59:00Z", "2025-06-01T08:00:00Z", "2025-06-02T08:00:00Z", schema.QuotaDay, 0},
		{"500/month", resetPST, "2025-06-17T09:00:00Z", "2025-06-17T08:00:00Z", "2025-07-17T08:00:00Z", schema.QuotaMonth, 0},
		{"100/hour", time.Time{}, "2025-06-02T13:45:00Z", "2025-06-02T13:00:00Z", "2025-06-02T14:00:00Z", schema.QuotaHour, 0},
		// ISO weeks from Monday; 2025-06-01 is a Sunday.
		{"1000/week", time.Time{}, "2025-06-01T23:00:00Z", "2025-05-26T00:00:00Z", "2025-06-02T00:00:00Z", schema.QuotaWeek, 0},
		{"1000/week", time.Time{}, "2025-06-02T00:00:00Z", "2025-06-02T00:00:00Z", "2025-06-09T00:00:00Z", schema.QuotaWeek, 0},
	} {
		l, err := schema.ParseQuota(c.limit)
		if err != nil {
			t.Fatal(err)
		}
		w := Window(l, c.anchor, ts(c.at))
		if !w.Start.Equal(ts(c.start)) || !w.End().Equal(ts(c.end)) || w.Limit != l.Count {
			t.Errorf("%s at %s (anchor %v): [%v, %v), want [%s, %s)", c.limit, c.at, c.anchor, w.Start, w.End(), c.start, c.end)
		}
		if got := PeriodOf(w.Length); got != c.wantPeriod {
			t.Errorf("%s: period of %v is %q", c.limit, w.Length, got)
		}
	}
}

func TestKeyID(t *testing.T) {
	salt := []byte("0123456789abcdef0123456789abcdef")
	key := "d41d8cd98f00b204e9800998ecf8427e"
	id := KeyID(salt, "virustotal", key)
	if len(id) != 32 || strings.Contains(id, key[:8]) {
		t.Fatalf("id %q", id)
	}
	if KeyID(salt, "virustotal", key) != id {
		t.Error("not stable")
	}
	for _, other := range []string{
		KeyID([]byte("another salt, another ledger...."), "virustotal", key),
		KeyID(salt, "securitytrails", key),
		KeyID(salt, "virustotal", key+"x"),
	} {
		if other == id {
			t.Error("two different inputs share an identifier")
		}
	}
}

func TestScheduleAndCoverage(t *testing.T) {
	def, cost := Schedule([]Item{{Cost: 6}, {Cost: 6}, {Cost: 1}, {Cost: 6}}, 8)
	if def[0] || !def[1] || def[2] || !def[3] || cost != 12 {
		t.Errorf("deferred %v cost %d", def, cost)
	}
	t0 := ts("2025-06-01T00:00:00Z")
	if !Staler(time.Time{}, t0) || Staler(t0, time.Time{}) || !Staler(t0, t0.Add(time.Hour)) || Staler(time.Time{}, time.Time{}) {
		t.Error("Staler")
	}
	day, _ := schema.ParseQuotas([]string{"50/day"})
	c := CoverageOf(day, 7*24*time.Hour, 730)
	if c.Gives != 350 || c.Percent() != 48 || c.Enough() {
		t.Errorf("coverage %+v %d%%", c, c.Percent())
	}
	if got, want := c.String(), "needs 730 requests a week, the quota gives 350: 48% of subjects per week"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	both, _ := schema.ParseQuotas([]string{"500/day", "15500/month"})
	if c := CoverageOf(both, 7*24*time.Hour, 100); c.Gives != 3500 || !c.Enough() || c.Percent() != 100 {
		t.Errorf("coverage %+v", c)
	}
	month, _ := schema.ParseQuotas([]string{"50/month"})
	if c := CoverageOf(month, 7*24*time.Hour, 100); c.Gives != 11 {
		t.Errorf("50/month a week: %+v", c)
	}
	if a, per := EveryWords(14 * 24 * time.Hour); a != "every 2 weeks" || per != "per 2 weeks" {
		t.Errorf("%q %q", a, per)
	}
	if a, _ := EveryWords(36 * time.Hour); a != "every 36 hours" {
		t.Errorf("%q", a)
	}
}

// testSet is a Set over a local ledger in a temp folder, with one meter.
func testSet(t *testing.T, dir string, quota []string, now func() time.Time) (*Set, *Meter) {
	t.Helper()
	limits, err := schema.ParseQuotas(quota)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &schema.Config{Engagement: schema.Engagement{Name: "acme"}, Providers: map[string]*schema.ProviderBlock{
		"virustotal": {Type: "virustotal", Address: "virustotal", Quota: limits},
	}}
	reg := map[string]providers.Registration{"virustotal": {Schema: schema.ProviderSchema{Type: "virustotal"}}}
	s, err := Open(context.Background(), &backend.LocalQuotaLedger{Dir: dir}, cfg, reg, true)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = now
	return s, s.Meter("virustotal")
}

func TestSlotsReserveAndGiveBack(t *testing.T) {
	ctx := context.Background()
	now := ts("2025-06-02T10:00:00Z")
	_, m := testSet(t, t.TempDir(), []string{"10/day", "15/month"}, func() time.Time { return now })
	s, err := m.Begin(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	for range 6 { // 4 reserved, 2 more one at a time
		if err := s.Take(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if counts, _ := m.Counts(ctx); counts[0].Used != 6 {
		t.Fatalf("used %d", counts[0].Used)
	}
	s2, err := m.Begin(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	s2.Take(ctx)
	if err := s2.End(ctx); err != nil { // 3 unused, given back
		t.Fatal(err)
	}
	if counts, _ := m.Counts(ctx); counts[0].Used != 7 || counts[1].Used != 7 {
		t.Fatalf("after giving back: %+v", counts)
	}
	// 3 left today: a query needing 6 is deferred until tomorrow.
	_, err = m.Begin(ctx, 6)
	var ex *Exhausted
	if !errors.As(err, &ex) || !errors.Is(err, providers.ErrQuotaExhausted) || !ex.Opens.Equal(ts("2025-06-03T00:00:00Z")) {
		t.Fatalf("Begin(6) = %v", err)
	}
	if !IsDeferred(ex.Reason()) || !strings.Contains(ex.Reason(), "the next window opens 2025-06-03T00:00:00Z") || !strings.Contains(ex.Reason(), "10/day: 3 left") {
		t.Errorf("reason %q", ex.Reason())
	}
	// The month binds the next day: 15 - 7 = 8 left.
	now = now.Add(24 * time.Hour)
	left, opens := Left(mustCounts(t, m))
	if left != 8 || !opens.Equal(ts("2025-07-01T00:00:00Z")) {
		t.Errorf("left %d opens %v", left, opens)
	}
	// Spending the last slots one at a time: the run notes it is spent.
	s3, _ := m.Begin(ctx, 0)
	for i := 0; i < 8; i++ {
		if err := s3.Take(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s3.Take(ctx); !errors.As(err, &ex) || s3.Refused() == nil {
		t.Fatalf("ninth take: %v", err)
	}
	if until, _ := m.SpentUntil(); !until.Equal(ts("2025-07-01T00:00:00Z")) {
		t.Errorf("spent until %v", until)
	}
}

func mustCounts(t *testing.T, m *Meter) []backend.QuotaCount {
	t.Helper()
	c, err := m.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMarkSpentAndReconcile(t *testing.T) {
	ctx := context.Background()
	now := ts("2025-06-02T10:00:00Z")
	dir := t.TempDir()
	_, m := testSet(t, dir, []string{"500/day", "15500/month"}, func() time.Time { return now })
	rec, err := m.Reconcile(ctx, []providers.VendorUsage{{Period: schema.QuotaDay, Used: 120, Limit: 500}, {Period: schema.QuotaHour, Used: 3}})
	if err != nil || len(rec) != 1 || !rec[0].Raised || rec[0].After != 120 {
		t.Fatalf("reconcile %+v %v", rec, err)
	}
	if last, _ := m.LastReconciled(ctx); !last.Equal(now) {
		t.Errorf("last reconciled %v", last)
	}
	// The vendor's quota error, window unnamed: the day is spent.
	opens, err := m.MarkSpent(ctx, "", "QuotaExceededError")
	if err != nil || !opens.Equal(ts("2025-06-03T00:00:00Z")) {
		t.Fatalf("MarkSpent %v %v", opens, err)
	}
	// Another run (a new Set on the same ledger) does not try.
	_, m2 := testSet(t, dir, []string{"500/day", "15500/month"}, func() time.Time { return now })
	if _, err := m2.Begin(ctx, 1); !errors.Is(err, providers.ErrQuotaExhausted) {
		t.Fatalf("after a quota error: %v", err)
	}
	// The next day it does.
	now = now.Add(24 * time.Hour)
	if _, err := m2.Begin(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// A monthly quota error names its window.
	opens, _ = m2.MarkSpent(ctx, schema.QuotaMonth, "spent")
	if !opens.Equal(ts("2025-07-01T00:00:00Z")) {
		t.Errorf("month spent until %v", opens)
	}
}

// TestConcurrentSlots: many queries of two runs (two Sets on one ledger)
// reserve at once; together they never take more than the quota.
func TestConcurrentSlots(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := func() time.Time { return ts("2025-06-02T10:00:00Z") }
	_, m1 := testSet(t, dir, []string{"37/day"}, now)
	_, m2 := testSet(t, dir, []string{"37/day"}, now)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := []*Meter{m1, m2}[g%2]
			for q := 0; q < 4; q++ {
				s, err := m.Begin(ctx, 2)
				if err != nil {
					continue
				}
				for r := 0; r < 3; r++ { // two reserved, a third taken alone
					if s.Take(ctx) == nil {
						sent.Add(1)
					}
				}
				if err := s.End(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	counts := mustCounts(t, m1)
	if sent.Load() > 37 || int64(counts[0].Used) != sent.Load() {
		t.Fatalf("sent %d, ledger %d, quota 37", sent.Load(), counts[0].Used)
	}
}
