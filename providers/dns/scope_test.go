package dns

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/dns/dnstest"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// Every question the provider would send passes the scope, also those it
// adds on its own: the _dmarc name, the wildcard probe, the reverse name
// of an IP. Checked from the server's side, which counts what it receives.
func TestScopeHoldsForEveryQuestion(t *testing.T) {
	srv := dnstest.Start(t, allZones...)
	scope := schema.Scope{
		Domains: []string{"acme.example"},
		Exclude: []string{"_dmarc.acme.example", "203.0.113.20"},
	}
	scope.CIDRs = append(scope.CIDRs, mustPrefix(t, "203.0.113.0/24"))
	p, _ := newProvider(t, []string{srv.Addr}, map[string]cty.Value{"wildcard_check": cty.True}, 5*time.Second)
	p.cfg.InScope = scope.Contains

	// The subject is in scope, its _dmarc name is excluded.
	if _, err := p.Query(context.Background(), resolveQuery("acme.example", "A", "TXT")); err != nil {
		t.Fatal(err)
	}
	// An excluded IP is not asked at all.
	_, err := p.Query(context.Background(), resolveQuery("203.0.113.20"))
	providertest.CheckFinalError(t, err, providers.KindBadInput, "refused: 203.0.113.20 is out of scope")
	// A name the scope refuses below an allowed subject is never sent,
	// whoever asks.
	before := len(srv.Queries())
	p.cfg.InScope = func(s schema.Subject) (bool, string) {
		if strings.HasPrefix(s.Value, "rf-") {
			return false, "probe refused for the test"
		}
		return scope.Contains(s)
	}
	if _, err := p.Query(context.Background(), resolveQuery("anything.wild.acme.example", "A")); err != nil {
		t.Fatal(err)
	}
	for i, q := range srv.Queries() {
		if strings.HasPrefix(q, "_dmarc.") || i >= before && strings.HasPrefix(q, "rf-") || strings.Contains(q, "20.113.0.203") {
			t.Errorf("a question outside the scope reached the server: %s", q)
		}
	}
	if len(srv.Queries()) < 2 {
		t.Errorf("questions %v: the test proves little", srv.Queries())
	}
	// The last line of defence: send itself refuses what the scope does.
	sent := 0
	_, err = p.exchange(context.Background(), "_dmarc.acme.example", 16, &sent)
	providertest.CheckFinalError(t, err, providers.KindBadInput, "out of scope")
	if sent != 0 {
		t.Errorf("%d packets counted for a refused question", sent)
	}
}

func TestQuestionSubject(t *testing.T) {
	for name, want := range map[string]string{
		"20.113.0.203.in-addr.arpa.": "ip 203.0.113.20",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa": "ip 2001:db8::1",
		"113.0.203.in-addr.arpa": "domain 113.0.203.in-addr.arpa",
		"_DMARC.Acme.Example.":   "domain _dmarc.acme.example",
	} {
		s := questionSubject(name)
		if got := string(s.Kind) + " " + s.Value; got != want {
			t.Errorf("questionSubject(%s) = %s, want %s", name, got, want)
		}
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := schema.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
