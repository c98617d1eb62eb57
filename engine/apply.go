package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/quota"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// DefaultGrace is how long in-flight work may finish after cancellation.
const DefaultGrace = 10 * time.Second

// DefaultInstanceTimeout bounds one instance, retries and rate-limit waits
// included; per-request timeouts are the provider's job.
const DefaultInstanceTimeout = 15 * time.Minute

// ApplyOptions are Apply's inputs beside the config and plan.
type ApplyOptions struct {
	// Registry holds the provider types by name (providers/all).
	Registry map[string]providers.Registration
	// Parallelism is how many instances run at once (default 10).
	Parallelism int
	// Refresh ignores cached answers (fresh answers are still stored).
	Refresh bool
	// Cache stores answers between runs: the engagement's backend's cache.
	// Nil: files under CacheDir.
	Cache backend.Cache
	// CacheDir holds the response cache when Cache is nil; default
	// cfg.Dir/.reconform/cache.
	CacheDir string
	// Retry is passed to providers and used for retryable errors they
	// return; zero means providers.DefaultRetryPolicy.
	Retry providers.RetryPolicy
	// Events receives progress events; may be nil.
	Events func(Event)
	// Grace is how long in-flight work may finish once ctx is cancelled
	// (default 10s); closing HardStop cuts it short.
	Grace    time.Duration
	HardStop <-chan struct{}
	// InstanceTimeout bounds each instance (default 15 minutes).
	InstanceTimeout time.Duration
	Logger          hclog.Logger
	// Now is the clock (default time.Now); Sleep waits between retries
	// (default: a timer that honours ctx). Tests substitute both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Quotas are the vendors' quotas of the engagement's provider blocks
	// over the quota ledger (engine/quota); nil: none are counted.
	Quotas *quota.Set
	// Verified are the previous state's instances' last verification
	// times (VerifiedTimes): when a quota cannot cover the run, the
	// stalest go first, and deferred instances keep theirs.
	Verified map[string]time.Time
}

// instPhase is where an instance is in the walk.
type instPhase int

const (
	phaseQueued instPhase = iota
	phaseRunning
	phaseDone
)

// instState is one instance during the walk; only the walk loop touches it.
type instState struct {
	Instance
	blocks   []*blockState // blocks that asked for it; the first owns it
	phase    instPhase
	traits   schema.OpTraits
	status   schema.InstanceStatus
	reason   string
	requests int
	ids      []string
	// depthSkipped instances were refused for depth and may be asked
	// again from a shallower finding.
	depthSkipped bool
	// truncated: findings were dropped for max_findings(_per_query).
	truncated bool
}

// blockState is one block during the walk.
type blockState struct {
	addr     string
	query    *schema.QueryBlock
	pivot    *schema.PivotBlock
	deps     []*blockState
	feeds    []*blockState // pivots that read this block's findings
	group    []*blockState // mutually recursive pivots, itself included
	maxDepth int
	expanded bool // a query's instances are all known
	finished bool
	pending  int // instances asked for and not done
	ids      []string
	has      map[string]bool
}

// outcome is a finished instance as a worker reports it.
type outcome struct {
	st       *instState
	ans      providers.Answer
	status   schema.InstanceStatus
	reason   string
	requests int
	kind     providers.ErrorKind // of a provider error
	// quotaPeriod is the window a quota error says is spent.
	quotaPeriod schema.QuotaPeriod
}

// providerRun is one provider instance built for this run.
type providerRun struct {
	block *schema.ProviderBlock
	impl  providers.Provider
	err   string // why it could not be built
	gate  *gate
	// meter is the vendor's quota for the block's key (nil: none).
	meter  *quota.Meter
	limits effectiveLimits
	// dead is why the provider can answer nothing more this run (bad
	// credentials, vendor quota spent): its remaining instances fail
	// without sending a request. Set by the walk loop, read by workers.
	dead atomic.Pointer[string]
}

// deadReason is why the provider takes no more queries, or "".
func (pr *providerRun) deadReason() string {
	if r := pr.dead.Load(); r != nil {
		return *r
	}
	return ""
}

// walk is the state of one apply.
type walk struct {
	cfg   *schema.Config
	plan  *Plan
	opts  ApplyOptions
	adm   *admission
	log   hclog.Logger
	cache *answerCache
	// secrets are the config's sensitive values, redacted from every
	// reason, warning and log line a provider's error or answer brings
	// (providers redact their own; this is the second line).
	secrets  []string
	start    time.Time
	window   time.Duration
	prov     map[string]*providerRun
	blocks   map[string]*blockState
	order    []*blockState
	insts    map[string]*instState
	all      []*instState
	queue    []*instState
	findings map[string]*schema.Finding
	fOrder   []string
	facts    map[string]schema.Fact
	warnings []string
	warned   map[string]bool
	stopping bool
	// maxFindings and maxPerQuery bound the run's findings and one
	// instance's (0: none); runCapped is set once maxFindings is reached.
	maxFindings, maxPerQuery int
	runCapped                bool
	pivots                   *pivotEvaluator
}

