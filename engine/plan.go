package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/quota"
	"github.com/reconform/reconform/internal/version"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// PlanFormatVersion is the version of the saved plan format WritePlan
// writes and ReadPlan accepts. Version 2 records the state the plan was
// made against (lineage and serial), its ID and its -target addresses.
const PlanFormatVersion = 2

// DefaultMaxDepth bounds pivots when neither the pivot nor the engagement
// sets max_depth.
const DefaultMaxDepth = 3

// DefaultParallelism is how many instances run at once unless told.
const DefaultParallelism = 10

// assumedLatency is the per-request time the wall-time estimate assumes for
// a provider without a rate limit.
const assumedLatency = 500 * time.Millisecond

// PlanOptions are Plan's inputs beside the config.
type PlanOptions struct {
	// Registry holds the provider types by name (providers/all).
	Registry map[string]providers.Registration
	// Previous are the previous state's findings keyed by the block address
	// that produced them, used to predict known-after-apply instances. Nil
	// means no prediction.
	Previous map[string][]schema.Finding
	// Now stamps the plan.
	Now time.Time
	// Parallelism is used for the wall-time estimate (default 10).
	Parallelism int
	// Targets, when set, restrict the plan to the blocks they select and
	// the blocks those read (-target).
	Targets []schema.TargetAddr
	// StateLineage and StateSerial are the state the plan is made
	// against (empty and 0 when there is none yet); a saved plan is
	// refused once the state moved on.
	StateLineage string
	StateSerial  uint64
	// Quotas are the vendors' quotas over the quota ledger and Verified
	// the previous state's verification times (VerifiedTimes): plan shows
	// what each quota has left, what it will defer, and whether it keeps
	// verify_every. Nil: no quota columns.
	Quotas   *quota.Set
	Verified map[string]time.Time
	// Cache is the response cache apply will use (Refresh: apply ignores
	// it): a query it answers costs no quota, so the quota columns do not
	// count it. Nil: every query is counted.
	Cache   backend.Cache
	Refresh bool
	// PreviousConfigHash is the config hash of the state the plan is
	// made against ("" for none): a change makes an apply due
	// (PlanChanges).
	PreviousConfigHash string
}

// Instance is one planned query instance.
type Instance struct {
	Query schema.Query `json:"query"`
	Key   string       `json:"key"`
	// Block is the block that first asked for it: "query.x" or "pivot.y".
	Block string `json:"block"`
	Depth int    `json:"depth"`
	// Active instances touch the target (live DNS).
	Active bool `json:"active,omitempty"`
	// Predicted instances come from the previous state's findings: a guess
	// at a known-after-apply block, never run from the plan itself.
	Predicted bool `json:"predicted,omitempty"`
}

// Dropped is a subject a block would have queried but may not, and why.
type Dropped struct {
	Block     string         `json:"block"`
	Provider  string         `json:"provider"`
	Op        schema.Op      `json:"op"`
	Subject   schema.Subject `json:"subject"`
	Reason    string         `json:"reason"`
	Predicted bool           `json:"predicted,omitempty"`
}

// BlockPlan is one block of the graph as planned.
type BlockPlan struct {
	Address   string    `json:"address"`
	DependsOn []string  `json:"depends_on,omitempty"`
	Providers []string  `json:"providers"`
	Op        schema.Op `json:"op"`
	// KnownAfterApply blocks get their subjects from findings; their
	// instances in the plan, if any, are predictions.
	KnownAfterApply bool `json:"known_after_apply,omitempty"`
	// MaxDepth is a pivot's depth bound.
	MaxDepth  int  `json:"max_depth,omitempty"`
	Recursive bool `json:"recursive,omitempty"`
	// Instances and Predicted count the block's planned and predicted
	// instances.
	Instances int `json:"instances"`
	Predicted int `json:"predicted,omitempty"`
	// Shared are instances this block asks for that an earlier block
	// already asked for: they run once and serve both.
	Shared []Instance `json:"shared,omitempty"`
}

