package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/quota"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/fakevendors"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/virustotal"
	"github.com/reconform/reconform/schema"
)

const vtTestKey = "canary-engine-vt-71c3a9e05d"

// vtQuotaFixture is an engagement of VirusTotal resolutions over subjects,
// against a fake VirusTotal, with quota and no response cache; runs go
// through Apply and state.Merge as the CLI's do, on a clock the test moves.
type vtQuotaFixture struct {
	t        *testing.T
	cfg      *schema.Config
	reg      map[string]providers.Registration
	vt       *fakevendors.VirusTotal
	ledger   backend.QuotaBook
	prev     *state.State
	now      time.Time
	subjects []string
}

func newVTQuotaFixture(t *testing.T, quotaText string, vendorQuota int, subjects []string) *vtQuotaFixture {
	vt := &fakevendors.VirusTotal{Fixtures: os.DirFS(filepath.Join("..", "testdata", "providers", "virustotal")), Key: vtTestKey, Quota: vendorQuota}
	srv := fakevendors.Start(t, vt)
	limits, err := schema.ParseQuotas([]string{quotaText})
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, s := range subjects {
		list = append(list, fmt.Sprintf("%q", s))
	}
	f := &vtQuotaFixture{t: t, vt: vt, subjects: subjects, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		reg:    map[string]providers.Registration{"virustotal": virustotal.Registration()},
		ledger: &backend.LocalQuotaLedger{Dir: t.TempDir()}}
	f.cfg = &schema.Config{
		Dir: t.TempDir(), Hash: "h", Engagement: schema.Engagement{Name: "acme", PassiveOnly: true},
		Scope: schema.Scope{Domains: []string{"acme.example"}},
		Providers: map[string]*schema.ProviderBlock{"virustotal": {
			Type: "virustotal", Address: "virustotal", Endpoint: srv.URL + "/api/v3", CacheTTL: -1,
			Rate:  schema.Rate{Count: 1000, Per: time.Second},
			Attrs: map[string]cty.Value{"api_key": cty.StringVal(vtTestKey)}, Sensitive: map[string]bool{"api_key": true},
			Quota: limits,
		}},
		Targets: map[string]*schema.Target{}, Pivots: map[string]*schema.PivotBlock{},
		Queries: map[string]*schema.QueryBlock{"query.res": {Name: "res", Providers: []string{"virustotal"}, Op: schema.OpResolutions,
			Subjects: expr(t, "["+strings.Join(list, ", ")+"]")}},
	}
	return f
}

