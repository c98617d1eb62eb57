package schema

import (
	"strings"
	"testing"
	"time"
)

func TestCheckRecord(t *testing.T) {
	long := strings.Repeat("a", 10000) + ".acme.example"
	for _, tc := range []struct {
		name, typ, value string
		want             string // part of the reason; "" for a good record
	}{
		{"acme.example", "A", "203.0.113.10", ""},
		{"acme.example", "A", "999.1.1.1", "not an IPv4 address"},
		{"acme.example", "A", "1.2.3.4/32", "not an IPv4 address"},
		{"acme.example", "A", "1.2.3.7%eth0", "not an IPv4 address"},
		{"acme.example", "A", "2001:db8::1", "not an IPv4 address"},
		{"acme.example", "AAAA", "2001:db8::1", ""},
		{"acme.example", "AAAA", "fe80::1%eth0", "not an IPv6 address"},
		{"acme.example", "MX", "mx1.acme.example", ""},
		{"acme.example", "MX", "10 mx1.acme.example", ""},
		{"acme.example", "MX", "0 .", ""},
		{"acme.example", "MX", "-5 mx1.acme.example", "MX preference"},
		{"acme.example", "MX", "99999999999 mx1.acme.example", "MX preference"},
		{"acme.example", "CNAME", long, "more than the 253"},
		{long, "A", "203.0.113.10", "the name"},
		{"a." + strings.Repeat("b", 64) + ".example", "A", "203.0.113.10", "longer than 63"},
		{"203.0.113.10", "PTR", "host.acme.example", ""},
		{"www.acme.example", "HOST", "", ""},
		{"www.acme.example", "HOST", "x", "no value"},
		{"_sip._tcp.acme.example", "SRV", "10 60 5060 sip.acme.example", ""},
		{"_sip._tcp.acme.example", "SRV", "10 60 99999 sip.acme.example", "SRV field"},
		{"bad\x1bname.example", "A", "203.0.113.10", "not printable"},
		{"acme.example", "TXT", "any text \x00 at all", ""},
	} {
		got := CheckRecord(NewFinding(tc.name, tc.typ, tc.value))
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("CheckRecord(%.40s %s %.40q) = %q, want %q", tc.name, tc.typ, tc.value, got, tc.want)
		}
		if len(got) > 300 {
			t.Errorf("reason too long (%d): %.80s", len(got), got)
		}
	}
}

func TestCheckWindow(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		first, last time.Time
		count       int64
		wantFirst   time.Time
		wantLast    time.Time
		want        string
	}{
		{d(2020, 1, 1), d(2026, 10, 1), 3, d(2020, 1, 1), d(2026, 10, 1), ""},
		{d(2026, 10, 1), d(2020, 1, 1), 3, time.Time{}, time.Time{}, "after last_seen"},
		{d(2020, 1, 1), d(9999, 1, 1), 3, d(2020, 1, 1), time.Time{}, "in the future"},
		{d(1970, 1, 2), d(2021, 1, 1), 3, time.Time{}, d(2021, 1, 1), "before 1985"},
		{time.Time{}, time.Time{}, -4, time.Time{}, time.Time{}, "negative"},
	} {
		f := Finding{FirstSeen: tc.first, LastSeen: tc.last, Count: tc.count}
		got := CheckWindow(&f, now)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("CheckWindow(%s, %s) = %q, want %q", tc.first, tc.last, got, tc.want)
		}
		if !f.FirstSeen.Equal(tc.wantFirst) || !f.LastSeen.Equal(tc.wantLast) || f.Count < 0 {
			t.Errorf("CheckWindow left %s..%s count %d", f.FirstSeen, f.LastSeen, f.Count)
		}
	}
}
