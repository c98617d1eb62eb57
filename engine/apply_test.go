package engine

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/internal/scripted"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

func TestApplyPivotsToFixpoint(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["a.acme.example"]`)
	f.pivot("follow", []string{"query.seed", "pivot.follow"}, `finding.type == "CNAME"`, []string{"pdns"}, schema.OpResolutions, `finding.value`, 0)
	r := f.apply(f.options())

	want := map[string]string{
		"pdns resolutions a.acme.example": "ok",
		"pdns resolutions b.acme.example": "ok",
		"pdns resolutions c.acme.example": "ok",
		"pdns resolutions d.acme.example": "ok",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		if n := f.world.Calls(schema.OpResolutions, name+".acme.example"); n != 1 {
			t.Errorf("%s queried %d times, want once", name, n)
		}
	}
	depth := map[string]int{}
	for _, fd := range r.Findings {
		depth[fd.Name] = fd.Depth
	}
	if diff := cmp.Diff(map[string]int{"a.acme.example": 0, "b.acme.example": 1, "c.acme.example": 2, "d.acme.example": 3}, depth); diff != "" {
		t.Errorf("finding depths (-want +got):\n%s", diff)
	}
	if r.Interrupted {
		t.Error("run marked interrupted")
	}
}

func TestApplyDepthBound(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["a.acme.example"]`)
	f.pivot("follow", []string{"query.seed", "pivot.follow"}, `finding.type == "CNAME"`, []string{"pdns"}, schema.OpResolutions, `finding.value`, 2)
	r := f.apply(f.options())
	want := map[string]string{
		"pdns resolutions a.acme.example": "ok",
		"pdns resolutions b.acme.example": "ok",
		"pdns resolutions c.acme.example": "ok",
		"pdns resolutions d.acme.example": "skipped: depth: 3 is beyond max_depth 2",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if n := f.world.Calls(schema.OpResolutions, "d.acme.example"); n != 0 {
		t.Errorf("d queried %d times beyond the depth bound", n)
	}
}