// ProviderPlan is one provider instance's expected cost.
type ProviderPlan struct {
	Address string `json:"address"`
	Type    string `json:"type"`
	// Requests is the planned instances (one request each at least);
	// Predicted adds the predicted ones.
	Requests  int `json:"requests"`
	Predicted int `json:"predicted,omitempty"`
	// Budget is the request budget for the run (0: unlimited); a plan
	// applied from a file never exceeds it.
	Budget int `json:"budget,omitempty"`
	// Rate is saved as text ("10/min", "unlimited").
	Rate   schema.Rate `json:"-"`
	Active bool        `json:"active,omitempty"`
	// Estimate is the wall time the provider's requests take at its rate.
	Estimate Duration `json:"estimate"`
	// OverBudget is set when planned plus predicted requests exceed the
	// budget: the rest will be skipped.
	OverBudget bool `json:"over_budget,omitempty"`
	// Quota is the vendor's quota for the provider's key when planned:
	// each window's used and left, counted across engagements and runs.
	Quota []QuotaWindowPlan `json:"quota,omitempty"`
	// Deferred queries (costing at least DeferredRequests) are those the
	// quota's left cannot cover: apply runs the stalest subjects first
	// and defers these until DeferredUntil.
	Deferred         int       `json:"deferred,omitempty"`
	DeferredRequests int       `json:"deferred_requests,omitempty"`
	DeferredUntil    time.Time `json:"deferred_until,omitzero"`
	// Coverage says whether the quota keeps every subject verified every
	// verify_every (set with verify_every).
	Coverage *QuotaCoverage `json:"coverage,omitempty"`
}

// PlanScope is the scope a plan was made for, in a form that saves well.
type PlanScope struct {
	Domains []string `json:"domains,omitempty"`
	CIDRs   []string `json:"cidrs,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// Plan is what an apply will do: every instance known now, predictions for
// blocks known only after apply, dropped subjects with reasons, and the
// expected cost per provider. It holds no secret and saves as JSON.
type Plan struct {
	FormatVersion int    `json:"format_version"`
	Version       string `json:"reconform_version"`
	// ID identifies the plan; the state records the ID of the saved plan
	// it last applied, so a plan is never applied twice.
	ID         string `json:"id"`
	ConfigHash string `json:"config_hash"`
	Engagement string `json:"engagement"`
	// StateLineage and StateSerial are the state the plan was made
	// against: apply refuses the plan when the state is another or moved
	// on since.
	StateLineage string `json:"state_lineage,omitempty"`
	StateSerial  uint64 `json:"state_serial"`
	// Targets are the -target addresses the plan was restricted to.
	Targets []string `json:"targets,omitempty"`
	// ConfigDir is the engagement folder the plan was made from, so
	// `apply PLANFILE` can load it again from anywhere.
	ConfigDir   string    `json:"config_dir,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	PassiveOnly bool      `json:"passive_only"`
	MaxDepth    int       `json:"max_depth"`
	// MaxFindings and MaxFindingsPerQuery are the run's fan-out bounds
	// (0: none). Run from a file, the plan's bounds hold when they are
	// tighter than the config's.
	MaxFindings         int       `json:"max_findings"`
	MaxFindingsPerQuery int       `json:"max_findings_per_query"`
	Scope               PlanScope `json:"scope"`
	// Variables are the values the plan was made with, as HCL
	// expressions, so `apply PLANFILE` loads the same configuration
	// without the -var options again. Sensitive variables are left out
	// (never in a plan): give them again when applying.
	Variables map[string]string `json:"variables,omitempty"`

	Blocks    []BlockPlan    `json:"blocks"`
	Providers []ProviderPlan `json:"providers"`
	// Instances are the planned instances in block order, then key.
	Instances []Instance `json:"instances"`
	// Predictions are instances predicted for known-after-apply blocks.
	Predictions []Instance `json:"predictions,omitempty"`
	Dropped     []Dropped  `json:"dropped,omitempty"`
	// Estimate is the expected wall time of the whole run.
	Estimate Duration `json:"estimate"`
	Warnings []string `json:"warnings,omitempty"`
	// AfterApply is what the plan cannot know before the run (dependent
	// queries, pivots) and its bound; nil when every block is known.
	AfterApply *AfterApply `json:"after_apply,omitempty"`
	// Changes says whether an apply is due and why (plan
	// -detailed-exitcode).
	Changes PlanChanges `json:"changes"`

	// FromFile is set by ReadPlan: the plan is an approval, and apply keeps
	// within its scope and budgets.
	FromFile bool `json:"-"`
}

// ActiveCount is the number of planned instances that touch the target.
func (p *Plan) ActiveCount() int {
	n := 0
	for _, in := range p.Instances {
		if in.Active {
			n++
		}
	}
	return n
}

