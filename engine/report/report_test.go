package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/report")

func loadFindings(t *testing.T) []schema.Finding {
	t.Helper()
	data, err := os.ReadFile("../../testdata/analysis/findings.json")
	if err != nil {
		t.Fatal(err)
	}
	var fs []schema.Finding
	if err := json.Unmarshal(data, &fs); err != nil {
		t.Fatal(err)
	}
	return fs
}

func toState(fs []schema.Finding, serial uint64, finished time.Time, unverified map[string]string) *state.State {
	s := state.New("acme")
	s.Serial, s.Lineage = serial, "5f0c2a3e-0000-4000-8000-000000000001"
	s.Run.FinishedAt = finished
	for _, f := range fs {
		c := state.Historical
		if f.Current {
			c = state.Current
		}
		s.Findings = append(s.Findings, state.Finding{Finding: f, Currency: c, Unverified: unverified[f.ID()]})
	}
	state.SortFindings(s.Findings)
	s.Facts = analysis.Derive(s.SchemaFindings(), analysis.Options{Scope: []string{"acme.example", "acme-corp.example"}})
	return s
}

// fixture is the analysis fixture as the second of two states, with the
// first a month earlier: before the DMARC downgrade and the new token.
func fixture(t *testing.T) Input {
	t.Helper()
	all := loadFindings(t)
	var old []schema.Finding
	for _, f := range all {
		switch {
		case f.Name == "_dmarc.acme.example" && strings.Contains(f.Value, "p=none"):
			continue
		case f.Name == "_dmarc.acme.example":
			f.Current = true
		case strings.HasPrefix(f.Value, "docusign="):
			continue
		}
		old = append(old, f)
	}
	unverified := map[string]string{"legacy.acme.example A 198.51.100.8": "query failed: HTTP 503 Service Unavailable"}
	prev := toState(old, 1, time.Date(2026, 10, 20, 2, 0, 0, 0, time.UTC), nil)
	cur := toState(all, 2, time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC), unverified)
	cur.Instances = []schema.InstanceResult{
		{Key: "file.sonar resolutions acme.example", Status: schema.StatusOK},
		{Key: "securitytrails resolutions acme.example", Status: schema.StatusFailed, Reason: "HTTP 503 Service Unavailable"},
		{Key: "securitytrails reverse_ip 203.0.113.10", Status: schema.StatusSkipped, Reason: "budget"},
	}
	in := FromState(cur)
	in.GeneratedAt = time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	in.Drift = diff.Compare(prev, cur, nil)
	in.Scope = []string{"acme.example", "acme-corp.example"}
	return in
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("../../testdata/report", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// goldenHTML is an HTML report with its embedded assets (the vendored
// graph library, the page's stylesheet and script, and the CSP that
// holds their hashes) replaced by placeholders: the golden file is about
// the content; TestHTMLIsSelfContained checks the assets.
func goldenHTML(page []byte) []byte {
	s := string(page)
	for _, r := range []struct{ open, close, name string }{
		{`<script id="cytoscape">`, `</script>`, "cytoscape.min.js"},
		{`<script id="report-js">`, `</script>`, "report.js"},
		{`<style id="report-css">`, `</style>`, "report.css"},
		{`<meta http-equiv="Content-Security-Policy" content="`, `">`, "CSP"},
	} {
		i := strings.Index(s, r.open)
		if i < 0 {
			continue
		}
		j := strings.Index(s[i+len(r.open):], r.close)
		if j < 0 {
			continue
		}
		s = s[:i+len(r.open)] + "/* " + r.name + " */" + s[i+len(r.open)+j:]
	}
	return []byte(s)
}

func TestGoldenReports(t *testing.T) {
	in := fixture(t)
	ext := map[string]string{"md": "md", "html": "html", "json": "json", "csv": "csv", "cof": "ndjson", "dot": "dot", "mermaid": "mmd",
		"graphml": "graphml", "stix": "stix.json", "misp": "misp.json"}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := Render(&a, format, in); err != nil {
				t.Fatal(err)
			}
			if err := Render(&b, format, in); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("two renderings differ")
			}
			got := a.Bytes()
			if format == "html" {
				got = goldenHTML(got)
			}
			checkGolden(t, "report."+ext[format], got)
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, "pdf", Input{}); err == nil || !strings.Contains(err.Error(), "md, html") {
		t.Fatalf("error %v", err)
	}
}

