package schema

import (
	"strings"
	"testing"
)

// FuzzParseRate checks the config's rate and duration parsers: never a
// panic, and an accepted value is positive (a rate) or, unless the user
// wrote a minus sign, never negative (a duration).
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"4/min", "1/s", "10/day", "1/7s", "1/1.5d", "30d", "2w", "1e300d", "NaNd", "-1d", "24h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseRate(s); err == nil && (r.Count <= 0 || r.Per <= 0) {
			t.Fatalf("ParseRate(%q) = %+v", s, r)
		}
		if d, err := ParseDuration(s); err == nil && d < 0 && !strings.Contains(s, "-") {
			t.Fatalf("ParseDuration(%q) = %s", s, d)
		}
	})
}