// variablesOf is the saved form of the config's variable values: HCL
// expressions of the non-sensitive ones. A variable not declared sensitive
// whose value holds a secret (one passed to an api_key) is left out too.
func variablesOf(cfg *schema.Config) map[string]string {
	var out map[string]string
	secrets := cfg.Secrets()
	for name, v := range cfg.Variables {
		if v == nil || v.Sensitive || v.Value == cty.NilVal || v.Value.ContainsMarked() || !v.Value.IsWhollyKnown() {
			continue
		}
		text := string(hclwrite.TokensForValue(v.Value).Bytes())
		if containsAny(text, secrets) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = text
	}
	return out
}

// containsAny reports whether s holds any of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// VarFile is the plan's variable values as the text of an HCL variables
// file ("" when it has none), for loading the configuration again.
func (p *Plan) VarFile() string {
	names := make([]string, 0, len(p.Variables))
	for name := range p.Variables {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "%s = %s\n", name, p.Variables[name])
	}
	return b.String()
}

// scopeOf converts a config scope to its saved form.
func scopeOf(s schema.Scope) PlanScope {
	out := PlanScope{Domains: append([]string(nil), s.Domains...), Exclude: append([]string(nil), s.Exclude...)}
	for _, c := range s.CIDRs {
		out.CIDRs = append(out.CIDRs, c.String())
	}
	return out
}

// schemaScope converts a saved scope back; bad CIDRs are an error.
func (s PlanScope) schemaScope() (schema.Scope, error) {
	out := schema.Scope{Domains: s.Domains, Exclude: s.Exclude}
	for _, c := range s.CIDRs {
		p, err := schema.ParseCIDR(c)
		if err != nil {
			return schema.Scope{}, fmt.Errorf("plan scope has an invalid CIDR %q: %w", c, err)
		}
		out.CIDRs = append(out.CIDRs, p)
	}
	return out, nil
}

// pivotMaxDepth is a pivot's depth bound.
func pivotMaxDepth(cfg *schema.Config, p *schema.PivotBlock) int {
	if p.MaxDepth > 0 {
		return p.MaxDepth
	}
	if cfg.Engagement.MaxDepth > 0 {
		return cfg.Engagement.MaxDepth
	}
	return DefaultMaxDepth
}

// admission decides whether a block may send one query. Plan and Apply
// share it so the plan says exactly what apply will do.
type admission struct {
	cfg      *schema.Config
	registry map[string]providers.Registration
	scope    schema.Scope
	// configScope, when set, bounds scope too: a plan file's scope is
	// never trusted beyond the config it was made from.
	configScope *schema.Scope
	passiveOnly bool
	// followed are the names a CNAME chain from an in-scope name reaches
	// (noteCNAME): a passive resolutions query may ask about them although
	// they are out of scope, so that the addresses behind our own names
	// are known (takeover detection needs them).
	followed map[string]bool
}

// inScope reports whether a domain name is inside the scope (and the
// config's, for a plan file).
func (a *admission) inScope(name string) bool {
	ok, _ := a.contains(schema.Subject{Kind: schema.SubjectDomain, Value: name})
	return ok
}

// noteCNAMEs records the targets of CNAME findings owned by in-scope or
// already followed names, to a fixpoint over fs (a chain may come in one
// answer, in any order).
func (a *admission) noteCNAMEs(fs []schema.Finding) {
	for changed := true; changed; {
		changed = false
		for i := range fs {
			f := &fs[i]
			if f.Type != "CNAME" || f.Value == "" || a.followed[f.Value] {
				continue
			}
			if a.followed[f.Name] || a.inScope(f.Name) {
				if a.followed == nil {
					a.followed = map[string]bool{}
				}
				a.followed[f.Value] = true
				changed = true
			}
		}
	}
}

