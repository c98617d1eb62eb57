package engine

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

var cmpIgnoreFromFile = cmpopts.IgnoreFields(Plan{}, "FromFile")

func keys(ins []Instance) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Key)
	}
	return out
}

func TestPlanSeedsDedupeAndDrops(t *testing.T) {
	f := newFixture(t, nil)
	f.target(schema.SubjectDomain, "apex", "acme.example")
	f.query("history", []string{"pdns", "pdns.two"}, schema.OpResolutions, `[target.domain.apex, "www.acme.example"]`)
	f.query("again", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.query("live", []string{"pdns"}, schema.OpResolve, `["www.acme.example"]`)
	p := f.plan()

	want := []string{
		"pdns resolutions acme.example",
		"pdns resolutions www.acme.example",
		"pdns.two resolutions acme.example",
		"pdns.two resolutions www.acme.example",
	}
	if diff := cmp.Diff(want, keys(p.Instances)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	wantDrop := []Dropped{{
		Block: "query.live", Provider: "pdns", Op: schema.OpResolve,
		Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "www.acme.example"},
		Reason:  "resolve is active (it touches the target) and the engagement is passive_only",
	}}
	if diff := cmp.Diff(wantDrop, p.Dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
	if p.ConfigHash != "hash-1" || p.ActiveCount() != 0 {
		t.Errorf("hash %q active %d", p.ConfigHash, p.ActiveCount())
	}
	var reqs []int
	for _, pp := range p.Providers {
		reqs = append(reqs, pp.Requests)
	}
	if diff := cmp.Diff([]int{2, 2}, reqs); diff != "" {
		t.Errorf("requests per provider (-want +got):\n%s", diff)
	}
}

func TestPlanActiveOutOfScope(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.Engagement.PassiveOnly = false
	f.query("live", []string{"pdns"}, schema.OpResolve, `["www.acme.example", "shop.other.example"]`)
	p := f.plan()
	if diff := cmp.Diff([]string{"pdns resolve www.acme.example"}, keys(p.Instances)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if !p.Instances[0].Active || p.ActiveCount() != 1 {
		t.Error("active instance not marked")
	}
	// The refusal names the subject and the rule, and reads as a refusal.
	want := "refused: shop.other.example is out of scope (not under any scope domain); active lookups only run on in-scope subjects"
	if len(p.Dropped) != 1 || p.Dropped[0].Reason != want || !IsRefused(p.Dropped[0].Reason) {
		t.Errorf("dropped %+v, want one with reason %q", p.Dropped, want)
	}
}

func TestPlanPredictsKnownAfterApply(t *testing.T) {
	f := newFixture(t, nil)
	f.query("history", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.query("neighbours", []string{"pdns"}, schema.OpReverseIP, `[for x in query.history.findings : x.value if x.type == "A"]`, "query.history")
	f.pivot("expand", []string{"query.history"}, `finding.type == "A"`, []string{"pdns.two"}, schema.OpReverseIP, `finding.value`, 1)

	// Without a previous state: known after apply, nothing predicted.
	p := f.plan()
	if len(p.Predictions) != 0 || len(p.Instances) != 1 {
		t.Fatalf("plan without previous: %v / %v", keys(p.Instances), keys(p.Predictions))
	}
	for _, b := range p.Blocks {
		if b.Address != "query.history" && !b.KnownAfterApply {
			t.Errorf("%s not known after apply", b.Address)
		}
	}

	prev := map[string][]schema.Finding{"query.history": {
		schema.NewFinding("acme.example", "A", "203.0.113.10"),
		schema.NewFinding("acme.example", "A", "198.51.100.7"),
		schema.NewFinding("acme.example", "MX", "10 mx.acme.example"),
	}}
	p, diags := MakePlan(context.Background(), f.cfg, PlanOptions{Registry: f.reg, Previous: prev, Now: t0})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff([]string{"pdns.two reverse_ip 203.0.113.10", "pdns reverse_ip 203.0.113.10"}, keys(p.Predictions)); diff != "" {
		t.Errorf("predictions (-want +got):\n%s", diff)
	}
	for _, in := range p.Predictions {
		if !in.Predicted {
			t.Errorf("%s not flagged as a prediction", in.Key)
		}
	}
	var drops []string
	for _, d := range p.Dropped {
		drops = append(drops, d.Block+" "+d.Subject.Value+": "+d.Reason)
		if !d.Predicted {
			t.Errorf("drop %+v not flagged as predicted", d)
		}
	}
	wantDrops := []string{
		"pivot.expand 198.51.100.7: out of scope: not inside any scope CIDR",
		"query.neighbours 198.51.100.7: out of scope: not inside any scope CIDR",
	}
	if diff := cmp.Diff(wantDrops, drops); diff != "" {
		t.Errorf("drops (-want +got):\n%s", diff)
	}
}

func TestPlanBudgetWarning(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.Providers["pdns"].Budget = 1
	f.cfg.Providers["pdns"].Rate = schema.Rate{Count: 1, Per: 60e9}
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example", "a.acme.example"]`)
	p := f.plan()
	var pp ProviderPlan
	for _, x := range p.Providers {
		if x.Address == "pdns" {
			pp = x
		}
	}
	if !pp.OverBudget || pp.Requests != 3 {
		t.Errorf("provider plan %+v", pp)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "budget is 1") {
		t.Errorf("warnings %q", p.Warnings)
	}
}

func TestPlanCountsMultiRequestQueries(t *testing.T) {
	f := newFixture(t, nil)
	reg := f.reg["pdns"]
	reg.MinRequests = func(q schema.Query) int { return 1 + len(q.RRTypes) }
	f.reg["pdns"] = reg
	f.cfg.Providers["pdns"].Budget = 5
	q := f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	q.RRTypes = []string{"A", "AAAA", "MX", "NS", "SOA", "TXT"}
	for _, pp := range f.plan().Providers {
		if pp.Address == "pdns" && (pp.Requests != 7 || !pp.OverBudget) {
			t.Errorf("a query needing 7 requests against a budget of 5: %+v", pp)
		}
	}
}

func TestGraphPivotGroupIsNotACycle(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.pivot("ips", []string{"query.seed", "pivot.names"}, "", []string{"pdns"}, schema.OpReverseIP, `finding.value`, 0)
	f.pivot("names", []string{"pivot.ips"}, "", []string{"pdns"}, schema.OpResolutions, `finding.name`, 0)
	g, diags := BuildGraph(f.cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diff := cmp.Diff([]string{"query.seed", "pivot.ips", "pivot.names"}, g.Nodes); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"pivot.ips", "pivot.names"}, g.Groups["pivot.names"]); diff != "" {
		t.Errorf("group (-want +got):\n%s", diff)
	}
}

func TestGraphCycleIsDiagnostic(t *testing.T) {
	f := newFixture(t, nil)
	f.query("a", []string{"pdns"}, schema.OpReverseIP, `[for x in pivot.b.findings : x.value]`, "pivot.b")
	f.pivot("b", []string{"query.a"}, "", []string{"pdns"}, schema.OpResolutions, `finding.name`, 0)
	_, diags := MakePlan(context.Background(), f.cfg, PlanOptions{Registry: f.reg})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "pivot.b -> query.a -> pivot.b") && !strings.Contains(diags.Error(), "query.a -> pivot.b -> query.a") {
		t.Errorf("diags = %v", diags)
	}
}

func TestGraphDOT(t *testing.T) {
	f := newFixture(t, nil)
	f.query("history", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.query("neighbours", []string{"pdns"}, schema.OpReverseIP, `[for x in query.history.findings : x.value]`, "query.history")
	f.pivot("expand", []string{"query.history", "pivot.expand"}, "", []string{"pdns.two"}, schema.OpReverseIP, `finding.value`, 0)
	g, diags := BuildGraph(f.cfg)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := `digraph reconform {
  rankdir = "LR";
  node [fontname = "sans-serif"];
  "query.history" [label = "query.history\npdns: resolutions", shape = box];
  "pivot.expand" [label = "pivot.expand\npdns.two: reverse_ip", shape = ellipse];
  "query.neighbours" [label = "query.neighbours\npdns: reverse_ip", shape = box];
  "query.history" -> "pivot.expand";
  "pivot.expand" -> "pivot.expand" [style = dashed];
  "query.history" -> "query.neighbours";
}
`
	if diff := cmp.Diff(want, g.DOT(f.cfg)); diff != "" {
		t.Errorf("DOT (-want +got):\n%s", diff)
	}
}

func TestReadPlanRejects(t *testing.T) {
	for name, src := range map[string]string{
		"not json":       "hello",
		"no version":     `{"config_hash":"x"}`,
		"future version": `{"format_version": 99, "config_hash":"x"}`,
		"no hash":        `{"format_version": 2, "id": "p1"}`,
		"no id":          `{"format_version": 2, "config_hash":"x"}`,
		"old version":    `{"format_version": 1, "config_hash":"x"}`,
		"bad target":     `{"format_version": 2, "id": "p1", "config_hash":"x", "targets": ["query."]}`,
		"bad key":        `{"format_version": 2, "id": "p1", "config_hash":"x", "instances":[{"key":"evil","query":{"provider":"p","op":"resolutions","subject":{"kind":"domain","value":"a.example"}}}]}`,
		"bad cidr":       `{"format_version": 2, "id": "p1", "config_hash":"x", "scope":{"cidrs":["nope"]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadPlan(strings.NewReader(src)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestPlanHasNoSecrets(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.Providers["pdns"].Attrs = map[string]cty.Value{"api_key": cty.StringVal("SECRET-KEY-123")}
	f.cfg.Providers["pdns"].Sensitive = map[string]bool{"api_key": true}
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	var buf bytes.Buffer
	if err := WritePlan(&buf, f.plan()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "SECRET-KEY-123") {
		t.Error("plan contains the API key")
	}
	r := f.apply(f.options())
	_ = r
}

func FuzzReadPlan(f *testing.F) {
	f.Add([]byte(`{"format_version": 2, "id": "p1", "config_hash":"x"}`))
	f.Add([]byte(`{"format_version": 2, "id": "p1", "config_hash":"x", "instances":[{"key":"p resolutions a.example","query":{"provider":"p","op":"resolutions","subject":{"kind":"domain","value":"a.example"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPlan(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WritePlan(&buf, p); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPlan(&buf); err != nil {
			t.Fatalf("re-reading a written plan: %v", err)
		}
	})
}

// An edited plan file that nests deeply is refused as damaged, before a
// JSON reader recurses into it; a deep variable expression in it is
// refused by the loader like any other.
func TestReadPlanRefusesDeepNesting(t *testing.T) {
	deep := `{"format_version": 1, "config_hash": "x", "scope": ` + strings.Repeat(`{"a":`, 9000) + `1` + strings.Repeat(`}`, 9000) + `}`
	_, err := ReadPlan(strings.NewReader(deep))
	if err == nil || !strings.Contains(err.Error(), "nests more than") {
		t.Fatalf("err = %v", err)
	}
}
