// Package engine plans an engagement's query graph and runs it: the block
// graph from references, instance expansion, scope filtering and request
// estimates (Plan); the concurrent walk under rate limits, budgets and
// retries that pivots to a fixpoint (Apply); and the response cache.
package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/schema"
)

// Graph is the block graph: queries and pivots, each with the blocks whose
// findings it reads. Pivots may read their own findings and each other's
// (recursion, to a fixpoint bounded by max_depth); such pivots form a
// group that finishes together. Any other cycle is an error.
type Graph struct {
	// Nodes are the block addresses in a deterministic topological order:
	// every block after the blocks it depends on outside its own group,
	// ties by address.
	Nodes []string
	// Deps maps a block to the blocks it reads, sorted, itself excluded.
	Deps map[string][]string
	// Recursive marks pivots that also apply to their own findings.
	Recursive map[string]bool
	// Groups maps each pivot of a mutually recursive set to the whole
	// set, sorted. Blocks not in such a set are absent.
	Groups map[string][]string
}

// blockRange returns a block's declaration range for diagnostics.
func blockRange(cfg *schema.Config, addr string) *hcl.Range {
	if q := cfg.Queries[addr]; q != nil {
		return q.DeclRange.Ptr()
	}
	if p := cfg.Pivots[addr]; p != nil {
		return p.DeclRange.Ptr()
	}
	return nil
}

func blockExists(cfg *schema.Config, addr string) bool {
	return cfg.Queries[addr] != nil || cfg.Pivots[addr] != nil
}

func isPivot(cfg *schema.Config, addr string) bool { return cfg.Pivots[addr] != nil }

// BuildGraph builds the block graph from QueryBlock.DependsOn and
// PivotBlock.From. A reference to a missing block, or a cycle through a
// query, is an error diagnostic on the block concerned.
func BuildGraph(cfg *schema.Config) (*Graph, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	g := &Graph{Deps: map[string][]string{}, Recursive: map[string]bool{}, Groups: map[string][]string{}}
	var addrs []string
	addDeps := func(addr string, deps []string) {
		set := map[string]bool{}
		for _, d := range deps {
			if d == addr {
				if isPivot(cfg, addr) {
					g.Recursive[addr] = true
					continue
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Self-referencing query",
					Detail:  fmt.Sprintf("%s reads its own findings. Only a pivot may apply to its own findings; turn this into a pivot block.", addr),
					Subject: blockRange(cfg, addr),
				})
				continue
			}
			if !blockExists(cfg, d) {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Reference to undeclared block",
					Detail:  fmt.Sprintf("%s refers to %s, which is not declared. Declare it or remove the reference.", addr, d),
					Subject: blockRange(cfg, addr),
				})
				continue
			}
			set[d] = true
		}
		var list []string
		for d := range set {
			list = append(list, d)
		}
		sort.Strings(list)
		g.Deps[addr] = list
		addrs = append(addrs, addr)
	}
	for _, q := range cfg.Queries {
		addDeps(q.Address(), q.DependsOn)
	}
	for _, p := range cfg.Pivots {
		addDeps(p.Address(), p.From)
	}
	sort.Strings(addrs)

	// Strongly connected components: pivot-only ones are recursion
	// groups; one holding a query is a cycle nothing can start.
	comp := map[string]int{}
	sccs := schema.StronglyConnected(g.Deps) // nodes: addrs, the keys of g.Deps
	for i, scc := range sccs {
		for _, a := range scc {
			comp[a] = i
		}
		if len(scc) < 2 {
			continue
		}
		hasQuery := false
		for _, a := range scc {
			hasQuery = hasQuery || cfg.IsQuery(a)
		}
		if hasQuery {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Cycle between blocks",
				Detail: fmt.Sprintf("These blocks read each other's findings, so none of them can run first: %s. Break the cycle; to expand findings recursively, use pivot blocks.",
					strings.Join(append(append([]string(nil), scc...), scc[0]), " -> ")),
				Subject: blockRange(cfg, scc[0]),
			})
			continue
		}
		for _, a := range scc {
			g.Groups[a] = scc
		}
	}
	if diags.HasErrors() {
		return g, diags
	}

	// Kahn's algorithm over the components, with a sorted ready list for
	// a stable order; a group's members come out together.
	indeg := map[int]int{}
	users := map[int][]int{}
	for _, a := range addrs {
		for _, d := range g.Deps[a] {
			if comp[d] != comp[a] {
				indeg[comp[a]]++
				users[comp[d]] = append(users[comp[d]], comp[a])
			}
		}
	}
	var ready []int
	for i := range sccs {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return sccs[ready[i]][0] < sccs[ready[j]][0] })
		c := ready[0]
		ready = ready[1:]
		g.Nodes = append(g.Nodes, sccs[c]...)
		for _, u := range users[c] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return g, diags
}

// DOT renders the block graph in Graphviz DOT: one node per block labelled
// with its providers and op, edges in the direction findings flow, and a
// self-loop on recursive pivots.
func (g *Graph) DOT(cfg *schema.Config) string {
	var b strings.Builder
	b.WriteString("digraph reconform {\n")
	b.WriteString("  rankdir = \"LR\";\n")
	b.WriteString("  node [fontname = \"sans-serif\"];\n")
	for _, n := range g.Nodes {
		label, shape := n, "box"
		if q := cfg.Queries[n]; q != nil {
			label = fmt.Sprintf("%s\\n%s: %s", n, strings.Join(q.Providers, ", "), q.Op)
		} else if p := cfg.Pivots[n]; p != nil {
			label = fmt.Sprintf("%s\\n%s: %s", n, strings.Join(p.Providers, ", "), p.Op)
			shape = "ellipse"
		}
		fmt.Fprintf(&b, "  %q [label = \"%s\", shape = %s];\n", n, strings.ReplaceAll(label, `"`, `\"`), shape)
	}
	for _, n := range g.Nodes {
		for _, d := range g.Deps[n] {
			fmt.Fprintf(&b, "  %q -> %q;\n", d, n)
		}
		if g.Recursive[n] {
			fmt.Fprintf(&b, "  %q -> %q [style = dashed];\n", n, n)
		}
	}
	b.WriteString("}\n")
	return b.String()
}
