package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// BlockDeps returns, for every query and pivot address, the addresses of
// the blocks whose findings it needs: a query's DependsOn, a pivot's From.
func (c *Config) BlockDeps() map[string][]string {
	out := map[string][]string{}
	for _, q := range c.Queries {
		out[q.Address()] = append([]string(nil), q.DependsOn...)
	}
	for _, p := range c.Pivots {
		out[p.Address()] = append([]string(nil), p.From...)
	}
	return out
}

// checkCycles reports cycles through query blocks, over every module
// instance at once (pivots may follow their own and each other's
// findings; that recursion is bounded by max_depth).
func (l *loader) checkCycles() {
	deps := l.cfg.BlockDeps()
	declRange := func(addr string) hcl.Range {
		if q, ok := l.cfg.Queries[addr]; ok {
			return q.DeclRange
		}
		if p, ok := l.cfg.Pivots[addr]; ok {
			return p.DeclRange
		}
		return hcl.Range{}
	}
	for _, cycle := range findCycles(deps, l.cfg.IsQuery) {
		path := append(append([]string{}, cycle...), cycle[0])
		detail := fmt.Sprintf("%s needs the findings of %s, so none of them can run first (%s).",
			cycle[0], path[1], strings.Join(path, " -> "))
		if l.cfg.IsQuery(cycle[0]) && len(cycle) == 1 {
			detail = fmt.Sprintf("%s refers to its own findings. A query cannot depend on itself; use a pivot block to expand findings recursively.", cycle[0])
		} else {
			detail += " Break the cycle; to expand findings recursively, use a pivot block that follows its own findings."
		}
		l.errorf(declRange(cycle[0]), "Cycle between blocks", "%s", detail)
	}
}

// IsQuery reports whether addr is a query block instance of c.
func (c *Config) IsQuery(addr string) bool {
	_, ok := c.Queries[addr]
	return ok
}

// unknownFindings is query.NAME / pivot.NAME as load-time checks see
// them: every block's findings unknown until apply.
func (l *loader) unknownFindings() (queries, pivots cty.Value) {
	unknown := cty.ObjectVal(map[string]cty.Value{"findings": cty.UnknownVal(cty.List(FindingType))})
	q := map[string]cty.Value{}
	for n := range l.declared["query"] {
		if g, ok := l.mod.queries[n]; ok {
			q[n] = g.value(func(*QueryBlock, bool) cty.Value { return unknown })
		} else {
			q[n] = cty.DynamicVal
		}
	}
	p := map[string]cty.Value{}
	for n := range l.declared["pivot"] {
		p[n] = unknown
	}
	return cty.ObjectVal(q), cty.ObjectVal(p)
}

// checkSubjects evaluates the subjects of the module's queries that are
// known at load time, so a malformed subject is reported by validate
// rather than at apply.
func (l *loader) checkSubjects() {
	// Query and pivot findings are unknown until apply; whatever depends
	// on them is checked for types only.
	base := l.evalContext().NewChild()
	base.Variables = map[string]cty.Value{}
	base.Variables["query"], base.Variables["pivot"] = l.unknownFindings()
	for _, name := range sortedKeys(l.mod.queries) {
		g := l.mod.queries[name]
		for _, key := range g.expand.keys {
			q := g.items[key]
			if q == nil || q.Subjects == nil {
				continue
			}
			ctx := base
			if vars := q.Each.variables(); vars != nil {
				ctx = base.NewChild()
				ctx.Variables = vars
			}
			l.checkQuerySubjects(q, ctx)
		}
	}
}

func (l *loader) checkQuerySubjects(q *QueryBlock, ctx *hcl.EvalContext) {
	// Element by element when the list is written out, so a bad
	// subject is pointed at exactly.
	elems := listOrOne(q.Subjects)
	for _, e := range elems {
		v, diags := e.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		v, _ = v.UnmarkDeep()
		if !v.IsWhollyKnown() {
			continue
		}
		subjects, diags := subjectsFromValue(v, e.Range())
		l.diags = append(l.diags, diags...)
		for _, subj := range subjects {
			if q.Op != "" && !OpAccepts(q.Op, subj.Kind) {
				var want []string
				for _, k := range OpSubjectKinds[q.Op] {
					want = append(want, kindPlurals[k])
				}
				hint := ""
				switch {
				case subj.Kind == SubjectDomain && q.Op == OpReverseIP:
					hint = ` For the records of a name use op = "resolutions".`
				case subj.Kind != SubjectDomain:
					hint = ` For the names seen on an address use op = "reverse_ip".`
				}
				l.warnf(e.Range(), "Subject does not fit the operation",
					"%s asks about %s; %s is %s, so it will find nothing.%s",
					q.Op, strings.Join(want, " and "), subj.Value, kindNames[subj.Kind], hint)
			}
		}
		if l.isActive(q.Providers, q.Op) {
			for _, subj := range subjects {
				if ok, why := l.cfg.Scope.Contains(subj); !ok {
					l.warnf(e.Range(), "Active query outside the scope is refused",
						"%s: %s. The live %s query for it is refused and never sent: active recon runs only on in-scope subjects. Add it to the scope block or remove it.",
						subj.Value, why, q.Op)
				}
			}
		}
	}
}

// findCycles returns the cycles of a dependency graph that involve a
// query, each as the list of its nodes starting from the smallest address.
// Pivots following themselves or each other are recursion, not cycles.
func findCycles(deps map[string][]string, isQuery func(string) bool) [][]string {
	sccs := StronglyConnected(deps)
	var out [][]string
	for _, scc := range sccs {
		hasQuery := false
		for _, v := range scc {
			if isQuery(v) {
				hasQuery = true
			}
		}
		if !hasQuery {
			continue // pivots following each other expand to a fixpoint, bounded by max_depth
		}
		if len(scc) == 1 {
			self := false
			for _, w := range deps[scc[0]] {
				if w == scc[0] {
					self = true
				}
			}
			if !self {
				continue
			}
		}
		out = append(out, cyclePath(scc, deps))
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// StronglyConnected returns the strongly connected components of a
// dependency graph (Tarjan), each sorted. The nodes are the keys of deps,
// visited in sorted order so the result is stable; an edge to a node that
// is not a key is ignored.
func StronglyConnected(deps map[string][]string) [][]string {
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var out [][]string
	next := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range deps[v] {
			if _, known := deps[w]; !known {
				continue
			}
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var scc []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			sort.Strings(scc)
			out = append(out, scc)
		}
	}
	for _, v := range sortedKeys(deps) {
		if _, seen := index[v]; !seen {
			visit(v)
		}
	}
	return out
}

// cyclePath orders the members of a strongly connected component along
// one cycle, starting from the smallest address.
func cyclePath(scc []string, deps map[string][]string) []string {
	in := map[string]bool{}
	for _, v := range scc {
		in[v] = true
	}
	sort.Strings(scc)
	start := scc[0]
	// Depth-first search for a path from start back to start.
	var path []string
	seen := map[string]bool{}
	var dfs func(v string) bool
	dfs = func(v string) bool {
		path = append(path, v)
		seen[v] = true
		ws := append([]string(nil), deps[v]...)
		sort.Strings(ws)
		for _, w := range ws {
			if w == start {
				return true
			}
			if in[w] && !seen[w] && dfs(w) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if dfs(start) {
		return path
	}
	return scc
}

// isActive reports whether any of the providers answers op actively.
func (l *loader) isActive(providers []string, op Op) bool {
	for _, addr := range providers {
		if pb, ok := l.cfg.Providers[addr]; ok && l.opts.Providers[pb.Type].Ops[op].Active {
			return true
		}
	}
	return false
}