func TestEmptyInput(t *testing.T) {
	for _, format := range Formats {
		var buf bytes.Buffer
		if err := Render(&buf, format, Input{}); err != nil {
			t.Errorf("%s: %v", format, err)
		}
	}
}

func TestReportContent(t *testing.T) {
	in := fixture(t)
	var md bytes.Buffer
	if err := Render(&md, "md", in); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| `acme.example` | microsoft-365 (before: google-workspace) | cloudflare (before: route53) | -all, 6 lookups | p=none | atlassian + docusign + github + microsoft-365 (before: google) |",
		"| `acme-corp.example` | self-hosted | self-hosted | +all (permissive), 2 lookups | missing |",
		"acme.example: DMARC p=none: spoofed mail is only reported, not stopped",
		"acme-corp.example: SPF +all lets any host send as the domain",
		"203.0.113.10 is shared hosting: 7 registered domains seen on it",
		"| 2023-05-02 | `www.acme.example` | A | `198.51.100.7` | `203.0.113.10` |",
		"| `203.0.113.10` | 7 | 6 | **yes** | `www.acme.example` |",
		"dmarc_policy weakened: `reject` → `none`",
		"- acme.example: dmarc_policy weakened since the previous state: reject → none\n",
		"| `securitytrails resolutions acme.example` | failed | HTTP 503 Service Unavailable |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown report lacks %q", want)
		}
	}
	// Neighbours are out of scope: not in the timeline.
	if strings.Contains(md.String(), "| `kennel.example` | A |") {
		t.Error("an out-of-scope neighbour is in the timeline")
	}
}

func TestHTMLEscapesRecordValues(t *testing.T) {
	in := Input{Engagement: "x", Findings: []Finding{
		{Finding: schema.Finding{Name: "a.example", Type: "TXT", Value: `<script>alert(1)</script>`, Current: true}},
		{Finding: schema.Finding{Name: "a.example", Type: "TXT", Value: `google-site-verification=<img src=x onerror=alert(1)>`, Current: true}},
	}}
	var page bytes.Buffer
	if err := Render(&page, "html", in); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(page.String(), "<script>alert") || strings.Contains(page.String(), "<img src") {
		t.Error("HTML report carries raw HTML from a record value")
	}
	// Markdown shows record values only as code spans, which are literal.
	var md bytes.Buffer
	if err := Render(&md, "md", in); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(md.String(), "\n") {
		if i := strings.Index(line, "<script>"); i >= 0 && (i == 0 || line[i-1] != '`') {
			t.Errorf("Markdown line has HTML outside a code span: %q", line)
		}
	}
}