func TestApplyPivotNeverLeavesScope(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.pivot("rev", []string{"query.seed"}, `finding.type == "A"`, []string{"pdns"}, schema.OpReverseIP, `finding.value`, 0)
	r := f.apply(f.options())
	want := map[string]string{
		"pdns resolutions acme.example": "ok",
		"pdns reverse_ip 203.0.113.10":  "ok",
		"pdns reverse_ip 198.51.100.7":  "skipped: scope: out of scope: not inside any scope CIDR",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if n := f.world.Calls(schema.OpReverseIP, "198.51.100.7"); n != 0 {
		t.Errorf("out-of-scope IP queried %d times", n)
	}
	// The reverse lookup's answer includes a name outside scope: it is a
	// finding (passive data about the IP), but nothing pivots on it.
	ids := findingIDs(r)
	if !contains(ids, "shop.other.example A 203.0.113.10") {
		t.Errorf("findings %v lack the neighbour", ids)
	}
}

func TestApplyDependentQuery(t *testing.T) {
	f := newFixture(t, nil)
	f.query("history", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example"]`)
	f.query("neighbours", []string{"pdns"}, schema.OpReverseIP, `distinct([for x in query.history.findings : x.value if x.type == "A"])`, "query.history")
	r := f.apply(f.options())
	want := map[string]string{
		"pdns resolutions acme.example":     "ok",
		"pdns resolutions www.acme.example": "ok",
		"pdns reverse_ip 203.0.113.10":      "ok",
		"pdns reverse_ip 198.51.100.7":      "skipped: scope: out of scope: not inside any scope CIDR",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	for _, in := range r.Instances {
		if in.Key == "pdns reverse_ip 203.0.113.10" && in.Block != "query.neighbours" {
			t.Errorf("reverse_ip block = %q", in.Block)
		}
	}
}

func TestApplyDedupesFindingsAcrossProviders(t *testing.T) {
	f := newFixture(t, nil)
	// Another endpoint, so the second provider does not share the first's
	// cached answers.
	f.cfg.Providers["pdns.two"].Endpoint = "http://mirror.invalid"
	f.query("seed", []string{"pdns", "pdns.two"}, schema.OpResolutions, `["www.acme.example"]`)
	f.query("again", []string{"pdns"}, schema.OpResolutions, `["www.acme.example"]`)
	r := f.apply(f.options())
	if len(r.Instances) != 2 {
		t.Fatalf("instances %v, want 2 (the duplicate query is one instance)", statuses(r))
	}
	if len(r.Findings) != 1 {
		t.Fatalf("findings %v, want one", findingIDs(r))
	}
	got := r.Findings[0]
	want := schema.Finding{
		Name: "www.acme.example", Type: "A", Value: "203.0.113.10",
		FirstSeen: day(-300), LastSeen: day(-2), Count: 1,
		Sources: []string{"pdns", "pdns.two"}, Current: true,
		Query: got.Query,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged finding (-want +got):\n%s", diff)
	}
	if f.world.Calls(schema.OpResolutions, "www.acme.example") != 2 {
		t.Errorf("calls = %d, want one per provider", f.world.Calls(schema.OpResolutions, "www.acme.example"))
	}
}

// A query that needs more requests than the budget has left is not
// started: it would spend the vendor quota and keep nothing.
func TestApplyBudgetTooSmallForQuery(t *testing.T) {
	f := newFixture(t, nil)
	reg := f.reg["pdns"]
	reg.MinRequests = func(q schema.Query) int { return 1 + len(q.RRTypes) }
	f.reg["pdns"] = reg
	f.cfg.Providers["pdns"].Budget = 3
	q := f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	q.RRTypes = []string{"A", "AAAA", "MX", "NS", "SOA", "TXT"}
	r := f.apply(f.options())
	if len(r.Instances) != 1 || r.Instances[0].Status != schema.StatusSkipped || r.Instances[0].Reason != "budget" {
		t.Errorf("instances %+v, want one skipped for budget", r.Instances)
	}
	if n := f.world.TotalCalls(); n != 0 {
		t.Errorf("provider called %d times for a query the budget cannot cover", n)
	}
}

func TestApplyCurrency(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	r := f.apply(f.options())
	cur := map[string]bool{}
	for _, fd := range r.Findings {
		cur[fd.Value] = fd.Current
	}
	if diff := cmp.Diff(map[string]bool{"203.0.113.10": true, "198.51.100.7": false}, cur); diff != "" {
		t.Errorf("currency (-want +got):\n%s", diff)
	}
}

func TestApplyBudgetExhaustion(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.Providers["pdns"].Budget = 2
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["a.acme.example", "b.acme.example", "c.acme.example", "d.acme.example"]`)
	opts := f.options()
	opts.Parallelism = 1
	r := f.apply(opts)
	count := map[string]int{}
	for _, in := range r.Instances {
		s := string(in.Status)
		if in.Reason != "" {
			s += ": " + in.Reason
		}
		count[s]++
	}
	if diff := cmp.Diff(map[string]int{"ok": 2, "skipped: budget": 2}, count); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if f.world.TotalCalls() > 3 {
		t.Errorf("provider called %d times with a budget of 2", f.world.TotalCalls())
	}
}

func TestApplyRetriesAfter429(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["www.acme.example"]`)
	f.world.FailNext(schema.OpResolutions, "www.acme.example", &providers.Error{
		Provider: "pdns", Kind: providers.KindRateLimited, Retryable: true, RetryAfter: 7 * time.Second, Msg: "429 Too Many Requests",
	})
	s := &sleeps{}
	opts := f.options()
	opts.Sleep = s.sleep
	r := f.apply(opts)
	if diff := cmp.Diff(map[string]string{"pdns resolutions www.acme.example": "ok"}, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if n := f.world.Calls(schema.OpResolutions, "www.acme.example"); n != 2 {
		t.Errorf("calls = %d, want 2 (one 429, one success)", n)
	}
	if len(s.d) != 1 || s.d[0] < 7*time.Second {
		t.Errorf("waits %v, want one of at least the Retry-After 7s", s.d)
	}
	if r.Instances[0].Requests != 2 {
		t.Errorf("requests = %d, want 2", r.Instances[0].Requests)
	}
}

func TestApplyPermanentErrorFailsOnlyItsInstance(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["www.acme.example", "acme.example"]`)
	f.world.FailNext(schema.OpResolutions, "www.acme.example", providers.Errorf("pdns", providers.KindBadInput, "the vendor rejected the name"))
	r := f.apply(f.options())
	want := map[string]string{
		"pdns resolutions www.acme.example": "failed: pdns: the vendor rejected the name",
		"pdns resolutions acme.example":     "ok",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if n := f.world.Calls(schema.OpResolutions, "www.acme.example"); n != 1 {
		t.Errorf("permanent error retried: %d calls", n)
	}
}

func TestApplyRetryGivesUp(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["www.acme.example"]`)
	e := &providers.Error{Provider: "pdns", Kind: providers.KindTransient, Retryable: true, Msg: "502 Bad Gateway"}
	f.world.FailNext(schema.OpResolutions, "www.acme.example", e, e, e, e)
	r := f.apply(f.options())
	want := map[string]string{"pdns resolutions www.acme.example": "failed: pdns: 502 Bad Gateway (gave up after 3 attempts)"}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
}

func TestApplyCancellation(t *testing.T) {
	for _, tc := range []struct {
		name string
		hard bool
	}{{"grace expires", false}, {"second interrupt", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example", "a.acme.example", "b.acme.example", "c.acme.example"]`)
			f.world.Hold()
			opts := f.options()
			opts.Parallelism = 2
			opts.Grace = 20 * time.Millisecond
			if tc.hard {
				opts.Grace = time.Hour
				hard := make(chan struct{})
				opts.HardStop = hard
				go func() {
					<-f.world.Started()
					<-f.world.Started()
					close(hard)
				}()
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if !tc.hard {
				go func() {
					<-f.world.Started()
					<-f.world.Started()
					cancel()
				}()
			}
			r, err := Apply(ctx, f.cfg, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Interrupted {
				t.Error("result not marked interrupted")
			}
			count := map[schema.InstanceStatus]int{}
			for _, in := range r.Instances {
				count[in.Status]++
			}
			if diff := cmp.Diff(map[schema.InstanceStatus]int{schema.StatusCancelled: 5}, count); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyGraceLetsInFlightFinish(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example", "a.acme.example"]`)
	f.world.Hold()
	opts := f.options()
	opts.Parallelism = 1
	opts.Grace = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-f.world.Started()
		cancel()
	}()
	// The held answer is given only once the walk has seen the interrupt.
	opts.Events = func(e Event) {
		if e.Type == EventWarning {
			f.world.Release()
		}
	}
	r, err := Apply(ctx, f.cfg, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	count := map[schema.InstanceStatus]int{}
	for _, in := range r.Instances {
		count[in.Status]++
	}
	if diff := cmp.Diff(map[schema.InstanceStatus]int{schema.StatusOK: 1, schema.StatusCancelled: 2}, count); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if len(r.Findings) == 0 {
		t.Error("findings of the instance that finished in the grace period were lost")
	}
}

func TestApplyParallelismBound(t *testing.T) {
	f := newFixture(t, nil)
	var subjects []string
	for i := range 30 {
		subjects = append(subjects, `"h`+string(rune('a'+i%26))+string(rune('a'+i/26))+`.acme.example"`)
	}
	f.query("seed", []string{"pdns"}, schema.OpResolutions, "["+join(subjects)+"]")
	f.world.Hold()
	opts := f.options()
	opts.Parallelism = 3
	go func() {
		for range 3 {
			<-f.world.Started()
		}
		f.world.Release()
	}()
	r := f.apply(opts)
	if got := f.world.MaxInFlight(); got != 3 {
		t.Errorf("max in flight = %d, want 3", got)
	}
	if len(r.Instances) != 30 {
		t.Errorf("%d instances, want 30", len(r.Instances))
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

func TestApplyCache(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example"]`)
	opts := f.options()
	first := f.apply(opts)
	calls := f.world.TotalCalls()
	if calls != 2 {
		t.Fatalf("first run made %d calls", calls)
	}
	second := f.apply(opts)
	if f.world.TotalCalls() != calls {
		t.Errorf("cached run made %d new calls", f.world.TotalCalls()-calls)
	}
	for _, in := range second.Instances {
		if in.Status != schema.StatusCached || in.Requests != 0 {
			t.Errorf("%s: %s with %d requests, want cached with none", in.Key, in.Status, in.Requests)
		}
	}
	if diff := cmp.Diff(first.Findings, second.Findings); diff != "" {
		t.Errorf("cached findings differ (-first +second):\n%s", diff)
	}

	opts.Refresh = true
	third := f.apply(opts)
	if f.world.TotalCalls() != calls+2 {
		t.Errorf("-refresh made %d new calls, want 2", f.world.TotalCalls()-calls)
	}
	for _, in := range third.Instances {
		if in.Status != schema.StatusOK {
			t.Errorf("%s: %s, want ok with -refresh", in.Key, in.Status)
		}
	}

	// Expired entries are misses.
	opts.Refresh = false
	opts.Now = func() time.Time { return t0.Add(25 * time.Hour) }
	f.apply(opts)
	if f.world.TotalCalls() != calls+4 {
		t.Errorf("expired cache: %d new calls, want 2", f.world.TotalCalls()-calls-2)
	}

	// A disabled cache is never read.
	f.cfg.Providers["pdns"].CacheTTL = -1
	f.apply(opts)
	if f.world.TotalCalls() != calls+6 {
		t.Errorf("disabled cache: calls %d", f.world.TotalCalls())
	}
}

func TestCacheKeyHasNoSecret(t *testing.T) {
	f := newFixture(t, nil)
	pb := f.cfg.Providers["pdns"]
	q := schema.Query{Provider: "pdns", Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "acme.example"}}
	a := cacheKey(pb, "http://x", q)
	pb2 := *pb
	pb2.Name, pb2.Address = "other", "pdns.other"
	if b := cacheKey(&pb2, "http://x", q); a != b {
		t.Error("instance name changed the cache key")
	}
	if b := cacheKey(pb, "http://y", q); a == b {
		t.Error("endpoint did not change the cache key")
	}
}

func TestApplyActiveOps(t *testing.T) {
	f := newFixture(t, nil)
	f.query("live", []string{"pdns"}, schema.OpResolve, `["www.acme.example", "shop.other.example"]`)

	// passive_only: nothing active runs.
	r := f.apply(f.options())
	if f.world.TotalCalls() != 0 {
		t.Errorf("active op ran under passive_only: %v", statuses(r))
	}

	want := map[string]string{
		"pdns resolve www.acme.example":   "skipped: scope: resolve is active (it touches the target) and the engagement is passive_only",
		"pdns resolve shop.other.example": "skipped: scope: resolve is active (it touches the target) and the engagement is passive_only",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("passive_only instances (-want +got):\n%s", diff)
	}

	f.cfg.Engagement.PassiveOnly = false
	r = f.apply(f.options())
	want = map[string]string{
		"pdns resolve www.acme.example":   "ok",
		"pdns resolve shop.other.example": "skipped: refused: shop.other.example is out of scope (not under any scope domain); active lookups only run on in-scope subjects",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if f.world.Calls(schema.OpResolve, "shop.other.example") != 0 {
		t.Error("active op ran on an out-of-scope seed")
	}
	if len(r.Findings) != 1 || !r.Findings[0].Active || !r.Findings[0].Current {
		t.Errorf("active findings %+v, want active and current", r.Findings)
	}
	for _, in := range r.Instances {
		if !in.Active {
			t.Errorf("%s not marked active", in.Key)
		}
	}
}

func TestApplyPlanFile(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.Providers["pdns"].Budget = 10
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example", "a.acme.example"]`)
	p := f.plan()
	path := t.TempDir() + "/plan.json"
	if err := WritePlanFile(path, p); err != nil {
		t.Fatal(err)
	}
	saved, err := ReadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, saved, cmpIgnoreFromFile); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// The saved plan caps the budget even if the config is loosened
	// without changing its hash (as a hand-edited cfg would).
	for i := range saved.Providers {
		if saved.Providers[i].Address == "pdns" {
			saved.Providers[i].Budget = 1
		}
	}
	opts := f.options()
	opts.Parallelism = 1
	r, err := Apply(context.Background(), f.cfg, saved, opts)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range r.Instances {
		if in.Status == schema.StatusOK {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d instances ran under a plan budget of 1: %v", n, statuses(r))
	}

	f.cfg.Hash = "hash-2"
	if _, err := Apply(context.Background(), f.cfg, saved, opts); err != ErrPlanStale {
		t.Errorf("apply of a stale plan: err = %v, want ErrPlanStale", err)
	}
}

// A plan file edited to widen its scope and to add an active instance for
// an out-of-scope name must not send it: the config (whose hash the plan
// matches) still bounds the scope. Found in acceptance testing.
func TestApplyPlanFileCannotWidenScope(t *testing.T) {
	f := newFixture(t, nil)
	f.cfg.Engagement.PassiveOnly = false
	f.query("live", []string{"pdns"}, schema.OpResolve, `["www.acme.example"]`)
	p := f.plan()
	path := t.TempDir() + "/plan.json"
	if err := WritePlanFile(path, p); err != nil {
		t.Fatal(err)
	}
	saved, err := ReadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	saved.Scope.Domains = append(saved.Scope.Domains, "other.example")
	extra := saved.Instances[0]
	extra.Query.Subject = schema.Subject{Kind: schema.SubjectDomain, Value: "shop.other.example"}
	extra.Key = extra.Query.Key()
	saved.Instances = append(saved.Instances, extra)

	r, err := Apply(context.Background(), f.cfg, saved, f.options())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"pdns resolve www.acme.example":   "ok",
		"pdns resolve shop.other.example": "skipped: refused: shop.other.example is out of scope (not under any scope domain); active lookups only run on in-scope subjects",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if n := f.world.Calls(schema.OpResolve, "shop.other.example"); n != 0 {
		t.Errorf("an edited plan file sent %d active queries outside the config's scope", n)
	}
}

func TestApplyProviderStatsEvents(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	var types []string
	opts := f.options()
	opts.Events = func(e Event) { types = append(types, string(e.Type)) }
	f.apply(opts)
	sort.Strings(types)
	want := []string{"finding", "finding", "instance_finished", "instance_queued", "instance_started", "summary"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestApplyMutuallyRecursivePivots(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example"]`)
	f.pivot("ips", []string{"query.seed", "pivot.names"}, `finding.type == "A"`, []string{"pdns"}, schema.OpReverseIP, `finding.value`, 0)
	f.pivot("names", []string{"pivot.ips"}, `finding.type == "A"`, []string{"pdns"}, schema.OpResolutions, `finding.name`, 0)
	f.query("after", []string{"pdns"}, schema.OpSubdomains, `distinct([for x in pivot.names.findings : x.name])`, "pivot.names")
	r := f.apply(f.options())
	want := map[string]string{
		"pdns resolutions acme.example":       "ok",
		"pdns reverse_ip 203.0.113.10":        "ok",
		"pdns reverse_ip 198.51.100.7":        "skipped: scope: out of scope: not inside any scope CIDR",
		"pdns resolutions www.acme.example":   "ok",
		"pdns resolutions shop.other.example": "skipped: scope: out of scope: not under any scope domain",
		"pdns subdomains www.acme.example":    "ok",
		// names asked for acme.example too: the seed's instance serves
		// both blocks, so its findings count as pivot.names' findings.
		"pdns subdomains acme.example": "ok",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if f.world.TotalCalls() != 5 {
		t.Errorf("%d calls, want 5 (each instance once)", f.world.TotalCalls())
	}
}

// TestApplyShallowerRequestLowersDepth: the pivot asks for b at depth 1,
// then a dependent query asks for the same instance at depth 0; it runs
// once, at depth 0, so the depth bound reaches one step further.
func TestApplyShallowerRequestLowersDepth(t *testing.T) {
	f := newFixture(t, nil)
	f.query("s1", []string{"pdns"}, schema.OpResolutions, `["a.acme.example"]`)
	f.query("late", []string{"pdns"}, schema.OpResolutions, `[for x in query.s1.findings : x.value if x.type == "CNAME"]`, "query.s1")
	f.pivot("follow", []string{"query.s1", "query.late", "pivot.follow"}, `finding.type == "CNAME"`, []string{"pdns"}, schema.OpResolutions, `finding.value`, 1)
	opts := f.options()
	opts.Parallelism = 1
	r := f.apply(opts)
	want := map[string]string{
		"pdns resolutions a.acme.example": "ok",
		"pdns resolutions b.acme.example": "ok",
		"pdns resolutions c.acme.example": "ok",
		"pdns resolutions d.acme.example": "skipped: depth: 2 is beyond max_depth 1",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	for _, in := range r.Instances {
		if in.Key == "pdns resolutions b.acme.example" && in.Depth != 0 {
			t.Errorf("b ran at depth %d, want 0", in.Depth)
		}
	}
	if f.world.Calls(schema.OpResolutions, "b.acme.example") != 1 {
		t.Error("b queried more than once")
	}
}

func TestApplyBadCredentialsStopTheProvider(t *testing.T) {
	f := newFixture(t, nil)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["acme.example", "www.acme.example", "a.acme.example"]`)
	f.world.FailNext(schema.OpResolutions, "a.acme.example", providers.Errorf("pdns", providers.KindAuth, "invalid API key (check api_key)"))
	opts := f.options()
	opts.Parallelism = 1
	r := f.apply(opts)
	// a runs first (keys are queued in plan order: sorted), fails, and the
	// other two are never sent.
	want := map[string]string{
		"pdns resolutions a.acme.example":   "failed: pdns: invalid API key (check api_key)",
		"pdns resolutions acme.example":     "failed: not sent: pdns: invalid API key (check api_key)",
		"pdns resolutions www.acme.example": "failed: not sent: pdns: invalid API key (check api_key)",
	}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	if n := f.world.TotalCalls(); n != 1 {
		t.Errorf("%d calls after bad credentials, want 1", n)
	}
}

// A passive resolutions pivot may follow our names' CNAMEs out of the
// scope, hop by hop, to learn the addresses behind them (takeover
// detection reads them); nothing else leaves the scope: not another op
// on the target, not a CNAME owned by a name outside the scope.
func TestApplyFollowsCNAMETargetsOutOfScope(t *testing.T) {
	world := scripted.NewWorld(
		scripted.Rec("shop.acme.example", "CNAME", "acme.shops.example", day(-10), day(-1)),
		scripted.Rec("acme.shops.example", "CNAME", "edge.cdn-provider.example", day(-10), day(-1)),
		scripted.Rec("edge.cdn-provider.example", "A", "198.51.100.50", day(-10), day(-1)),
		scripted.Rec("partner.other.example", "CNAME", "x.elsewhere.example", day(-10), day(-1)),
	)
	f := newFixture(t, world)
	f.query("seed", []string{"pdns"}, schema.OpResolutions, `["shop.acme.example", "partner.other.example"]`)
	f.pivot("targets", []string{"query.seed", "pivot.targets"}, `finding.type == "CNAME"`, []string{"pdns"}, schema.OpResolutions, `finding.value`, 4)
	f.pivot("subs", []string{"pivot.targets"}, `finding.type == "CNAME"`, []string{"pdns"}, schema.OpSubdomains, `finding.value`, 4)
	r := f.apply(f.options())
	st := statuses(r)
	for key, want := range map[string]string{
		"pdns resolutions acme.shops.example":        "ok",
		"pdns resolutions edge.cdn-provider.example": "ok",
		"pdns resolutions x.elsewhere.example":       "skipped: scope: out of scope: not under any scope domain",
		"pdns subdomains edge.cdn-provider.example":  "skipped: scope: out of scope: not under any scope domain",
	} {
		if st[key] != want {
			t.Errorf("%s: %q, want %q", key, st[key], want)
		}
	}
	if !contains(findingIDs(r), "edge.cdn-provider.example A 198.51.100.50") {
		t.Errorf("the address behind shop.acme.example was not learnt: %v", findingIDs(r))
	}
	if n := world.Calls(schema.OpResolutions, "x.elsewhere.example"); n != 0 {
		t.Errorf("a CNAME of an out-of-scope name was followed %d times", n)
	}
}
