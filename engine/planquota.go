package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/reconform/reconform/engine/quota"
	"github.com/reconform/reconform/schema"
)

// QuotaWindowPlan is one window of a provider's vendor quota when the
// plan was made, as the quota ledger counts it (every engagement and run
// using the key).
type QuotaWindowPlan struct {
	Quota string    `json:"quota"` // "500/day"
	Start time.Time `json:"start"`
	End   time.Time `json:"resets_at"`
	Used  int       `json:"used"`
	Left  int       `json:"left"`
}

// QuotaCoverage says whether a provider's quota keeps every subject
// verified every verify_every.
type QuotaCoverage struct {
	Every   Duration `json:"every"`
	Needs   int      `json:"needs"`
	Gives   int      `json:"gives"`
	Percent int      `json:"percent"`
	Text    string   `json:"text"`
}

// quotaPlan fills the providers' quota columns: each window's left, the
// queries the quota cannot cover (the stalest go first, as apply orders
// them; the rest are deferred to DeferredUntil), and the coverage of
// verify_every.
func quotaPlan(ctx context.Context, cfg *schema.Config, opts PlanOptions, p *Plan) {
	if opts.Quotas == nil {
		return
	}
	for i := range p.Providers {
		pp := &p.Providers[i]
		m := opts.Quotas.Meter(pp.Address)
		if m == nil {
			continue
		}
		counts, err := m.Counts(ctx)
		if err != nil {
			p.Warnings = append(p.Warnings, fmt.Sprintf("provider %s: the quota ledger could not be read (%v); apply sends nothing it cannot reserve", pp.Address, err))
			continue
		}
		for j, c := range counts {
			pp.Quota = append(pp.Quota, QuotaWindowPlan{Quota: m.Limits[j].String(), Start: c.Start, End: c.End(), Used: c.Used, Left: c.Left()})
		}
		left, opens := quota.Left(counts)
		reg := opts.Registry[pp.Type]
		pb := cfg.Providers[pp.Address]
		limits := limitsOf(pb, reg)
		var cache *answerCache
		if opts.Cache != nil && !opts.Refresh && limits.CacheTTL > 0 {
			cache = &answerCache{store: opts.Cache}
		}
		cost := func(in Instance) int {
			// An answer the cache holds costs no request.
			if cache != nil && !in.Active {
				if _, hit := cache.get(ctx, cacheKey(pb, limits.Endpoint, in.Query), limits.CacheTTL, opts.Now); hit {
					return 0
				}
			}
			return reg.MinRequestsFor(in.Query)
		}
		var planned, predicted []quota.Item
		for _, in := range p.Instances {
			if in.Query.Provider == pp.Address {
				planned = append(planned, quota.Item{Cost: cost(in), Verified: opts.Verified[in.Key]})
			}
		}
		for _, in := range p.Predictions {
			if in.Query.Provider == pp.Address {
				predicted = append(predicted, quota.Item{Cost: cost(in), Verified: opts.Verified[in.Key]})
			}
		}
		sort.SliceStable(planned, func(a, b int) bool { return quota.Staler(planned[a].Verified, planned[b].Verified) })
		items := append(planned, predicted...)
		deferred, deferredCost := quota.Schedule(items, left)
		for _, d := range deferred {
			if d {
				pp.Deferred++
			}
		}
		pp.DeferredRequests = deferredCost
		if pp.Deferred > 0 {
			pp.DeferredUntil = opens.UTC()
			p.Warnings = append(p.Warnings, fmt.Sprintf("provider %s: the vendor's quota has %d %s left (shared by every engagement using the key); %d of %d queries (at least %d requests) will be deferred until %s; the subjects verified longest ago (never verified first) run first",
				pp.Address, left, plural(left, "request", "requests"), pp.Deferred, len(items), deferredCost, opens.UTC().Format(time.RFC3339)))
		}
		if every := cfg.Engagement.VerifyEvery; every > 0 {
			// Every subject verified once per verify_every, from the
			// vendor (the cache answers only within its TTL).
			needs := 0
			for _, in := range append(append([]Instance(nil), p.Instances...), p.Predictions...) {
				if in.Query.Provider == pp.Address {
					needs += reg.MinRequestsFor(in.Query)
				}
			}
			c := quota.CoverageOf(m.Limits, every, needs)
			pp.Coverage = &QuotaCoverage{Every: Duration(every), Needs: c.Needs, Gives: c.Gives, Percent: c.Percent(), Text: c.String()}
			if !c.Enough() {
				p.Warnings = append(p.Warnings, fmt.Sprintf("provider %s: verify_every = %q %s; raise the quota, lower the subjects, or verify less often", pp.Address, durationText(every), c.String()))
			}
		}
	}
}

// durationText writes a duration as verify_every would: "7d", "36h".
func durationText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