// TestHTMLIsSelfContained: the page refers to nothing outside itself,
// its Content-Security-Policy forbids loading anything and allows exactly
// its own inline scripts, and the data its script draws is there.
func TestHTMLIsSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, "html", fixture(t)); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, bad := range []string{"<link", " src=", "href=\"http", "@import", "url(http", "<iframe", "<object"} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML report refers to an external asset: %q", bad)
		}
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	policy := html.UnescapeString(csp[1])
	if !strings.Contains(policy, "default-src 'none'") || strings.Contains(policy, "unsafe-eval") || strings.Contains(policy, "script-src 'unsafe-inline'") {
		t.Fatalf("the Content-Security-Policy is not strict: %q", policy)
	}
	scripts := regexp.MustCompile(`(?s)<script( [^>]*)?>(.*?)</script>`).FindAllStringSubmatch(page, -1)
	ran := 0
	for _, sc := range scripts {
		if strings.Contains(sc[1], "application/json") {
			continue
		}
		ran++
		if !strings.Contains(policy, scriptHash(sc[2])) {
			t.Errorf("the CSP does not allow the inline script %s", sc[1])
		}
	}
	if ran != 2 {
		t.Errorf("%d scripts run, want the graph library and the page's own", ran)
	}
	if !strings.Contains(page, cytoscapeJS) || !strings.Contains(page, "cytoscape.js "+cytoscapeVersion) {
		t.Error("the vendored cytoscape.js is not in the page, or not named in it")
	}
	raw := regexp.MustCompile(`(?s)<script type="application/json" id="report-data">(.*?)</script>`).FindStringSubmatch(page)
	if raw == nil {
		t.Fatal("no report data")
	}
	var data htmlData
	if err := json.Unmarshal([]byte(raw[1]), &data); err != nil {
		t.Fatal(err)
	}
	moves := 0
	for _, tl := range data.Timeline {
		moves += len(tl.Moves)
	}
	if len(data.Graph.Nodes) == 0 || len(data.Graph.Edges) == 0 || len(data.Timeline) == 0 || moves == 0 {
		t.Errorf("the page's data lacks the graph or the timeline with moves: %d nodes, %d edges, %d names, %d moves",
			len(data.Graph.Nodes), len(data.Graph.Edges), len(data.Timeline), moves)
	}
}

// The HTML report puts what needs attention first (takeover risks
// leading it), and drift before the profile (the first sections a reader
// meets).
func TestHTMLSectionOrder(t *testing.T) {
	in := fixture(t)
	in.Checks = []CheckResult{
		{Name: "dmarc_enforced", Severity: SeverityError, Status: CheckFail, Messages: []string{"acme.example publishes p=none"}},
		{Name: "mx_approved", Severity: SeverityWarning, Status: CheckPass},
	}
	var buf bytes.Buffer
	if err := Render(&buf, "html", in); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	last := -1
	for _, marker := range []string{`id="attention"`, "Takeover risks", "Failed checks", "acme.example publishes p=none", "Weakened since the previous state",
		`id="drift"`, `id="profile"`, `id="graph"`, `id="timeline"`, `id="records"`, `id="infrastructure"`} {
		i := strings.Index(page, marker)
		if i < 0 {
			t.Errorf("no %q in the page", marker)
			continue
		}
		if i < last {
			t.Errorf("%q comes before what should precede it", marker)
		}
		last = i
	}
}

func TestLiveVerificationSection(t *testing.T) {
	in := Input{Findings: []Finding{{Finding: schema.Finding{Name: "a.example", Type: "A", Value: "192.0.2.1", Current: true}}}}
	in.Facts = []schema.Fact{{Subject: "a.example A 192.0.2.1", Kind: "still_resolves", Value: "no"}}
	var md, page bytes.Buffer
	if err := Render(&md, "md", in); err != nil {
		t.Fatal(err)
	}
	if err := Render(&page, "html", in); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{md.String(), page.String()} {
		if !strings.Contains(out, "1 known records checked against live DNS; 1 no longer resolve.") || !strings.Contains(out, "a.example A 192.0.2.1") {
			t.Errorf("no live verification section:\n%s", out)
		}
	}
}

