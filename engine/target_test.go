package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

// -target keeps the blocks selected and, transitively, those whose
// findings they read; apply of such a plan runs only those.
func TestPlanTargetRestrictsTheGraph(t *testing.T) {
	f := newFixture(t, nil)
	f.query("history", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.query("neighbours", []string{"pdns"}, schema.OpReverseIP, `[for x in query.history.findings : x.value if x.type == "A"]`, "query.history")
	f.query("other", []string{"pdns"}, schema.OpResolutions, `["www.acme.example"]`)
	target, err := schema.ParseTargetAddr("query.neighbours")
	if err != nil {
		t.Fatal(err)
	}
	p, diags := MakePlan(context.Background(), f.cfg, PlanOptions{Registry: f.reg, Now: t0, Targets: []schema.TargetAddr{target}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var blocks []string
	for _, b := range p.Blocks {
		blocks = append(blocks, b.Address)
	}
	if diff := cmp.Diff([]string{"query.history", "query.neighbours"}, blocks); diff != "" || !cmp.Equal(p.Targets, []string{"query.neighbours"}) {
		t.Errorf("blocks (-want +got):\n%s targets %v", diff, p.Targets)
	}
	r, err := Apply(context.Background(), f.cfg, p, f.options())
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range r.Instances {
		if in.Block == "query.other" {
			t.Errorf("an untargeted block ran: %s", in.Key)
		}
	}
	if !cmp.Equal(r.Targets, []string{"query.neighbours"}) || len(r.Instances) != 3 {
		t.Errorf("run targets %v, instances %v", r.Targets, statuses(r))
	}

	none, _ := schema.ParseTargetAddr("query.nope")
	if _, diags := MakePlan(context.Background(), f.cfg, PlanOptions{Registry: f.reg, Targets: []schema.TargetAddr{none}}); !diags.HasErrors() || !strings.Contains(diags.Error(), "selects no query or pivot") {
		t.Errorf("a target matching nothing: %v", diags)
	}
}

// An instance two blocks ask for runs once and records both, so the state
// can attribute its findings to each; a block that reads the second one
// sees them (it used to see none: the plan's shared instance was only
// the first block's).
func TestSharedInstanceRecordsEveryBlock(t *testing.T) {
	f := newFixture(t, nil)
	f.query("a", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.query("b", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.query("c", []string{"pdns"}, schema.OpReverseIP, `[for x in query.b.findings : x.value if x.type == "A"]`, "query.b")
	r := f.apply(f.options())
	var shared *schema.InstanceResult
	for i, in := range r.Instances {
		if in.Key == "pdns resolutions acme.example" {
			shared = &r.Instances[i]
		}
	}
	if shared == nil || shared.Block != "query.a" || !cmp.Equal(shared.Blocks, []string{"query.a", "query.b"}) {
		t.Fatalf("instances: %v; shared %+v", statuses(r), shared)
	}
	if _, ok := statuses(r)["pdns reverse_ip 203.0.113.10"]; !ok {
		t.Errorf("query.c did not see query.b's findings: %v", statuses(r))
	}
}

func TestPlanCheckState(t *testing.T) {
	f := newFixture(t, nil)
	f.query("a", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	p, _ := MakePlan(context.Background(), f.cfg, PlanOptions{Registry: f.reg, StateLineage: "L", StateSerial: 3})
	if p.ID == "" || p.StateLineage != "L" || p.StateSerial != 3 {
		t.Fatalf("plan %q %q %d", p.ID, p.StateLineage, p.StateSerial)
	}
	var moved *StateMovedError
	for _, c := range []struct {
		lineage string
		serial  uint64
		applied string
		want    func(error) bool
	}{
		{"L", 3, "", func(err error) bool { return err == nil }},
		{"L", 3, "other-plan", func(err error) bool { return err == nil }},
		{"L", 4, "", func(err error) bool { return errors.As(err, &moved) }},
		{"M", 3, "", func(err error) bool { return errors.As(err, &moved) && strings.Contains(err.Error(), "another state") }},
		{"", 0, "", func(err error) bool { return errors.As(err, &moved) && strings.Contains(err.Error(), "no state now") }},
		{"L", 4, p.ID, func(err error) bool { return errors.Is(err, ErrPlanApplied) }},
	} {
		if err := p.CheckState(c.lineage, c.serial, c.applied); !c.want(err) {
			t.Errorf("CheckState(%q, %d, %q) = %v", c.lineage, c.serial, c.applied, err)
		}
	}
}
