package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// The HTML report is one file: the page template, its stylesheet and
// script, and the vendored graph library, all embedded in the binary and
// inlined into the page, which loads nothing from anywhere (its
// Content-Security-Policy says so to the browser as well).
var (
	//go:embed assets/report.html.tmpl
	pageHTML string
	//go:embed assets/report.css
	pageCSS string
	//go:embed assets/report.js
	pageJS string
	//go:embed assets/cytoscape/cytoscape.min.js
	cytoscapeJS string
)

// cytoscapeVersion is the vendored library's version, named in the page.
const cytoscapeVersion = "3.34.4"

const (
	// htmlMaxNames caps the names drawn in the timeline; the Markdown,
	// JSON and CSV reports always hold everything.
	htmlMaxNames = 300
	// htmlMaxRecords caps the rows of the records table.
	htmlMaxRecords = 5000
	// htmlMaxNodes caps the nodes of the interactive graph, which a
	// browser lays out and draws; the GraphML export holds them all.
	htmlMaxNodes = 2000
)

type htmlPage struct {
	*model
	Title     string
	Generated string
	Finished  string
	CSP       string
	CSS       template.CSS
	Data      template.JS
	Library   template.JS
	Script    template.JS
	LibVer    string
	Moves     []htmlMove
	Records   []htmlRecord
	RecCut    int
	TLCut     int
	Drift     *driftView
	Failed    []htmlFailed
	Graph     graph
	// GraphCut is how many nodes the page's graph leaves out.
	GraphCut int
}

type htmlMove struct {
	When, Name, Type, From, To, Keys string
}

type htmlRecord struct {
	Name, Type, Value, First, Last, Sources, Status, Why, Keys string
	Count                                                      int64
}

type htmlFailed struct {
	Key, Status, Why, Keys string
}

// driftRow is one line of the drift table.
type driftRow struct {
	Class   string // add, del, chg, cur, hist, fact
	Label   string // "added", "fact changed", ...
	Subject string
	What    string // record type or fact kind
	Old     string
	New     string
	Spans   []diff.Span
	Weak    bool
	Keys    string
}

type driftView struct {
	Summary    string
	Counts     []driftCount
	Rows       []driftRow
	Unverified [][3]string // finding, why, keys
}

type driftCount struct {
	Class, Label string
	N            int
}

func findingText(f *schema.Finding) string {
	if f.Value == "" {
		return f.Name + " " + f.Type
	}
	return f.Name + " " + f.Type + " " + f.Value
}

// keysOf are the graph nodes a finding concerns: its name and what it
// points at. Clicking a node shows the rows whose keys hold it.
func keysOf(f *schema.Finding) string {
	if to, _, ok := relationOf(f); ok && to != f.Name {
		return f.Name + " " + to
	}
	return f.Name
}

func buildDriftView(r *diff.Result) *driftView {
	if r == nil {
		return nil
	}
	v := &driftView{Summary: r.Summary()}
	count := func(class, label string, n int) {
		if n > 0 {
			v.Counts = append(v.Counts, driftCount{class, label, n})
		}
	}
	count("add", "added", len(r.Added))
	count("del", "removed", len(r.Removed))
	count("chg", "changed", len(r.Changed))
	count("cur", "became current", len(r.BecameCurrent))
	count("hist", "went historical", len(r.WentHistorical))
	count("fact", "fact changes", len(r.FactsAdded)+len(r.FactsRemoved)+len(r.FactsChanged))
	count("weak", "weakenings", r.Weakenings())
	count("unv", "unverified", len(r.Unverified))

	// Weakenings first: they are what a reader must not miss.
	for _, c := range r.FactsChanged {
		if c.Weakening {
			v.Rows = append(v.Rows, driftRow{Class: "weak", Label: "weakened", Subject: c.Subject, What: c.Kind, Old: c.Old, New: c.New, Weak: true, Keys: c.Subject})
		}
	}
	add := func(class, label string, fs []*state.Finding) {
		for _, f := range fs {
			v.Rows = append(v.Rows, driftRow{Class: class, Label: label, Subject: f.Name, What: f.Type, New: f.Value, Keys: keysOf(&f.Finding)})
		}
	}
	add("add", "added", r.Added)
	for _, c := range r.Changed {
		row := driftRow{Class: "chg", Label: "changed", Subject: c.Name, What: c.Type, Old: c.Old.Value, New: c.New.Value,
			Spans: c.Text, Keys: keysOf(&c.Old.Finding) + " " + keysOf(&c.New.Finding)}
		v.Rows = append(v.Rows, row)
	}
	add("del", "removed", r.Removed)
	add("cur", "became current", r.BecameCurrent)
	add("hist", "went historical", r.WentHistorical)
	add("hist", "forgotten", r.Forgotten)
	for _, f := range r.FactsAdded {
		v.Rows = append(v.Rows, driftRow{Class: "fact", Label: "fact added", Subject: f.Subject, What: f.Kind, New: f.Value, Keys: f.Subject})
	}
	for _, f := range r.FactsRemoved {
		v.Rows = append(v.Rows, driftRow{Class: "fact", Label: "fact removed", Subject: f.Subject, What: f.Kind, Old: f.Value, Keys: f.Subject})
	}
	for _, c := range r.FactsChanged {
		if !c.Weakening {
			v.Rows = append(v.Rows, driftRow{Class: "fact", Label: "fact changed", Subject: c.Subject, What: c.Kind, Old: c.Old, New: c.New, Keys: c.Subject})
		}
	}
	for _, f := range r.Unverified {
		v.Unverified = append(v.Unverified, [3]string{findingText(&f.Finding), f.Unverified, keysOf(&f.Finding)})
	}
	return v
}

