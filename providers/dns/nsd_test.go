package dns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dns/dnstest"
)

// realZones are the test zones as the real servers load them.
var realZones = []dnstest.Zone{{Name: "acme.example", File: zoneFile}, {Name: "113.0.203.in-addr.arpa", File: reverseV4}, {Name: "8.b.d.0.1.0.0.2.ip6.arpa", File: reverseV6}}

// TestResolveZoneNSD runs the zone table against NSD.
func TestResolveZoneNSD(t *testing.T) {
	testRealServer(t, dnstest.StartNSD(t, realZones))
}

// TestResolveZoneBIND runs the zone table against BIND 9.
func TestResolveZoneBIND(t *testing.T) {
	addr, _ := dnstest.StartBIND(t, realZones)
	testRealServer(t, addr)
}

// TestResolveZoneKnot runs the zone table against Knot DNS.
func TestResolveZoneKnot(t *testing.T) {
	testRealServer(t, dnstest.StartKnot(t, realZones))
}

// testRealServer runs the zone table, wildcards, a referral and a name
// outside its zones against an authoritative server we did not write.
func testRealServer(t *testing.T, addr string) {
	testResolveZone(t, addr, nil)
	t.Run("wildcards", func(t *testing.T) { testWildcard(t, addr, nil) })

	t.Run("referral below a delegation", func(t *testing.T) {
		p, _ := newProvider(t, []string{addr}, nil, 5*time.Second)
		_, err := p.Query(context.Background(), resolveQuery("host.sub.acme.example", "A"))
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindBadInput || !strings.Contains(err.Error(), "referral") {
			t.Errorf("error %v, want a referral error", err)
		}
	})
	t.Run("outside its zones", func(t *testing.T) {
		p, _ := newProvider(t, []string{addr}, nil, 5*time.Second)
		_, err := p.Query(context.Background(), resolveQuery("www.other.example", "A"))
		// REFUSED is NSD's policy for a zone it does not serve: asking
		// again cannot change it, so it is not retried.
		if ok, _ := providers.IsRetryable(err); ok || !strings.Contains(fmt.Sprint(err), "REFUSED by") {
			t.Errorf("error %v, want a REFUSED that is not retried", err)
		}
	})
}
