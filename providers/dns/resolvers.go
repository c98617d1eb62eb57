package dns

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/reconform/reconform/schema"
)

// defaultPort is the DNS port used when a resolver address names none.
const defaultPort = "53"

// tcpScheme marks a resolver asked over TCP only.
const tcpScheme = "tcp://"

// ParseResolver turns a resolver address as a user writes it into a
// host:port the client can dial, prefixed with tcp:// for a resolver
// asked over TCP only. Accepted forms:
//
//	192.0.2.53            IPv4, port 53
//	192.0.2.53:5353       IPv4 and port
//	2001:db8::53          bare IPv6, port 53
//	[2001:db8::53]        bracketed IPv6, port 53
//	[2001:db8::53]:5353   bracketed IPv6 and port
//	fe80::1%eth0          link-local IPv6 with a zone
//	dns.example[:port]    a host name (resolved by the system when dialled)
//
// each optionally after udp:// or dns:// (the default transport: UDP, TCP
// for truncated answers) or tcp:// (TCP only). The result is canonical: ParseResolver(ParseResolver(s)) == ParseResolver(s).
func ParseResolver(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("empty resolver address")
	}
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		switch strings.ToLower(s[:i]) {
		case "udp", "dns":
		case "tcp":
			prefix = tcpScheme
		default:
			return "", fmt.Errorf("resolver %q: scheme %q is not udp://, tcp:// or dns:// (DNS over TLS or HTTPS is not supported)", raw, s[:i])
		}
		s = s[i+3:]
		if strings.Contains(s, "/") {
			return "", fmt.Errorf("resolver %q: write scheme://host:port, without a path", raw)
		}
	}
	host, port := s, defaultPort
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", fmt.Errorf("resolver %q: missing ']' after the IPv6 address", raw)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", fmt.Errorf("resolver %q: expected ':port' after ']'", raw)
			}
			port = rest[1:]
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", fmt.Errorf("resolver %q: %q in brackets is not an IPv6 address", raw, host)
		}
	case strings.Count(s, ":") > 1:
		// Bare IPv6: no port possible without brackets.
		if _, err := netip.ParseAddr(s); err != nil {
			return "", fmt.Errorf("resolver %q: not an IPv6 address; write [address]:port to give a port", raw)
		}
	case strings.Count(s, ":") == 1:
		i := strings.IndexByte(s, ':')
		host, port = s[:i], s[i+1:]
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return "", fmt.Errorf("resolver %q: port %q is not a number from 1 to 65535", raw, port)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !validZone(a.Zone()) {
			return "", fmt.Errorf("resolver %q: %q is not an interface name", raw, a.Zone())
		}
		return prefix + net.JoinHostPort(a.Unmap().String(), port), nil
	}
	name := schema.NormalizeName(host)
	if name != "localhost" {
		if err := schema.ValidateDomain(name); err != nil {
			return "", fmt.Errorf("resolver %q: not an IP address or host name: %w", raw, err)
		}
		if schema.IsWildcard(name) {
			return "", fmt.Errorf("resolver %q: a wildcard name is not a host name", raw)
		}
	}
	return prefix + net.JoinHostPort(name, port), nil
}

// validZone reports whether an IPv6 zone is a plausible interface name
// or index (and so survives being written back in brackets).
func validZone(z string) bool {
	for _, r := range z {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// splitResolver returns the network and host:port of a parsed resolver.
func splitResolver(r string) (network, addr string) {
	if a, ok := strings.CutPrefix(r, tcpScheme); ok {
		return "tcp", a
	}
	return "udp", r
}

// systemResolvers reads the name servers of a resolv.conf file.
func systemResolvers(path string) ([]string, error) {
	cc, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, err
	}
	port := cc.Port
	if port == "" {
		port = defaultPort
	}
	var out []string
	for _, s := range cc.Servers {
		addr, err := ParseResolver(net.JoinHostPort(s, port))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, addr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no nameserver", path)
	}
	return out, nil
}