// htmlData is what the page's script draws: the relationship graph and
// the timeline. Times are RFC 3339 strings ("" when unknown).
type htmlData struct {
	Graph    htmlGraph    `json:"graph"`
	Timeline []htmlTLName `json:"timeline"`
	// Span is the first and last observation of the timeline; Now is when
	// the run finished.
	Span [2]string `json:"span"`
	Now  string    `json:"now"`
}

type htmlGraph struct {
	Nodes []htmlNode `json:"nodes"`
	Edges []htmlEdge `json:"edges"`
}

type htmlNode struct {
	ID      string `json:"id"` // the name or address: what the tables' keys hold
	Label   string `json:"label"`
	Role    string `json:"role"`
	Current bool   `json:"current"`
	Shared  int    `json:"shared,omitempty"`
	// Parent is the nearest node above this name in the DNS tree, under the
	// same registered domain: the page draws that link faintly, so that a
	// domain's names stay together in the layout.
	Parent string `json:"parent,omitempty"`
	// Key marks the nodes a large graph labels at every zoom: the
	// registered domains of the target, name and mail servers, shared
	// hosting.
	Key bool `json:"key,omitempty"`
}

type htmlEdge struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Target  string `json:"target"`
	Type    string `json:"type"`
	Current bool   `json:"current"`
}

// htmlTLName is one name's rows: records as [type, value, first, last,
// "1" when current] and moves as [type, from, to, at].
type htmlTLName struct {
	Name    string      `json:"n"`
	Records [][5]string `json:"r"`
	Moves   [][4]string `json:"m,omitempty"`
}

func jsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (m *model) htmlData(g graph, tls []analysis.NameTimeline) htmlData {
	d := htmlData{Now: jsTime(m.in.RunFinished), Graph: htmlGraph{Nodes: []htmlNode{}, Edges: []htmlEdge{}}, Timeline: []htmlTLName{}}
	keys := map[string]string{}
	present := map[string]bool{}
	for _, n := range g.nodes {
		keys[n.ID] = n.Key
		present[n.Key] = n.Role != roleIP
	}
	for _, n := range g.nodes {
		hn := htmlNode{ID: n.Key, Label: n.Key, Role: n.Role, Current: n.Current, Shared: n.Shared, Key: m.keyNode(n)}
		if n.Role != roleIP {
			hn.Parent = parentNode(n.Key, present)
		}
		d.Graph.Nodes = append(d.Graph.Nodes, hn)
	}
	for _, e := range g.edges {
		from, to := keys[e.From], keys[e.To]
		d.Graph.Edges = append(d.Graph.Edges, htmlEdge{ID: from + " " + e.Type + " " + to, Source: from, Target: to, Type: e.Type, Current: e.Current})
	}
	first, last := span(tls)
	d.Span = [2]string{jsTime(first), jsTime(last)}
	for _, tl := range tls {
		n := htmlTLName{Name: tl.Name}
		for _, r := range tl.Records {
			cur := ""
			if r.Current {
				cur = "1"
			}
			n.Records = append(n.Records, [5]string{r.Type, r.Value, jsTime(r.FirstSeen), jsTime(r.LastSeen), cur})
		}
		for _, mv := range tl.Moves {
			n.Moves = append(n.Moves, [4]string{mv.Type, mv.From, mv.To, jsTime(mv.At)})
		}
		d.Timeline = append(d.Timeline, n)
	}
	return d
}

// keyNode reports whether a graph node is one a reader looks for first:
// a registered domain of the target, a name or mail server, shared
// hosting.
func (m *model) keyNode(n graphNode) bool {
	return n.Shared > 0 || n.Role == roleNS || n.Role == roleMX ||
		n.Role == roleName && m.shown[n.Key] && analysis.RegisteredDomain(n.Key) == n.Key
}

// parentNode is the nearest name above name that is a node, without
// leaving name's registered domain; "" when there is none.
func parentNode(name string, present map[string]bool) string {
	top := analysis.RegisteredDomain(name)
	for p := name; p != top; {
		_, rest, ok := strings.Cut(p, ".")
		if !ok || len(rest) < len(top) {
			return ""
		}
		if present[rest] {
			return rest
		}
		p = rest
	}
	return ""
}

