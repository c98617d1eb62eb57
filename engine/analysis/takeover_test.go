package analysis

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/internal/takeover"
	"github.com/reconform/reconform/schema"
)

// rec is a finding of a passive source; current unless told otherwise.
func rec(name, rrtype, value string, current bool) schema.Finding {
	f := schema.NewFinding(name, rrtype, value)
	f.Current = current
	f.Sources = []string{"file.pdns"}
	return f
}

func cur(name, rrtype, value string) schema.Finding { return rec(name, rrtype, value, true) }

// factsOf returns "subject value" of the facts of kind, sorted.
func factsOf(facts []schema.Fact, kind string) []string {
	var out []string
	for _, f := range facts {
		if f.Kind == kind {
			out = append(out, f.Subject+" "+f.Value)
		}
	}
	sort.Strings(out)
	return out
}

// takeoverWorld is a world of dangling and healthy CNAMEs. Every dangling
// one is a candidate; no healthy one is.
func takeoverWorld() []schema.Finding {
	return []schema.Finding{
		// Dangling: nothing anywhere says the target has an address.
		cur("old.acme.example", "CNAME", "acme-old.azurewebsites.net"),
		cur("assets.acme.example", "CNAME", "acme-assets.s3.eu-west-1.amazonaws.com"),
		cur("help.acme.example", "CNAME", "acme.helpjuice.com"),
		// Dangling through a hop of our own: via -> edge -> the service.
		cur("via.acme.example", "CNAME", "edge.acme.example"),
		cur("edge.acme.example", "CNAME", "acme-edge.trafficmanager.net"),
		// Dangling: the target only had addresses long ago.
		cur("legacy.acme.example", "CNAME", "acme-legacy.herokuapp.com"),
		rec("acme-legacy.herokuapp.com", "A", "203.0.113.90", false),

		// Healthy: the target (or the end of its chain) has a current address.
		cur("app.acme.example", "CNAME", "acme-app.azurewebsites.net"),
		cur("acme-app.azurewebsites.net", "A", "203.0.113.80"),
		cur("pages.acme.example", "CNAME", "acme.github.io"),
		cur("acme.github.io", "AAAA", "2001:db8::153"),
		cur("shop.acme.example", "CNAME", "acme.myshopify.com"),
		cur("acme.myshopify.com", "CNAME", "shops.myshopify.com"),
		cur("shops.myshopify.com", "A", "203.0.113.91"),
		// Healthy: the passive source flattened the chain under the owner.
		cur("blog.acme.example", "CNAME", "acme.ghost.io"),
		cur("blog.acme.example", "A", "203.0.113.92"),
		// Healthy: not a takeover-prone service, or one that verifies
		// ownership, dangling or not.
		cur("cdn.acme.example", "CNAME", "d111111abcdef8.cloudfront.net"),
		cur("lb.acme.example", "CNAME", "acme-1234.eu-west-1.elb.amazonaws.com"),
		cur("www.acme.example", "CNAME", "acme.example"),
		cur("acme.example", "A", "203.0.113.10"),
		cur("partner.acme.example", "CNAME", "portal.partner.example"),
		// Healthy: the CNAME to the service is history; the name moved on.
		rec("promo.acme.example", "CNAME", "acme-promo.azurewebsites.net", false),
		cur("promo.acme.example", "A", "203.0.113.10"),
	}
}

func TestTakeoverCandidatesPassive(t *testing.T) {
	facts := Derive(takeoverWorld(), Options{})
	want := []string{
		"assets.acme.example aws-s3",
		"edge.acme.example azure",
		"help.acme.example helpjuice",
		"legacy.acme.example heroku",
		"old.acme.example azure",
		"via.acme.example azure",
	}
	if diff := cmp.Diff(want, factsOf(facts, KindTakeoverCandidate)); diff != "" {
		t.Errorf("takeover_candidate (-want +got):\n%s", diff)
	}
	if got := factsOf(facts, KindTakeoverConfirmed); len(got) != 0 {
		t.Errorf("takeover_confirmed %v from passive data alone", got)
	}
	for _, f := range facts {
		if f.Kind == KindTakeoverCandidate && f.Subject == "via.acme.example" {
			want := []string{"edge.acme.example CNAME acme-edge.trafficmanager.net", "via.acme.example CNAME edge.acme.example"}
			if !cmp.Equal(f.Evidence, want) {
				t.Errorf("via evidence %v, want the chain %v", f.Evidence, want)
			}
		}
	}
}

