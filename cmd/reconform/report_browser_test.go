package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// browserPath finds Debian's chromium (which .ci/run installs). In CI
// (CI=true) a missing browser fails the test; elsewhere it skips.
func browserPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install chromium)")
	}
	t.Skip("skipping the browser test: chromium is not installed (apt-get install chromium)")
	return ""
}

// artifactDir is where the browser test keeps its screenshots:
// $RECONFORM_ARTIFACTS, or reconform-artifacts in the temporary folder.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RECONFORM_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "reconform-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts a headless chromium with a fresh profile and the flags
// that keep it off the network.
func newBrowser(t *testing.T, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browserPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// pageLog collects what the page said on the console and every request it
// made.
type pageLog struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (l *pageLog) listen(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Listen(ctx, func(ev any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			l.requests = append(l.requests, e.Request.URL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				l.mu.Lock()
				l.problems = append(l.problems, fmt.Sprintf("%.300s", m.String()))
				l.mu.Unlock()
			}
		}
	}()
}

func (l *pageLog) report() (problems, requests []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.problems), slices.Clone(l.requests)
}

// check fails the test on anything the page logged as an error or warning,
// and on any request but the page itself (and the picture of the graph it
// makes for print): the report must be self-contained.
func (l *pageLog) check(t *testing.T, pageURL string) {
	t.Helper()
	problems, requests := l.report()
	if len(problems) > 0 {
		t.Errorf("the page logged errors or warnings:\n%s", strings.Join(problems, "\n"))
	}
	for _, r := range requests {
		if r != pageURL && !strings.HasPrefix(r, "data:") && !strings.HasPrefix(r, "blob:") {
			t.Errorf("the page loaded %.200s: the report must be self-contained", r)
		}
	}
}

// openReport opens an HTML report and waits until its script has drawn
// the graph and the timeline; it returns the page's URL and its log.
func openReport(t *testing.T, ctx context.Context, path string) (string, *pageLog) {
	t.Helper()
	pageURL := (&url.URL{Scheme: "file", Path: path}).String()
	log := &pageLog{}
	log.listen(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.reconform && window.reconform.cy && document.querySelectorAll(".tl-bar").length > 0`)); err != nil {
		t.Fatalf("the report's script did not draw the graph and timeline: %v", err)
	}
	return pageURL, log
}

// checkTimelineLabels zooms the timeline to each span (days, or "all")
// and fails on a label cut off: an axis label outside the axis, a row's
// label wider than its column.
func checkTimelineLabels(t *testing.T, ctx context.Context, spans ...string) {
	t.Helper()
	for _, span := range spans {
		cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			document.querySelector('#tl-tools [data-span="`+span+`"]').click();
			const axis = document.querySelector(".tl-ticks").getBoundingClientRect();
			const out = [];
			for (const l of document.querySelectorAll(".tl-tick")) { const b = l.getBoundingClientRect();
				if (b.left < axis.left - 0.5 || b.right > axis.right + 0.5) out.push("tick " + l.textContent); }
			for (const l of document.querySelectorAll(".tl-label")) { if (l.scrollWidth > l.clientWidth + 1) out.push("label " + l.textContent); }
			return out.slice(0, 10); })()`))
		if err != nil || len(cut) > 0 {
			t.Errorf("timeline at span %s: labels cut off: %q (%v)", span, cut, err)
		}
	}
}

// saveShots takes the screenshots (or prints) and keeps them in the
// artifact folder.
func saveShots(t *testing.T, ctx context.Context, shots map[string]chromedp.Action[[]byte]) {
	t.Helper()
	out := artifactDir(t)
	for name, action := range shots {
		b, err := chromedp.Run(ctx, action)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", out)
}

type browserNode struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Current int    `json:"current"`
}

type browserEdge struct {
	Source  string `json:"source"`
	Target  string `json:"target"`
	Type    string `json:"type"`
	Current int    `json:"current"`
}

// graphMLOf reads the nodes ("name role") and edges ("from TYPE to") of a
// GraphML export.
func graphMLOf(t *testing.T, data string) (nodes, edges []string) {
	t.Helper()
	var doc struct {
		Graph struct {
			Nodes []struct {
				ID   string `xml:"id,attr"`
				Data []struct {
					Key   string `xml:"key,attr"`
					Value string `xml:",chardata"`
				} `xml:"data"`
			} `xml:"node"`
			Edges []struct {
				Source string `xml:"source,attr"`
				Target string `xml:"target,attr"`
				Label  string `xml:"label,attr"`
			} `xml:"edge"`
		} `xml:"graph"`
	}
	if err := xml.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, n := range doc.Graph.Nodes {
		var name, role string
		for _, d := range n.Data {
			switch d.Key {
			case "name":
				name = d.Value
			case "role":
				role = d.Value
			}
		}
		names[n.ID] = name
		nodes = append(nodes, name+" "+role)
	}
	for _, e := range doc.Graph.Edges {
		edges = append(edges, names[e.Source]+" "+e.Label+" "+names[e.Target])
	}
	slices.Sort(nodes)
	slices.Sort(edges)
	return nodes, edges
}

