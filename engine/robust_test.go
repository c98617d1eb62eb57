package engine

import (
	"slices"
	"strings"
	"testing"

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
		if !displayableRecord(fd) {
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
