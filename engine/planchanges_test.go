package engine

import (
	"context"
	"testing"
	"time"

	"github.com/reconform/reconform/schema"
)

// TestPlanChangesFreshness: an answer stays fresh for its provider's
// cache_ttl (default 24h), cache_ttl "0s" (stored as -1) is never fresh,
// an unanswered query is new, and a config hash change is a change.
func TestPlanChangesFreshness(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example"]`)
	p := f.plan()
	keys := keys(p.Instances)
	plan := func(verified map[string]time.Time, prevHash string, serial uint64) PlanChanges {
		t.Helper()
		p, diags := MakePlan(context.Background(), f.cfg, PlanOptions{Registry: f.reg, Now: t0, Verified: verified, PreviousConfigHash: prevHash, StateSerial: serial})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return p.Changes
	}
	if c := plan(nil, "", 0); !c.FirstRun || c.New != 2 || !c.Any() {
		t.Errorf("first run: %+v", c)
	}
	fresh := map[string]time.Time{keys[0]: t0.Add(-time.Hour), keys[1]: t0.Add(-time.Hour)}
	if c := plan(fresh, p.ConfigHash, 3); c.Any() || c.Fresh != 2 {
		t.Errorf("answered an hour ago: %+v", c)
	}
	if c := plan(fresh, "another", 3); !c.ConfigChanged || !c.Any() {
		t.Errorf("config changed: %+v", c)
	}
	old := map[string]time.Time{keys[0]: t0.Add(-25 * time.Hour)}
	if c := plan(old, p.ConfigHash, 3); c.Stale != 1 || c.New != 1 {
		t.Errorf("a day old and one unanswered: %+v", c)
	}
	f.cfg.Providers["pdns"].CacheTTL = 7 * 24 * time.Hour
	if c := plan(map[string]time.Time{keys[0]: t0.Add(-25 * time.Hour), keys[1]: t0}, p.ConfigHash, 3); c.Any() {
		t.Errorf("cache_ttl 7d: %+v", c)
	}
	f.cfg.Providers["pdns"].CacheTTL = -1
	if c := plan(fresh, p.ConfigHash, 3); c.Stale != 2 {
		t.Errorf(`cache_ttl "0s": %+v`, c)
	}
}

// TestAfterApplyBound: dependent blocks are bounded by the budgets their
// providers leave, pivots by their depth; a provider without a budget
// leaves them unbounded and is named.
func TestAfterApplyBound(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.pivot("expand", []string{"query.seed"}, "", []string{"pdns"}, schema.OpReverseIP, "finding.value", 3)
	a := f.plan().AfterApply
	if a == nil || a.Bounded || len(a.Unbudgeted) != 1 || a.Unbudgeted[0] != "pdns" || a.MaxDepth != 3 || len(a.Blocks) != 1 {
		t.Fatalf("no budget: %+v", a)
	}
	f.cfg.Providers["pdns"].Budget = 20
	f.cfg.Providers["pdns"].Rate = schema.Rate{Count: 1, Per: time.Second}
	a = f.plan().AfterApply
	if !a.Bounded || a.MaxMore != 19 || time.Duration(a.MaxEstimate) != 19*time.Second {
		t.Errorf("budget 20 at 1/s: %+v", a)
	}
}
