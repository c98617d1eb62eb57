package report

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/schema"
)

// Node roles in the relationship graph.
const (
	roleName      = "name"      // a name under the scope (or found by a forward query)
	roleIP        = "ip"        // an address
	roleNS        = "ns"        // a name server
	roleMX        = "mx"        // a mail server
	roleNeighbour = "neighbour" // a registered domain sharing a shared-hosting address
)

type graphNode struct {
	ID    string // n0, n1, ... in the order of Key
	Key   string // the name or address itself
	Label string
	Role  string
	// Current is set when some relationship of the node is current.
	Current bool
	// Shared is the number of registered domains on a shared-hosting
	// address (0 otherwise).
	Shared int
}

type graphEdge struct {
	From, To, Type string
	Current        bool
}

type graph struct {
	nodes []graphNode
	edges []graphEdge
}

// relationships builds the graph of shown names: A/AAAA to IPs, CNAME to
// names, NS to name servers, MX to mail servers. An edge is current when
// any finding behind it is. With neighbours, each shared-hosting address
// also links the sample of other registered domains seen on it (the
// neighbours of the shared-hosting table), so the HTML graph and the
// GraphML export show who the target shares a host with; the DOT and
// Mermaid pictures leave them out to stay readable.
func (m *model) relationships(neighbours bool) graph {
	roles := map[string]string{}
	setRole := func(n, r string) {
		// A name server or mail server role wins over a plain name.
		if old, ok := roles[n]; !ok || old == roleName || old == roleNeighbour {
			roles[n] = r
		}
	}
	type key struct{ from, to, typ string }
	edges := map[key]bool{}
	chain := m.cnameChains()
	for _, f := range m.findings {
		if !m.shown[f.Name] && !(chain[f.Name] && (f.Type == "CNAME" || f.Type == "A" || f.Type == "AAAA")) {
			continue
		}
		to, role, ok := relationOf(&f.Finding)
		if !ok {
			continue
		}
		setRole(f.Name, roleName)
		setRole(to, role)
		k := key{f.Name, to, f.Type}
		edges[k] = edges[k] || f.Current
	}
	sharedN := map[string]int{}
	for _, r := range m.shared {
		if r.Shared {
			sharedN[r.IP] = r.Domains
		}
	}
	if neighbours {
		sample := map[string]map[string]bool{} // IP -> its sampled neighbour domains
		for _, r := range m.shared {
			if _, ok := roles[r.IP]; !ok || !r.Shared {
				continue
			}
			sample[r.IP] = map[string]bool{}
			for _, d := range r.Sample {
				sample[r.IP][d] = true
			}
		}
		for _, f := range m.findings {
			if (f.Type != "A" && f.Type != "AAAA") || m.shown[f.Name] || sample[f.Value] == nil {
				continue
			}
			d := analysis.RegisteredDomain(f.Name)
			if !sample[f.Value][d] {
				continue
			}
			if _, ok := roles[d]; !ok {
				roles[d] = roleNeighbour
			}
			k := key{d, f.Value, f.Type}
			edges[k] = edges[k] || f.Current
		}
	}
	var g graph
	var names []string
	for n := range roles {
		names = append(names, n)
	}
	sort.Strings(names)
	ids := map[string]string{}
	index := map[string]int{}
	for i, n := range names {
		ids[n] = fmt.Sprintf("n%d", i)
		index[n] = i
		label := n
		if c, ok := sharedN[n]; ok {
			label = fmt.Sprintf("%s (shared: %d domains)", n, c)
		}
		g.nodes = append(g.nodes, graphNode{ID: ids[n], Key: n, Label: label, Role: roles[n], Shared: sharedN[n]})
	}
	for k, cur := range edges {
		g.edges = append(g.edges, graphEdge{From: ids[k.from], To: ids[k.to], Type: k.typ, Current: cur})
		if cur {
			g.nodes[index[k.from]].Current = true
			g.nodes[index[k.to]].Current = true
		}
	}
	sort.Slice(g.edges, func(i, j int) bool {
		a, b := g.edges[i], g.edges[j]
		if a.From != b.From {
			return idLess(a.From, b.From)
		}
		if a.To != b.To {
			return idLess(a.To, b.To)
		}
		return a.Type < b.Type
	})
	return g
}

// cnameChains are the names outside the shown ones that a shown name's
// CNAME leads to, directly or through other CNAMEs: the graph follows a
// chain to its end (the addresses of its last name), not one hop only.
func (m *model) cnameChains() map[string]bool {
	targets := map[string][]string{}
	for _, f := range m.findings {
		if f.Type == "CNAME" && f.Value != "" {
			targets[f.Name] = append(targets[f.Name], f.Value)
		}
	}
	chain := map[string]bool{}
	var queue []string
	for n := range m.shown {
		queue = append(queue, targets[n]...)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if chain[n] || m.shown[n] {
			continue
		}
		chain[n] = true
		queue = append(queue, targets[n]...)
	}
	return chain
}