// run applies once at the fixture's clock and merges the state; it
// returns the subjects that ran and those deferred, and the requests the
// vendor received.
func (f *vtQuotaFixture) run() (ran, deferred []string, sent int, res *schema.RunResult) {
	f.t.Helper()
	before := f.dataRequests()
	set, err := quota.Open(context.Background(), f.ledger, f.cfg, f.reg, true)
	if err != nil {
		f.t.Fatal(err)
	}
	now := f.now
	set.Now = func() time.Time { return now }
	var verified map[string]time.Time
	if f.prev != nil {
		verified = VerifiedTimes(f.prev.Instances, f.prev.Run.FinishedAt)
	}
	res, err = Apply(context.Background(), f.cfg, nil, ApplyOptions{
		Registry: f.reg, Parallelism: 1, CacheDir: f.t.TempDir(), Now: func() time.Time { return now },
		Quotas: set, Verified: verified,
		Retry: providers.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.prev = state.Merge(f.prev, res, state.MergeOptions{Now: now})
	for _, in := range res.Instances {
		switch {
		case in.Status.Succeeded():
			ran = append(ran, in.Query.Subject.Value)
		case quota.IsDeferred(in.Reason):
			deferred = append(deferred, in.Query.Subject.Value)
		}
	}
	sort.Strings(ran)
	sort.Strings(deferred)
	return ran, deferred, f.dataRequests() - before, res
}

// dataRequests counts what the vendor received but its (free) usage
// endpoint.
func (f *vtQuotaFixture) dataRequests() int {
	n := 0
	for _, r := range f.vt.Requests() {
		if !strings.HasSuffix(r.Path, "/overall_quotas") {
			n++
		}
	}
	return n
}

// TestQuotaRotatesCoverageAcrossDays: a quota of 2 a day over 5 subjects:
// each day's run sends at most 2 requests, to the subjects never verified
// first, then to those verified longest ago; deferred findings stay.
func TestQuotaRotatesCoverageAcrossDays(t *testing.T) {
	f := newVTQuotaFixture(t, "2/day", 0, []string{"s0.acme.example", "s1.acme.example", "s2.acme.example", "s3.acme.example", "s4.acme.example"})
	want := []string{
		"[s0.acme.example s1.acme.example]",
		"[s2.acme.example s3.acme.example]",
		"[s0.acme.example s4.acme.example]", // s4 never verified, then s0 (day 1)
		"[s1.acme.example s2.acme.example]", // s1 (day 1), then s2 (day 2)
	}
	for day, w := range want {
		ran, deferred, sent, res := f.run()
		if fmt.Sprint(ran) != w || len(deferred) != 3 || sent != 2 {
			t.Fatalf("day %d: ran %v, deferred %v, sent %d; want %s\n%v", day+1, ran, deferred, sent, w, statuses(res))
		}
		for _, in := range res.Instances {
			if quota.IsDeferred(in.Reason) && !strings.Contains(in.Reason, "the next window opens "+f.now.Truncate(24*time.Hour).Add(24*time.Hour).Format(time.RFC3339)) {
				t.Errorf("day %d: reason %q", day+1, in.Reason)
			}
		}
		// A second run the same day sends nothing.
		if _, _, sent, _ := f.run(); sent != 0 {
			t.Fatalf("day %d: a second run sent %d", day+1, sent)
		}
		f.now = f.now.Add(24 * time.Hour)
		f.vt.NewDay()
	}
	// VerifiedAt: the run's start for what ran, the old time for the rest.
	for _, in := range f.prev.Instances {
		if in.VerifiedAt.IsZero() {
			t.Errorf("%s never verified after 4 days", in.Key)
		}
	}
}

// TestVendorQuotaErrorMarksTheWindowSpent: the vendor allows fewer than
// our quota says; its QuotaExceededError marks the day spent in the
// ledger, the rest of the run is deferred, and the next run that day
// sends nothing; the next day it tries again.
func TestVendorQuotaErrorMarksTheWindowSpent(t *testing.T) {
	f := newVTQuotaFixture(t, "50/day", 2, []string{"s0.acme.example", "s1.acme.example", "s2.acme.example", "s3.acme.example"})
	ran, deferred, sent, res := f.run()
	if len(ran) != 2 || len(deferred) != 1 || sent != 3 {
		t.Fatalf("ran %v deferred %v sent %d\n%v", ran, deferred, sent, statuses(res))
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w, "marked spent in the quota ledger until 2026-03-03T00:00:00Z")
	}
	if !warned {
		t.Errorf("warnings %q", res.Warnings)
	}
	if _, _, sent, _ := f.run(); sent != 0 {
		t.Fatalf("the next run sent %d the same day", sent)
	}
	f.now = f.now.Add(24 * time.Hour)
	f.vt.NewDay()
	if _, _, sent, _ := f.run(); sent == 0 {
		t.Fatal("the next day sent nothing")
	}
}

// TestQuotaReservationGivenBack: a query's reserved requests it did not
// use are given back (VirusTotal: one page each; the ledger counts what
// was sent), so later queries can have them.
func TestQuotaReservationGivenBack(t *testing.T) {
	f := newVTQuotaFixture(t, "3/day", 0, []string{"s0.acme.example", "s1.acme.example", "s2.acme.example"})
	if _, deferred, sent, _ := f.run(); len(deferred) != 0 || sent != 3 {
		t.Fatalf("deferred %v sent %d", deferred, sent)
	}
	set, _ := quota.Open(context.Background(), f.ledger, f.cfg, f.reg, false)
	set.Now = func() time.Time { return f.now }
	counts, err := set.Meter("virustotal").Counts(context.Background())
	if err != nil || counts[0].Used != 3 {
		t.Fatalf("the ledger counts %+v, %v", counts, err)
	}
}