// admit builds the instance for (provider, op, subject) asked by block at
// depth, or says why it may not run. derived is set when the subject came
// from findings (pivots and known-after-apply queries): such a subject must
// be in scope, unless the op is a registry op (schema.OpTraits.Registry)
// or the subject is a name a CNAME chain from an in-scope name reaches and
// the op is a passive resolutions. Active ops must always be in scope and
// never run under passive_only.
func (a *admission) admit(block, provider string, op schema.Op, subj schema.Subject, rrtypes []string, params map[string]string, depth int, derived bool) (Instance, string) {
	q := schema.Query{Provider: provider, Op: op, Subject: subj, RRTypes: rrtypes, Params: params}
	in := Instance{Query: q, Key: q.Key(), Block: block, Depth: depth}
	pb := a.cfg.Providers[provider]
	if pb == nil {
		return in, fmt.Sprintf("provider %q is not configured", provider)
	}
	reg, ok := a.registry[pb.Type]
	if !ok {
		return in, fmt.Sprintf("provider type %q is unknown", pb.Type)
	}
	traits, ok := reg.Schema.Ops[op]
	if !ok {
		return in, fmt.Sprintf("provider %q does not answer %s", provider, op)
	}
	in.Active = traits.Active
	if subj.Kind == schema.SubjectDomain && schema.IsWildcard(subj.Value) {
		return in, WildcardReason(subj.Value)
	}
	inScope, why := a.contains(subj)
	if traits.Active {
		if a.passiveOnly {
			return in, fmt.Sprintf("%s is active (it touches the target) and the engagement is passive_only", op)
		}
		if !inScope {
			return in, RefusedReason(subj, why)
		}
	}
	if derived && !inScope && !traits.Registry && !(op == schema.OpResolutions && a.followed[subj.Value]) {
		// A registry op (RDAP) asks the registry, not the subject, and
		// its answers feed no pivot: the domain of a third-party name
		// server is exactly what it is for. A passive resolutions query
		// of a name our CNAMEs lead to asks where our names are served.
		return in, "out of scope: " + why
	}
	return in, ""
}

// contains checks subj against the run's scope and, for a run of a saved
// plan, the config's too: what both allow, and why not.
func (a *admission) contains(subj schema.Subject) (bool, string) {
	in, why := a.scope.Contains(subj)
	if in && a.configScope != nil {
		in, why = a.configScope.Contains(subj)
	}
	return in, why
}

// wildcardPrefix starts the reason of every instance whose subject is a
// wildcard name.
const wildcardPrefix = "wildcard: "

// WildcardReason is why no query asks about a wildcard name
// ("*.acme.example"): it is the name of a wildcard record, which answers
// for the names under its parent that have no records of their own, and
// not a host. Passive sources list its records in the answers about that
// parent's subdomains and about the addresses (the reverse_ip answers),
// which is where its findings come from; asked about as a subject, a
// vendor reads "*." as a search pattern (DNSDB: every name under the
// parent), and asking about the parent instead would be a question the
// engagement did not write. So the instance is skipped, with this reason.
func WildcardReason(name string) string {
	return fmt.Sprintf("%s%s is the name of a wildcard record, not a host to ask about; its records come with the answers that list it (subdomains of %s, reverse_ip)",
		wildcardPrefix, name, schema.WildcardParent(name))
}

// refusedPrefix starts the reason of every active query refused because
// its subject is out of scope.
const refusedPrefix = "refused: "

// RefusedReason is the reason an active query for subj is refused: why
// says how subj falls outside the scope. It names the subject and the
// rule, so a reviewer reading a plan, an apply summary or a state sees at
// once that nothing was sent for it and why.
func RefusedReason(subj schema.Subject, why string) string {
	return fmt.Sprintf("%s%s is out of scope (%s); active lookups only run on in-scope subjects", refusedPrefix, subj.Value, why)
}

// IsRefused reports whether reason (a Dropped reason or a skipped
// instance's reason) is an active query refused as out of scope.
func IsRefused(reason string) bool {
	return strings.HasPrefix(reason, refusedPrefix)
}

