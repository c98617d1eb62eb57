package quota

import (
	"fmt"
	"math"
	"time"

	"github.com/reconform/reconform/schema"
)

// Staler orders verification times for coverage scheduling: never
// verified (zero) before verified, then the longest ago first.
func Staler(a, b time.Time) bool {
	switch {
	case a.IsZero():
		return !b.IsZero()
	case b.IsZero():
		return false
	}
	return a.Before(b)
}

// Item is one query of a schedule: its fewest requests and when its
// subject was last verified.
type Item struct {
	Cost     int
	Verified time.Time
}

// Schedule runs items in order (the caller sorted them by Staler) while
// left covers their cost, as a run's reservations would: an item that
// does not fit is deferred, a cheaper one after it may still run. It
// returns which items are deferred and the requests they would have cost.
func Schedule(items []Item, left int) (deferred []bool, deferredCost int) {
	deferred = make([]bool, len(items))
	for i, it := range items {
		if it.Cost <= left {
			left -= it.Cost
			continue
		}
		deferred[i] = true
		deferredCost += it.Cost
	}
	return deferred, deferredCost
}

// Coverage says whether a provider's quotas can verify every subject
// every Every: its queries Need that many requests per Every, the quotas
// Give at most that many.
type Coverage struct {
	Every time.Duration
	Needs int
	Gives int
}

// CoverageOf is the coverage of needs requests per every under limits:
// each quota gives its count scaled to every (500/day gives 3500 a week;
// 50/month gives 11 a week), the tightest wins.
func CoverageOf(limits []schema.QuotaLimit, every time.Duration, needs int) Coverage {
	c := Coverage{Every: every, Needs: needs, Gives: -1}
	for _, l := range limits {
		g := int(math.Floor(float64(l.Count) * float64(every) / float64(l.Period.Approx())))
		if c.Gives < 0 || g < c.Gives {
			c.Gives = g
		}
	}
	if c.Gives < 0 {
		c.Gives = math.MaxInt32
	}
	return c
}

// Percent is the share of subjects the quota keeps verified every Every
// (100 when it covers them all).
func (c Coverage) Percent() int {
	if c.Needs <= 0 || c.Gives >= c.Needs {
		return 100
	}
	return int(math.Round(100 * float64(c.Gives) / float64(c.Needs)))
}

// Enough reports whether the quota covers every subject.
func (c Coverage) Enough() bool { return c.Gives >= c.Needs }

// String is the sentence plan prints: "needs 730 requests a week, the
// quota gives 350: 48% of subjects per week".
func (c Coverage) String() string {
	a, per := EveryWords(c.Every)
	return fmt.Sprintf("needs %d %s %s, the quota gives %d: %d%% of subjects %s", c.Needs, plural(c.Needs, "request", "requests"), a, c.Gives, c.Percent(), per)
}

// EveryWords names an interval as "a week" and "per week", or "every
// 3 days" and "per 3 days".
func EveryWords(d time.Duration) (a, per string) {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{7 * 24 * time.Hour, "week"}, {24 * time.Hour, "day"}, {time.Hour, "hour"}} {
		if d == u.d {
			return "a " + u.name, "per " + u.name
		}
		if d%u.d == 0 {
			n := int(d / u.d)
			return fmt.Sprintf("every %d %ss", n, u.name), fmt.Sprintf("per %d %ss", n, u.name)
		}
	}
	return "every " + d.String(), "per " + d.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
