package analysis

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/analysis")

const testdataDir = "../../testdata/analysis"

func loadFindings(t *testing.T, name string) []schema.Finding {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var fs []schema.Finding
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(testdataDir, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

func hasFact(facts []schema.Fact, subject, kind, value string) bool {
	for _, f := range facts {
		if f.Subject == subject && f.Kind == kind && f.Value == value {
			return true
		}
	}
	return false
}

func TestDerive(t *testing.T) {
	findings := loadFindings(t, "findings.json")
	facts := Derive(findings, Options{Scope: []string{"acme.example", "acme-corp.example"}})

	want := []struct{ subject, kind, value string }{
		{"acme.example", "mail_provider", "microsoft-365"},
		{"acme.example", "mail_provider_past", "google-workspace"},
		{"acme.example", "dns_provider", "cloudflare"},
		{"acme.example", "dns_provider_past", "route53"},
		{"acme.example", "spf_all", "-all"},
		{"acme.example", "spf_include", "spf.protection.outlook.com"},
		{"acme.example", "spf_include", "_spf.acme.example"},
		{"acme.example", "spf_ip4", "203.0.113.0/24"},
		{"acme.example", "spf_lookups", "6"},
		{"acme.example", "dmarc_policy", "none"},
		{"acme.example", "dmarc_subdomain_policy", "none"},
		{"acme.example", "dmarc_pct", "100"},
		{"acme.example", "dmarc_rua", "x7@rua.agari.com"},
		{"acme.example", "dmarc_vendor", "agari"},
		{"acme.example", "saas", "microsoft-365"},
		{"acme.example", "saas", "atlassian"},
		{"acme.example", "saas", "docusign"},
		{"acme.example", "saas", "github"},
		{"acme.example", "saas_past", "google"},
		{"_spf.acme.example", "spf_all", "~all"},
		{"_spf.acme.example", "mail_sender", "mailgun"},
		{"_spf.acme.example", "mail_sender", "mailchimp"},
		{"acme.example", "mail_sender", "microsoft-365"},
		{"acme.example", "mail_sender", "mailgun"}, // through _spf.acme.example
		{"acme-corp.example", "mail_provider", "self-hosted"},
		{"acme-corp.example", "dns_provider", "self-hosted"},
		{"acme-corp.example", "spf_all", "+all"},
		{"acme-corp.example", "spf_permissive", "+all"},
		{"acme-corp.example", "dmarc_policy", "missing"},
		{"203.0.113.10", "shared_hosting", "7"},
		{"203.0.113.10", "shared_hosting_ip", "true"},
		{"203.0.113.0/24", "ip_range", "2"},
		{"198.51.100.0/24", "ip_range", "3"},
		{"2001:db8:10::/48", "ip_range", "1"},
		{"www.acme.example", "moved", "A 198.51.100.7 -> 203.0.113.10"},
		{"shop.acme.example", "cname_service", "shopify"},
		{"acme.example", "moved", "MX 1 aspmx.l.google.com, 5 alt1.aspmx.l.google.com -> 0 acme-example.mail.protection.outlook.com"},
		{"acme.example", "moved", "NS ns-1021.awsdns-63.net, ns-1660.awsdns-15.co.uk -> lara.ns.cloudflare.com, tom.ns.cloudflare.com"},
		{"_dmarc.acme.example", "moved", "TXT v=DMARC1; p=reject; sp=reject; rua=mailto:dmarc@acme.example -> v=DMARC1; p=none; rua=mailto:dmarc@acme.example,mailto:x7@rua.agari.com"},
	}
	for _, w := range want {
		if !hasFact(facts, w.subject, w.kind, w.value) {
			t.Errorf("missing fact (%s, %s, %s)", w.subject, w.kind, w.value)
		}
	}
	notWant := []struct{ subject, kind, value string }{
		{"acme.example", "mail_provider", "google-workspace"}, // historical only
		{"acme.example", "spf_all", "~all"},                   // the old record
		{"acme.example", "dmarc_policy", "reject"},
		{"acme.example", "saas", "google"},
		{"203.0.113.11", "shared_hosting", "1"},
		{"198.51.100.7", "shared_hosting", "1"},
	}
	for _, w := range notWant {
		if hasFact(facts, w.subject, w.kind, w.value) {
			t.Errorf("unexpected fact (%s, %s, %s)", w.subject, w.kind, w.value)
		}
	}
	for _, f := range facts {
		if !IsDerivedKind(f.Kind) {
			t.Errorf("kind %q is missing from Kinds", f.Kind)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(facts); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "facts.golden.json", buf.Bytes())

	// Deterministic whatever the input order.
	rev := make([]schema.Finding, len(findings))
	for i, f := range findings {
		rev[len(findings)-1-i] = f
	}
	if diff := cmp.Diff(facts, Derive(rev, Options{Scope: []string{"acme.example", "acme-corp.example"}})); diff != "" {
		t.Errorf("Derive depends on input order:\n%s", diff)
	}
}

func TestDeriveWithoutCurrency(t *testing.T) {
	// Currency never computed: the newest observations decide.
	findings := loadFindings(t, "findings.json")
	for i := range findings {
		findings[i].Current = false
	}
	facts := Derive(findings, Options{})
	for _, w := range [][3]string{
		{"acme.example", "mail_provider", "microsoft-365"},
		{"acme.example", "mail_provider_past", "google-workspace"},
		{"acme.example", "dmarc_policy", "none"},
	} {
		if !hasFact(facts, w[0], w[1], w[2]) {
			t.Errorf("missing fact %v", w)
		}
	}
}

func TestDeriveEdgeCases(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 1, d, 0, 0, 0, 0, time.UTC) }
	cur := func(name, typ, value string) schema.Finding {
		f := schema.NewFinding(name, typ, value)
		f.FirstSeen, f.LastSeen, f.Current = day(1), day(20), true
		return f
	}
	tests := map[string]struct {
		findings []schema.Finding
		want     [][3]string
		notWant  [][3]string
	}{
		"null mx": {
			findings: []schema.Finding{cur("parked.example", "MX", "0 .")},
			want:     [][3]string{{"parked.example", "mail_provider", "no-mail"}},
			notWant:  [][3]string{{"parked.example", "dmarc_policy", "missing"}, {"parked.example", "spf_all", "missing"}},
		},
		"two spf records": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 -all"), cur("a.example", "TXT", "v=spf1 mx ~all")},
			want:     [][3]string{{"a.example", "spf_error", "several SPF records (permerror)"}},
			notWant:  [][3]string{{"a.example", "spf_all", "-all"}},
		},
		"spf without all": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 mx")},
			want:     [][3]string{{"a.example", "spf_all", "no-all"}, {"a.example", "spf_permissive", "no-all"}},
		},
		"spf neutral": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 mx ?all")},
			want:     [][3]string{{"a.example", "spf_permissive", "?all"}},
		},
		"spf redirect": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 redirect=_spf.a.example"), cur("_spf.a.example", "TXT", "v=spf1 include:x.example include:y.example -all")},
			want:     [][3]string{{"a.example", "spf_redirect", "_spf.a.example"}, {"a.example", "spf_lookups", "3"}, {"a.example", "spf_all", "-all"}},
			notWant:  [][3]string{{"a.example", "spf_all", "no-all"}},
		},
		"spf redirect loop": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 redirect=_spf.a.example"), cur("_spf.a.example", "TXT", "v=spf1 redirect=a.example")},
			notWant:  [][3]string{{"a.example", "spf_all", "no-all"}, {"a.example", "spf_all", ""}},
		},
		"spf redirect beside all": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 include:x.example ~all redirect=_spf.a.example"), cur("_spf.a.example", "TXT", "v=spf1 a mx +all")},
			want:     [][3]string{{"a.example", "spf_all", "~all"}, {"a.example", "spf_lookups", "1"}},
			notWant:  [][3]string{{"a.example", "spf_permissive", "+all"}, {"a.example", "spf_redirect", "_spf.a.example"}, {"a.example", "spf_lookups", "4"}},
		},
		"spf redirect chain": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 redirect=b.example"), cur("b.example", "TXT", "v=spf1 redirect=c.example"), cur("c.example", "TXT", "v=spf1 ?all")},
			want:     [][3]string{{"a.example", "spf_all", "?all"}, {"a.example", "spf_permissive", "?all"}},
		},
		"spf include loop": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 include:b.example -all"), cur("b.example", "TXT", "v=spf1 include:a.example -all")},
			want:     [][3]string{{"a.example", "spf_lookups", "2"}},
		},
		"spf too many lookups": {
			findings: []schema.Finding{cur("a.example", "TXT", "v=spf1 a mx ptr include:1.example include:2.example include:3.example include:4.example include:5.example include:6.example include:7.example include:8.example -all")},
			want:     [][3]string{{"a.example", "spf_lookups", "11"}, {"a.example", "spf_too_many_lookups", "11"}},
		},
		"spf missing": {
			findings: []schema.Finding{cur("a.example", "MX", "10 mx.a.example")},
			want:     [][3]string{{"a.example", "spf_all", "missing"}, {"a.example", "dmarc_policy", "missing"}},
		},
		"subdomain inherits dmarc": {
			findings: []schema.Finding{cur("mail.a.example", "MX", "10 mx.a.example"), cur("_dmarc.a.example", "TXT", "v=DMARC1; p=quarantine")},
			want:     [][3]string{{"a.example", "dmarc_policy", "quarantine"}},
			notWant:  [][3]string{{"mail.a.example", "dmarc_policy", "missing"}},
		},
		"two dmarc records": {
			findings: []schema.Finding{cur("_dmarc.a.example", "TXT", "v=DMARC1; p=reject"), cur("_dmarc.a.example", "TXT", "v=DMARC1; p=none")},
			want:     [][3]string{{"a.example", "dmarc_policy", "invalid"}, {"a.example", "dmarc_error", "several DMARC records"}},
		},
		"mixed mail providers": {
			findings: []schema.Finding{cur("a.example", "MX", "10 mx1.a.example"), cur("a.example", "MX", "20 us-smtp-inbound-1.mimecast.com")},
			want:     [][3]string{{"a.example", "mail_provider", "self-hosted"}, {"a.example", "mail_provider", "mimecast"}},
		},
		"shared hosting below threshold": {
			findings: []schema.Finding{cur("a.example", "A", "192.0.2.1"), cur("b.example", "A", "192.0.2.1"), cur("www.a.example", "A", "192.0.2.1")},
			want:     [][3]string{{"192.0.2.1", "shared_hosting", "2"}},
			notWant:  [][3]string{{"192.0.2.1", "shared_hosting_ip", "true"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			facts := Derive(tc.findings, Options{})
			for _, w := range tc.want {
				if !hasFact(facts, w[0], w[1], w[2]) {
					t.Errorf("missing fact %v in %v", w, facts)
				}
			}
			for _, w := range tc.notWant {
				if hasFact(facts, w[0], w[1], w[2]) {
					t.Errorf("unexpected fact %v", w)
				}
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	findings := loadFindings(t, "findings.json")
	tl := Timeline(findings)
	var www, apex NameTimeline
	for _, n := range tl {
		switch n.Name {
		case "www.acme.example":
			www = n
		case "acme.example":
			apex = n
		case "vpn.acme.example":
			t.Error("a HOST-only name has no timeline")
		}
	}
	wantMoves := []Move{{Type: "A", From: "198.51.100.7", To: "203.0.113.10", At: time.Date(2023, 5, 2, 0, 0, 0, 0, time.UTC)}}
	if diff := cmp.Diff(wantMoves, www.Moves); diff != "" {
		t.Errorf("www moves (-want +got):\n%s", diff)
	}
	var got []string
	for _, m := range apex.Moves {
		got = append(got, m.String())
	}
	wantApex := []string{
		"NS ns-1021.awsdns-63.net -> lara.ns.cloudflare.com",
		"NS ns-1021.awsdns-63.net -> tom.ns.cloudflare.com",
		"NS ns-1660.awsdns-15.co.uk -> lara.ns.cloudflare.com",
		"NS ns-1660.awsdns-15.co.uk -> tom.ns.cloudflare.com",
		"MX 1 aspmx.l.google.com -> 0 acme-example.mail.protection.outlook.com",
		"MX 5 alt1.aspmx.l.google.com -> 0 acme-example.mail.protection.outlook.com",
		"TXT v=spf1 include:_spf.google.com ~all -> v=spf1 ip4:203.0.113.0/24 include:spf.protection.outlook.com include:_spf.acme.example -all",
	}
	if diff := cmp.Diff(wantApex, got); diff != "" {
		t.Errorf("apex moves (-want +got):\n%s", diff)
	}
	// Round-robin values that started together are not moves.
	rr := []schema.Finding{
		{Name: "x.example", Type: "A", Value: "192.0.2.1", FirstSeen: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), LastSeen: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Name: "x.example", Type: "A", Value: "192.0.2.2", FirstSeen: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), LastSeen: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Current: true},
	}
	if m := Timeline(rr)[0].Moves; len(m) != 0 {
		t.Errorf("round-robin reported as moves: %v", m)
	}
	var grouped []string
	for _, m := range GroupMoves(apex.Moves) {
		grouped = append(grouped, m.String())
	}
	wantGrouped := []string{
		"NS ns-1021.awsdns-63.net, ns-1660.awsdns-15.co.uk -> lara.ns.cloudflare.com, tom.ns.cloudflare.com",
		"MX 1 aspmx.l.google.com, 5 alt1.aspmx.l.google.com -> 0 acme-example.mail.protection.outlook.com",
		"TXT v=spf1 include:_spf.google.com ~all -> v=spf1 ip4:203.0.113.0/24 include:spf.protection.outlook.com include:_spf.acme.example -all",
	}
	if diff := cmp.Diff(wantGrouped, grouped); diff != "" {
		t.Errorf("grouped apex moves (-want +got):\n%s", diff)
	}
	if !strings.Contains(apex.Records[0].Type, "MX") {
		t.Errorf("records not sorted by type: %v", apex.Records[0])
	}
}

func TestASNTable(t *testing.T) {
	tsv := "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n" +
		"198.51.100.0\t198.51.100.255\t64501\tZZ\tOTHER-AS\n" +
		"203.0.113.0\t203.0.113.127\t64500\tZZ\tEXAMPLE-ORG Example Hosting\n" +
		"203.0.113.128\t203.0.113.255\t0\tNone\tNot routed\n" +
		"2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t64502\tZZ\tV6-EXAMPLE\n"
	table, err := ReadASNTable(strings.NewReader(tsv))
	if err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]string{
		"203.0.113.10":   "AS64500 EXAMPLE-ORG Example Hosting",
		"198.51.100.7":   "AS64501 OTHER-AS",
		"203.0.113.200":  "",
		"192.0.2.1":      "",
		"2001:db8:10::1": "AS64502 V6-EXAMPLE",
		"::ffff:1.0.0.9": "AS13335 CLOUDFLARENET",
	} {
		e, ok := table.Lookup(mustAddr(t, ip))
		got := ""
		if ok {
			got = e.String()
		}
		if got != want {
			t.Errorf("Lookup(%s) = %q, want %q", ip, got, want)
		}
	}
	// Through Derive, from a gzip file.
	path := filepath.Join(t.TempDir(), "ip2asn-combined.tsv.gz")
	writeGzip(t, path, tsv)
	facts := Derive(loadFindings(t, "findings.json"), Options{ASNTable: path})
	if !hasFact(facts, "203.0.113.10", "asn", "AS64500 EXAMPLE-ORG Example Hosting") {
		t.Error("no asn fact from the gzip table")
	}
	if _, err := ReadASNTable(strings.NewReader("garbage line\n")); err == nil {
		t.Error("a malformed table must be an error")
	}
}
