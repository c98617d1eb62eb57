package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/internal/scripted"
	"github.com/reconform/reconform/schema"
)

// A damaged vendor body can carry names with control bytes or invalid
// UTF-8: those records are dropped with one warning for the instance, and
// the instance's good records are kept.
func TestApplyDropsUnprintableNames(t *testing.T) {
	w := testWorld()
	w.Add(
		scripted.Rec("bad\x1b[2J.acme.example", "A", "203.0.113.10", day(-5), day(-1)),
		scripted.Rec("\ufffd(.acme.example", "A", "203.0.113.10", day(-5), day(-1)),
		scripted.Rec("nul\x00.acme.example", "A", "203.0.113.10", day(-5), day(-1)),
	)
	f := newFixture(t, w)
	f.query("rev", []string{"pdns"}, schema.OpReverseIP, `["203.0.113.10"]`)
	r := f.apply(f.options())
	for _, fd := range r.Findings {
		if schema.CheckRecord(fd) != "" {
			t.Errorf("kept %q", fd.Name)
		}
	}
	if !slices.Contains(findingIDs(r), "www.acme.example A 203.0.113.10") {
		t.Errorf("good record lost: %v", findingIDs(r))
	}
	n := 0
	for _, msg := range r.Warnings {
		if strings.Contains(msg, "dropped 3 records") && !strings.ContainsAny(msg, "\x1b\x00") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("warnings %q, want one about 3 dropped records", r.Warnings)
	}
}

// Values no record can have are dropped where every provider's findings
// pass, with one warning naming the provider; impossible times are
// cleared (the record stays). A last_seen in 9999 must not keep a record
// current for ever.
func TestApplyRejectsImpossibleRecords(t *testing.T) {
	w := testWorld()
	long := strings.Repeat("h", 10000) + ".acme.example"
	w.Add(
		schema.Finding{Name: "a.acme.example", Type: "A", Value: "999.1.1.1"},
		schema.Finding{Name: "b.acme.example", Type: "A", Value: "1.2.3.4/32"},
		schema.Finding{Name: "c.acme.example", Type: "A", Value: "1.2.3.7%eth0"},
		schema.Finding{Name: "acme.example", Type: "MX", Value: "-5 mx1.acme.example"},
		schema.Finding{Name: "acme.example", Type: "MX", Value: "99999999999 mx2.acme.example"},
		schema.Finding{Name: long, Type: "A", Value: "203.0.113.10"},
		schema.Finding{Name: "future.acme.example", Type: "A", Value: "203.0.113.10", FirstSeen: day(-5), LastSeen: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		schema.Finding{Name: "swapped.acme.example", Type: "A", Value: "203.0.113.10", FirstSeen: day(-1), LastSeen: day(-400)},
	)
	f := newFixture(t, w)
	f.query("rev", []string{"pdns"}, schema.OpReverseIP, `["203.0.113.10", "999.1.1.1"]`)
	f.query("res", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	r := f.apply(f.options())
	ids := findingIDs(r)
	for _, id := range ids {
		if strings.Contains(id, "999") || strings.Contains(id, "/32") || strings.Contains(id, "%") || strings.Contains(id, "-5") || len(id) > 300 {
			t.Errorf("kept %.80q", id)
		}
	}
	for _, fd := range r.Findings {
		switch fd.Name {
		case "future.acme.example":
			if !fd.LastSeen.IsZero() || !fd.FirstSeen.Equal(day(-5)) {
				t.Errorf("future.acme.example window %s..%s", fd.FirstSeen, fd.LastSeen)
			}
		case "swapped.acme.example":
			if !fd.FirstSeen.IsZero() || !fd.LastSeen.IsZero() {
				t.Errorf("swapped.acme.example window %s..%s", fd.FirstSeen, fd.LastSeen)
			}
		}
	}
	if !slices.Contains(ids, "www.acme.example A 203.0.113.10") || !slices.Contains(ids, "future.acme.example A 203.0.113.10") {
		t.Errorf("good records lost: %v", ids)
	}
	warnings := strings.Join(r.Warnings, "\n")
	for _, want := range []string{"pdns: dropped", "not an IPv4 address", "MX preference", "pdns: cleared impossible times of 2 records", "in the future"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings do not say %q:\n%s", want, warnings)
		}
	}
	if len(warnings) > 4000 {
		t.Errorf("warnings are %d bytes long", len(warnings))
	}
}

// Fan-out is bounded like a budget: findings beyond max_findings_per_query
// of one instance, or beyond max_findings of the run, are dropped with a
// warning, the run goes on, and the instance is marked truncated (so the
// state keeps what it did not report as unverified, never removed).
func TestApplyCapsFindings(t *testing.T) {
	w := testWorld()
	for i := range 10 {
		w.Add(scripted.Rec(fmt.Sprintf("h%d.acme.example", i), "A", "203.0.113.50", day(-5), day(-1)))
		w.Add(scripted.Rec(fmt.Sprintf("g%d.acme.example", i), "A", "203.0.113.60", day(-5), day(-1)))
	}
	f := newFixture(t, w)
	f.cfg.Engagement.MaxFindingsPerQuery = 4
	f.cfg.Engagement.MaxFindings = 6
	f.query("rev", []string{"pdns"}, schema.OpReverseIP, `["203.0.113.50"]`)
	f.query("more", []string{"pdns"}, schema.OpReverseIP, `["203.0.113.60"]`)
	plan := f.plan()
	if plan.MaxFindings != 6 || plan.MaxFindingsPerQuery != 4 {
		t.Errorf("plan limits %d/%d", plan.MaxFindings, plan.MaxFindingsPerQuery)
	}
	r, err := Apply(context.Background(), f.cfg, plan, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 6 {
		t.Errorf("%d findings kept, want 6: %v", len(r.Findings), findingIDs(r))
	}
	// Which of the two runs first is up to the walk: one keeps 4 (its own
	// bound), the other the 2 the run has room for.
	var reasons []string
	kept := 0
	for _, in := range r.Instances {
		if in.Status != schema.StatusOK || !in.Truncated {
			t.Errorf("%s: %s, truncated %v", in.Key, in.Status, in.Truncated)
		}
		kept += in.Findings
		reasons = append(reasons, fmt.Sprintf("%d: %s", in.Findings, in.Reason))
	}
	slices.Sort(reasons)
	if want := []string{"2: 8 findings dropped (max_findings = 6 reached)", "4: kept 4 of 10 findings (max_findings_per_query = 4)"}; !slices.Equal(reasons, want) || kept != 6 {
		t.Errorf("reasons %q, want %q", reasons, want)
	}
	warnings := strings.Join(r.Warnings, "\n")
	for _, want := range []string{"kept 4 of 10 findings (max_findings_per_query = 4)", "max_findings = 6 reached"} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings do not say %q:\n%s", want, warnings)
		}
	}
}
