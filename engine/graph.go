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
// findings it reads. It is acyclic; a pivot reading its own findings is
// recursion, kept apart in Recursive, not an edge.
type Graph struct {
	// Nodes are the block addresses in a deterministic topological order:
	// every block after the blocks it depends on, ties by address.
	Nodes []string
	// Deps maps a block to the blocks it reads, sorted.
	Deps map[string][]string
	// Recursive marks pivots that also apply to their own findings.
	Recursive map[string]bool
}

// blockRange returns a block's declaration range for diagnostics.
func blockRange(cfg *schema.Config, addr string) *hcl.Range {
	if name, ok := strings.CutPrefix(addr, "query."); ok {
		if q := cfg.Queries[name]; q != nil {
			return q.DeclRange.Ptr()
		}
	}
	if name, ok := strings.CutPrefix(addr, "pivot."); ok {
		if p := cfg.Pivots[name]; p != nil {
			return p.DeclRange.Ptr()
		}
	}
	return nil
}

func blockExists(cfg *schema.Config, addr string) bool {
	if name, ok := strings.CutPrefix(addr, "query."); ok {
		return cfg.Queries[name] != nil
	}
	if name, ok := strings.CutPrefix(addr, "pivot."); ok {
		return cfg.Pivots[name] != nil
	}
	return false
}

// BuildGraph builds the block graph from QueryBlock.DependsOn and
// PivotBlock.From. A reference to a missing block or a cycle is an error
// diagnostic on the block that closes it.
func BuildGraph(cfg *schema.Config) (*Graph, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	g := &Graph{Deps: map[string][]string{}, Recursive: map[string]bool{}}
	var addrs []string
	addDeps := func(addr string, deps []string) {
		set := map[string]bool{}
		for _, d := range deps {
			if d == addr {
				if strings.HasPrefix(addr, "pivot.") {
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

	// Kahn's algorithm with a sorted ready list gives a stable order.
	indeg := map[string]int{}
	users := map[string][]string{}
	for _, a := range addrs {
		indeg[a] = len(g.Deps[a])
		for _, d := range g.Deps[a] {
			users[d] = append(users[d], a)
		}
	}
	var ready []string
	for _, a := range addrs {
		if indeg[a] == 0 {
			ready = append(ready, a)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		a := ready[0]
		ready = ready[1:]
		g.Nodes = append(g.Nodes, a)
		for _, u := range users[a] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(g.Nodes) < len(addrs) {
		for _, cycle := range findCycles(addrs, g.Deps, indeg) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Cycle between blocks",
				Detail: fmt.Sprintf("These blocks read each other's findings: %s. Break the cycle, or express the recursion as one pivot block that applies to its own findings.",
					strings.Join(cycle, " -> ")),
				Subject: blockRange(cfg, cycle[0]),
			})
		}
	}
	return g, diags
}

// findCycles reports one cycle per strongly tangled group among the blocks
// Kahn's algorithm could not order.
func findCycles(addrs []string, deps map[string][]string, indeg map[string]int) [][]string {
	left := map[string]bool{}
	for _, a := range addrs {
		if indeg[a] > 0 {
			left[a] = true
		}
	}
	var cycles [][]string
	reported := map[string]bool{}
	for _, start := range addrs {
		if !left[start] || reported[start] {
			continue
		}
		// Follow dependencies among the unordered blocks until one repeats.
		pos := map[string]int{}
		var path []string
		cur := start
		// Every unordered block still waits on an unordered dependency, so
		// following them must come back to a block already on the path
		// (a new cycle) or reach one already reported (downstream of it).
		for !reported[cur] {
			if i, seen := pos[cur]; seen {
				cycles = append(cycles, append(append([]string(nil), path[i:]...), cur))
				break
			}
			pos[cur] = len(path)
			path = append(path, cur)
			for _, d := range deps[cur] {
				if left[d] {
					cur = d
					break
				}
			}
		}
		for _, c := range path {
			reported[c] = true
		}
	}
	return cycles
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
		if name, ok := strings.CutPrefix(n, "query."); ok {
			q := cfg.Queries[name]
			label = fmt.Sprintf("%s\\n%s: %s", n, strings.Join(q.Providers, ", "), q.Op)
		} else if name, ok := strings.CutPrefix(n, "pivot."); ok {
			p := cfg.Pivots[name]
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
