package analysis

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/schema"
)

func TestScopeMakesMailServersSelfHosted(t *testing.T) {
	f := schema.NewFinding("acme.example", "MX", "10 mx.acme-corp.example")
	f.Current = true
	if facts := Derive([]schema.Finding{f}, Options{}); !hasFact(facts, "acme.example", "mail_provider", "other") {
		t.Errorf("without scope: %v", facts)
	}
	if facts := Derive([]schema.Finding{f}, Options{Scope: []string{"acme.example", "acme-corp.example"}}); !hasFact(facts, "acme.example", "mail_provider", "self-hosted") {
		t.Errorf("with scope: %v", facts)
	}
}

// syntheticFindings makes n findings shaped like a large engagement:
// names with an IP move, TXT records, and IPs shared by many names.
func syntheticFindings(n int) []schema.Finding {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []schema.Finding
	for i := 0; len(out) < n; i++ {
		name := fmt.Sprintf("host%d.org%d.example", i, i%5000)
		old := schema.Finding{Name: name, Type: "A", Value: fmt.Sprintf("198.51.%d.%d", i%256, i%200), FirstSeen: base, LastSeen: base.AddDate(1, 0, 0)}
		cur := schema.Finding{Name: name, Type: "A", Value: fmt.Sprintf("203.0.%d.%d", i%256, i%100), FirstSeen: base.AddDate(1, 0, 1), LastSeen: base.AddDate(4, 0, 0), Current: true}
		txt := schema.Finding{Name: name, Type: "TXT", Value: "google-site-verification=abc" + fmt.Sprint(i), FirstSeen: base, LastSeen: base.AddDate(4, 0, 0), Current: true}
		spf := schema.Finding{Name: name, Type: "TXT", Value: "v=spf1 include:_spf.google.com ip4:192.0.2.0/24 ~all", FirstSeen: base, LastSeen: base.AddDate(4, 0, 0), Current: true}
		out = append(out, old, cur, txt, spf)
	}
	return out[:n]
}

func BenchmarkDerive100k(b *testing.B) {
	fs := syntheticFindings(100_000)
	b.ReportAllocs()
	for b.Loop() {
		Derive(fs, Options{})
	}
}

func FuzzReadASNTable(f *testing.F) {
	f.Add("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n")
	f.Add("16777216\t16777471\t13335\tUS\tCLOUDFLARENET\n")
	f.Add("2001:db8::\t2001:db8::ffff\t64500\tZZ\tX\n# comment\n\n")
	f.Add("1.0.0.9\t1.0.0.1\t1\tZZ\tbackwards\n")
	f.Fuzz(func(t *testing.T, s string) {
		table, err := ReadASNTable(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, e := range table.entries {
			if e.End.Less(e.Start) || e.ASN == 0 {
				t.Fatalf("bad entry kept: %+v", e)
			}
			if got, ok := table.Lookup(e.Start); !ok || got.Start.Less(e.Start) && got.End.Less(e.Start) {
				t.Fatalf("lookup of a range start %v: %+v %v", e.Start, got, ok)
			}
		}
	})
}

func TestDeriveVerifiesWithInstances(t *testing.T) {
	old := schema.NewFinding("www.acme.example", "A", "198.51.100.7")
	now := schema.NewFinding("www.acme.example", "A", "203.0.113.10")
	in := schema.InstanceResult{
		Query:      schema.Query{Provider: "dns", Op: schema.OpResolve, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "www.acme.example"}, RRTypes: []string{"A"}},
		Status:     schema.StatusOK,
		FindingIDs: []string{now.ID()},
	}
	now.Sources = []string{"dns", "file.sonar"}
	facts := Derive([]schema.Finding{old, now}, Options{Instances: []schema.InstanceResult{in}})
	if !hasFact(facts, old.ID(), KindStillResolves, "no") || !hasFact(facts, now.ID(), KindStillResolves, "yes") {
		t.Errorf("verification facts missing: %v", facts)
	}
	if facts := Derive([]schema.Finding{old, now}, Options{}); hasFact(facts, old.ID(), KindStillResolves, "no") {
		t.Error("verification without instances")
	}
}

func TestOnlyTheLatestMoveIsAFact(t *testing.T) {
	y := func(year int) time.Time { return time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC) }
	fs := []schema.Finding{
		{Name: "cdn.acme.example", Type: "A", Value: "192.0.2.1", FirstSeen: y(2020), LastSeen: y(2021)},
		{Name: "cdn.acme.example", Type: "A", Value: "192.0.2.2", FirstSeen: y(2021).AddDate(0, 0, 1), LastSeen: y(2022)},
		{Name: "cdn.acme.example", Type: "A", Value: "192.0.2.3", FirstSeen: y(2022).AddDate(0, 0, 1), LastSeen: y(2025), Current: true},
	}
	var moved []string
	for _, f := range Derive(fs, Options{}) {
		if f.Kind == "moved" {
			moved = append(moved, f.Value)
		}
	}
	if len(moved) != 1 || moved[0] != "A 192.0.2.2 -> 192.0.2.3" {
		t.Errorf("moved facts %q, want only the latest", moved)
	}
	if n := len(Timeline(fs)[0].Moves); n != 2 {
		t.Errorf("timeline has %d moves, want both", n)
	}
}