func (m *model) html(w io.Writer) error {
	p := htmlPage{model: m, Title: "reconform report", Generated: stamp(m.in.GeneratedAt), Finished: stamp(m.in.RunFinished),
		CSS: template.CSS(pageCSS), Library: template.JS(cytoscapeJS), Script: template.JS(pageJS), LibVer: cytoscapeVersion}
	if m.in.Engagement != "" {
		p.Title += ": " + m.in.Engagement
	}
	tls := m.timeline
	if len(tls) > htmlMaxNames {
		p.TLCut = len(tls) - htmlMaxNames
		tls = tls[:htmlMaxNames]
	}
	p.Graph = m.relationships(true)
	p.GraphCut = len(p.Graph.nodes)
	p.Graph = p.Graph.capped(htmlMaxNodes, func(n graphNode) bool { return m.keyNode(n) })
	p.GraphCut -= len(p.Graph.nodes)
	data, err := json.Marshal(m.htmlData(p.Graph, tls)) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	p.Data = template.JS(data)
	p.CSP = "default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src " + scriptHash(cytoscapeJS) + " " + scriptHash(pageJS) + "; base-uri 'none'; form-action 'none'"

	for _, tl := range m.timeline {
		for _, mv := range analysis.GroupMoves(tl.Moves) {
			p.Moves = append(p.Moves, htmlMove{When: day(mv.At), Name: tl.Name, Type: mv.Type, From: mv.From, To: mv.To,
				Keys: tl.Name + " " + strings.ReplaceAll(mv.From+" "+mv.To, ",", "")})
		}
	}
	sort.SliceStable(p.Moves, func(i, j int) bool {
		a, b := p.Moves[i], p.Moves[j]
		if a.When != b.When {
			return a.When < b.When
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Type+a.From < b.Type+b.From
	})
	for _, f := range m.findings {
		if !m.shown[f.Name] {
			continue
		}
		if len(p.Records) == htmlMaxRecords {
			p.RecCut++
			continue
		}
		status := currency(f.Current)
		if f.Unverified != "" {
			status = "unverified"
		}
		p.Records = append(p.Records, htmlRecord{Name: f.Name, Type: f.Type, Value: f.Value, First: day(f.FirstSeen), Last: day(f.LastSeen),
			Count: f.Count, Sources: strings.Join(f.Sources, ", "), Status: status, Why: f.Unverified, Keys: keysOf(&f.Finding)})
	}
	p.Drift = buildDriftView(m.in.Drift)
	for _, f := range m.failedInstances() {
		keys := ""
		if fields := strings.Fields(f[0]); len(fields) >= 3 {
			keys = fields[2]
		}
		p.Failed = append(p.Failed, htmlFailed{Key: f[0], Status: f[1], Why: f[2], Keys: keys})
	}
	return pageTemplate.Execute(w, p)
}

// scriptHash is the CSP source that allows exactly this inline script.
func scriptHash(js string) string {
	sum := sha256.Sum256([]byte(js))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// span returns the first and last observation in the timelines.
func span(tls []analysis.NameTimeline) (first, last time.Time) {
	for _, tl := range tls {
		for _, r := range tl.Records {
			if !r.FirstSeen.IsZero() && (first.IsZero() || r.FirstSeen.Before(first)) {
				first = r.FirstSeen
			}
			if r.LastSeen.After(last) {
				last = r.LastSeen
			}
			if r.FirstSeen.After(last) {
				last = r.FirstSeen
			}
		}
	}
	return first, last
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"providers": providers,
	"spfCell":   spfCell,
	"dmarcCell": dmarcCell,
	"orNone":    orNone,
	"counts":    countsLine,
	"day":       day,
	"join":      strings.Join,
	"joinKeys": func(parts ...any) string {
		var out []string
		for _, p := range parts {
			switch v := p.(type) {
			case string:
				out = append(out, v)
			case []string:
				out = append(out, v...)
			}
		}
		return strings.Join(out, " ")
	},
	"currency": currency,
}).Parse(pageHTML))

// Accessors the template uses (the model's fields are unexported).

func (p htmlPage) In() Input                   { return p.model.in }
func (p htmlPage) Sum() Summary                { return p.model.summary }
func (p htmlPage) Attn() attention             { return p.model.attention }
func (p htmlPage) Prof() []Profile             { return p.model.profiles }
func (p htmlPage) SaaSRows() []SaaSRow         { return p.model.saas }
func (p htmlPage) TL() []analysis.NameTimeline { return p.model.timeline }
func (p htmlPage) Ranges() []RangeRow          { return p.model.ranges }
func (p htmlPage) ByAS() []ASRow               { return p.model.byAS }
func (p htmlPage) Shared() []SharedRow         { return p.model.shared }
func (p htmlPage) Related() []RelatedRow       { return p.model.related }
func (p htmlPage) Verified() int               { return p.model.verified }
func (p htmlPage) Gone() []string              { return p.model.gone }
func (p htmlPage) HostsOnly() []string         { return p.model.hostsOnly }
func (p htmlPage) Hosted() []HostedRow         { return p.model.hosted }
func (p htmlPage) Nodes() int                  { return len(p.Graph.nodes) }
func (p htmlPage) Edges() int                  { return len(p.Graph.edges) }
