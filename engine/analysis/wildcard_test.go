package analysis

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

// Wildcard records are records of their own name: analysis treats
// *.acme.example like any other name under acme.example, and the apex
// keeps its own profile. Merged into the apex (as 0.1 did), the wildcard
// SPF record made the apex's SPF "several records", the wildcard's old
// address a move of the apex, and the apex's address hid the wildcard's
// dangling CNAME.
func TestWildcardRecordsAnalysed(t *testing.T) {
	findings := []schema.Finding{
		cur("acme.example", "A", "192.0.2.1"),
		rec("*.acme.example", "A", "198.51.100.7", false),
		cur("other.example", "A", "198.51.100.7"),
		cur("acme.example", "MX", "10 aspmx.l.google.com"),
		cur("acme.example", "TXT", "v=spf1 include:_spf.google.com -all"),
		cur("*.acme.example", "TXT", "v=spf1 -all"),
		cur("*.apps.acme.example", "CNAME", "acme-old.azurewebsites.net"),
		cur("apps.acme.example", "A", "192.0.2.1"),
	}
	facts := Derive(findings, Options{Scope: []string{"acme.example"}})
	for _, w := range []struct{ subject, kind, value string }{
		{"acme.example", "spf_all", "-all"},
		{"*.acme.example", "spf_all", "-all"},
		{"198.51.100.7", "shared_hosting", "2"},
		{"*.apps.acme.example", KindTakeoverCandidate, "azure"},
		{"acme.example", "mail_provider", "google-workspace"},
	} {
		if !hasFact(facts, w.subject, w.kind, w.value) {
			t.Errorf("missing fact (%s, %s, %s)", w.subject, w.kind, w.value)
		}
	}
	for _, f := range facts {
		if f.Subject == "acme.example" && (f.Kind == "spf_error" || f.Kind == "moved") {
			t.Errorf("apex fact from the wildcard's records: %v", f)
		}
	}
	var names []string
	for _, tl := range Timeline(findings) {
		names = append(names, tl.Name)
	}
	if diff := cmp.Diff([]string{"*.acme.example", "*.apps.acme.example", "acme.example", "apps.acme.example", "other.example"}, names); diff != "" {
		t.Errorf("timelines (-want +got):\n%s", diff)
	}
	for in, want := range map[string]string{"*.acme.example": "acme.example", "*.a.b.acme.example": "acme.example", "*.co.uk": "co.uk"} {
		if got := RegisteredDomain(in); got != want {
			t.Errorf("RegisteredDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
