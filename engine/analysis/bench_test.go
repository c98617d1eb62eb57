package analysis

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

func TestSetReplacementMovesToEveryNewValue(t *testing.T) {
	at := func(m, d, h int) time.Time { return time.Date(2024, time.Month(m), d, h, 0, 0, 0, time.UTC) }
	now := at(11, 1, 0)
	ns := func(v string, first, last time.Time, current bool) schema.Finding {
		return schema.Finding{Name: "contoso.example", Type: "NS", Value: v, FirstSeen: first, LastSeen: last, Current: current}
	}
	tests := map[string]struct {
		findings []schema.Finding
		want     []string // grouped moves
		fact     string
	}{
		"two by two, seen hours apart": {
			findings: []schema.Finding{
				ns("ns11.domaincontrol.com", at(1, 1, 0), at(2, 1, 0), false),
				ns("ns12.domaincontrol.com", at(1, 1, 0), at(2, 1, 0), false),
				ns("kim.ns.cloudflare.com", at(2, 1, 3), now, true),
				ns("lou.ns.cloudflare.com", at(2, 1, 9), now, true),
			},
			want: []string{"NS ns11.domaincontrol.com, ns12.domaincontrol.com -> kim.ns.cloudflare.com, lou.ns.cloudflare.com"},
			fact: "NS ns11.domaincontrol.com, ns12.domaincontrol.com -> kim.ns.cloudflare.com, lou.ns.cloudflare.com",
		},
		"one by two": {
			findings: []schema.Finding{
				ns("ns1.contoso.example", at(1, 1, 0), at(2, 1, 0), false),
				ns("a.ns1.example", at(2, 1, 0), now, true),
				ns("b.ns1.example", at(2, 1, 0), now, true),
			},
			want: []string{"NS ns1.contoso.example -> a.ns1.example, b.ns1.example"},
			fact: "NS ns1.contoso.example -> a.ns1.example, b.ns1.example",
		},
		"a value added months later is not part of the move": {
			findings: []schema.Finding{
				ns("ns1.contoso.example", at(1, 1, 0), at(2, 1, 0), false),
				ns("a.ns1.example", at(2, 1, 0), now, true),
				ns("c.ns1.example", at(6, 1, 0), now, true),
			},
			want: []string{"NS ns1.contoso.example -> a.ns1.example"},
			fact: "NS ns1.contoso.example -> a.ns1.example",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, m := range GroupMoves(Timeline(tc.findings)[0].Moves) {
				got = append(got, m.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("grouped moves (-want +got):\n%s", diff)
			}
			if !hasFact(Derive(tc.findings, Options{}), "contoso.example", "moved", tc.fact) {
				t.Errorf("no moved fact %q", tc.fact)
			}
		})
	}
}

func TestPoolReplacementStaysBounded(t *testing.T) {
	old, now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var fs []schema.Finding
	for i := 0; i < 500; i++ {
		fs = append(fs,
			schema.Finding{Name: "cdn.example", Type: "A", Value: fmt.Sprintf("198.51.%d.%d", i/250, i%250), FirstSeen: old, LastSeen: old.AddDate(0, 6, 0)},
			schema.Finding{Name: "cdn.example", Type: "A", Value: fmt.Sprintf("203.0.%d.%d", i/250, i%250), FirstSeen: old.AddDate(0, 6, 0), LastSeen: now, Current: true})
	}
	moves := Timeline(fs)[0].Moves
	if len(moves) != 500*maxMoveTargets {
		t.Errorf("%d moves, want %d", len(moves), 500*maxMoveTargets)
	}
	if g := GroupMoves(moves); len(g) != 1 {
		t.Errorf("%d grouped moves, want one replacement", len(g))
	}
}