// Live DNS outranks passive currency: a target passive sources still
// list with an address but live DNS finds NXDOMAIN is a candidate; with
// the NXDOMAIN, a service whose deleted resources vanish is confirmed.
func TestTakeoverLiveNXDOMAIN(t *testing.T) {
	world := []schema.Finding{
		cur("old.acme.example", "CNAME", "acme-old.azurewebsites.net"),
		cur("acme-old.azurewebsites.net", "A", "203.0.113.81"), // within the current window, but gone
	}
	live := []schema.Fact{{Subject: "old.acme.example", Kind: "dangling_cname", Value: "acme-old.azurewebsites.net"}}
	facts := Derive(world, Options{Facts: live})
	if got := factsOf(facts, KindTakeoverCandidate); !cmp.Equal(got, []string{"old.acme.example azure"}) {
		t.Errorf("candidates %v", got)
	}
	if got := factsOf(facts, KindTakeoverConfirmed); !cmp.Equal(got, []string{"old.acme.example azure"}) {
		t.Errorf("confirmed %v", got)
	}
	// Without the live NXDOMAIN nothing is said.
	if got := factsOf(Derive(world, Options{}), KindTakeoverCandidate); len(got) != 0 {
		t.Errorf("candidates %v without the live NXDOMAIN", got)
	}
}

func TestTakeoverConfirmedByFingerprint(t *testing.T) {
	world := []schema.Finding{
		cur("pages.acme.example", "CNAME", "acme.github.io"),
		cur("acme.github.io", "A", "185.199.108.153"),
		cur("docs.acme.example", "CNAME", "acme-docs.github.io"),
		cur("acme-docs.github.io", "A", "185.199.108.153"),
	}
	live := []schema.Fact{
		{Subject: "pages.acme.example", Kind: "http_fingerprint", Value: "github-pages"},
		// A fingerprint of another service than the CNAME's is no proof.
		{Subject: "docs.acme.example", Kind: "http_fingerprint", Value: "shopify"},
	}
	facts := Derive(world, Options{Facts: live})
	if got := factsOf(facts, KindTakeoverConfirmed); !cmp.Equal(got, []string{"pages.acme.example github-pages"}) {
		t.Errorf("confirmed %v", got)
	}
	if got := factsOf(facts, KindTakeoverCandidate); len(got) != 0 {
		t.Errorf("candidates %v: both targets resolve", got)
	}
}

// Every catalogue entry, through Derive: a dangling CNAME to each suffix
// of a claimable service is a candidate and is confirmed by the service's
// signatures; the same CNAME with a live target is not; a service that
// verifies ownership never gives either.
func TestTakeoverCatalogueEntries(t *testing.T) {
	services, err := takeover.Catalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range services {
		t.Run(s.Name, func(t *testing.T) {
			for i, suffix := range s.CNAME {
				name := fmt.Sprintf("t%d.acme.example", i)
				target := "unclaimed-acme." + suffix
				dangling := []schema.Finding{cur(name, "CNAME", target)}
				var live []schema.Fact
				if s.NXDOMAIN {
					live = append(live, schema.Fact{Subject: name, Kind: "dangling_cname", Value: target})
				}
				if s.HasHTTPFingerprint() {
					live = append(live, schema.Fact{Subject: name, Kind: "http_fingerprint", Value: s.Name})
				}
				facts := Derive(dangling, Options{Facts: live})
				wantOne := []string{name + " " + s.Name}
				if !s.Claimable() {
					wantOne = nil
				}
				if got := factsOf(facts, KindTakeoverCandidate); !cmp.Equal(got, wantOne) {
					t.Errorf("%s: candidates %v, want %v", target, got, wantOne)
				}
				if got := factsOf(facts, KindTakeoverConfirmed); !cmp.Equal(got, wantOne) {
					t.Errorf("%s: confirmed %v, want %v", target, got, wantOne)
				}
				healthy := []schema.Finding{cur(name, "CNAME", "live-acme."+suffix), cur("live-acme."+suffix, "A", "203.0.113.77")}
				if got := Derive(healthy, Options{}); len(factsOf(got, KindTakeoverCandidate))+len(factsOf(got, KindTakeoverConfirmed)) != 0 {
					t.Errorf("%s: a live target gave %v %v", suffix, factsOf(got, KindTakeoverCandidate), factsOf(got, KindTakeoverConfirmed))
				}
			}
		})
	}
}

