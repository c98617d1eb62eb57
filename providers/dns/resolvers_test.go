package dns

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestParseResolver(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "192.0.2.53", want: "192.0.2.53:53"},
		{in: " 192.0.2.53:5353 ", want: "192.0.2.53:5353"},
		{in: "2001:db8::53", want: "[2001:db8::53]:53"},
		{in: "2001:DB8:0::53", want: "[2001:db8::53]:53"},
		{in: "[2001:db8::53]", want: "[2001:db8::53]:53"},
		{in: "[2001:db8::53]:853", want: "[2001:db8::53]:853"},
		{in: "fe80::1%eth0", want: "[fe80::1%eth0]:53"},
		{in: "::ffff:192.0.2.1", want: "192.0.2.1:53"},
		{in: "Dns.Example.", want: "dns.example:53"},
		{in: "localhost:5353", want: "localhost:5353"},
		{in: "udp://192.0.2.53", want: "192.0.2.53:53"},
		{in: "DNS://dns.example:5353", want: "dns.example:5353"},
		{in: "tcp://[2001:db8::53]:5353", want: "tcp://[2001:db8::53]:5353"},
		{in: "tcp://192.0.2.53", want: "tcp://192.0.2.53:53"},
		{in: "fe80::1%eth0]", err: "not an interface name"},
		{in: "", err: "empty"},
		{in: "https://dns.example/dns-query", err: "not supported"},
		{in: "tls://192.0.2.53", err: "not supported"},
		{in: "tcp://192.0.2.53/x", err: "without a path"},
		{in: "tcp://", err: "empty"},
		{in: "[2001:db8::53", err: "missing ']'"},
		{in: "[2001:db8::53]x", err: "expected ':port'"},
		{in: "[192.0.2.53]:53", err: "not an IPv6 address"},
		{in: "2001:db8::53:53:53:53:53:53", err: "not an IPv6 address"},
		{in: "192.0.2.53:0", err: "port"},
		{in: "192.0.2.53:65536", err: "port"},
		{in: "192.0.2.53:053", err: "port"},
		{in: "192.0.2.53:", err: "port"},
		{in: "resolver", err: "no dot"},
		{in: "bad name.example", err: "invalid character"},
		{in: "*.resolvers.example", err: "wildcard"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseResolver(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseResolver(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseResolver(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseResolver checks that accepted addresses are dialable host:port
// pairs and that parsing is idempotent.
func FuzzParseResolver(f *testing.F) {
	for _, s := range []string{"192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:853", "fe80::1%eth0",
		"dns.example", "dns.example:53", "localhost", "[::1]", "udp://x", "tcp://[::1]:53", "[", "]:", "1.2.3.4:99999", "::ffff:1.2.3.4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseResolver(s)
		if err != nil {
			return
		}
		_, addr := splitResolver(got)
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			t.Fatalf("ParseResolver(%q) = %q: not host:port: %v", s, got, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			t.Fatalf("ParseResolver(%q) = %q: bad port", s, got)
		}
		again, err := ParseResolver(got)
		if err != nil || again != got {
			t.Fatalf("ParseResolver(%q) = %q, but ParseResolver(%q) = %q, %v", s, got, got, again, err)
		}
	})
}