// MakePlan builds the plan for cfg: the block graph, seed instances,
// predicted instances of known-after-apply blocks, dropped subjects with
// reasons and per-provider estimates. Config problems are diagnostics. It
// sends no request. (It is not called Plan because the type is.)
func MakePlan(ctx context.Context, cfg *schema.Config, opts PlanOptions) (*Plan, hcl.Diagnostics) {
	g, diags := BuildGraph(cfg)
	if diags.HasErrors() {
		return nil, diags
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	g, diags = restrictGraph(cfg, g, opts.Targets, diags)
	if diags.HasErrors() {
		return nil, diags
	}
	p := &Plan{
		FormatVersion:       PlanFormatVersion,
		Version:             version.Version,
		ID:                  uuid.NewString(),
		StateLineage:        opts.StateLineage,
		StateSerial:         opts.StateSerial,
		ConfigHash:          cfg.Hash,
		Engagement:          cfg.Engagement.Name,
		ConfigDir:           cfg.Dir,
		CreatedAt:           opts.Now.UTC(),
		PassiveOnly:         cfg.Engagement.PassiveOnly,
		MaxDepth:            cfg.Engagement.MaxDepth,
		MaxFindings:         cfg.Engagement.MaxFindings,
		MaxFindingsPerQuery: cfg.Engagement.MaxFindingsPerQuery,
		Scope:               scopeOf(cfg.Scope),
		Variables:           variablesOf(cfg),
	}
	for _, t := range opts.Targets {
		p.Targets = append(p.Targets, t.String())
	}
	adm := &admission{cfg: cfg, registry: opts.Registry, scope: cfg.Scope, passiveOnly: cfg.Engagement.PassiveOnly}
	for _, fs := range opts.Previous {
		adm.noteCNAMEs(fs) // predictions follow the CNAMEs the last run found
	}
	seen := map[string]string{} // planned instance key -> block that owns it
	predicted := map[string]bool{}

	// Previous findings for every block, so that prediction expressions
	// are known even when a block found nothing last time.
	prev := map[string][]schema.Finding{}
	for _, addr := range g.Nodes {
		prev[addr] = opts.Previous[addr]
	}

	for _, addr := range g.Nodes {
		if ctx.Err() != nil {
			return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Planning interrupted"})
		}
		bp := BlockPlan{Address: addr, DependsOn: g.Deps[addr], Recursive: g.Recursive[addr] || g.Groups[addr] != nil}
		if q := cfg.Queries[addr]; q != nil {
			bp.Providers, bp.Op = q.Providers, q.Op
			subjects, known, d := cfg.EvalSubjects(q, nil)
			diags = append(diags, d...)
			isPrediction := false
			if !known && !d.HasErrors() {
				bp.KnownAfterApply = true
				if opts.Previous == nil {
					p.Blocks = append(p.Blocks, bp)
					continue
				}
				isPrediction = true
				subjects, _, d = cfg.EvalSubjects(q, prev)
				for _, dg := range d {
					p.Warnings = append(p.Warnings, fmt.Sprintf("%s: predicting from the previous state: %s", addr, dg.Summary))
				}
			}
			derived := len(g.Deps[addr]) > 0
			for _, subj := range subjects {
				for _, prov := range q.Providers {
					in, why := adm.admit(addr, prov, q.Op, subj, q.RRTypes, q.Params, 0, derived)
					if why != "" {
						p.Dropped = append(p.Dropped, Dropped{Block: addr, Provider: prov, Op: q.Op, Subject: subj, Reason: why, Predicted: isPrediction})
						continue
					}
					if isPrediction {
						if seen[in.Key] == "" && !predicted[in.Key] {
							predicted[in.Key] = true
							in.Predicted = true
							p.Predictions = append(p.Predictions, in)
							bp.Predicted++
						}
						continue
					}
					if owner, dup := seen[in.Key]; dup {
						if owner != addr {
							in.Block = owner
							bp.Shared = append(bp.Shared, in)
						}
						continue
					}
					seen[in.Key] = addr
					p.Instances = append(p.Instances, in)
					bp.Instances++
				}
			}
			p.Blocks = append(p.Blocks, bp)
			continue
		}
		pv := cfg.Pivots[addr]
		bp.Providers, bp.Op = pv.Providers, pv.Op
		bp.KnownAfterApply = true
		bp.MaxDepth = pivotMaxDepth(cfg, pv)
		if opts.Previous != nil {
			sources := append([]string(nil), pv.From...)
			if g.Recursive[addr] && !contains(sources, addr) {
				sources = append(sources, addr)
			}
			warned := false
			for _, from := range sources {
				for _, f := range prev[from] {
					subj, ok, d := cfg.EvalPivot(pv, f)
					if d.HasErrors() && !warned {
						warned = true
						p.Warnings = append(p.Warnings, fmt.Sprintf("%s: predicting from the previous state: %s", addr, d[0].Summary))
					}
					if !ok {
						continue
					}
					for _, prov := range pv.Providers {
						in, why := adm.admit(addr, prov, pv.Op, subj, pv.RRTypes, pv.Params, f.Depth+1, true)
						if why == "" && in.Depth > bp.MaxDepth {
							why = fmt.Sprintf("depth %d is beyond max_depth %d", in.Depth, bp.MaxDepth)
						}
						if why != "" {
							if !predicted["drop "+in.Key] {
								predicted["drop "+in.Key] = true
								p.Dropped = append(p.Dropped, Dropped{Block: addr, Provider: prov, Op: pv.Op, Subject: subj, Reason: why, Predicted: true})
							}
							continue
						}
						if seen[in.Key] != "" || predicted[in.Key] {
							continue
						}
						predicted[in.Key] = true
						in.Predicted = true
						p.Predictions = append(p.Predictions, in)
						bp.Predicted++
					}
				}
			}
		}
		p.Blocks = append(p.Blocks, bp)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	rank := map[string]int{}
	for i, addr := range g.Nodes {
		rank[addr] = i
	}
	byBlockThenKey := func(ins []Instance) {
		sort.SliceStable(ins, func(i, j int) bool {
			if ins[i].Block != ins[j].Block {
				return rank[ins[i].Block] < rank[ins[j].Block]
			}
			return ins[i].Key < ins[j].Key
		})
	}
	byBlockThenKey(p.Instances)
	byBlockThenKey(p.Predictions)
	p.Providers = estimate(cfg, opts.Registry, p, opts.Parallelism)
	quotaPlan(ctx, cfg, opts, p)
	for _, pp := range p.Providers {
		if pp.OverBudget {
			p.Warnings = append(p.Warnings, fmt.Sprintf("provider %s: %d requests planned or predicted but the budget is %d; the rest will be skipped", pp.Address, pp.Requests+pp.Predicted, pp.Budget))
		}
		if pp.Estimate > p.Estimate {
			p.Estimate = pp.Estimate
		}
	}
	p.AfterApply = afterApply(cfg, p)
	p.Changes = planChanges(cfg, opts, p)
	return p, diags
}

// restrictGraph keeps only the blocks targets select and, transitively,
// the blocks whose findings those read (a module instance selects every
// block in it). No targets: the whole graph. A target that selects
// nothing is an error: a typo must not plan an empty run.
func restrictGraph(cfg *schema.Config, g *Graph, targets []schema.TargetAddr, diags hcl.Diagnostics) (*Graph, hcl.Diagnostics) {
	if len(targets) == 0 {
		return g, diags
	}
	keep := map[string]bool{}
	var visit func(addr string)
	visit = func(addr string) {
		if keep[addr] {
			return
		}
		keep[addr] = true
		for _, d := range g.Deps[addr] {
			visit(d)
		}
		for _, m := range g.Groups[addr] {
			visit(m)
		}
	}
	for _, t := range targets {
		if t.Block != nil && t.Block.Kind == schema.KindTarget {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid -target address",
				Detail: fmt.Sprintf("-target=%s names a target block, which sends no query itself. Target the query or module that uses it.", t),
			})
			continue
		}
		matched := false
		for _, addr := range g.Nodes {
			b, err := schema.ParseBlockAddr(addr)
			if err == nil && t.Matches(b) {
				matched = true
				visit(addr)
			}
		}
		if !matched {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "No block matches -target",
				Detail: fmt.Sprintf("-target=%s selects no query or pivot of this engagement.%s", t, targetHint(t, g.Nodes)),
			})
		}
	}
	out := &Graph{Deps: map[string][]string{}, Recursive: map[string]bool{}, Groups: map[string][]string{}}
	for _, addr := range g.Nodes {
		if !keep[addr] {
			continue
		}
		out.Nodes = append(out.Nodes, addr)
		out.Deps[addr] = g.Deps[addr]
		out.Recursive[addr] = g.Recursive[addr]
		if grp := g.Groups[addr]; grp != nil {
			out.Groups[addr] = grp
		}
	}
	return out, diags
}