func TestDanglingNSAndMX(t *testing.T) {
	world := []schema.Finding{
		cur("acme.example", "NS", "ns1.acme-dns.example.net"),
		cur("acme.example", "NS", "ns-1234.awsdns-12.org"),
		cur("acme.example", "NS", "ns2.lapsed-dns.com"),
		rec("acme.example", "NS", "ns1.old-expired.com", false), // history: the delegation moved on
		cur("acme.example", "MX", "10 mx.gone-mail.com"),
		cur("acme.example", "MX", "20 aspmx.l.google.com"),
		cur("shop.acme.example", "MX", "0 ."),
	}
	registration := []schema.Fact{
		{Subject: "acme-dns.example.net", Kind: "registration", Value: "registered"},
		{Subject: "awsdns-12.org", Kind: "registration", Value: "registered"},
		{Subject: "lapsed-dns.com", Kind: "registration", Value: "expired"},
		{Subject: "old-expired.com", Kind: "registration", Value: "unregistered"},
		{Subject: "gone-mail.com", Kind: "registration", Value: "unregistered"},
		{Subject: "google.com", Kind: "registration", Value: "registered"},
	}
	facts := Derive(world, Options{Facts: registration})
	if got := factsOf(facts, KindDanglingNS); !cmp.Equal(got, []string{"acme.example ns2.lapsed-dns.com"}) {
		t.Errorf("dangling_ns %v", got)
	}
	if got := factsOf(facts, KindDanglingMX); !cmp.Equal(got, []string{"acme.example mx.gone-mail.com"}) {
		t.Errorf("dangling_mx %v", got)
	}
	for _, f := range facts {
		if f.Kind == KindDanglingMX && !cmp.Equal(f.Evidence, []string{"acme.example MX mx.gone-mail.com"}) {
			t.Errorf("dangling_mx evidence %v", f.Evidence)
		}
	}
	// Without registration facts nothing is dangling.
	if got := Derive(world, Options{}); len(factsOf(got, KindDanglingNS))+len(factsOf(got, KindDanglingMX)) != 0 {
		t.Errorf("dangling facts without RDAP: %v", got)
	}
}

func TestCAAViolations(t *testing.T) {
	world := []schema.Finding{
		cur("acme.example", "CAA", `0 issue "letsencrypt.org"`),
		cur("acme.example", "CAA", `0 issuewild ";"`),
		cur("acme.example", "CAA", `128 iodef "mailto:security@acme.example"`),
		cur("www.acme.example", "A", "203.0.113.10"),
		cur("locked.acme.example", "CAA", `0 issue ";"`),
		cur("open.acme.example", "CAA", `0 iodef "mailto:x@acme.example"`),
		cur("digi.acme.example", "CAA", "0 issue digicert.com; cansignhttpexchanges=yes"),
		rec("old.acme.example", "CAA", `0 issue "sectigo.com"`, false), // history: no longer the policy
	}
	issued := []schema.Fact{
		{Subject: "www.acme.example", Kind: "cert_issuer", Value: "Let's Encrypt"},
		{Subject: "www.acme.example", Kind: "cert_issuer", Value: "DigiCert Inc"},
		{Subject: "api.acme.example", Kind: "cert_issuer", Value: "Unknown Private CA"},
		{Subject: "locked.acme.example", Kind: "cert_issuer", Value: "Unknown Private CA"},
		{Subject: "open.acme.example", Kind: "cert_issuer", Value: "Sectigo Limited"},
		{Subject: "digi.acme.example", Kind: "cert_issuer", Value: `thawte, Inc.`},
		{Subject: "old.acme.example", Kind: "cert_issuer", Value: "Google Trust Services LLC"},
		{Subject: "www.acme.example", Kind: "cert_issuer_past", Value: "Sectigo Limited"},
	}
	facts := Derive(world, Options{Facts: issued})
	want := []string{
		"locked.acme.example Unknown Private CA", // issue ";": no CA may issue
		"old.acme.example Google Trust Services LLC",
		"www.acme.example DigiCert Inc",
	}
	if diff := cmp.Diff(want, factsOf(facts, KindCAAViolation)); diff != "" {
		t.Errorf("caa_violation (-want +got):\n%s", diff)
	}
	for _, f := range facts {
		if f.Kind == KindCAAViolation && f.Subject == "www.acme.example" && !strings.Contains(strings.Join(f.Evidence, "|"), `acme.example CAA 0 issue "letsencrypt.org"`) {
			t.Errorf("evidence %v does not name the CAA record", f.Evidence)
		}
	}
}

