package schema

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// QuotaPeriod is the calendar window a vendor counts a quota in.
type QuotaPeriod string

const (
	QuotaHour  QuotaPeriod = "hour"
	QuotaDay   QuotaPeriod = "day"
	QuotaWeek  QuotaPeriod = "week" // ISO weeks, from Monday
	QuotaMonth QuotaPeriod = "month"
)

// quotaPeriods are the periods in order of length.
var quotaPeriods = []QuotaPeriod{QuotaHour, QuotaDay, QuotaWeek, QuotaMonth}

// Approx is the period's typical length, for comparisons and for
// converting one period's quota into another's (a month is 30.44 days).
func (p QuotaPeriod) Approx() time.Duration {
	switch p {
	case QuotaHour:
		return time.Hour
	case QuotaDay:
		return 24 * time.Hour
	case QuotaWeek:
		return 7 * 24 * time.Hour
	case QuotaMonth:
		return time.Duration(30.436875 * float64(24*time.Hour))
	}
	return 0
}

// QuotaLimit is one vendor quota: Count requests per Period of the key.
type QuotaLimit struct {
	Count  int
	Period QuotaPeriod
}

func (q QuotaLimit) String() string { return fmt.Sprintf("%d/%s", q.Count, q.Period) }

// ParseQuota parses one quota in the rate syntax, over a calendar window:
// "500/day", "15500/month", "100/h", "2000/week". Per-second and
// per-minute limits are rates (the rate attribute), not quotas.
func ParseQuota(s string) (QuotaLimit, error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return QuotaLimit{}, fmt.Errorf("quota %q must look like \"500/day\" or \"15500/month\"", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 {
		return QuotaLimit{}, fmt.Errorf("quota %q must start with a positive whole number of requests", s)
	}
	var p QuotaPeriod
	switch strings.ToLower(strings.TrimSpace(per)) {
	case "h", "hour":
		p = QuotaHour
	case "d", "day":
		p = QuotaDay
	case "w", "week":
		p = QuotaWeek
	case "mo", "month":
		p = QuotaMonth
	case "s", "sec", "second", "m", "min", "minute":
		return QuotaLimit{}, fmt.Errorf("quota %q counts per %s: a limit that short is the provider's rate (rate = %q); a quota counts per hour, day, week or month", s, strings.TrimSpace(per), strings.TrimSpace(s))
	default:
		return QuotaLimit{}, fmt.Errorf("quota %q has an unknown window %q; use hour, day, week or month", s, strings.TrimSpace(per))
	}
	return QuotaLimit{Count: n, Period: p}, nil
}

// ParseQuotas parses a list of quotas; two for one window are an error.
func ParseQuotas(list []string) ([]QuotaLimit, error) {
	out := make([]QuotaLimit, 0, len(list))
	seen := map[QuotaPeriod]string{}
	for _, s := range list {
		q, err := ParseQuota(s)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[q.Period]; dup {
			return nil, fmt.Errorf("quotas %q and %q both count per %s; give one quota per window", prev, s, q.Period)
		}
		seen[q.Period] = s
		out = append(out, q)
	}
	SortQuotas(out)
	return out, nil
}

// SortQuotas orders quotas from the shortest window to the longest.
func SortQuotas(qs []QuotaLimit) {
	rank := func(p QuotaPeriod) int {
		for i, x := range quotaPeriods {
			if x == p {
				return i
			}
		}
		return len(quotaPeriods)
	}
	for i := 1; i < len(qs); i++ {
		for j := i; j > 0 && rank(qs[j].Period) < rank(qs[j-1].Period); j-- {
			qs[j], qs[j-1] = qs[j-1], qs[j]
		}
	}
}

// CalendarAnchor is the anchor of calendar windows: a Monday, the 1st
// of a month, at midnight UTC (hours start at :00, days at midnight,
// ISO weeks on Monday, months on the 1st).
var CalendarAnchor = time.Date(2000, time.May, 1, 0, 0, 0, 0, time.UTC)

// ParseQuotaReset reads quota_reset: when the vendor's windows start, for
// plans that do not renew at midnight UTC on the 1st. It returns an
// anchor, a time at which every window of the quota began: hourly
// windows start at its minute, daily ones at its time of day, weekly ones
// on its weekday, monthly ones on its day of the month (on the last day
// of shorter months), all in UTC. A day of the month or a time of day
// alone keeps the rest of CalendarAnchor.
//
//	"17"                         monthly windows renew on the 17th, 00:00 UTC
//	"2025-03-17"                 the same, from a date the plan renewed on
//	"2025-03-17T08:00:00-07:00"  the 17th at 15:00 UTC (and daily at 15:00)
//	"08:00"                      daily windows at 08:00 UTC, monthly on the 1st at 08:00
func ParseQuotaReset(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if day, err := strconv.Atoi(s); err == nil {
		if day < 1 || day > 31 {
			return time.Time{}, fmt.Errorf("quota_reset %q is not a day of the month (1 to 31)", s)
		}
		return CalendarAnchor.AddDate(0, 0, day-1), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05", "15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return CalendarAnchor.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second), nil
		}
	}
	return time.Time{}, fmt.Errorf("quota_reset %q is not a day of the month (\"17\"), a date (\"2025-03-17\"), a time (\"2025-03-17T08:00:00Z\") or a time of day (\"08:00\")", s)
}
