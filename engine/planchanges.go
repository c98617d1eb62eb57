package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// PlanChanges says whether an apply is due, and why: what `plan
// -detailed-exitcode` exits 2 for (Terraform's "changes present"). An
// apply is due when it would learn something the state does not hold
// yet: on a first run; when the configuration changed since the state was
// written; or when a query the plan knows (planned, or predicted from the
// previous state) has no answer in the state (new, or failed last time)
// or an answer older than its freshness. A provider's answers stay fresh
// for its cache_ttl (default 24h); a data file's (the file provider's
// path) until the file changes; a provider with cache_ttl = "0s", never.
type PlanChanges struct {
	FirstRun      bool `json:"first_run,omitempty"`
	ConfigChanged bool `json:"config_changed,omitempty"`
	// New are the known queries the state has no answer for; Stale those
	// whose answer is no longer fresh; Fresh those the state answers.
	New   int `json:"new"`
	Stale int `json:"stale"`
	Fresh int `json:"fresh"`
	// ChangedFiles are the data files modified since the state last read
	// them.
	ChangedFiles []string `json:"changed_files,omitempty"`
}

// Any reports whether an apply is due.
func (c PlanChanges) Any() bool {
	return c.FirstRun || c.ConfigChanged || c.New > 0 || c.Stale > 0
}

// planChanges fills the plan's Changes from the previous state's
// verification times (opts.Verified) and config hash.
func planChanges(cfg *schema.Config, opts PlanOptions, p *Plan) PlanChanges {
	var c PlanChanges
	if opts.StateSerial == 0 {
		c.FirstRun = true
	}
	if opts.PreviousConfigHash != "" && opts.PreviousConfigHash != p.ConfigHash {
		c.ConfigChanged = true
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	// fileTimes are each provider's data files' modification times.
	fileTimes := map[string]time.Time{}
	changed := map[string]bool{}
	fileTime := func(pb *schema.ProviderBlock, reg providers.Registration) (time.Time, string) {
		var newest time.Time
		var newestPath string
		for _, a := range reg.Schema.Attributes {
			v, ok := pb.Attrs[a.Name]
			if !a.File || !ok || !v.IsKnown() || v.IsNull() || pb.Sensitive[a.Name] {
				continue
			}
			path := v.AsString()
			full := path
			if !filepath.IsAbs(full) {
				full = filepath.Join(cfg.Dir, full)
			}
			t, seen := fileTimes[full]
			if !seen {
				if fi, err := os.Stat(full); err == nil {
					t = fi.ModTime()
				}
				fileTimes[full] = t
			}
			if t.After(newest) {
				newest, newestPath = t, path
			}
		}
		return newest, newestPath
	}
	count := func(in Instance) {
		pb := cfg.Providers[in.Query.Provider]
		if pb == nil {
			return
		}
		reg := opts.Registry[pb.Type]
		verified, ok := opts.Verified[in.Key]
		if !ok {
			c.New++
			return
		}
		if mod, path := fileTime(pb, reg); !mod.IsZero() {
			// Verification times are kept to the second.
			if mod.Truncate(time.Second).After(verified) {
				c.Stale++
				changed[path] = true
			} else {
				c.Fresh++
			}
			return
		}
		ttl := limitsOf(pb, reg).CacheTTL
		if ttl <= 0 || now.Sub(verified) > ttl {
			c.Stale++
			return
		}
		c.Fresh++
	}
	for _, in := range p.Instances {
		count(in)
	}
	for _, in := range p.Predictions {
		count(in)
	}
	for f := range changed {
		c.ChangedFiles = append(c.ChangedFiles, f)
	}
	sort.Strings(c.ChangedFiles)
	return c
}

// AfterApply is what a plan cannot know before the run, and its bound:
// the blocks whose subjects come from findings (dependent queries,
// pivots), the pivots' depth bound, and the most requests they can add
// beyond those planned and predicted, which the providers' budgets set.
type AfterApply struct {
	Blocks []string `json:"blocks"`
	// Predicted is how many of their instances the previous state
	// predicts (0 on a first run: nothing to predict from).
	Predicted int `json:"predicted"`
	// MaxDepth is the deepest pivot recursion allowed (0: no pivot).
	MaxDepth int `json:"max_depth,omitempty"`
	// Budgets are, per provider those blocks use, the requests its budget
	// leaves after the planned and predicted ones; Unbudgeted the
	// providers without a budget, which only the findings kept bound
	// (max_findings).
	Budgets    []BudgetLeft `json:"budgets,omitempty"`
	Unbudgeted []string     `json:"unbudgeted,omitempty"`
	// MaxMore is the sum of Budgets' Left: the most further requests,
	// when Unbudgeted is empty (Bounded).
	MaxMore int  `json:"max_more"`
	Bounded bool `json:"bounded"`
	// MaxEstimate is the wall time with every budget spent, at the
	// providers' rates (set when Bounded).
	MaxEstimate Duration `json:"max_estimate,omitempty"`
}

// BudgetLeft is one provider's budget and what it leaves.
type BudgetLeft struct {
	Provider string `json:"provider"`
	Budget   int    `json:"budget"`
	Left     int    `json:"left"`
}

// String is the bound in words, for the plan's last line.
func (a *AfterApply) String() string {
	if a == nil || len(a.Blocks) == 0 {
		return ""
	}
	depth := ""
	if a.MaxDepth > 0 {
		depth = fmt.Sprintf("pivot depth at most %d, ", a.MaxDepth)
	}
	if a.Bounded {
		return fmt.Sprintf("up to %d more %s from pivots and dependent queries (%swithin the budgets left)", a.MaxMore, plural(a.MaxMore, "request", "requests"), depth)
	}
	return fmt.Sprintf("more from pivots and dependent queries (%s%d %s without a budget: %s)", depth, len(a.Unbudgeted), plural(len(a.Unbudgeted), "provider", "providers"), joinList(a.Unbudgeted))
}

func joinList(s []string) string { return strings.Join(s, ", ") }

// afterApply bounds the plan's known-after-apply blocks.
func afterApply(cfg *schema.Config, p *Plan) *AfterApply {
	a := &AfterApply{}
	used := map[string]bool{}
	for _, b := range p.Blocks {
		if !b.KnownAfterApply {
			continue
		}
		a.Blocks = append(a.Blocks, b.Address)
		a.Predicted += b.Predicted
		if b.Recursive || b.MaxDepth > 0 {
			d := b.MaxDepth
			if d == 0 {
				d = p.MaxDepth
			}
			a.MaxDepth = max(a.MaxDepth, d)
		}
		for _, pr := range b.Providers {
			used[pr] = true
		}
	}
	if len(a.Blocks) == 0 {
		return nil
	}
	a.Bounded = true
	for _, pp := range p.Providers {
		if !used[pp.Address] {
			continue
		}
		if pp.Budget <= 0 {
			a.Unbudgeted = append(a.Unbudgeted, pp.Address)
			a.Bounded = false
			continue
		}
		left := max(0, pp.Budget-pp.Requests-pp.Predicted)
		a.Budgets = append(a.Budgets, BudgetLeft{Provider: pp.Address, Budget: pp.Budget, Left: left})
		a.MaxMore += left
	}
	if a.Bounded {
		a.MaxEstimate = p.Estimate
		for _, pp := range p.Providers {
			if used[pp.Address] && pp.Budget > 1 {
				if ps := pp.Rate.PerSecond(); ps > 0 {
					a.MaxEstimate = max(a.MaxEstimate, Duration(float64(pp.Budget-1)/ps*float64(time.Second)))
				}
			}
		}
	}
	return a
}
