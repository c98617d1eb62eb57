package engine

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/reconform/reconform/internal/scripted"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// t0 is the fixed "now" of every test run.
var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Time { return t0.AddDate(0, 0, n) }

// testWorld is the fixed world most tests run over:
//
//	acme.example      A 203.0.113.10 (in scope), A 198.51.100.7 (out of scope)
//	www.acme.example  A 203.0.113.10
//	a.acme.example    CNAME b -> CNAME c -> CNAME d -> A 203.0.113.40
//	shop.other.example A 203.0.113.10 (shares the IP; not in scope)
func testWorld() *scripted.World {
	return scripted.NewWorld(
		scripted.Rec("acme.example", "A", "203.0.113.10", day(-400), day(-1)),
		scripted.Rec("acme.example", "A", "198.51.100.7", day(-900), day(-500)),
		scripted.Rec("www.acme.example", "A", "203.0.113.10", day(-300), day(-2)),
		scripted.Rec("a.acme.example", "CNAME", "b.acme.example", day(-100), day(-1)),
		scripted.Rec("b.acme.example", "CNAME", "c.acme.example", day(-100), day(-1)),
		scripted.Rec("c.acme.example", "CNAME", "d.acme.example", day(-100), day(-1)),
		scripted.Rec("d.acme.example", "A", "203.0.113.40", day(-100), day(-1)),
		scripted.Rec("shop.other.example", "A", "203.0.113.10", day(-50), day(-3)),
	)
}

// expr parses an HCL expression for a hand-built config.
func expr(t testing.TB, src string) hcl.Expression {
	t.Helper()
	e, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parsing %q: %s", src, diags)
	}
	return e
}

// fixture is a config over scripted providers "pdns" and "pdns.two" (both
// of type pdns over one world).
type fixture struct {
	t     testing.TB
	world *scripted.World
	reg   map[string]providers.Registration
	cfg   *schema.Config
}

func newFixture(t testing.TB, world *scripted.World) *fixture {
	t.Helper()
	if world == nil {
		world = testWorld()
	}
	cfg := &schema.Config{
		Dir:  t.TempDir(),
		Hash: "hash-1",
		Engagement: schema.Engagement{
			Name: "acme", PassiveOnly: true, MaxDepth: 5,
		},
		Scope: schema.Scope{
			Domains: []string{"acme.example"},
			CIDRs:   []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")},
			Exclude: []string{"cdn.acme.example"},
		},
		Providers: map[string]*schema.ProviderBlock{
			"pdns":     {Type: "pdns", Address: "pdns"},
			"pdns.two": {Type: "pdns", Name: "two", Address: "pdns.two"},
		},
		Targets: map[string]*schema.Target{},
		Queries: map[string]*schema.QueryBlock{},
		Pivots:  map[string]*schema.PivotBlock{},
	}
	return &fixture{
		t: t, world: world, cfg: cfg,
		reg: map[string]providers.Registration{"pdns": scripted.Registration("pdns", world, nil)},
	}
}

func (f *fixture) target(kind schema.SubjectKind, name, value string) {
	s, err := schema.ParseSubject(value)
	if err != nil {
		f.t.Fatal(err)
	}
	t := &schema.Target{Kind: kind, Name: name, Subject: s}
	f.cfg.Targets[t.Address()] = t
}

func (f *fixture) query(name string, provs []string, op schema.Op, subjects string, deps ...string) *schema.QueryBlock {
	q := &schema.QueryBlock{Name: name, Providers: provs, Op: op, Subjects: expr(f.t, subjects), DependsOn: deps}
	f.cfg.Queries[q.Address()] = q
	return q
}

func (f *fixture) pivot(name string, from []string, when string, provs []string, op schema.Op, subject string, maxDepth int) *schema.PivotBlock {
	p := &schema.PivotBlock{Name: name, From: from, Providers: provs, Op: op, Subject: expr(f.t, subject), MaxDepth: maxDepth}
	if when != "" {
		p.When = expr(f.t, when)
	}
	f.cfg.Pivots[p.Address()] = p
	return p
}

// sleeps records the waits the engine asked for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (f *fixture) options() ApplyOptions {
	s := &sleeps{}
	return ApplyOptions{
		Registry: f.reg,
		CacheDir: f.t.TempDir(),
		Now:      func() time.Time { return t0 },
		Sleep:    s.sleep,
		Retry:    providers.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Minute},
	}
}

func (f *fixture) plan() *Plan {
	f.t.Helper()
	p, diags := MakePlan(context.Background(), f.cfg, PlanOptions{Registry: f.reg, Now: t0})
	if diags.HasErrors() {
		f.t.Fatalf("plan: %s", diags)
	}
	return p
}

func (f *fixture) apply(opts ApplyOptions) *schema.RunResult {
	f.t.Helper()
	r, err := Apply(context.Background(), f.cfg, nil, opts)
	if err != nil {
		f.t.Fatalf("apply: %v", err)
	}
	return r
}

// statuses maps instance keys to "status[: reason]".
func statuses(r *schema.RunResult) map[string]string {
	out := map[string]string{}
	for _, in := range r.Instances {
		s := string(in.Status)
		if in.Reason != "" {
			s += ": " + in.Reason
		}
		out[in.Key] = s
	}
	return out
}

func findingIDs(r *schema.RunResult) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID())
	}
	return ids
}
