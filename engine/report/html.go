package report

import (
	"html/template"
	"io"
	"sort"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// htmlMaxNames caps the names drawn in the timeline chart; the Markdown,
// JSON and CSV reports always hold everything.
const htmlMaxNames = 300

type driftLine struct {
	Sign  string // "+", "-" or "~"
	Text  string
	Spans []diff.Span
}

type driftSection struct {
	Title string
	Lines []driftLine
}

type driftView struct {
	Summary    string
	Weakenings []string
	Sections   []driftSection
	Unverified [][2]string
}

type htmlPage struct {
	*model
	Title     string
	Generated string
	Finished  string
	Chart     template.HTML
	Recent    template.HTML
	ChartCut  int
	Moves     []htmlMove
	Drift     *driftView
	Failed    [][3]string
}

type htmlMove struct {
	When, Name, Type, From, To string
}

func findingText(f *schema.Finding) string {
	if f.Value == "" {
		return f.Name + " " + f.Type
	}
	return f.Name + " " + f.Type + " " + f.Value
}

func buildDriftView(r *diff.Result) *driftView {
	if r == nil {
		return nil
	}
	v := &driftView{Summary: r.Summary()}
	for _, c := range r.FactsChanged {
		if c.Weakening {
			v.Weakenings = append(v.Weakenings, c.Subject+" "+c.Kind+" weakened: "+c.Old+" → "+c.New)
		}
	}
	add := func(title, sign string, fs []*state.Finding) {
		if len(fs) == 0 {
			return
		}
		s := driftSection{Title: title}
		for _, f := range fs {
			s.Lines = append(s.Lines, driftLine{Sign: sign, Text: findingText(&f.Finding)})
		}
		v.Sections = append(v.Sections, s)
	}
	add("Added", "+", r.Added)
	add("Removed", "-", r.Removed)
	if len(r.Changed) > 0 {
		s := driftSection{Title: "Changed"}
		for _, c := range r.Changed {
			s.Lines = append(s.Lines, driftLine{Sign: "-", Text: findingText(&c.Old.Finding)}, driftLine{Sign: "+", Text: findingText(&c.New.Finding)})
			if len(c.Text) > 0 {
				s.Lines = append(s.Lines, driftLine{Sign: "~", Text: c.Name + " " + c.Type, Spans: c.Text})
			}
		}
		v.Sections = append(v.Sections, s)
	}
	add("Became current", "+", r.BecameCurrent)
	add("Went historical", "-", r.WentHistorical)
	if n := len(r.FactsAdded) + len(r.FactsRemoved) + len(r.FactsChanged); n > 0 {
		s := driftSection{Title: "Facts"}
		for _, f := range r.FactsAdded {
			s.Lines = append(s.Lines, driftLine{Sign: "+", Text: f.Subject + " " + f.Kind + " = " + f.Value})
		}
		for _, f := range r.FactsRemoved {
			s.Lines = append(s.Lines, driftLine{Sign: "-", Text: f.Subject + " " + f.Kind + " = " + f.Value})
		}
		for _, c := range r.FactsChanged {
			s.Lines = append(s.Lines, driftLine{Sign: "-", Text: c.Subject + " " + c.Kind + " = " + c.Old}, driftLine{Sign: "+", Text: c.Subject + " " + c.Kind + " = " + c.New})
		}
		v.Sections = append(v.Sections, s)
	}
	for _, f := range r.Unverified {
		v.Unverified = append(v.Unverified, [2]string{findingText(&f.Finding), f.Unverified})
	}
	return v
}

func (m *model) html(w io.Writer) error {
	p := htmlPage{model: m, Title: "reconform report", Generated: stamp(m.in.GeneratedAt), Finished: stamp(m.in.RunFinished)}
	if m.in.Engagement != "" {
		p.Title += ": " + m.in.Engagement
	}
	tls := m.timeline
	if len(tls) > htmlMaxNames {
		p.ChartCut = len(tls) - htmlMaxNames
		tls = tls[:htmlMaxNames]
	}
	var cut int
	p.Chart, cut = timelineSVG(tls, time.Time{})
	p.ChartCut += cut
	// A long history squeezes this year's moves against the right edge:
	// the last twelve months get a chart of their own.
	if first, last := span(tls); last.Sub(first) > 2*365*24*time.Hour {
		p.Recent, _ = timelineSVG(tls, last.AddDate(-1, 0, 0))
	}
	for _, tl := range m.timeline {
		for _, mv := range analysis.GroupMoves(tl.Moves) {
			p.Moves = append(p.Moves, htmlMove{When: day(mv.At), Name: tl.Name, Type: mv.Type, From: mv.From, To: mv.To})
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
	p.Drift = buildDriftView(m.in.Drift)
	p.Failed = m.failedInstances()
	return pageTemplate.Execute(w, p)
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
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reconform">
<title>{{.Title}}</title>
<style>
:root { --fg: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #ffffff; --warn: #b45309; --bad: #dc2626; --good: #15803d; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 18px 0 6px; }
.meta, .muted { color: var(--muted); }
.toc { margin: 6px 0 0; font-size: 13px; }
.toc a { color: #2563eb; text-decoration: none; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; background: #f8fafc; }
code, .mono { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 130px; }
.card b { display: block; font-size: 20px; }
.warn { border-left: 4px solid var(--warn); background: #fffbeb; padding: 8px 12px; margin: 10px 0; }
.warn li { margin: 2px 0; }
.alert { border-left: 4px solid var(--bad); background: #fef2f2; padding: 8px 12px; margin: 10px 0; font-weight: 600; }
.cur { color: var(--good); font-weight: 600; }
.hist { color: var(--muted); }
.yes { color: var(--bad); font-weight: 600; }
.chart { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; padding: 6px; }
svg.timeline text { font: 11px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; fill: #334155; }
svg.timeline text.nm { font-weight: 700; fill: #0f172a; }
svg.timeline text.ax { fill: #64748b; }
svg.timeline tspan.rt { fill: #64748b; }
svg.timeline line.tick { stroke: #e2e8f0; }
svg.timeline line.sep { stroke: #cbd5e1; }
svg.timeline path.mv { fill: none; stroke: #dc2626; stroke-width: 1.5; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 18px; height: 8px; border-radius: 2px; margin-right: 4px; vertical-align: middle; }
pre.drift { background: #f8fafc; border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow-x: auto; }
pre.drift .add { color: var(--good); }
pre.drift .del { color: var(--bad); }
pre.drift ins { background: #dcfce7; text-decoration: none; }
pre.drift del { background: #fee2e2; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="meta">State serial {{.In.Serial}}, last run finished {{.Finished}}; report generated {{.Generated}}.</p>
<nav class="toc"><a href="#summary">Summary</a> · <a href="#profile">Profile</a> · <a href="#saas">SaaS</a> · <a href="#hosted">Hosted services</a> · <a href="#timeline">Timeline</a> · <a href="#ranges">IP ranges</a> · <a href="#shared">Shared hosting</a> · <a href="#related">Correlation</a> · <a href="#drift">Drift</a></nav>

<h2 id="summary">Summary</h2>
<div class="cards">
<div class="card"><b>{{.Sum.Findings}}</b>findings</div>
<div class="card"><b>{{.Sum.Current}}</b>current</div>
<div class="card"><b>{{.Sum.Historical}}</b>historical</div>
<div class="card"><b>{{.Sum.Unverified}}</b>unverified</div>
<div class="card"><b>{{.Sum.Names}}</b>names</div>
<div class="card"><b>{{.Sum.IPs}}</b>IPs in {{.Sum.Ranges}} ranges</div>
<div class="card"><b>{{.Sum.Moves}}</b>moves</div>
</div>
{{if .Sum.Instances}}<p class="muted">Query instances: {{counts .Sum.Instances}}.</p>{{end}}
{{if .Warn}}<div class="warn"><b>Worth a look</b><ul>{{range .Warn}}<li>{{.}}</li>{{end}}</ul></div>{{end}}

<h2 id="profile">Technology profile</h2>
{{if .Prof}}<table>
<tr><th>Domain</th><th>Mail</th><th>DNS</th><th>SPF</th><th>DMARC</th><th>SaaS</th></tr>
{{range .Prof}}<tr><td><code>{{.Domain}}</code></td><td>{{providers .Mail .MailPast}}{{if .MX}}<br><span class="muted mono">{{range $i, $v := .MX}}{{if $i}}, {{end}}{{$v}}{{end}}</span>{{end}}</td><td>{{providers .DNS .DNSPast}}{{if .NS}}<br><span class="muted mono">{{range $i, $v := .NS}}{{if $i}}, {{end}}{{$v}}{{end}}</span>{{end}}</td><td>{{spfCell .}}{{if .SPFIncludes}}<br><span class="muted mono">{{range $i, $v := .SPFIncludes}}{{if $i}}, {{end}}{{$v}}{{end}}</span>{{end}}{{if .Senders}}<br>sends via {{range $i, $v := .Senders}}{{if $i}}, {{end}}{{$v}}{{end}}{{end}}</td><td>{{dmarcCell .}}{{if .DMARCReports}}<br><span class="muted mono">{{range $i, $v := .DMARCReports}}{{if $i}}, {{end}}{{$v}}{{end}}</span>{{end}}</td><td>{{providers .SaaS .SaaSPast}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No mail, DNS, SPF, DMARC or SaaS facts.</p>{{end}}

<h2 id="saas">SaaS verification tokens</h2>
{{if .SaaSRows}}<table>
<tr><th>Subject</th><th>Service</th><th>Status</th><th>Token</th></tr>
{{range .SaaSRows}}<tr><td><code>{{.Subject}}</code></td><td>{{.Service}}</td><td>{{if .Current}}<span class="cur">current</span>{{else}}<span class="hist">historical</span>{{end}}</td><td><code>{{.Token}}</code>{{if .Record}} at <code>{{.Record}}</code>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">None found.</p>{{end}}

<h2 id="hosted">Hosted services</h2>
{{if .Hosted}}<table>
<tr><th>Name</th><th>Service</th><th>CNAME target</th><th>Status</th></tr>
{{range .Hosted}}<tr><td><code>{{.Name}}</code></td><td>{{.Service}}</td><td><code>{{.Target}}</code></td><td>{{if .Current}}<span class="cur">current</span>{{else}}<span class="hist">historical</span>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No name points at a known hosting or SaaS service.</p>{{end}}

<h2 id="timeline">Timeline</h2>
<p class="legend"><span><i style="background:#2563eb"></i>A</span><span><i style="background:#4f46e5"></i>AAAA</span><span><i style="background:#0d9488"></i>CNAME</span><span><i style="background:#d97706"></i>MX</span><span><i style="background:#16a34a"></i>NS</span><span><i style="background:#9333ea"></i>TXT</span><span><i style="background:#2563eb;opacity:.35"></i>historical</span><span><i style="background:#dc2626;height:2px"></i>move</span></p>
{{if .Recent}}<h3>Last twelve months</h3>
<div class="chart">{{.Recent}}</div>
<h3>Whole history</h3>{{end}}
{{if .TL}}<div class="chart">{{.Chart}}</div>{{if .ChartCut}}<p class="muted">{{.ChartCut}} more names are in the JSON and Markdown reports.</p>{{end}}{{else}}<p class="muted">No records.</p>{{end}}
{{if .HostsOnly}}<p>Names known to exist with no record seen: <span class="mono">{{range $i, $v := .HostsOnly}}{{if $i}}, {{end}}{{$v}}{{end}}</span></p>{{end}}
{{if .Moves}}<h3>Moves</h3>
<table><tr><th>When</th><th>Name</th><th>Type</th><th>From</th><th>To</th></tr>
{{range .Moves}}<tr><td>{{.When}}</td><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td><code>{{.From}}</code></td><td><code>{{.To}}</code></td></tr>
{{end}}</table>{{end}}

<h2 id="ranges">IP ranges</h2>
{{if .Ranges}}<table>
<tr><th>Range</th><th>Addresses</th><th>AS</th></tr>
{{range .Ranges}}<tr><td><code>{{.Prefix}}</code></td><td class="mono">{{range $i, $v := .IPs}}{{if $i}}, {{end}}{{$v}}{{end}}</td><td>{{range $i, $v := .ASNs}}{{if $i}}, {{end}}{{$v}}{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No addresses.</p>{{end}}
{{if .ByAS}}<h3>By AS</h3>
<table>
<tr><th>AS</th><th>Ranges</th><th>Addresses</th></tr>
{{range .ByAS}}<tr><td>{{.AS}}</td><td class="mono">{{range $i, $v := .Ranges}}{{if $i}}, {{end}}{{$v}}{{end}}</td><td>{{.IPs}}</td></tr>
{{end}}</table>{{end}}

<h2 id="shared">Shared hosting</h2>
{{if .Shared}}<table>
<tr><th>IP</th><th>Registered domains</th><th>Not ours</th><th>Shared hosting</th><th>Our names</th><th>Neighbours (sample)</th></tr>
{{range .Shared}}<tr><td><code>{{.IP}}</code></td><td>{{.Domains}}</td><td>{{.Others}}</td><td>{{if .Shared}}<span class="yes">yes</span>{{else}}no{{end}}</td><td class="mono">{{range $i, $v := .Ours}}{{if $i}}, {{end}}{{$v}}{{end}}</td><td class="mono">{{range $i, $v := .Sample}}{{if $i}}, {{end}}{{$v}}{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No address hosts more than one registered domain.</p>{{end}}

{{if .Verified}}<h2 id="live">Live DNS verification</h2>
<p>{{.Verified}} known records checked against live DNS; {{len .Gone}} no longer resolve.</p>
{{if .Gone}}<ul class="mono">{{range .Gone}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}

<h2 id="related">Name-server and mail correlation</h2>
{{if .Related}}<table>
<tr><th>Server</th><th>Type</th><th>Our domains</th><th>Other domains</th></tr>
{{range .Related}}<tr><td><code>{{.Server}}</code></td><td>{{.Type}}</td><td class="mono">{{range $i, $v := .Ours}}{{if $i}}, {{end}}{{$v}}{{end}}</td><td class="mono">{{range $i, $v := .Others}}{{if $i}}, {{end}}{{$v}}{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">No other domain is known to share the target's name servers or mail servers.</p>{{end}}

<h2 id="drift">Drift since the previous state</h2>
{{with .Drift}}<p><b>{{.Summary}}</b></p>
{{range .Weakenings}}<div class="alert">{{.}}</div>{{end}}
{{range .Sections}}<h3>{{.Title}}</h3>
<pre class="drift">{{range .Lines}}{{if eq .Sign "+"}}<span class="add">+ {{.Text}}</span>{{else if eq .Sign "-"}}<span class="del">- {{.Text}}</span>{{else}}  {{range .Spans}}{{if eq .Op "insert"}}<ins>{{.Text}}</ins>{{else if eq .Op "delete"}}<del>{{.Text}}</del>{{else}}{{.Text}}{{end}}{{end}}{{end}}
{{end}}</pre>
{{end}}
{{if .Unverified}}<h3>Unverified (kept, not removed)</h3>
<table><tr><th>Finding</th><th>Why</th></tr>{{range .Unverified}}<tr><td><code>{{index . 0}}</code></td><td>{{index . 1}}</td></tr>{{end}}</table>{{end}}
{{else}}<p class="muted">No previous state to compare with.</p>{{end}}
{{if .Failed}}
<h2 id="failed">Queries that did not complete</h2>
<table><tr><th>Query</th><th>Status</th><th>Why</th></tr>
{{range .Failed}}<tr><td><code>{{index . 0}}</code></td><td>{{index . 1}}</td><td>{{index . 2}}</td></tr>
{{end}}</table>{{end}}
</body>
</html>
`

// Accessors the template uses (the model's fields are unexported).

func (p htmlPage) In() Input                   { return p.model.in }
func (p htmlPage) Sum() Summary                { return p.model.summary }
func (p htmlPage) Warn() []string              { return p.model.warnings }
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
