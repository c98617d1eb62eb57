package engine

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

// TestApplyLoadedEngagement runs an engagement read by the real loader
// (testdata/acme) over the scripted world.
func TestApplyLoadedEngagement(t *testing.T) {
	f := newFixture(t, nil)
	// The loader refuses active providers in a passive engagement: declare
	// the scripted type without its active op.
	passive := f.reg["pdns"].Schema
	passive.Ops = map[schema.Op]schema.OpTraits{}
	for op, tr := range f.reg["pdns"].Schema.Ops {
		if !tr.Active {
			passive.Ops[op] = tr
		}
	}
	cfg, diags := schema.Load("testdata/acme", schema.LoadOptions{
		Providers: map[string]schema.ProviderSchema{"pdns": passive},
	})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags)
	}
	p, diags := MakePlan(context.Background(), cfg, PlanOptions{Registry: f.reg, Now: t0})
	if diags.HasErrors() {
		t.Fatalf("plan: %s", diags)
	}
	if diff := cmp.Diff([]string{
		"pdns resolutions a.acme.example",
		"pdns resolutions acme.example",
		"pdns.mirror resolutions a.acme.example",
		"pdns.mirror resolutions acme.example",
	}, keys(p.Instances)); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}
	opts := f.options()
	opts.CacheDir = t.TempDir()
	r, err := Apply(context.Background(), cfg, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pdns resolutions a.acme.example":        "ok",
		"pdns resolutions acme.example":          "ok",
		"pdns.mirror resolutions a.acme.example": "ok",
		"pdns.mirror resolutions acme.example":   "ok",
		"pdns resolutions b.acme.example":        "ok",
		"pdns resolutions c.acme.example":        "ok",
		"pdns resolutions d.acme.example":        "ok",
		"pdns reverse_ip 203.0.113.10":           "ok",
		"pdns reverse_ip 198.51.100.7":           "skipped: scope: out of scope: not inside any scope CIDR",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
}