// Apply runs plan against cfg and returns what it found. A nil plan is made
// from cfg first. A plan read from a file must match cfg.Hash (else
// ErrPlanStale) and bounds the run: its scope and budgets win.
//
// Cancelling ctx stops new work; in-flight instances get opts.Grace to
// finish and are then cancelled. The result is returned either way, with
// Interrupted set. The error is only for a run that could not start.
func Apply(ctx context.Context, cfg *schema.Config, plan *Plan, opts ApplyOptions) (*schema.RunResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.InstanceTimeout <= 0 {
		opts.InstanceTimeout = DefaultInstanceTimeout
	}
	if opts.Retry.MaxAttempts <= 0 {
		opts.Retry = providers.DefaultRetryPolicy
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Cache == nil {
		if opts.CacheDir == "" {
			opts.CacheDir = filepath.Join(cfg.Dir, ".reconform", "cache")
		}
		opts.Cache = &backend.DirCache{Dir: opts.CacheDir}
	}
	if plan == nil {
		p, diags := MakePlan(ctx, cfg, PlanOptions{Registry: opts.Registry, Now: opts.Now(), Parallelism: opts.Parallelism})
		if diags.HasErrors() {
			return nil, fmt.Errorf("planning: %s", diags.Error())
		}
		plan = p
	} else if plan.ConfigHash != cfg.Hash {
		return nil, ErrPlanStale
	}
	w := &walk{
		cfg: cfg, plan: plan, opts: opts, log: opts.Logger, secrets: cfg.Secrets(),
		cache:    &answerCache{store: opts.Cache},
		start:    opts.Now(),
		window:   cfg.Engagement.CurrentWindow,
		prov:     map[string]*providerRun{},
		blocks:   map[string]*blockState{},
		insts:    map[string]*instState{},
		findings: map[string]*schema.Finding{},
		facts:    map[string]schema.Fact{},
		warned:   map[string]bool{},
	}
	if w.window <= 0 {
		w.window = 30 * 24 * time.Hour
	}
	w.maxFindings, w.maxPerQuery = cfg.Engagement.MaxFindings, cfg.Engagement.MaxFindingsPerQuery
	if plan.FromFile {
		// The reviewed plan's bounds hold when they are tighter.
		w.maxFindings = tighter(w.maxFindings, plan.MaxFindings)
		w.maxPerQuery = tighter(w.maxPerQuery, plan.MaxFindingsPerQuery)
	}
	w.pivots = newPivotEvaluator(cfg)
	if err := w.setup(ctx); err != nil {
		return nil, err
	}
	w.run(ctx)
	return w.result(ctx), nil
}

// setup builds providers, gates and block states, and queues the plan's
// instances.
func (w *walk) setup(ctx context.Context) error {
	cfg, plan := w.cfg, w.plan
	w.adm = &admission{cfg: cfg, registry: w.opts.Registry, scope: cfg.Scope, passiveOnly: cfg.Engagement.PassiveOnly}
	if plan.FromFile {
		s, err := plan.Scope.schemaScope()
		if err != nil {
			return err
		}
		// The reviewed plan is the approval: never more than it allowed,
		// nor more than the config allows (an edited plan file must not
		// widen the scope).
		w.adm.scope, w.adm.configScope = s, &cfg.Scope
		w.adm.passiveOnly = plan.PassiveOnly || w.adm.passiveOnly
	}

	planBudget := map[string]int{}
	for _, pp := range plan.Providers {
		planBudget[pp.Address] = pp.Budget
	}
	workDir := filepath.Join(cfg.Dir, ".reconform")
	for addr, pb := range cfg.Providers {
		reg, ok := w.opts.Registry[pb.Type]
		pr := &providerRun{block: pb}
		w.prov[addr] = pr
		if !ok {
			pr.err = fmt.Sprintf("provider type %q is unknown", pb.Type)
			continue
		}
		pr.limits = limitsOf(pb, reg)
		budget := pr.limits.Budget
		if b, ok := planBudget[addr]; ok && plan.FromFile && b > 0 && (budget == 0 || b < budget) {
			budget = b
		}
		pr.gate = newGate(pr.limits.Rate, budget)
		pr.meter = w.opts.Quotas.Meter(addr)
		pr.gate.quota = pr.meter
		impl, err := reg.New(ctx, providers.Config{
			Type: pb.Type, Name: pb.Name, Address: addr,
			Attrs:        pb.Attrs,
			Dir:          cfg.Dir,
			WorkDir:      workDir,
			Endpoint:     pr.limits.Endpoint,
			Timeout:      pr.limits.Timeout,
			MaxBodyBytes: pb.MaxResponseBytes,
			UserAgent:    version.UserAgent(),
			Retry:        w.opts.Retry,
			Parallelism:  w.opts.Parallelism,
			Gate:         pr.gate,
			Logger:       w.log.Named(addr),
			Secrets:      w.secrets,
			InScope:      w.adm.contains,
		})
		if err != nil {
			pr.err = "provider could not start: " + w.redact(err.Error())
			continue
		}
		pr.impl = impl
		if pr.meter != nil {
			w.quotaSetup(ctx, pr)
		}
	}

	g, diags := BuildGraph(cfg)
	if diags.HasErrors() {
		return fmt.Errorf("block graph: %s", diags.Error())
	}
	// A plan made with -target runs only its blocks (those it selected
	// and what they read); the others are left alone.
	planned := map[string]bool{}
	for _, bp := range plan.Blocks {
		planned[bp.Address] = true
	}
	for _, addr := range g.Nodes {
		if len(plan.Targets) > 0 && !planned[addr] {
			continue
		}
		b := &blockState{addr: addr, has: map[string]bool{}}
		if q := cfg.Queries[addr]; q != nil {
			b.query = q
		} else {
			b.pivot = cfg.Pivots[addr]
			b.maxDepth = pivotMaxDepth(cfg, b.pivot)
		}
		w.blocks[addr] = b
		w.order = append(w.order, b)
	}
	for _, b := range w.order {
		for _, d := range g.Deps[b.addr] {
			dep := w.blocks[d]
			if dep == nil {
				return fmt.Errorf("the plan runs %s but not %s, whose findings it reads; make the plan again", b.addr, d)
			}
			b.deps = append(b.deps, dep)
			if b.pivot != nil {
				dep.feeds = append(dep.feeds, b)
			}
		}
		if g.Recursive[b.addr] {
			b.feeds = append(b.feeds, b)
		}
		for _, m := range g.Groups[b.addr] {
			if w.blocks[m] != nil {
				b.group = append(b.group, w.blocks[m])
			}
		}
		if b.group == nil {
			b.group = []*blockState{b}
		}
	}
	// Seeds: the plan's instances. Query blocks known at plan time are
	// complete with them.
	known := map[string]bool{}
	for _, bp := range plan.Blocks {
		if !bp.KnownAfterApply {
			known[bp.Address] = true
		}
	}
	for _, b := range w.order {
		if b.query != nil && known[b.addr] {
			b.expanded = true
		}
	}
	// Subjects the plan dropped are recorded, so the result says why they
	// were not queried.
	for _, d := range plan.Dropped {
		if b := w.blocks[d.Block]; b != nil && !d.Predicted && known[d.Block] {
			in, _ := w.adm.admit(d.Block, d.Provider, d.Op, d.Subject, b.query.RRTypes, b.query.Params, 0, false)
			w.skip(in, b, scopeReason(d.Reason))
		}
	}
	for _, in := range plan.Instances {
		b := w.blocks[in.Block]
		if b == nil || !known[in.Block] {
			continue
		}
		// Re-check against this run's admission: a plan from a file
		// cannot widen scope or switch on active ops.
		adm, why := w.adm.admit(in.Block, in.Query.Provider, in.Query.Op, in.Query.Subject, in.Query.RRTypes, in.Query.Params, in.Depth, false)
		if why != "" {
			w.skip(adm, b, scopeReason(why))
			continue
		}
		w.ask(adm, b)
	}
	// An instance a later block shares runs once, for its first block,
	// and its findings are the later block's too: join it, so what reads
	// the later block sees them.
	for _, bp := range plan.Blocks {
		b := w.blocks[bp.Address]
		if b == nil || !known[bp.Address] {
			continue
		}
		for _, in := range bp.Shared {
			if _, planned := w.insts[in.Key]; !planned {
				continue
			}
			adm, why := w.adm.admit(bp.Address, in.Query.Provider, in.Query.Op, in.Query.Subject, in.Query.RRTypes, in.Query.Params, in.Depth, false)
			if why == "" {
				w.ask(adm, b)
			}
		}
	}
	w.orderByStaleness()
	return nil
}

// traitsOf returns the op traits of an instance's provider.
func (w *walk) traitsOf(q schema.Query) schema.OpTraits {
	if pr := w.prov[q.Provider]; pr != nil {
		if reg, ok := w.opts.Registry[pr.block.Type]; ok {
			return reg.Schema.Ops[q.Op]
		}
	}
	return schema.OpTraits{}
}

// skip records an instance that will not run, unless one with its key is
// already known.
// scopeReason is the reason recorded for an instance the scope stops: a
// refusal reads on its own ("refused: x is out of scope ..."), any other
// reason is marked as the scope's.
func scopeReason(why string) string {
	if IsRefused(why) || strings.HasPrefix(why, wildcardPrefix) {
		return why
	}
	return "scope: " + why
}

func (w *walk) skip(in Instance, b *blockState, reason string) {
	if _, ok := w.insts[in.Key]; ok {
		return
	}
	st := &instState{Instance: in, blocks: []*blockState{b}, phase: phaseDone, status: schema.StatusSkipped, reason: reason}
	st.depthSkipped = strings.HasPrefix(reason, "depth")
	w.insts[in.Key] = st
	w.all = append(w.all, st)
	w.emitInstance(EventInstanceFinished, st)
}

// ask adds an admitted instance for block b, or joins b to the instance
// already asked for under the same key: an instance never runs twice.
func (w *walk) ask(in Instance, b *blockState) {
	st, ok := w.insts[in.Key]
	if !ok {
		st = &instState{Instance: in, blocks: []*blockState{b}, traits: w.traitsOf(in.Query)}
		w.insts[in.Key] = st
		w.all = append(w.all, st)
		b.pending++
		w.queue = append(w.queue, st)
		w.emitInstance(EventInstanceQueued, st)
		return
	}
	if st.depthSkipped {
		// Asked again from a shallower finding: now within bounds.
		st.depthSkipped = false
		st.Depth, st.Block = in.Depth, in.Block
		st.blocks = []*blockState{b}
		st.phase, st.status, st.reason = phaseQueued, "", ""
		st.traits = w.traitsOf(in.Query)
		b.pending++
		w.queue = append(w.queue, st)
		w.emitInstance(EventInstanceQueued, st)
		return
	}
	shallower := in.Depth < st.Depth && st.phase != phaseRunning
	if shallower {
		st.Depth = in.Depth
	}
	joined := false
	for _, have := range st.blocks {
		joined = joined || have == b
	}
	if !joined {
		st.blocks = append(st.blocks, b)
		if st.phase != phaseDone {
			b.pending++
			return
		}
	}
	switch {
	case st.phase != phaseDone:
	case shallower:
		// Its findings are now shallower: pivot on them again everywhere.
		w.attribute(st, st.blocks)
	case !joined:
		// Its findings are new to b.
		w.attribute(st, []*blockState{b})
	}
}

// attribute gives a finished instance's findings to blocks, lowering their
// depth to the instance's, and pivots on those new to a block or now
// shallower (a shallower finding may reach further under max_depth).
func (w *walk) attribute(st *instState, blocks []*blockState) {
	for _, id := range st.ids {
		f := w.findings[id]
		lowered := st.Depth < f.Depth
		if lowered {
			f.Depth = st.Depth
		}
		for _, b := range blocks {
			fresh := !b.has[id]
			if fresh {
				b.has[id] = true
				b.ids = append(b.ids, id)
			}
			if fresh || lowered {
				for _, p := range b.feeds {
					w.pivotOn(p, f)
				}
			}
		}
	}
}

// pivotOn applies pivot p to finding f.
func (w *walk) pivotOn(p *blockState, f *schema.Finding) {
	if w.stopping {
		return
	}
	subj, ok, diags := w.pivots.eval(p.pivot, *f)
	for _, d := range diags {
		w.warn(fmt.Sprintf("%s: %s: %s", p.addr, d.Summary, d.Detail))
	}
	if !ok {
		return
	}
	depth := f.Depth + 1
	for _, prov := range p.pivot.Providers {
		in, why := w.adm.admit(p.addr, prov, p.pivot.Op, subj, p.pivot.RRTypes, p.pivot.Params, depth, true)
		if why != "" {
			w.skip(in, p, scopeReason(why))
			continue
		}
		if depth > p.maxDepth {
			w.skip(in, p, fmt.Sprintf("depth: %d is beyond max_depth %d", depth, p.maxDepth))
			continue
		}
		w.ask(in, p)
	}
}

// advance expands known-after-apply query blocks whose inputs are complete
// and marks blocks finished, until nothing changes.
func (w *walk) advance() {
	for changed := true; changed; {
		changed = false
		for _, b := range w.order {
			if b.finished {
				continue
			}
			if !w.inputsDone(b) {
				continue
			}
			if b.query != nil && !b.expanded {
				if w.stopping {
					continue
				}
				w.expand(b)
				changed = true
			}
			// A group of mutually recursive pivots is at its fixpoint
			// when every member's inputs are done and none has work left.
			idle := true
			for _, m := range b.group {
				idle = idle && m.pending == 0 && (m.query == nil || m.expanded) && w.inputsDone(m)
			}
			if idle {
				for _, m := range b.group {
					m.finished = true
				}
				changed = true
			}
		}
	}
}

// inputsDone reports whether every block b reads, outside its own group,
// is finished.
func (w *walk) inputsDone(b *blockState) bool {
	for _, d := range b.deps {
		if !d.finished && !contains1(b.group, d) {
			return false
		}
	}
	return true
}

func contains1(list []*blockState, b *blockState) bool {
	for _, x := range list {
		if x == b {
			return true
		}
	}
	return false
}

// expand evaluates a dependent query block's subjects and asks for its
// instances.
func (w *walk) expand(b *blockState) {
	b.expanded = true
	inputs := make(map[string][]schema.Finding, len(b.deps))
	for _, d := range b.deps {
		fs := make([]schema.Finding, len(d.ids))
		for i, id := range d.ids {
			fs[i] = *w.findings[id]
		}
		inputs[d.addr] = fs
	}
	subjects, known, diags := w.cfg.EvalSubjects(b.query, inputs)
	for _, d := range diags {
		w.warn(fmt.Sprintf("%s: %s: %s", b.addr, d.Summary, d.Detail))
	}
	if !known {
		if !diags.HasErrors() {
			w.warn(b.addr + ": subjects are still unknown after the blocks they read finished; nothing to query")
		}
		return
	}
	derived := len(b.deps) > 0
	for _, subj := range subjects {
		for _, prov := range b.query.Providers {
			in, why := w.adm.admit(b.addr, prov, b.query.Op, subj, b.query.RRTypes, b.query.Params, 0, derived)
			if why != "" {
				w.skip(in, b, scopeReason(why))
				continue
			}
			w.ask(in, b)
		}
	}
}

// redact replaces the config's secrets in s.
func (w *walk) redact(s string) string { return providers.Redact(s, w.secrets...) }

func (w *walk) warn(msg string) {
	msg = w.redact(msg)
	if w.warned[msg] {
		return
	}
	w.warned[msg] = true
	w.warnings = append(w.warnings, msg)
	w.emit(Event{Type: EventWarning, Message: msg})
}

func (w *walk) emit(e Event) {
	if w.opts.Events == nil {
		return
	}
	e.Time = w.opts.Now()
	w.opts.Events(e)
}

func (w *walk) emitInstance(t EventType, st *instState) {
	if w.opts.Events == nil {
		return
	}
	w.emit(Event{Type: t, Instance: &InstanceEvent{
		Key: st.Key, Block: st.Block, Provider: st.Query.Provider, Op: st.Query.Op,
		Subject: st.Query.Subject.Value, Depth: st.Depth, Active: st.Active,
		Status: st.status, Reason: st.reason, Findings: len(st.ids), Requests: st.requests,
	}})
}

// run is the walk loop: the only goroutine that touches the walk's state.
// Workers only run instances; the parallelism bound is the number of
// workers, taken where the work executes.
func (w *walk) run(ctx context.Context) {
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	work := make(chan *instState)
	// Buffered to the number of workers, so a worker's report never blocks
	// even after the loop stopped dispatching; the loop drains every one.
	results := make(chan outcome, w.opts.Parallelism)
	var wg sync.WaitGroup
	for range w.opts.Parallelism {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for st := range work {
				results <- w.execute(runCtx, st)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()

	w.advance()
	running := 0
	done := ctx.Done()
	var graceC <-chan time.Time
	hardStop := w.opts.HardStop
	for {
		// Instances whose provider cannot serve them end without a worker;
		// what they unblock is queued by advance, and may be such an
		// instance too, so the head of the queue is checked again.
		for {
			for !w.stopping && len(w.queue) > 0 {
				o, unserved := w.unserved(w.queue[0])
				if !unserved {
					break
				}
				w.queue = w.queue[1:]
				w.finish(o)
			}
			if w.stopping && len(w.queue) > 0 {
				for _, st := range w.queue {
					w.finish(outcome{st: st, status: schema.StatusCancelled, reason: "interrupted before it started"})
				}
				w.queue = nil
			}
			w.advance()
			if w.stopping || len(w.queue) == 0 {
				break
			}
			if _, unserved := w.unserved(w.queue[0]); !unserved {
				break
			}
		}
		if running == 0 && len(w.queue) == 0 {
			return
		}
		var send chan *instState
		var next *instState
		if !w.stopping && len(w.queue) > 0 {
			send, next = work, w.queue[0]
		}
		select {
		case send <- next:
			w.queue = w.queue[1:]
			next.phase = phaseRunning
			running++
			w.emitInstance(EventInstanceStarted, next)
		case out := <-results:
			running--
			w.finish(out)
		case <-done:
			done = nil
			w.stopping = true
			w.log.Info("interrupted: stopping new work", "grace", w.opts.Grace)
			w.warn(fmt.Sprintf("interrupted: no new queries; waiting up to %s for %d in flight", w.opts.Grace, running))
			t := time.NewTimer(w.opts.Grace)
			defer t.Stop()
			graceC = t.C
		case <-graceC:
			graceC = nil
			cancelRun()
		case <-hardStop:
			hardStop = nil
			w.stopping = true
			cancelRun()
		}
	}
}

// cacheable reports whether st might be answered from the cache, which
// costs no budget.
func (w *walk) cacheable(st *instState, pr *providerRun) bool {
	return !w.opts.Refresh && pr.limits.CacheTTL > 0 && !st.traits.Active
}

// execute runs one instance on a worker: from the cache when it can, else
// through the provider, retrying retryable errors with backoff.
func (w *walk) execute(ctx context.Context, st *instState) outcome {
	pr := w.prov[st.Query.Provider]
	useCache := pr.limits.CacheTTL > 0 && !st.traits.Active
	var key string
	if useCache {
		key = cacheKey(pr.block, pr.limits.Endpoint, st.Query)
		if !w.opts.Refresh {
			if ans, ok := w.cache.get(ctx, key, pr.limits.CacheTTL, w.opts.Now()); ok {
				return outcome{st: st, ans: ans, status: schema.StatusCached}
			}
		}
	}
	if pr.gate.Exhausted() || !pr.gate.Affords(w.opts.Registry[pr.block.Type].MinRequestsFor(st.Query)) {
		// Not started when the budget cannot cover even its fewest
		// requests: a half-run query would spend quota and keep nothing.
		return outcome{st: st, status: schema.StatusSkipped, reason: "budget"}
	}
	if dead := pr.deadReason(); dead != "" {
		return outcome{st: st, status: schema.StatusFailed, reason: "not sent: " + dead}
	}
	qctx, slots, deferred := w.beginQuota(ctx, pr, st.Query)
	if deferred != "" {
		return outcome{st: st, status: schema.StatusSkipped, reason: deferred}
	}
	defer w.endQuota(ctx, pr, slots)
	var counter atomic.Int64
	ictx, cancel := context.WithTimeout(withRequestCounter(qctx, &counter), w.opts.InstanceTimeout)
	defer cancel()
	policy := w.opts.Retry
	for attempt := 1; ; attempt++ {
		ans, err := w.query(ictx, pr, st.Query)
		requests := int(counter.Load())
		if err == nil {
			for i, msg := range ans.Warnings {
				ans.Warnings[i] = w.redact(msg)
			}
			if useCache {
				if err := w.cache.put(context.WithoutCancel(ctx), key, ans, w.opts.Now()); err != nil {
					w.log.Warn("could not store answer in the cache", "key", st.Key, "error", err)
				}
			}
			if requests == 0 {
				requests = ans.Requests
			}
			return outcome{st: st, ans: ans, status: schema.StatusOK, requests: requests}
		}
		if isBudget(err) {
			return outcome{st: st, status: schema.StatusSkipped, reason: "budget", requests: requests}
		}
		if why := quotaRefused(slots, err); why != "" {
			return outcome{st: st, status: schema.StatusSkipped, reason: why, requests: requests}
		}
		if ctx.Err() != nil {
			return outcome{st: st, status: schema.StatusCancelled, reason: "interrupted while running", requests: requests}
		}
		if ictx.Err() != nil {
			return outcome{st: st, status: schema.StatusFailed, reason: fmt.Sprintf("timed out after %s", w.opts.InstanceTimeout), requests: requests}
		}
		retry, after := providers.IsRetryable(err)
		if !retry || attempt >= policy.MaxAttempts {
			reason := w.redact(err.Error())
			if retry {
				reason = fmt.Sprintf("%s (gave up after %d attempts)", reason, attempt)
			}
			var pe *providers.Error
			var kind providers.ErrorKind
			var period schema.QuotaPeriod
			if errors.As(err, &pe) {
				kind, period = pe.Kind, pe.QuotaPeriod
			}
			return outcome{st: st, status: schema.StatusFailed, reason: reason, requests: requests, kind: kind, quotaPeriod: period}
		}
		delay := backoff(policy, attempt, after)
		if after > 0 || isRateLimited(err) {
			// The vendor asked the provider, not this query, to wait:
			// the gate holds its other requests while this one sleeps.
			ictx = withPauseServed(ictx, pr.gate.pause(delay))
		}
		w.log.Debug("retrying", "instance", st.Key, "attempt", attempt, "delay", delay, "error", w.redact(err.Error()))
		if err := w.opts.Sleep(ictx, delay); err != nil {
			if ctx.Err() != nil {
				return outcome{st: st, status: schema.StatusCancelled, reason: "interrupted while waiting to retry", requests: requests}
			}
			return outcome{st: st, status: schema.StatusFailed, reason: fmt.Sprintf("timed out after %s", w.opts.InstanceTimeout), requests: requests}
		}
	}
}

// unserved returns how an instance ends without a worker when its
// provider cannot serve it: not configured or not started, dead, out of
// quota or out of budget (unless its answer is cached).
func (w *walk) unserved(st *instState) (outcome, bool) {
	pr := w.prov[st.Query.Provider]
	switch {
	case pr == nil || pr.impl == nil:
		reason := "provider is not configured"
		if pr != nil && pr.err != "" {
			reason = pr.err
		}
		return outcome{st: st, status: schema.StatusFailed, reason: reason}, true
	case pr.deadReason() != "" && !w.cacheable(st, pr):
		return outcome{st: st, status: schema.StatusFailed, reason: "not sent: " + pr.deadReason()}, true
	case pr.quotaSpent() != "" && !w.cacheable(st, pr):
		return outcome{st: st, status: schema.StatusSkipped, reason: pr.quotaSpent()}, true
	case pr.gate.Exhausted() && !w.cacheable(st, pr):
		return outcome{st: st, status: schema.StatusSkipped, reason: "budget"}, true
	}
	return outcome{}, false
}

// query asks the provider, turning a panic in it (a bug) into a failed,
// non-retryable instance, so one bad answer does not end the run and lose
// what the others found.
func (w *walk) query(ctx context.Context, pr *providerRun, q schema.Query) (ans providers.Answer, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := w.redact(fmt.Sprint(r))
			w.log.Error("provider panicked", "provider", pr.block.Address, "panic", msg, "stack", w.redact(string(debug.Stack())))
			ans, err = providers.Answer{}, &providers.Error{Provider: pr.block.Address, Kind: providers.KindMalformed, Msg: "provider panicked: " + msg}
		}
	}()
	return pr.impl.Query(ctx, q)
}

func isRateLimited(err error) bool {
	var pe *providers.Error
	return errors.As(err, &pe) && pe.Kind == providers.KindRateLimited
}

func isBudget(err error) bool {
	if errors.Is(err, providers.ErrBudgetExhausted) {
		return true
	}
	var pe *providers.Error
	return errors.As(err, &pe) && pe.Kind == providers.KindBudget
}

// backoff is the wait before retry number attempt: exponential from
// BaseDelay with jitter in [d/2, d], capped at MaxDelay, and never shorter
// than the vendor's Retry-After (itself capped at MaxDelay).
func backoff(p providers.RetryPolicy, attempt int, retryAfter time.Duration) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	if retryAfter > d {
		d = retryAfter
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish records how an instance ended, merges its findings, pivots on
// them, and releases the blocks waiting on it.
func (w *walk) finish(out outcome) {
	st := out.st
	st.phase = phaseDone
	st.status, st.reason, st.requests = out.status, out.reason, out.requests
	if pr := w.prov[st.Query.Provider]; out.kind == providers.KindQuota && pr != nil && pr.meter != nil {
		// The vendor's quota is spent: the ledger says so to every run
		// until the window ends, and this run defers the rest.
		if pr.quotaSpent() == "" {
			w.warn(w.markQuotaSpent(pr, &providers.Error{QuotaPeriod: out.quotaPeriod}, out.reason))
		}
	} else if out.kind == providers.KindAuth || out.kind == providers.KindQuota {
		// Every further request would fail the same way and may count
		// against the account: stop sending to this provider.
		if pr := w.prov[st.Query.Provider]; pr != nil && pr.deadReason() == "" {
			reason := out.reason
			pr.dead.Store(&reason)
			w.warn(fmt.Sprintf("%s: no further queries this run: %s", st.Query.Provider, out.reason))
		}
	}
	if out.status.Succeeded() {
		w.merge(st, out.ans)
	}
	for _, b := range st.blocks {
		b.pending--
	}
	w.emitInstance(EventInstanceFinished, st)
}

// merge folds an answer into the run's findings (deduplicated by identity)
// and facts, then attributes the findings to the instance's blocks.
func (w *walk) merge(st *instState, ans providers.Answer) {
	for _, msg := range ans.Warnings {
		w.warn(st.Query.Provider + ": " + msg)
	}
	for _, f := range ans.Facts {
		id := f.ID()
		if _, ok := w.facts[id]; !ok {
			w.facts[id] = f
		}
	}
	room := len(ans.Findings)
	if w.maxPerQuery > 0 {
		room = min(room, w.maxPerQuery)
	}
	ids := make([]string, 0, room)
	seen := make(map[string]bool, cap(ids))
	var rejected, fixed, overQuery, overRun int
	var firstRejected, firstFixed string
	for _, f := range ans.Findings {
		// Every provider's findings pass here: what no DNS record can be
		// (a damaged or hostile body: "999.1.1.1" as an address, a name
		// with escape bytes or 10,000 characters) is dropped, and times
		// no observation can have are cleared.
		if why := schema.CheckRecord(f); why != "" {
			if rejected == 0 {
				firstRejected = recordLabel(f) + ": " + why
			}
			rejected++
			continue
		}
		if why := schema.CheckWindow(&f, w.start); why != "" {
			if fixed == 0 {
				firstFixed = recordLabel(f) + ": " + why
			}
			fixed++
		}
		if len(f.Sources) == 0 {
			f.Sources = []string{st.Query.Provider}
		}
		f.Query, f.Depth = st.Key, st.Depth
		f.Current = f.Current || st.traits.Current || (!f.LastSeen.IsZero() && w.start.Sub(f.LastSeen) <= w.window)
		f.Active = f.Active || st.traits.Active
		id := f.ID()
		have, ok := w.findings[id]
		if !seen[id] {
			// The bounds count identities: repeats of one record merge.
			switch {
			case w.maxPerQuery > 0 && len(ids) >= w.maxPerQuery:
				overQuery++
				continue
			case !ok && w.maxFindings > 0 && len(w.findings) >= w.maxFindings:
				overRun++
				continue
			}
			seen[id] = true
			ids = append(ids, id)
		}
		if !ok {
			nf := f
			nf.Sources = append([]string(nil), f.Sources...)
			w.findings[id] = &nf
			w.fOrder = append(w.fOrder, id)
			if w.opts.Events != nil {
				cp := nf
				w.emit(Event{Type: EventFinding, Finding: &cp})
			}
			continue
		}
		mergeFinding(have, f)
	}
	w.reportMerge(st, len(ids), mergeCounts{rejected, fixed, overQuery, overRun}, firstRejected, firstFixed)
	st.ids = ids
	// Our names' CNAMEs lead passive resolutions queries to the targets.
	w.adm.noteCNAMEs(ans.Findings)
	w.attribute(st, st.blocks)
}

// mergeCounts are what merge dropped or mended of one answer.
type mergeCounts struct{ rejected, fixed, overQuery, overRun int }

// reportMerge warns about what merge dropped or mended, naming the
// provider, and marks an instance whose findings were cut by a bound.
func (w *walk) reportMerge(st *instState, kept int, n mergeCounts, firstRejected, firstFixed string) {
	prov := st.Query.Provider
	if n.rejected > 0 {
		w.warn(fmt.Sprintf("%s: dropped %d records that no DNS record can be (first: %s) from %s", prov, n.rejected, firstRejected, st.Key))
	}
	if n.fixed > 0 {
		w.warn(fmt.Sprintf("%s: cleared impossible times of %d records, kept the records (first: %s) from %s", prov, n.fixed, firstFixed, st.Key))
	}
	var cut []string
	if n.overQuery > 0 {
		msg := fmt.Sprintf("kept %d of %d findings (max_findings_per_query = %d)", kept, kept+n.overQuery+n.overRun, w.maxPerQuery)
		cut = append(cut, msg)
		w.warn(fmt.Sprintf("%s: %s: %s; the rest were dropped; raise max_findings_per_query in the engagement block to keep them", prov, st.Key, msg))
	}
	if n.overRun > 0 {
		cut = append(cut, fmt.Sprintf("%d findings dropped (max_findings = %d reached)", n.overRun, w.maxFindings))
		if !w.runCapped {
			w.runCapped = true
			w.warn(fmt.Sprintf("max_findings = %d reached: new findings of this run are dropped from here on (first from %s); the run goes on; raise max_findings in the engagement block to keep them", w.maxFindings, st.Key))
		}
	}
	if len(cut) > 0 {
		st.truncated = true
		st.reason = strings.Join(cut, "; ")
	}
}

// recordLabel names a rejected record in a warning: name and type, short
// and printable whatever the vendor sent.
func recordLabel(f schema.Finding) string {
	name := f.Name
	if len(name) > 60 {
		name = name[:60] + "..."
	}
	typ := f.Type
	if len(typ) > 16 {
		typ = typ[:16] + "..."
	}
	return strconv.QuoteToASCII(name) + " " + strconv.QuoteToASCII(typ)
}

// tighter is the tighter of two bounds, 0 meaning none.
func tighter(a, b int) int {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	}
	return min(a, b)
}

// mergeFinding folds f into have: sources united and sorted, the widest
// observation window, the highest count, currency and activity if either
// has them. Depth and producing query stay the first's unless f is
// shallower (attribute handles depth).
func mergeFinding(have *schema.Finding, f schema.Finding) {
	added := false
	for _, s := range f.Sources {
		if !contains(have.Sources, s) {
			have.Sources = append(have.Sources, s)
			added = true
		}
	}
	if added {
		sort.Strings(have.Sources)
	}
	if !f.FirstSeen.IsZero() && (have.FirstSeen.IsZero() || f.FirstSeen.Before(have.FirstSeen)) {
		have.FirstSeen = f.FirstSeen
	}
	if f.LastSeen.After(have.LastSeen) {
		have.LastSeen = f.LastSeen
	}
	if f.Count > have.Count {
		have.Count = f.Count
	}
	have.Current = have.Current || f.Current
	have.Active = have.Active || f.Active
}

// result assembles the run result in a stable order.
func (w *walk) result(ctx context.Context) *schema.RunResult {
	r := &schema.RunResult{
		Engagement:  w.cfg.Engagement.Name,
		ConfigHash:  w.cfg.Hash,
		StartedAt:   w.start.UTC(),
		FinishedAt:  w.opts.Now().UTC(),
		Interrupted: w.stopping,
		Warnings:    w.warnings,
		Targets:     w.plan.Targets,
	}
	if w.plan.FromFile {
		r.Plan = w.plan.ID
	}
	r.Instances = make([]schema.InstanceResult, 0, len(w.all))
	for _, st := range w.all {
		var blocks []string
		if len(st.blocks) > 1 {
			blocks = make([]string, len(st.blocks))
			for i, b := range st.blocks {
				blocks[i] = b.addr
			}
		}
		r.Instances = append(r.Instances, schema.InstanceResult{
			Query: st.Query, Key: st.Key, Block: st.Block, Blocks: blocks, Depth: st.Depth, Active: st.Active,
			Status: st.status, Reason: st.reason, Requests: st.requests,
			Findings: len(st.ids), FindingIDs: st.ids, Truncated: st.truncated,
			VerifiedAt: w.verifiedAt(st),
		})
	}
	sort.Slice(r.Instances, func(i, j int) bool {
		a, b := r.Instances[i], r.Instances[j]
		if a.Block != b.Block {
			return a.Block < b.Block
		}
		return a.Key < b.Key
	})
	r.Findings = make([]schema.Finding, 0, len(w.fOrder))
	for _, id := range w.fOrder {
		r.Findings = append(r.Findings, *w.findings[id])
	}
	schema.SortFindings(r.Findings)
	for _, f := range w.facts {
		r.Facts = append(r.Facts, f)
	}
	schema.SortFacts(r.Facts)
	if w.opts.Events != nil {
		s := Summarize(r)
		w.emit(Event{Type: EventSummary, Summary: &s})
	}
	return r
}
