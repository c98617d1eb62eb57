package state

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/schema"
)

// A state written by 0.1 holds MX values with their preference. Read now,
// they are the exchange host, as providers report them today: one finding
// per record (two that turn out to be one are merged), evidence renamed,
// and a run reporting the record again finds it, not a new one.
func TestReadRenormalisesOldMXValues(t *testing.T) {
	const old = `{
  "config_hash": "h1",
  "engagement": "acme",
  "facts": [
    {"evidence": ["acme.example MX 10 MX1.acme.example", "acme.example MX mx1.acme.example"], "kind": "mail_provider", "subject": "acme.example", "value": "self-hosted"}
  ],
  "findings": [
    {"currency": "historical", "first_seen": "2020-01-01T00:00:00Z", "last_seen": "2021-01-01T00:00:00Z", "instances": ["dnsdb resolutions acme.example"],
     "name": "acme.example", "sources": ["dnsdb"], "type": "MX", "value": "10 MX1.acme.example", "count": 7,
     "unverified": "query failed: 500", "unverified_since": "2026-01-01T00:00:00Z"},
    {"currency": "current", "first_seen": "2022-01-01T00:00:00Z", "last_seen": "2026-01-01T00:00:00Z", "instances": ["securitytrails mx_reverse mx1.acme.example"],
     "name": "acme.example", "sources": ["securitytrails"], "type": "MX", "value": "mx1.acme.example"},
    {"currency": "current", "name": "acme.example", "sources": ["dns"], "type": "MX", "value": "20 mx2.acme.example"}
  ],
  "format_version": 1,
  "lineage": "l1",
  "serial": 3
}`
	s, err := Decode(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range s.Findings {
		got = append(got, f.ID()+" "+strings.Join(f.Sources, ",")+" "+string(f.Currency)+" unverified="+f.Unverified)
	}
	want := []string{
		"acme.example MX mx1.acme.example dnsdb,securitytrails current unverified=",
		"acme.example MX mx2.acme.example dns current unverified=",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	mx1 := s.Findings[0]
	if !mx1.FirstSeen.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || !mx1.LastSeen.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || mx1.Count != 7 || len(mx1.Instances) != 2 || !mx1.UnverifiedSince.IsZero() {
		t.Errorf("merged finding %+v", mx1)
	}
	if d := cmp.Diff([]string{"acme.example MX mx1.acme.example"}, s.Facts[0].Evidence); d != "" {
		t.Errorf("evidence (-want +got):\n%s", d)
	}

	// The next run reports the record as providers do now: no drift.
	run := &schema.RunResult{Engagement: "acme", FinishedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}
	f := schema.NewFinding("acme.example", "MX", "10 mx1.acme.example")
	f.Sources, f.Query = []string{"dnsdb"}, "dnsdb resolutions acme.example"
	run.Findings = []schema.Finding{f}
	run.Instances = []schema.InstanceResult{{Key: "dnsdb resolutions acme.example", Status: schema.StatusOK, FindingIDs: []string{f.ID()}}}
	next := Merge(s, run, MergeOptions{Derive: func([]schema.Finding, analysis.Options) []schema.Fact { return nil }})
	if len(next.Findings) != 2 || next.Findings[0].ID() != "acme.example MX mx1.acme.example" {
		t.Errorf("after a run: %v", next.Findings)
	}
}

// A previous finding that a truncated instance (its answer cut at
// max_findings_per_query) did not report is unverified, never removed.
func TestMergeTruncatedInstanceRemovesNothing(t *testing.T) {
	key := "pdns reverse_ip 203.0.113.50"
	kept := schema.NewFinding("h0.acme.example", "A", "203.0.113.50")
	cut := schema.NewFinding("h9.acme.example", "A", "203.0.113.50")
	prev := New("acme")
	for _, f := range []schema.Finding{kept, cut} {
		prev.Findings = append(prev.Findings, Finding{Finding: f, Instances: []string{key}, Currency: Current})
	}
	kept.Query = key
	run := &schema.RunResult{Engagement: "acme", FinishedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Findings:  []schema.Finding{kept},
		Instances: []schema.InstanceResult{{Key: key, Status: schema.StatusOK, Truncated: true, Reason: "kept 1 of 2 findings (max_findings_per_query = 1)", FindingIDs: []string{kept.ID()}}},
	}
	next := Merge(prev, run, MergeOptions{Derive: func([]schema.Finding, analysis.Options) []schema.Fact { return nil }})
	if len(next.Findings) != 2 {
		t.Fatalf("findings %v", next.Findings)
	}
	for _, f := range next.Findings {
		if f.Name == "h9.acme.example" && !strings.Contains(f.Unverified, "answer truncated: kept 1 of 2") {
			t.Errorf("h9: unverified %q", f.Unverified)
		}
	}
}

// SOA and SRV values an older build stored in a form normalising no
// longer keeps (fields split by control whitespace, escaped) are read in
// today's form.
func TestReadRenormalisesOldSOAAndSRV(t *testing.T) {
	const old = `{
  "engagement": "acme",
  "findings": [
    {"currency": "current", "name": "_sip._tcp.acme.example", "sources": ["dnsdb"], "type": "SRV", "value": "0000 000 00 A00000\\0120"},
    {"currency": "current", "name": "acme.example", "sources": ["dnsdb"], "type": "SOA", "value": "ns1.acme.example. h.acme.example. 1 2 3 4 5"}
  ],
  "format_version": 1,
  "lineage": "l1",
  "serial": 3
}`
	s, err := Decode(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Findings {
		if v := schema.NormalizeValue(f.Type, f.Value); v != f.Value {
			t.Errorf("%s read as %q, normal form %q", f.Type, f.Value, v)
		}
	}
}