// TestReportInBrowser opens the quickstart's HTML report in headless
// chromium: the page logs no error and loads nothing, the relationship
// graph holds the nodes and edges of the GraphML export of the same state
// (and the quickstart's known ones), a table filter and a click on a node
// narrow the tables, and screenshots of the page, its graph and its
// timeline are kept in the artifact folder (artifactDir).
func TestReportInBrowser(t *testing.T) {
	ctx := newBrowser(t, 1360, 1000)
	dir := quickstartRuns(t)
	for _, f := range [][2]string{{"html", "report.html"}, {"graphml", "report.graphml"}} {
		if r := runCLI(t, dir, reportEnv, "report", "-format", f[0], "-out", f[1], "-var", "snapshot=2"); r.Code != exitOK {
			t.Fatalf("report -format %s: exit %d\n%s", f[0], r.Code, r.Stderr)
		}
	}
	pageURL, log := openReport(t, ctx, filepath.Join(dir, "report.html"))

	// The graph: the same nodes and relationships as the GraphML export.
	nodes, err := chromedp.Run(ctx, chromedp.Evaluate[[]browserNode](`reconform.cy.nodes().map(n => ({id: n.id(), role: n.data("role"), current: n.data("current")}))`))
	if err != nil {
		t.Fatal(err)
	}
	edges, err := chromedp.Run(ctx, chromedp.Evaluate[[]browserEdge](`reconform.cy.edges().not(".under").map(e => ({source: e.data("source"), target: e.data("target"), type: e.data("type"), current: e.data("current")}))`))
	if err != nil {
		t.Fatal(err)
	}
	var gotNodes, gotEdges []string
	roles := map[string]string{}
	for _, n := range nodes {
		gotNodes = append(gotNodes, n.ID+" "+n.Role)
		roles[n.ID] = n.Role
	}
	current := map[string]bool{}
	for _, e := range edges {
		key := e.Source + " " + e.Type + " " + e.Target
		gotEdges = append(gotEdges, key)
		current[key] = e.Current == 1
	}
	slices.Sort(gotNodes)
	slices.Sort(gotEdges)
	graphML, err := os.ReadFile(filepath.Join(dir, "report.graphml"))
	if err != nil {
		t.Fatal(err)
	}
	wantNodes, wantEdges := graphMLOf(t, string(graphML))
	if !slices.Equal(gotNodes, wantNodes) {
		t.Errorf("graph nodes differ from the GraphML export:\n got %q\nwant %q", gotNodes, wantNodes)
	}
	if !slices.Equal(gotEdges, wantEdges) {
		t.Errorf("graph edges differ from the GraphML export:\n got %q\nwant %q", gotEdges, wantEdges)
	}
	for node, role := range map[string]string{
		"www.northwind.example": "name", "203.0.113.40": "ip", "192.0.2.10": "ip",
		"ns1.northwind.example": "ns", "mail.northwind.example": "mx", "198.51.100.25": "ip",
		"northwind-example.mail.protection.outlook.com": "mx", "northwind.ghost-blogs.example": "name",
	} {
		if roles[node] != role {
			t.Errorf("graph node %s has role %q, want %q", node, roles[node], role)
		}
	}
	for edge, cur := range map[string]bool{
		"www.northwind.example A 203.0.113.40":                               true,  // the web site now
		"www.northwind.example A 203.0.113.10":                               false, // where it was until March
		"northwind.example NS ns1.northwind.example":                         true,
		"northwind-corp.example NS ns1.northwind.example":                    true, // shared with the sibling domain
		"northwind.example MX aspmx.l.google.com":                            false,
		"northwind.example MX northwind-example.mail.protection.outlook.com": true,
		"blog.northwind.example CNAME northwind.ghost-blogs.example":         true,
	} {
		if got, ok := current[edge]; !ok || got != cur {
			t.Errorf("graph edge %q: present %v, current %v; want current %v", edge, ok, got, cur)
		}
	}
	neighbours := 0
	for _, r := range roles {
		if r == "neighbour" {
			neighbours++
		}
	}
	if neighbours == 0 {
		t.Error("the graph shows no shared-hosting neighbour")
	}

	// A filter typed into the records table narrows it to matching rows.
	type counts struct {
		Total, Shown int
		Bad          []string
	}
	countRows := `(() => { const rows = [...document.querySelectorAll("#t-records tbody tr")];
		const shown = rows.filter(r => !r.classList.contains("hidden"));
		return {total: rows.length, shown: shown.length, bad: shown.filter(r => !(%s)).map(r => r.textContent)}; })()`
	typed, err := chromedp.Run(ctx, chromedp.Evaluate[counts](`(() => {
		const input = document.querySelector('.tablebar[data-for="t-records"] input');
		input.value = "legacy"; input.dispatchEvent(new Event("input")); return 0; })(), `+fmt.Sprintf(countRows, `r.textContent.includes("legacy")`)))
	if err != nil {
		t.Fatal(err)
	}
	if typed.Shown == 0 || typed.Shown >= typed.Total || len(typed.Bad) > 0 {
		t.Errorf("filtering the records table for \"legacy\": %d of %d rows shown, %d not matching", typed.Shown, typed.Total, len(typed.Bad))
	}
	// A click on an address shows only the rows about it, everywhere.
	clicked, err := chromedp.Run(ctx, chromedp.Evaluate[counts](`(() => {
		const input = document.querySelector('.tablebar[data-for="t-records"] input');
		input.value = ""; input.dispatchEvent(new Event("input"));
		reconform.cy.getElementById("203.0.113.40").emit("tap"); return 0; })(), `+fmt.Sprintf(countRows, `r.dataset.k.split(" ").includes("203.0.113.40")`)))
	if err != nil {
		t.Fatal(err)
	}
	if clicked.Shown == 0 || clicked.Shown >= clicked.Total || len(clicked.Bad) > 0 {
		t.Errorf("clicking 203.0.113.40 in the graph: %d of %d records shown, %d not about it", clicked.Shown, clicked.Total, len(clicked.Bad))
	}
	banner, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("filterbar").hidden ? "" : document.getElementById("filterkey").textContent`))
	if err != nil || banner != "203.0.113.40" {
		t.Errorf("the filter banner shows %q (%v), want the clicked node", banner, err)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".tl-name:not(.hidden)")].map(g => g.dataset.name)`))
	if err != nil || !slices.Contains(names, "www.northwind.example") || slices.Contains(names, "mail.northwind.example") {
		t.Errorf("after the click the timeline shows %q (%v), want the names on 203.0.113.40", names, err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`reconform.filter("")`)); err != nil {
		t.Fatal(err)
	}

	// The timeline: every label whole (the axis's inside the axis, the
	// rows' wrapped, not cut), and a zoom to a year keeps that true.
	checkTimelineLabels(t, ctx, "all", "365", "90")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#tl-tools [data-span="all"]').click()`)); err != nil {
		t.Fatal(err)
	}

	// Screenshots, for people and for the record.
	saveShots(t, ctx, map[string]chromedp.Action[[]byte]{
		"report-quickstart.png":           chromedp.FullScreenshot(100),
		"report-quickstart-top.png":       chromedp.CaptureScreenshot(),
		"report-quickstart-attention.png": chromedp.Screenshot(chromedp.CSS("#attention")),
		"report-quickstart-drift.png":     chromedp.Screenshot(chromedp.CSS("#drift")),
		"report-quickstart-profile.png":   chromedp.Screenshot(chromedp.CSS("#profile")),
		"report-quickstart-graph.png":     chromedp.Screenshot(chromedp.CSS("#graph")),
		"report-quickstart-timeline.png":  chromedp.Screenshot(chromedp.CSS("#timeline")),
		"report-quickstart-records.png":   chromedp.Screenshot(chromedp.CSS("#records")),
		"report-quickstart-infra.png":     chromedp.Screenshot(chromedp.CSS("#infrastructure")),
		"report-quickstart.pdf":           chromedp.PrintToPDF(chromedp.PDFPrintBackground()),
	})
	log.check(t, pageURL)
}