func TestCAADomains(t *testing.T) {
	for issuer, want := range map[string]string{
		"Let's Encrypt":            "letsencrypt.org",
		"DigiCert Inc":             "digicert.com",
		"thawte, Inc.":             "digicert.com",
		"Sectigo Limited":          "sectigo.com",
		"ZeroSSL":                  "sectigo.com",
		"Google Trust Services":    "pki.goog",
		"Amazon":                   "amazon.com",
		"Some Private Enterprise":  "",
		"Starfield Technologies, ": "godaddy.com",
	} {
		got := CAADomains(issuer)
		if (want == "") != (got == nil) || (want != "" && got[0] != want) {
			t.Errorf("CAADomains(%q) = %v, want %s first", issuer, got, want)
		}
	}
}

func TestTakeoverKindsAreDerived(t *testing.T) {
	for _, k := range []string{"takeover_candidate", "takeover_confirmed", "dangling_ns", "dangling_mx", "caa_violation"} {
		if !IsDerivedKind(k) {
			t.Errorf("%s is not in Kinds", k)
		}
	}
}

func TestTakeoverOnlyInScope(t *testing.T) {
	world := []schema.Finding{
		cur("old.acme.example", "CNAME", "acme-old.azurewebsites.net"),
		cur("shop.partner.example", "CNAME", "partner.myshopify.com"),
	}
	got := factsOf(Derive(world, Options{Scope: []string{"acme.example"}}), KindTakeoverCandidate)
	if !cmp.Equal(got, []string{"old.acme.example azure"}) {
		t.Errorf("candidates %v: want only the in-scope one", got)
	}
	if got := factsOf(Derive(world, Options{}), KindTakeoverCandidate); len(got) != 2 {
		t.Errorf("without a scope every name counts: %v", got)
	}
}

// cnameWorld makes n CNAMEs, a third of them to catalogued services,
// half of those with an address behind them.
func cnameWorld(n int) []schema.Finding {
	suffixes := []string{"azurewebsites.net", "github.io", "cdn.partner.example", "herokuapp.com", "s3.amazonaws.com", "cloudfront.net"}
	var out []schema.Finding
	for i := 0; i < n; i++ {
		target := fmt.Sprintf("t%d.%s", i, suffixes[i%len(suffixes)])
		out = append(out, cur(fmt.Sprintf("h%d.acme.example", i), "CNAME", target))
		if i%2 == 0 {
			out = append(out, cur(target, "A", fmt.Sprintf("203.0.%d.%d", i%256, i%250)))
		}
	}
	return out
}

// BenchmarkTakeoverMatch is the catalogue lookup per CNAME target against
// ClassifyCNAME, the hosted-service lookup every Derive already did: the
// ratio of their ns/op is the cost the catalogue adds per CNAME.
func BenchmarkTakeoverMatch(b *testing.B) {
	targets := []string{"acme-old.azurewebsites.net", "acme.github.io", "portal.partner.example", "bucket.s3.eu-west-1.amazonaws.com"}
	b.Run("takeover.Match", func(b *testing.B) {
		for b.Loop() {
			for _, t := range targets {
				takeover.Match(t)
			}
		}
	})
	b.Run("ClassifyCNAME", func(b *testing.B) {
		for b.Loop() {
			for _, t := range targets {
				ClassifyCNAME(t)
			}
		}
	})
}

func BenchmarkDeriveCNAMEs50k(b *testing.B) {
	fs := cnameWorld(50_000)
	b.ReportAllocs()
	for b.Loop() {
		Derive(fs, Options{})
	}
}
