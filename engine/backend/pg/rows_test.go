package pg

import (
	"strings"
	"testing"
)

// TestStorable checks the eight-bytes-at-a-time check against the plain
// one, with NULs and non-ASCII bytes at every position of long and short
// strings.
func TestStorable(t *testing.T) {
	cases := []string{"", "a", "h0000001.t001.acme.example", "é", "\xff", "\x00", "v=spf1 \u2028 ok"}
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 40} {
		base := strings.Repeat("x", n)
		for i := 0; i < n; i++ {
			for _, bad := range []string{"\x00", "\xff", "\xc3", "é", "\x7f", "\x01"} {
				cases = append(cases, base[:i]+bad+base[i+1:])
			}
		}
	}
	for _, s := range cases {
		if got, want := storable(s), storableSlow(s); got != want {
			t.Errorf("storable(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzStorable(f *testing.F) {
	f.Add("h0000001.t001.acme.example")
	f.Add("nul\x00byte")
	f.Add("bad \xff utf8 \xc3")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := storable(s), storableSlow(s); got != want {
			t.Errorf("storable(%q) = %v, want %v", s, got, want)
		}
	})
}
