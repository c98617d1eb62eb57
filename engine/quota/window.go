// Package quota counts vendors' request quotas across runs: the windows
// of a provider block's quotas at a given time, the identifier that names
// a key in the ledger without revealing it, the Meter through which a
// run's gates reserve each request before it is sent, and the arithmetic
// of coverage scheduling (staleness order, what a quota can keep verified
// every verify_every).
//
// The ledger itself is the backend's (backend.QuotaBook): the local one in
// the user's state folder, or the pg backend's, shared by every runner.
package quota

import (
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/schema"
)

// Window is the window of limit that holds t, its quota's windows
// starting at anchor's phase (zero anchor: calendar boundaries in UTC,
// schema.CalendarAnchor). The window starts at or before t and ends after
// it.
func Window(limit schema.QuotaLimit, anchor, t time.Time) backend.QuotaWindow {
	if anchor.IsZero() {
		anchor = schema.CalendarAnchor
	}
	start, end := bounds(limit.Period, anchor.UTC(), t.UTC())
	return backend.QuotaWindow{Start: start, Length: end.Sub(start), Limit: limit.Count}
}

// Windows are the windows of every limit at t, in the limits' order.
func Windows(limits []schema.QuotaLimit, anchor, t time.Time) []backend.QuotaWindow {
	out := make([]backend.QuotaWindow, len(limits))
	for i, l := range limits {
		out[i] = Window(l, anchor, t)
	}
	return out
}

// PeriodOf names a window by its length (the ledger keeps lengths): a
// month is 28 to 31 days.
func PeriodOf(length time.Duration) schema.QuotaPeriod {
	switch {
	case length == time.Hour:
		return schema.QuotaHour
	case length == 24*time.Hour:
		return schema.QuotaDay
	case length == 7*24*time.Hour:
		return schema.QuotaWeek
	case length >= 28*24*time.Hour && length <= 31*24*time.Hour:
		return schema.QuotaMonth
	}
	return ""
}

// bounds is the [start, end) of the period's window that holds t.
func bounds(p schema.QuotaPeriod, anchor, t time.Time) (time.Time, time.Time) {
	tod := time.Duration(anchor.Hour())*time.Hour + time.Duration(anchor.Minute())*time.Minute + time.Duration(anchor.Second())*time.Second
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch p {
	case schema.QuotaHour:
		off := tod % time.Hour
		start := t.Truncate(time.Hour).Add(off)
		if start.After(t) {
			start = start.Add(-time.Hour)
		}
		return start, start.Add(time.Hour)
	case schema.QuotaDay:
		start := midnight.Add(tod)
		if start.After(t) {
			start = start.AddDate(0, 0, -1)
		}
		return start, start.AddDate(0, 0, 1)
	case schema.QuotaWeek:
		back := (int(t.Weekday()) - int(anchor.Weekday()) + 7) % 7
		start := midnight.AddDate(0, 0, -back).Add(tod)
		if start.After(t) {
			start = start.AddDate(0, 0, -7)
		}
		return start, start.AddDate(0, 0, 7)
	case schema.QuotaMonth:
		start := monthStart(t.Year(), t.Month(), anchor.Day(), tod)
		if start.After(t) {
			y, m := t.Year(), t.Month()-1
			if m < time.January {
				y, m = y-1, time.December
			}
			start = monthStart(y, m, anchor.Day(), tod)
		}
		y, m := start.Year(), start.Month()+1
		if m > time.December {
			y, m = y+1, time.January
		}
		return start, monthStart(y, m, anchor.Day(), tod)
	}
	// Unknown periods do not happen (schema.ParseQuota); a day is safe.
	return bounds(schema.QuotaDay, anchor, t)
}

// monthStart is the window start of a month: day (clamped to the month's
// last day) at tod.
func monthStart(y int, m time.Month, day int, tod time.Duration) time.Time {
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, m, min(day, last), 0, 0, 0, 0, time.UTC).Add(tod)
}
