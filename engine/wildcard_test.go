package engine

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/internal/scripted"
	"github.com/reconform/reconform/schema"
)

// A wildcard record's name is no subject to query: a pivot or dependent
// query that would ask about *.acme.example is skipped with a reason
// saying so, and its records, which came with the answer that listed the
// name, stay findings of their own name (not of the apex).
func TestWildcardNameIsNoSubject(t *testing.T) {
	world := testWorld()
	world.Add(scripted.Rec("*.acme.example", "A", "203.0.113.50", day(-30), day(-1)))
	f := newFixture(t, world)
	f.query("subs", []string{"pdns"}, schema.OpSubdomains, `["acme.example"]`)
	f.pivot("resolve", []string{"query.subs"}, `finding.type == "HOST"`, []string{"pdns"}, schema.OpResolutions, `finding.name`, 1)
	f.query("rev", []string{"pdns"}, schema.OpReverseIP, `["203.0.113.50"]`)
	f.query("again", []string{"pdns"}, schema.OpResolutions, `[for x in query.rev.findings : x.name]`, "query.rev")
	r := f.apply(f.options())
	st := statuses(r)
	want := "skipped: " + WildcardReason("*.acme.example")
	for _, key := range []string{"pdns resolutions *.acme.example"} {
		if st[key] != want {
			t.Errorf("%s: %q, want %q", key, st[key], want)
		}
	}
	if n := world.Calls(schema.OpResolutions, "*.acme.example"); n != 0 {
		t.Errorf("the wildcard name was asked about %d times", n)
	}
	if st["pdns resolutions www.acme.example"] != "ok" {
		t.Errorf("www: %q", st["pdns resolutions www.acme.example"])
	}
	ids := findingIDs(r)
	if !contains(ids, "*.acme.example A 203.0.113.50") || contains(ids, "acme.example A 203.0.113.50") {
		t.Errorf("findings %v", ids)
	}
}

// A wildcard subject written in a query block is dropped at plan time,
// with the same reason, and never reaches a provider.
func TestWildcardSubjectDroppedAtPlan(t *testing.T) {
	f := newFixture(t, nil)
	f.query("q", []string{"pdns"}, schema.OpResolutions, `["*.acme.example", "www.acme.example"]`)
	p := f.plan()
	var reasons []string
	for _, d := range p.Dropped {
		reasons = append(reasons, d.Subject.Value+": "+d.Reason)
	}
	if diff := cmp.Diff([]string{"*.acme.example: " + WildcardReason("*.acme.example")}, reasons); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	r := f.apply(f.options())
	if got := statuses(r)["pdns resolutions *.acme.example"]; got != "skipped: "+WildcardReason("*.acme.example") {
		t.Errorf("status %q", got)
	}
}
