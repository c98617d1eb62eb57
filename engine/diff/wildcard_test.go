package diff

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// A state written by 0.1 holds wildcard records merged into their parent
// (*.acme.example A 198.51.100.7 stored as acme.example A 198.51.100.7):
// what was merged cannot be told apart any more. It loads as it is, and
// the first run that reports the wildcard under its true name shows that
// once: the wildcard's records added under *.acme.example, the parent's
// copies of them removed (no source reports them any more). Nothing else
// drifts: the parent's own records are reported again as they were.
func TestUpgradeShowsWildcardOnce(t *testing.T) {
	const old = `{
  "config_hash": "cfg",
  "engagement": "acme",
  "findings": [
    {"currency": "current", "first_seen": "2026-01-01T00:00:00Z", "last_seen": "2026-10-01T00:00:00Z", "instances": ["dnsdb resolutions acme.example"],
     "name": "acme.example", "sources": ["dnsdb"], "type": "A", "value": "192.0.2.1", "count": 9},
    {"currency": "current", "first_seen": "2026-01-01T00:00:00Z", "last_seen": "2026-10-01T00:00:00Z", "instances": ["dnsdb subdomains acme.example"],
     "name": "acme.example", "sources": ["dnsdb"], "type": "A", "value": "198.51.100.7", "count": 4},
    {"currency": "current", "first_seen": "2026-01-01T00:00:00Z", "last_seen": "2026-10-01T00:00:00Z", "instances": ["dnsdb subdomains acme.example"],
     "name": "www.acme.example", "sources": ["dnsdb"], "type": "A", "value": "192.0.2.1", "count": 2}
  ],
  "format_version": 1,
  "lineage": "l1",
  "serial": 3
}`
	prev, err := state.Decode(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	prev.Facts = analysis.Derive(prev.SchemaFindings(), analysis.Options{Scope: []string{"acme.example"}}) // as 0.1 derived them
	at := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	subdomains := schema.Query{Provider: "dnsdb", Op: schema.OpSubdomains, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "acme.example"}}
	resolutions := schema.Query{Provider: "dnsdb", Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "acme.example"}}
	found := func(q schema.Query, name, value string, count int64) schema.Finding {
		f := schema.NewFinding(name, "A", value)
		f.FirstSeen, f.LastSeen, f.Count = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), at.Add(-time.Hour), count
		f.Sources, f.Query = []string{"dnsdb"}, q.Key()
		return f
	}
	run := &schema.RunResult{Engagement: "acme", ConfigHash: "cfg", StartedAt: at.Add(-time.Minute), FinishedAt: at}
	for _, q := range []struct {
		q  schema.Query
		fs []schema.Finding
	}{
		{resolutions, []schema.Finding{found(resolutions, "acme.example", "192.0.2.1", 9)}},
		{subdomains, []schema.Finding{found(subdomains, "*.acme.example.", "198.51.100.7", 4), found(subdomains, "www.acme.example", "192.0.2.1", 2)}},
	} {
		in := schema.InstanceResult{Query: q.q, Key: q.q.Key(), Status: schema.StatusOK, Requests: 1}
		for _, f := range q.fs {
			in.FindingIDs = append(in.FindingIDs, f.ID())
		}
		run.Instances = append(run.Instances, in)
		run.Findings = append(run.Findings, q.fs...)
	}
	next := state.Merge(prev, run, state.MergeOptions{Scope: []string{"acme.example"}})
	r := Compare(prev, next, nil)
	ids := func(fs []*state.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID())
		}
		return out
	}
	var changed []string
	for _, c := range r.Changed {
		changed = append(changed, c.Name+" "+c.Type+" "+c.OldHow+" "+c.NewHow)
	}
	got := map[string][]string{"added": ids(r.Added), "removed": ids(r.Removed), "changed": changed,
		"became current": ids(r.BecameCurrent), "went historical": ids(r.WentHistorical), "unverified": ids(r.Unverified)}
	want := map[string][]string{"added": {"*.acme.example A 198.51.100.7"}, "removed": {"acme.example A 198.51.100.7"}}
	for k, v := range got {
		if len(v) == 0 {
			delete(got, k)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("drift (-want +got):\n%s", d)
	}
	for _, fc := range r.FactsChanged {
		t.Errorf("fact changed: %+v", fc)
	}
	for _, f := range append(r.FactsAdded, r.FactsRemoved...) {
		if f.Subject != "198.51.100.7" && f.Subject != "198.51.100.0/24" {
			t.Errorf("fact drift beyond the wildcard's address: %v", f)
		}
	}
	// The run after shows nothing.
	again := state.Merge(next, run, state.MergeOptions{Scope: []string{"acme.example"}})
	if r := Compare(next, again, nil); r.HasDrift() {
		t.Errorf("second run drifts: added %v removed %v facts %v %v %v", ids(r.Added), ids(r.Removed), r.FactsAdded, r.FactsRemoved, r.FactsChanged)
	}
}