// largeState writes the state of a larger engagement: 400 names under
// big.example over ten years of passive DNS (each moved between hosting
// ranges, some more than once), shared name servers and mail servers, two
// shared-hosting addresses with many neighbours, long SPF and token
// records; and a previous state, so the report has drift.
func largeState(t *testing.T, dir string) {
	t.Helper()
	at := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	now := at(2026, 11, 1)
	build := func(names int, end time.Time) *state.State {
		s := state.New("big")
		s.Run.FinishedAt = end
		add := func(name, typ, value string, first, last time.Time) {
			f := schema.NewFinding(name, typ, value)
			f.FirstSeen, f.LastSeen, f.Count, f.Sources = first, last, int64(1+len(value)), []string{"file.history"}
			c := state.Historical
			if !last.Before(end.AddDate(0, 0, -30)) {
				c = state.Current
			}
			s.Findings = append(s.Findings, state.Finding{Finding: f, Currency: c})
		}
		add("big.example", "NS", "ns1.big.example", at(2016, 1, 1), end)
		add("big.example", "NS", "ns2.big.example", at(2016, 1, 1), end)
		add("big.example", "MX", "10 mx1.mailhost.example", at(2016, 1, 1), at(2021, 6, 1))
		add("big.example", "MX", "0 big-example.mail.protection.outlook.com", at(2021, 6, 2), end)
		add("big.example", "TXT", "v=spf1 include:spf.protection.outlook.com include:_spf.salesforce.com include:mailgun.org include:servers.mcsv.net ip4:203.0.113.0/24 ip4:198.51.100.0/24 -all", at(2021, 6, 2), end)
		add("_dmarc.big.example", "TXT", "v=DMARC1; p=reject; rua=mailto:dmarc@big.example", at(2019, 1, 1), end)
		for i := 0; i < names; i++ {
			name := fmt.Sprintf("host-%03d.big.example", i)
			if i%10 == 0 {
				name = fmt.Sprintf("a-rather-long-service-name-for-team-%03d.eu-west.internal-apps.big.example", i)
			}
			start := at(2016+i%6, 1+i%12, 1+i%27)
			moved := start.AddDate(2+i%4, i%11, 0)
			if moved.After(end) {
				moved = end
			}
			add(name, "A", fmt.Sprintf("192.0.2.%d", i%250), start, moved)
			if moved.Before(end) {
				add(name, "A", fmt.Sprintf("203.0.113.%d", i%250), moved.AddDate(0, 0, 1), end)
			}
			if i%7 == 0 {
				add(name, "CNAME", fmt.Sprintf("tenant-%d.cdn-provider.example", i), start, end)
			}
			if i%25 == 0 {
				add(name, "TXT", fmt.Sprintf("google-site-verification=%040d", i), start, end)
			}
		}
		for i := 0; i < 60; i++ {
			add(fmt.Sprintf("shop-%d.neighbour-%d.example", i, i), "A", "198.51.100.25", at(2022, 1, 1), end)
			add(fmt.Sprintf("www.site-%d.example", i), "A", "198.51.100.26", at(2020, 1, 1), end)
		}
		add("store.big.example", "A", "198.51.100.25", at(2022, 3, 1), end)
		add("blog.big.example", "A", "198.51.100.26", at(2020, 3, 1), end)
		state.SortFindings(s.Findings)
		s.Facts = analysis.Derive(s.SchemaFindings(), analysis.Options{Scope: []string{"big.example"}})
		return s
	}
	store := state.Store{Path: filepath.Join(dir, "big.rfstate")}
	prev := build(380, now.AddDate(0, -1, 0))
	if _, err := store.Write(nil, prev); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Write(prev, build(400, now)); err != nil {
		t.Fatal(err)
	}
	hcl := "engagement \"big\" {\n  state = \"big.rfstate\"\n}\nscope {\n  domains = [\"big.example\"]\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLargeReportInBrowser opens the report of a larger engagement: it
// loads without errors, the timeline's labels are whole at every span, and
// a screenshot is kept.
func TestLargeReportInBrowser(t *testing.T) {
	ctx := newBrowser(t, 1360, 1000)
	dir := t.TempDir()
	largeState(t, dir)
	if r := runCLI(t, dir, reportEnv, "report", "-format", "html", "-out", "big.html"); r.Code != exitOK {
		t.Fatalf("report: exit %d\n%s", r.Code, r.Stderr)
	}
	pageURL, log := openReport(t, ctx, filepath.Join(dir, "big.html"))
	nodes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`reconform.cy.nodes().length`))
	if err != nil || nodes < 400 {
		t.Errorf("the graph has %d nodes (%v), want every name and address", nodes, err)
	}
	// Every name's rows unfolded: the longest labels are there.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		document.getElementById("tl-compact").checked = false;
		document.getElementById("tl-compact").dispatchEvent(new Event("change")); })()`)); err != nil {
		t.Fatal(err)
	}
	checkTimelineLabels(t, ctx, "all", "1825", "365", "90")
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		document.querySelector('#tl-tools [data-span="1825"]').click();
		document.getElementById("tl-compact").checked = true;
		document.getElementById("tl-compact").dispatchEvent(new Event("change")); })()`)); err != nil {
		t.Fatal(err)
	}
	saveShots(t, ctx, map[string]chromedp.Action[[]byte]{
		"report-large-top.png":      chromedp.CaptureScreenshot(),
		"report-large-graph.png":    chromedp.Screenshot(chromedp.CSS("#graph")),
		"report-large-timeline.png": chromedp.Screenshot(chromedp.CSS("#tl")),
	})
	log.check(t, pageURL)
}