// targetHint lists a few block addresses for a -target that matched none.
func targetHint(t schema.TargetAddr, nodes []string) string {
	if len(nodes) == 0 {
		return ""
	}
	shown := nodes
	more := ""
	if len(shown) > 6 {
		more = fmt.Sprintf(" and %d more", len(shown)-6)
		shown = shown[:6]
	}
	return fmt.Sprintf(" The blocks are %s%s (reconform plan lists them).", strings.Join(shown, ", "), more)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// effectiveLimits are a provider block's rate, budget, timeout, TTL and
// endpoint after the provider type's defaults are applied.
type effectiveLimits struct {
	Rate     schema.Rate
	Budget   int
	Timeout  time.Duration
	CacheTTL time.Duration // < 0: no cache
	Endpoint string
}

// DefaultCacheTTL is how long a cached answer is reused unless the
// provider says otherwise.
const DefaultCacheTTL = 24 * time.Hour

// limitsOf applies the provider type's defaults. The loader already fills
// them in; these fallbacks serve configs built by hand. Budget has none:
// 0 is an explicit "unlimited".
func limitsOf(pb *schema.ProviderBlock, reg providers.Registration) effectiveLimits {
	l := effectiveLimits{Rate: pb.Rate, Budget: pb.Budget, Timeout: pb.Timeout, CacheTTL: pb.CacheTTL, Endpoint: pb.Endpoint}
	if l.Rate.IsZero() && reg.Schema.DefaultRate != "" {
		if r, err := schema.ParseRate(reg.Schema.DefaultRate); err == nil {
			l.Rate = r
		}
	}
	if l.Timeout == 0 {
		l.Timeout = reg.Schema.DefaultTimeout
	}
	if l.Timeout == 0 {
		l.Timeout = 30 * time.Second
	}
	if l.CacheTTL == 0 {
		l.CacheTTL = reg.Schema.DefaultCacheTTL
	}
	if l.CacheTTL == 0 {
		l.CacheTTL = DefaultCacheTTL
	}
	if l.Endpoint == "" {
		l.Endpoint = reg.Schema.DefaultEndpoint
	}
	return l
}

// estimate counts requests per provider and the time they take: at the
// provider's rate (the first request is immediate), or at an assumed
// latency spread over the parallelism when unlimited.
func estimate(cfg *schema.Config, registry map[string]providers.Registration, p *Plan, parallelism int) []ProviderPlan {
	byAddr := map[string]*ProviderPlan{}
	for addr, pb := range cfg.Providers {
		reg := registry[pb.Type]
		l := limitsOf(pb, reg)
		byAddr[addr] = &ProviderPlan{Address: addr, Type: pb.Type, Budget: l.Budget, Rate: l.Rate}
	}
	// A query may cost several requests (history per record type, pages):
	// count at least what the provider says it needs.
	for _, in := range p.Instances {
		if pp := byAddr[in.Query.Provider]; pp != nil {
			pp.Requests += registry[pp.Type].MinRequestsFor(in.Query)
			pp.Active = pp.Active || in.Active
		}
	}
	for _, in := range p.Predictions {
		if pp := byAddr[in.Query.Provider]; pp != nil {
			pp.Predicted += registry[pp.Type].MinRequestsFor(in.Query)
			pp.Active = pp.Active || in.Active
		}
	}
	out := make([]ProviderPlan, 0, len(byAddr))
	for _, pp := range byAddr {
		n := pp.Requests + pp.Predicted
		if pp.Budget > 0 && n > pp.Budget {
			pp.OverBudget = true
			n = pp.Budget
		}
		if n > 0 {
			if ps := pp.Rate.PerSecond(); ps > 0 {
				pp.Estimate = Duration(float64(n-1) / ps * float64(time.Second))
			}
			par := time.Duration(math.Ceil(float64(n) / float64(parallelism)))
			if floor := Duration(par * assumedLatency); pp.Estimate < floor {
				pp.Estimate = floor
			}
		}
		out = append(out, *pp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// Duration is a time.Duration saved in JSON as Go duration text ("1m30s").
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads duration text.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be text such as \"1m30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// providerPlanJSON is ProviderPlan as saved: the rate as text.
type providerPlanJSON struct {
	providerPlanFields
	Rate string `json:"rate"`
}

type providerPlanFields ProviderPlan

// MarshalJSON saves the rate as text.
func (pp ProviderPlan) MarshalJSON() ([]byte, error) {
	return json.Marshal(providerPlanJSON{providerPlanFields(pp), pp.Rate.String()})
}

// UnmarshalJSON reads a saved provider plan.
func (pp *ProviderPlan) UnmarshalJSON(b []byte) error {
	var v providerPlanJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*pp = ProviderPlan(v.providerPlanFields)
	if v.Rate != "" && v.Rate != "unlimited" {
		r, err := schema.ParseRate(v.Rate)
		if err != nil {
			return fmt.Errorf("provider %s: %w", pp.Address, err)
		}
		pp.Rate = r
	}
	return nil
}