func TestCOFPresentation(t *testing.T) {
	tests := map[string]struct{ typ, in, want string }{
		"a":       {"A", "192.0.2.1", "192.0.2.1"},
		"txt":     {"TXT", `v=spf1 -all`, `"v=spf1 -all"`},
		"quotes":  {"TXT", `say "hi" \o/`, `"say \"hi\" \\o/"`},
		"control": {"TXT", "a\x01b", `"a\001b"`},
		"empty":   {"TXT", "", `""`},
		// A text that starts with a quote is normalised quoted: its
		// presentation is the text's, not the quoted form's again.
		"quote first": {"TXT", `"\" 0"`, `"\" 0"`},
		"spaces":      {"TXT", " a ", `" a "`},
		"long":        {"TXT", strings.Repeat("x", 300), `"` + strings.Repeat("x", 255) + `" "` + strings.Repeat("x", 45) + `"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := presentation(tc.typ, tc.in); got != tc.want {
				t.Errorf("presentation(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if tc.typ == "TXT" {
				if back, want := schema.NormalizeValue(tc.typ, presentation(tc.typ, tc.in)), schema.NormalizeValue(tc.typ, tc.in); back != want {
					t.Errorf("round trip: %q became %q, want %q", tc.in, back, want)
				}
			}
		})
	}
}

func BenchmarkMarkdown50k(b *testing.B) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var in Input
	in.Scope = []string{"org.example"}
	for i := 0; i < 25_000; i++ {
		name := fmt.Sprintf("h%d.org.example", i)
		if i%2 == 1 {
			name = fmt.Sprintf("n%d.neighbour%d.example", i, i%300)
		}
		in.Findings = append(in.Findings,
			Finding{Finding: schema.Finding{Name: name, Type: "A", Value: fmt.Sprintf("198.51.%d.%d", i%256, i%100), FirstSeen: base, LastSeen: base.AddDate(1, 0, 0)}},
			Finding{Finding: schema.Finding{Name: name, Type: "A", Value: fmt.Sprintf("203.0.%d.%d", i%256, i%50), FirstSeen: base.AddDate(1, 0, 1), LastSeen: base.AddDate(3, 0, 0), Current: true}})
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, format := range []string{"md", "html"} {
			if err := Render(io.Discard, format, in); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// worldReport renders a report over findings of a small world, with the
// facts analysis derives from them.
func worldReport(t *testing.T, format string, scope []string, fs []schema.Finding) string {
	t.Helper()
	s := state.New("world")
	for _, f := range fs {
		c := state.Historical
		if f.Current {
			c = state.Current
		}
		s.Findings = append(s.Findings, state.Finding{Finding: f, Currency: c})
	}
	state.SortFindings(s.Findings)
	s.Facts = analysis.Derive(s.SchemaFindings(), analysis.Options{Scope: scope})
	in := FromState(s)
	in.Scope = scope
	var buf bytes.Buffer
	if err := Render(&buf, format, in); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestReportMatchesWorld(t *testing.T) {
	at := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	now := at(2026, 11, 1)
	rec := func(name, typ, value string, first, last time.Time) schema.Finding {
		f := schema.NewFinding(name, typ, value)
		f.FirstSeen, f.LastSeen, f.Current = first, last, last.Equal(now)
		return f
	}
	host := func(name string) schema.Finding {
		f := schema.NewFinding(name, schema.TypeHost, "")
		f.FirstSeen, f.LastSeen, f.Current = now, now, true
		return f
	}
	tests := map[string]struct {
		format   string
		noScope  bool
		findings []schema.Finding
		want     []string
		notWant  []string
	}{
		"a state without scope or query keys tells neighbours by their records": {
			format:  "md",
			noScope: true,
			findings: []schema.Finding{
				rec("fabrikam.example", "NS", "ns-1234.awsdns-26.org", at(2025, 1, 1), now),
				rec("fabrikam.example", "A", "192.0.2.80", at(2025, 1, 1), now),
				rec("shop.fabrikam.example", "A", "192.0.2.80", at(2025, 1, 1), now),
				rec("www.neighbour1.example", "A", "192.0.2.80", at(2025, 1, 1), now),
				rec("neighbour2.example", "A", "192.0.2.80", at(2025, 1, 1), now),
			},
			want:    []string{"| `192.0.2.80` | 3 | 2 | no | `fabrikam.example`, `shop.fabrikam.example` | `neighbour1.example`, `neighbour2.example` |"},
			notWant: []string{"| `www.neighbour1.example` | A |"},
		},
		"a wildcard record is a name of its own": {
			format: "md",
			findings: []schema.Finding{
				rec("contoso.example", "MX", "10 in1-smtp.messagingengine.com", at(2025, 1, 1), now),
				rec("contoso.example", "TXT", "v=spf1 include:spf.messagingengine.com -all", at(2025, 1, 1), now),
				rec("contoso.example", "A", "192.0.2.81", at(2025, 1, 1), now),
				rec("*.contoso.example", "MX", "10 in1-smtp.messagingengine.com", at(2025, 1, 1), now),
				rec("*.contoso.example", "TXT", "v=spf1 -all", at(2025, 1, 1), now),
				rec("*.contoso.example", "A", "192.0.2.80", at(2024, 1, 1), at(2024, 6, 1)),
			},
			want: []string{
				"| `contoso.example` | fastmail |  | -all, 1 lookup | missing |",
				"- \\*.contoso.example: receives mail but publishes no DMARC record",
				"| `*.contoso.example` | fastmail |  | -all, 0 lookups | missing |",
				"**\\*.contoso.example**",
				"| `*.contoso.example` | A | `192.0.2.80` | 2024-01-01 | 2024-06-01 | historical |",
			},
			notWant: []string{"several SPF records", "***", "| `contoso.example` | A | `192.0.2.80` |"},
		},
		"several SPF records are shown as broken in the profile": {
			format: "md",
			findings: []schema.Finding{
				rec("gamma.example", "MX", "10 eu-smtp-inbound-1.mimecast.com", at(2025, 1, 1), now),
				rec("gamma.example", "TXT", "v=spf1 include:_netblocks.mimecast.com -all", at(2025, 1, 1), now),
				rec("gamma.example", "TXT", "v=spf1 +all", at(2025, 1, 1), now),
			},
			want: []string{"| `gamma.example` | mimecast |  | broken: several SPF records (permerror) | missing |"},
		},
		"a name-server set replaced at once is one move to every new server": {
			format: "md",
			findings: []schema.Finding{
				rec("contoso.example", "NS", "ns11.domaincontrol.com", at(2022, 1, 1), at(2024, 2, 1)),
				rec("contoso.example", "NS", "ns12.domaincontrol.com", at(2022, 1, 1), at(2024, 2, 1)),
				rec("contoso.example", "NS", "kim.ns.cloudflare.com", at(2024, 2, 1), now),
				rec("contoso.example", "NS", "lou.ns.cloudflare.com", at(2024, 2, 1), now),
				rec("contoso.example", "A", "198.51.100.10", at(2022, 1, 1), at(2023, 3, 1)),
				rec("contoso.example", "A", "198.51.100.20", at(2023, 2, 27), at(2024, 6, 1)),
				rec("contoso.example", "A", "192.0.2.130", at(2024, 6, 1), now),
			},
			want: []string{
				"| Moves | 3 |",
				"| 2024-02-01 | `contoso.example` | NS | `ns11.domaincontrol.com, ns12.domaincontrol.com` | `kim.ns.cloudflare.com, lou.ns.cloudflare.com` |",
				"| 2023-02-27 | `contoso.example` | A | `198.51.100.10` | `198.51.100.20` |",
				"| 2024-06-01 | `contoso.example` | A | `198.51.100.20` | `192.0.2.130` |",
			},
		},
		"shared hosting counts the registered domains that are not ours": {
			format: "md",
			findings: []schema.Finding{
				rec("contoso.example", "A", "192.0.2.80", at(2025, 1, 1), now),
				rec("shop.contoso.example", "A", "192.0.2.80", at(2025, 1, 1), now),
				rec("www.neighbour1.example", "A", "192.0.2.80", at(2025, 1, 1), now),
				rec("blog.neighbour1.example", "A", "192.0.2.80", at(2025, 1, 1), now),
				rec("neighbour2.example", "A", "192.0.2.80", at(2025, 1, 1), now),
			},
			want: []string{"| `192.0.2.80` | 3 | 2 | no | `contoso.example`, `shop.contoso.example` | `neighbour1.example`, `neighbour2.example` |"},
		},
		"an SPF verdict reached through redirect= says so": {
			format: "md",
			findings: []schema.Finding{
				rec("beta.example", "MX", "10 mx0a-001b2d01.pphosted.com", at(2025, 1, 1), now),
				rec("beta.example", "TXT", "V=SPF1 Include:%{ir}.%{v}.%{d}.spf.has.pphosted.com exists:%{i}._spf.beta.example REDIRECT=_spf.beta.example", at(2025, 1, 1), now),
				rec("_spf.beta.example", "TXT", "v=spf1 ip4:192.0.2.0/24 +all", at(2025, 1, 1), now),
				rec("_dmarc.beta.example", "TXT", "V=DMARC1;P=Reject ; SP = quarantine;RUA=mailto:DMARC@Beta.example", at(2025, 1, 1), now),
			},
			want: []string{
				"| `beta.example` | proofpoint |  | +all via redirect=_spf.beta.example (permissive), 3 lookups | p=reject sp=quarantine |",
				"beta.example: SPF +all lets any host send as the domain",
				"- DMARC reports to: `dmarc@beta.example`",
			},
		},
		"a token in the record name shows the record": {
			format: "md",
			findings: []schema.Finding{
				rec("_github-challenge-contoso-inc.contoso.example", "TXT", "8a7b6c5d4e", at(2025, 1, 1), now),
				rec("contoso.example", "TXT", "ZOOM_verify_aBcDeFgHiJkLmNoPqRsTuV", at(2025, 1, 1), now),
			},
			want: []string{
				"| `contoso.example` | github | current | `8a7b6c5d4e` at `_github-challenge-contoso-inc.contoso.example` |",
				"| `contoso.example` | zoom | current | `ZOOM_verify_aBcDeFgHiJkLmNoPqRsTuV` |",
			},
		},
		"a subdomain without DMARC gets its organisational domain's sp": {
			format: "md",
			findings: []schema.Finding{
				rec("contoso.example", "MX", "10 in1-smtp.messagingengine.com", at(2025, 1, 1), now),
				rec("_dmarc.contoso.example", "TXT", "v=DMARC1; p=quarantine; sp=none", at(2025, 1, 1), now),
				rec("mail.contoso.example", "MX", "10 in1-smtp.messagingengine.com", at(2025, 1, 1), now),
			},
			want: []string{
				"| `contoso.example` | fastmail |  | missing | p=quarantine sp=none |",
				"| `mail.contoso.example` | fastmail |  | missing | p=none (sp of contoso.example) |",
				"mail.contoso.example: DMARC p=none: spoofed mail is only reported, not stopped",
			},
		},
		"the JSON timeline has one move per replacement": {
			format: "json",
			findings: []schema.Finding{
				rec("contoso.example", "NS", "ns11.domaincontrol.com", at(2022, 1, 1), at(2024, 2, 1)),
				rec("contoso.example", "NS", "ns12.domaincontrol.com", at(2022, 1, 1), at(2024, 2, 1)),
				rec("contoso.example", "NS", "kim.ns.cloudflare.com", at(2024, 2, 1), now),
				rec("contoso.example", "NS", "lou.ns.cloudflare.com", at(2024, 2, 1), now),
			},
			want: []string{
				`"moves": 1,`,
				`"moves": [
        {
          "type": "NS",
          "from": "ns11.domaincontrol.com, ns12.domaincontrol.com",
          "to": "kim.ns.cloudflare.com, lou.ns.cloudflare.com",
          "at": "2024-02-01T00:00:00Z"
        }
      ]`,
			},
		},
		"a hand-written state with raw record shapes is read as normalised": {
			format:  "md",
			noScope: true,
			findings: []schema.Finding{
				{Name: "Odd.Example.", Type: "MX", Value: "10 ODD-example.mail.protection.outlook.com.", Current: true},
				{Name: "odd.example", Type: "ns", Value: "LARA.NS.CLOUDFLARE.COM.", Current: true},
				{Name: "odd.example", Type: "TXT", Value: `"v=spf1 include:spf.protection.outlook.com " "?all"`, Current: true},
				{Name: "_dmarc.odd.example", Type: "txt", Value: `"v=DMARC1; p=quarantine"`, Current: true},
				{Name: "odd.example", Type: "TXT", Value: `"MS=ms12345678"`, Current: true},
			},
			want: []string{
				"| `odd.example` | microsoft-365 | cloudflare | ?all (permissive), 1 lookup | p=quarantine | microsoft-365 |",
				"| `odd.example` | microsoft-365 | current | `MS=ms12345678` |",
			},
		},
		"a null MX is no mail server in the graph": {
			format: "mermaid",
			findings: []schema.Finding{
				rec("parked.contoso.example", "MX", "0 .", at(2025, 1, 1), now),
				rec("parked.contoso.example", "NS", "ns1.contoso.example", at(2025, 1, 1), now),
			},
			want:    []string{`{{"ns1.contoso.example"}}`},
			notWant: []string{`"."`, "|MX|"},
		},
		"the graph follows a CNAME chain to its addresses": {
			format: "graphml",
			findings: []schema.Finding{
				rec("www.contoso.example", "CNAME", "contoso.edge-cdn.example", at(2025, 1, 1), now),
				rec("contoso.edge-cdn.example", "CNAME", "e123.pop.edge-cdn.example", at(2025, 1, 1), now),
				rec("e123.pop.edge-cdn.example", "A", "192.0.2.50", at(2025, 1, 1), now),
				rec("e123.pop.edge-cdn.example", "MX", "10 mx.edge-cdn.example", at(2025, 1, 1), now),
			},
			want: []string{
				`<data key="name">e123.pop.edge-cdn.example</data>`,
				`<data key="name">192.0.2.50</data>`,
				`label="CNAME"`, `label="A"`,
			},
			notWant: []string{"mx.edge-cdn.example"},
		},
		"the CSV export has records only": {
			format: "csv",
			findings: []schema.Finding{
				host("vpn.contoso.example"),
				rec("contoso.example", "A", "192.0.2.130", at(2024, 6, 1), now),
			},
			want:    []string{"contoso.example,A,192.0.2.130,2024-06-01T00:00:00Z,2026-11-01T00:00:00Z,0,,true\n"},
			notWant: []string{"HOST"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			scope := []string{"contoso.example", "gamma.example", "beta.example"}
			if tc.noScope {
				scope = nil
			}
			got := worldReport(t, tc.format, scope, tc.findings)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("report lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(got, w) {
					t.Errorf("report has %q", w)
				}
			}
		})
	}
}

func TestFromStateCarriesChecks(t *testing.T) {
	s := state.New("acme")
	s.Checks = []state.CheckResult{
		{Name: "dmarc_enforced", Severity: "error", Status: state.CheckFail, Messages: []string{"DMARC policy is none on: acme.example"}},
		{Name: "broken", Severity: "warning", Status: state.CheckError, Diagnostics: []string{"main.hcl:3,5: Invalid function argument"}},
		{Name: "mx", Severity: "warning", Status: state.CheckPass},
	}
	in := FromState(s)
	if len(in.Checks) != 3 || in.Checks[0].Status != CheckFail || in.Checks[1].Messages[0] != "main.hcl:3,5: Invalid function argument" {
		t.Fatalf("checks %+v", in.Checks)
	}
	var b strings.Builder
	if err := Render(&b, "md", in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "DMARC policy is none on: acme.example") {
		t.Errorf("the Markdown report does not show the failed check:\n%s", b.String())
	}
}
