package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ParseCOFTime reads a time of a Passive DNS Common Output Format record
// (time_first, time_last, zone_time_*, time_*_rfc3339), or of an export
// made from one, and returns unix seconds; 0 means unknown. Every COF
// reader uses it: the CIRCL, DNSDB and Robtex providers and the file
// provider. s is the text of a JSON number or the contents of a JSON
// string. Real bodies write:
//
//   - unix seconds as a number or a numeric string (COF; CIRCL's
//     documentation writes "time_first": "1696798385"), possibly with a
//     fraction ("1500000000.5");
//   - unix milliseconds in the seconds fields of some exporters: a value
//     above 1e11 (the year 5138 in seconds) is read as milliseconds;
//   - RFC 3339 (DNSDB with humantime=true, dnsdbq's default ISO format,
//     CIRCL's time_first_rfc3339), with or without a fraction, and the
//     same without a zone, read as UTC;
//   - "2006-01-02 15:04:05", dnsdbq's CSV time format, in UTC;
//   - a bare date, YYYY-MM-DD, as the start of that day in UTC.
//
// Empty, null and 0 are unknown. A negative or unreadable time is an
// error naming the text, so that a reader can say which field was wrong.
func ParseCOFTime(s []byte) (int64, error) {
	s = bytes.TrimSpace(s)
	if len(s) == 0 || string(s) == "null" {
		return 0, nil
	}
	if n, ok := parseDigits(s); ok {
		return unixSecondsOrMillis(n), nil
	}
	if c := s[0]; c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if n, err := strconv.ParseFloat(string(s), 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
			if n < 0 {
				return 0, fmt.Errorf("negative time %q", s)
			}
			return unixSecondsOrMillis(int64(min(n, math.MaxInt64/2))), nil
		}
	}
	for _, layout := range cofTimeLayouts {
		if t, err := time.Parse(layout, string(s)); err == nil {
			if u := t.Unix(); u > 0 {
				return u, nil
			}
			return 0, fmt.Errorf("time %q is before 1970", s)
		}
	}
	return 0, fmt.Errorf("unrecognised time %q: use unix seconds, RFC 3339 or YYYY-MM-DD", truncateForMsg(s))
}

// cofTimeLayouts are the text layouts ParseCOFTime tries, in order.
var cofTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.DateOnly,
}

// parseDigits reads a run of ASCII digits without allocating: the common
// case, millions of times in a bulk file.
func parseDigits(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// unixSecondsOrMillis reads a unix time that may be in milliseconds: no
// seconds value of interest is above 1e11.
func unixSecondsOrMillis(n int64) int64 {
	if n > 1e11 {
		return n / 1000
	}
	return n
}

func truncateForMsg(s []byte) []byte {
	if len(s) > 40 {
		return append(bytes.Clone(s[:40]), "..."...)
	}
	return s
}

// COFTime is a COF time member decoded with ParseCOFTime: a JSON number,
// a string holding any form ParseCOFTime reads, or null. Its value is unix
// seconds, 0 when unknown.
type COFTime int64

// UnmarshalJSON implements json.Unmarshaler.
func (t *COFTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	} else if len(b) > 0 && (b[0] == '{' || b[0] == '[' || b[0] == 't' || b[0] == 'f') {
		return errors.New("a time must be a number or a string")
	}
	n, err := ParseCOFTime(b)
	if err != nil {
		return err
	}
	*t = COFTime(n)
	return nil
}

// Time is the time in UTC; the zero time when unknown.
func (t COFTime) Time() time.Time { return UnixTime(int64(t)) }