// capped is the graph with at most max nodes: the key nodes first, then
// the best connected ones (ties by name), and the edges between those
// kept. Node ids stay as they were.
func (g graph) capped(max int, key func(graphNode) bool) graph {
	if len(g.nodes) <= max {
		return g
	}
	degree := map[string]int{}
	for _, e := range g.edges {
		degree[e.From]++
		degree[e.To]++
	}
	order := make([]int, len(g.nodes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := g.nodes[order[i]], g.nodes[order[j]]
		if ka, kb := key(a), key(b); ka != kb {
			return ka
		}
		return degree[a.ID] > degree[b.ID]
	})
	kept := map[string]bool{}
	for _, i := range order[:max] {
		kept[g.nodes[i].ID] = true
	}
	var out graph
	for _, n := range g.nodes {
		if kept[n.ID] {
			out.nodes = append(out.nodes, n)
		}
	}
	for _, e := range g.edges {
		if kept[e.From] && kept[e.To] {
			out.edges = append(out.edges, e)
		}
	}
	return out
}

// relationOf is the node a finding points at and that node's role: the
// address of an A or AAAA, the target of a CNAME, the server of an NS or
// MX. Other records (and a null MX) relate to nothing.
func relationOf(f *schema.Finding) (to, role string, ok bool) {
	switch f.Type {
	case "A", "AAAA":
		if _, err := netip.ParseAddr(f.Value); err != nil {
			return "", "", false
		}
		return f.Value, roleIP, true
	case "CNAME":
		return f.Value, roleName, f.Value != ""
	case "NS":
		return f.Value, roleNS, f.Value != ""
	case "MX":
		fields := strings.Fields(f.Value)
		if len(fields) == 0 || fields[len(fields)-1] == "" {
			return "", "", false
		}
		to = fields[len(fields)-1]
		if len(fields) == 1 && isDigits(fields[0]) || to == "." {
			return "", "", false // null MX ("0 ." once normalised): no mail server
		}
		return to, roleMX, true
	}
	return "", "", false
}

// idLess orders "n2" before "n10".
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

var dotStyle = map[string]string{
	roleName: `shape=box, style="rounded,filled", fillcolor="#f8fafc"`,
	roleIP:   `shape=ellipse, style=filled, fillcolor="#dbeafe"`,
	roleNS:   `shape=hexagon, style=filled, fillcolor="#dcfce7"`,
	roleMX:   `shape=box, style=filled, fillcolor="#fef3c7"`,
}

// dot writes the relationship graph in Graphviz DOT; historical
// relationships are dashed and grey.
func (m *model) dot(w io.Writer) error {
	g := m.relationships(false)
	o := &errWriter{w: w}
	o.printf("digraph reconform {\n")
	o.printf("  label=%s;\n  labelloc=t;\n", dotQuote("reconform: "+m.in.Engagement))
	o.printf("  graph [rankdir=LR, fontname=\"Helvetica\"];\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	for _, n := range g.nodes {
		o.printf("  %s [label=%s, %s];\n", n.ID, dotQuote(n.Label), dotStyle[n.Role])
	}
	for _, e := range g.edges {
		style := ""
		if !e.Current {
			style = `, style=dashed, color="#94a3b8", fontcolor="#94a3b8"`
		}
		o.printf("  %s -> %s [label=%s%s];\n", e.From, e.To, dotQuote(e.Type), style)
	}
	o.printf("}\n")
	return o.err
}

func mermaidLabel(s string) string {
	return `"` + strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ").Replace(s) + `"`
}

// mermaid writes the relationship graph as a Mermaid flowchart;
// historical relationships are dotted.
func (m *model) mermaid(w io.Writer) error {
	g := m.relationships(false)
	o := &errWriter{w: w}
	o.printf("flowchart LR\n")
	for _, n := range g.nodes {
		switch n.Role {
		case roleIP:
			o.printf("  %s([%s])\n", n.ID, mermaidLabel(n.Label))
		case roleNS:
			o.printf("  %s{{%s}}\n", n.ID, mermaidLabel(n.Label))
		case roleMX:
			o.printf("  %s[/%s/]\n", n.ID, mermaidLabel(n.Label))
		default:
			o.printf("  %s[%s]\n", n.ID, mermaidLabel(n.Label))
		}
	}
	for _, e := range g.edges {
		arrow := "-->"
		if !e.Current {
			arrow = "-.->"
		}
		o.printf("  %s %s|%s| %s\n", e.From, arrow, e.Type, e.To)
	}
	o.printf("  classDef ip fill:#dbeafe,stroke:#3b82f6\n  classDef ns fill:#dcfce7,stroke:#16a34a\n  classDef mx fill:#fef3c7,stroke:#d97706\n")
	for _, role := range []string{roleIP, roleNS, roleMX} {
		var ids []string
		for _, n := range g.nodes {
			if n.Role == role {
				ids = append(ids, n.ID)
			}
		}
		if len(ids) > 0 {
			o.printf("  class %s %s\n", strings.Join(ids, ","), role)
		}
	}
	return o.err
}
