package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseRate parses "N/s", "N/min", "N/h", "N/day", and "N/<duration>" such
// as "1/7s". Units are never lost: "4/min" is four per minute.
func ParseRate(s string) (Rate, error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q must look like \"4/min\" or \"1/s\"", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 {
		return Rate{}, fmt.Errorf("rate %q must start with a positive whole number of requests", s)
	}
	per = strings.TrimSpace(per)
	var d time.Duration
	switch per {
	case "s", "sec", "second":
		d = time.Second
	case "m", "min", "minute":
		d = time.Minute
	case "h", "hour":
		d = time.Hour
	case "d", "day":
		d = 24 * time.Hour
	default:
		d, err = ParseDuration(per)
		if err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("rate %q has an unknown unit %q; use s, min, h, day or a duration such as 7s", s, per)
		}
	}
	return Rate{Count: n, Per: d}, nil
}

func (r Rate) String() string {
	if r.IsZero() {
		return "unlimited"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Count)
	case time.Minute:
		return fmt.Sprintf("%d/min", r.Count)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Count)
	case 24 * time.Hour:
		return fmt.Sprintf("%d/day", r.Count)
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Per)
}

// ParseDuration is time.ParseDuration plus "d" (days) and "w" (weeks), as
// in "30d" or "2w".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			n, err := strconv.ParseFloat(num, 64)
			// !(n >= 0) also rejects NaN; the upper bound keeps "1e300d"
			// from wrapping round to a negative duration.
			if err != nil || !(n >= 0) || n*float64(unit) >= math.MaxInt64 {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			return time.Duration(n * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use e.g. \"30s\", \"24h\" or \"30d\"", s)
	}
	return d, nil
}
