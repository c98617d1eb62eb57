package diff

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	t0 = time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)
	t1 = t0.Add(40 * 24 * time.Hour)
)

type world struct {
	at      time.Time
	records map[string][]schema.Finding // by provider
	failed  map[string]string           // provider -> reason
	facts   []schema.Fact
}

var queries = map[string]schema.Query{
	"securitytrails": {Provider: "securitytrails", Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "acme.example"}},
	"crtsh":          {Provider: "crtsh", Op: schema.OpSubdomains, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "acme.example"}},
	"dnsdb":          {Provider: "dnsdb", Op: schema.OpResolutions, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "mail.acme.example"}},
}

func rec(provider, name, typ, value string, last time.Time) schema.Finding {
	f := schema.NewFinding(name, typ, value)
	if !last.IsZero() {
		f.FirstSeen, f.LastSeen, f.Count = last.Add(-24*time.Hour), last, 2
	}
	f.Sources = []string{provider}
	f.Query = queries[provider].Key()
	return f
}

// run turns a world into what apply would have produced.
func (w world) run() *schema.RunResult {
	r := &schema.RunResult{Engagement: "acme", ConfigHash: "cfg", StartedAt: w.at.Add(-time.Minute), FinishedAt: w.at, Facts: w.facts}
	for _, p := range []string{"crtsh", "dnsdb", "securitytrails"} {
		q := queries[p]
		in := schema.InstanceResult{Query: q, Key: q.Key(), Block: "query." + p, Status: schema.StatusOK, Requests: 1}
		if reason, bad := w.failed[p]; bad {
			in.Status, in.Reason = schema.StatusFailed, reason
		} else {
			for _, f := range w.records[p] {
				in.FindingIDs = append(in.FindingIDs, f.ID())
				r.Findings = append(r.Findings, f)
			}
		}
		in.Findings = len(in.FindingIDs)
		r.Instances = append(r.Instances, in)
	}
	return r
}

// noDerive pins the facts to those the runs report.
var noDerive = state.MergeOptions{Derive: func([]schema.Finding, analysis.Options) []schema.Fact { return nil }}

func fact(subject, kind, value string, evidence ...string) schema.Fact {
	return schema.Fact{Subject: subject, Kind: kind, Value: value, Evidence: evidence}
}

// twoStates: a world that changes between two runs, with dnsdb down in
// the second.
func twoStates(t *testing.T) (*state.State, *state.State) {
	t.Helper()
	mxGoogle := rec("securitytrails", "acme.example", "MX", "10 aspmx.l.google.com", t0)
	dmarcReject := rec("securitytrails", "_dmarc.acme.example", "TXT", "v=DMARC1; p=reject; rua=mailto:d@acme.example", t0)
	first := world{at: t0, records: map[string][]schema.Finding{
		"securitytrails": {
			rec("securitytrails", "www.acme.example", "A", "198.51.100.7", t0),
			rec("securitytrails", "acme.example", "TXT", "v=spf1 include:_spf.google.com ~all", t0),
			rec("securitytrails", "acme.example", "TXT", "google-site-verification=abc123", t0),
			rec("securitytrails", "old.acme.example", "CNAME", "legacy.host.example", t0),
			rec("securitytrails", "ftp.acme.example", "A", "203.0.113.9", t0.Add(-20*24*time.Hour)),
			rec("securitytrails", "api.acme.example", "A", "203.0.113.5", t0.Add(-100*24*time.Hour)),
			mxGoogle, dmarcReject,
		},
		"crtsh": {rec("crtsh", "dev.acme.example", "HOST", "", time.Time{})},
		"dnsdb": {rec("dnsdb", "mail.acme.example", "A", "203.0.113.25", t0)},
	}, facts: []schema.Fact{
		fact("acme.example", "mail_provider", "google-workspace", mxGoogle.ID()),
		fact("acme.example", "dmarc_policy", "reject", dmarcReject.ID()),
		fact("acme.example", "saas", "dropbox"),
	}}
	mxMS := rec("securitytrails", "acme.example", "MX", "0 acme-example.mail.protection.outlook.com", t1)
	dmarcNone := rec("securitytrails", "_dmarc.acme.example", "TXT", "v=DMARC1; p=none; rua=mailto:d@acme.example", t1)
	second := world{at: t1, records: map[string][]schema.Finding{
		"securitytrails": {
			rec("securitytrails", "www.acme.example", "A", "198.51.100.7", t0),
			rec("securitytrails", "www.acme.example", "A", "203.0.113.10", t1),
			rec("securitytrails", "acme.example", "TXT", "v=spf1 include:_spf.google.com -all", t1),
			rec("securitytrails", "acme.example", "TXT", "google-site-verification=abc123", t1),
			rec("securitytrails", "ftp.acme.example", "A", "203.0.113.9", t0.Add(-20*24*time.Hour)),
			rec("securitytrails", "api.acme.example", "A", "203.0.113.5", t1),
			rec("securitytrails", "new.acme.example", "A", "203.0.113.20", t1),
			mxMS, dmarcNone,
		},
		"crtsh": {rec("crtsh", "dev.acme.example", "HOST", "", time.Time{}), rec("crtsh", "staging.acme.example", "HOST", "", time.Time{})},
	}, failed: map[string]string{"dnsdb": "HTTP 503 Service Unavailable"},
		facts: []schema.Fact{
			fact("acme.example", "mail_provider", "microsoft-365", mxMS.ID()),
			fact("acme.example", "dmarc_policy", "none", dmarcNone.ID()),
			fact("acme.example", "saas", "dropbox"),
			fact("acme.example", "saas", "atlassian"),
		}}
	s1 := state.Merge(nil, first.run(), noDerive)
	s1.Serial, s1.Lineage = 1, "5a1f0c3e-1111-4222-8333-444455556666"
	s2 := state.Merge(s1, second.run(), noDerive)
	s2.Serial = 2
	return s1, s2
}

func TestCompareTwoRuns(t *testing.T) {
	s1, s2 := twoStates(t)
	r := Compare(s1, s2, nil)
	ids := func(fs []*state.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ID())
		}
		return out
	}
	type summary struct {
		Added, Removed, BecameCurrent, WentHistorical, Unverified []string
		Changed                                                   []string
		Facts                                                     []string
	}
	got := summary{Added: ids(r.Added), Removed: ids(r.Removed), BecameCurrent: ids(r.BecameCurrent),
		WentHistorical: ids(r.WentHistorical), Unverified: ids(r.Unverified)}
	for _, c := range r.Changed {
		got.Changed = append(got.Changed, c.Old.ID()+" -> "+c.New.Value+" ("+c.OldHow+"/"+c.NewHow+")")
	}
	for _, f := range r.FactsAdded {
		got.Facts = append(got.Facts, "+"+f.ID())
	}
	for _, f := range r.FactsRemoved {
		got.Facts = append(got.Facts, "-"+f.ID())
	}
	for _, c := range r.FactsChanged {
		got.Facts = append(got.Facts, "~"+c.Subject+" "+c.Kind+" "+c.Old+" -> "+c.New+map[bool]string{true: " weakening"}[c.Weakening])
	}
	want := summary{
		Added:          []string{"new.acme.example A 203.0.113.20", "staging.acme.example HOST "},
		Removed:        []string{"old.acme.example CNAME legacy.host.example"},
		BecameCurrent:  []string{"api.acme.example A 203.0.113.5"},
		WentHistorical: []string{"ftp.acme.example A 203.0.113.9"},
		Unverified:     []string{"mail.acme.example A 203.0.113.25"},
		Changed: []string{
			"_dmarc.acme.example TXT v=DMARC1; p=reject; rua=mailto:d@acme.example -> v=DMARC1; p=none; rua=mailto:d@acme.example (removed/added)",
			"acme.example MX aspmx.l.google.com -> acme-example.mail.protection.outlook.com (removed/added)",
			"acme.example TXT v=spf1 include:_spf.google.com ~all -> v=spf1 include:_spf.google.com -all (removed/added)",
			"www.acme.example A 198.51.100.7 -> 203.0.113.10 (went_historical/added)",
		},
		Facts: []string{
			"+acme.example saas atlassian",
			"~acme.example dmarc_policy reject -> none weakening",
			"~acme.example mail_provider google-workspace -> microsoft-365",
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("drift (-want +got):\n%s", d)
	}
	if !r.HasDrift() {
		t.Errorf("HasDrift = false")
	}
	// Nothing dnsdb reported is gone from the state.
	if s2.FindingByID("mail.acme.example A 203.0.113.25") == nil {
		t.Errorf("the failed provider's finding was removed from the state")
	}
}

func TestGoldenReports(t *testing.T) {
	s1, s2 := twoStates(t)
	r := Compare(s1, s2, nil)
	first := Compare(nil, s1, nil)
	same := Compare(s2, s2, nil)
	renders := map[string]func() string{
		"drift.txt":       func() string { var b bytes.Buffer; Text(&b, r, TextOptions{}); return b.String() },
		"drift.color.txt": func() string { var b bytes.Buffer; Text(&b, r, TextOptions{Color: true}); return b.String() },
		"drift.md":        func() string { var b bytes.Buffer; Markdown(&b, r); return b.String() },
		"drift.json":      func() string { var b bytes.Buffer; JSON(&b, r); return b.String() },
		"first.txt":       func() string { var b bytes.Buffer; Text(&b, first, TextOptions{}); return b.String() },
		"nodrift.txt":     func() string { var b bytes.Buffer; Text(&b, same, TextOptions{}); return b.String() },
		"nodrift.json":    func() string { var b bytes.Buffer; JSON(&b, same); return b.String() },
	}
	for name, render := range renders {
		t.Run(name, func(t *testing.T) {
			got := render()
			if again := render(); again != got {
				t.Fatalf("rendering is not deterministic")
			}
			checkGolden(t, name, got)
		})
	}
	var doc map[string]any
	var b bytes.Buffer
	JSON(&b, r)
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["has_drift"] != true || doc["format_version"].(float64) != 1 {
		t.Errorf("json header: %v", doc)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

func TestIgnoreRules(t *testing.T) {
	mk := func(fs ...schema.Finding) *state.State {
		s := state.New("acme")
		for _, f := range fs {
			s.Findings = append(s.Findings, state.Finding{Finding: f, Currency: state.Current})
		}
		s.Normalize()
		return s
	}
	nf := schema.NewFinding
	old := mk(nf("a.cdn.acme.example", "A", "192.0.2.1"), nf("www.acme.example", "A", "192.0.2.5"), nf("x.acme.example", "TXT", "token=1"))
	new := mk(nf("a.cdn.acme.example", "A", "192.0.2.2"), nf("www.acme.example", "A", "203.0.113.66"), nf("x.acme.example", "TXT", "token=2"),
		nf("b.cdn.acme.example", "A", "192.0.2.9"))
	rules := []schema.IgnoreRule{
		{Name: "*.cdn.acme.example"},             // the CDN's hosts churn
		{Type: "A", Value: "192.0.2.0/24"},       // and so do its addresses
		{Name: "X.ACME.EXAMPLE", Value: "tok*="}, // no match: value glob
	}
	r := Compare(old, new, rules)
	// a.cdn change (both sides match) and b.cdn add are hidden; www moved
	// out of the CDN range: shown; x's TXT change: shown.
	if r.Ignored != 2 || len(r.Changed) != 2 || len(r.Added) != 0 {
		t.Fatalf("ignored %d, changed %+v, added %d", r.Ignored, r.Changed, len(r.Added))
	}
	if !MatchesIgnore(rules, &schema.Finding{Name: "z.acme.example", Type: "A", Value: "192.0.2.200"}) {
		t.Errorf("CIDR rule did not match")
	}
	if MatchesIgnore([]schema.IgnoreRule{{}}, &schema.Finding{Name: "z"}) {
		t.Errorf("an empty rule matched")
	}
	if !MatchesIgnore([]schema.IgnoreRule{{Type: "txt", Value: "*/path*"}}, &schema.Finding{Name: "z", Type: "TXT", Value: "see https://x/path/y"}) {
		t.Errorf("glob does not span /")
	}
	if r := Compare(old, old, rules); r.HasDrift() {
		t.Errorf("a state differs from itself: %+v", r)
	}
}

func TestWeakens(t *testing.T) {
	for _, tc := range []struct {
		kind, old, new string
		want           bool
	}{
		{"dmarc_policy", "reject", "none", true},
		{"dmarc_policy", "none", "quarantine", false},
		{"spf_all", "-all", "~all", true},
		{"spf_all", "-all", "no-all", true},
		{"spf_policy", "softfail", "fail", false},
		{"mail_provider", "a", "b", false},
	} {
		if got := weakens(tc.kind, tc.old, tc.new); got != tc.want {
			t.Errorf("weakens(%s, %s, %s) = %v", tc.kind, tc.old, tc.new, got)
		}
	}
}

func TestTextDiff(t *testing.T) {
	got := textDiff("v=spf1 include:_spf.google.com ~all", "v=spf1 include:_spf.google.com -all")
	var b strings.Builder
	for _, s := range got {
		b.WriteString(s.Op[:1] + ":" + s.Text + "|")
	}
	if b.String() != "e:v=spf1 include:_spf.google.com |d:~|i:-|e:all|" {
		t.Errorf("text diff: %s", b.String())
	}
}

// An unverified finding that the next run, with every query reporting it
// back and successful, no longer sees was removed from the infrastructure:
// that is drift, not "forgotten" (which is only forget_after ageing out).
func TestUnverifiedThenRemovedIsDrift(t *testing.T) {
	_, s2 := twoStates(t)
	third := world{at: t1.Add(24 * time.Hour), records: map[string][]schema.Finding{
		"securitytrails": {rec("securitytrails", "www.acme.example", "A", "203.0.113.10", t1)},
		"crtsh":          {},
		"dnsdb":          {}, // back up, and mail.acme.example is gone
	}}
	s3 := state.Merge(s2, third.run(), noDerive)
	r := Compare(s2, s3, nil)
	var removed, forgotten []string
	for _, f := range r.Removed {
		removed = append(removed, f.ID())
	}
	for _, f := range r.Forgotten {
		forgotten = append(forgotten, f.ID())
	}
	mail := rec("dnsdb", "mail.acme.example", "A", "203.0.113.25", t0).ID()
	if !contains(removed, mail) || contains(forgotten, mail) {
		t.Errorf("mail.acme.example: removed %v, forgotten %v; want it removed", removed, forgotten)
	}
	if !r.HasDrift() {
		t.Error("HasDrift() = false, want true")
	}

	// Aged out by forget_after while its query still fails: forgotten.
	fourth := world{at: t1.Add(24 * time.Hour), records: map[string][]schema.Finding{"securitytrails": {}, "crtsh": {}},
		failed: map[string]string{"dnsdb": "HTTP 503"}}
	s4 := state.Merge(s2, fourth.run(), state.MergeOptions{ForgetAfter: time.Hour, Derive: noDerive.Derive})
	r = Compare(s2, s4, nil)
	forgotten = nil
	for _, f := range r.Forgotten {
		forgotten = append(forgotten, f.ID())
	}
	if !contains(forgotten, mail) {
		t.Errorf("forgotten %v, want %s", forgotten, mail)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A fact value that holds an arrow is quoted in "old -> new".
func TestFactChangeWithArrowsIsQuoted(t *testing.T) {
	r := &Result{Old: &Side{Serial: 1}, New: &Side{Serial: 2}, FactsChanged: []FactChange{
		{Subject: "acme.example", Kind: "moved", Old: "A 192.0.2.1 -> 192.0.2.2", New: "A 192.0.2.1 -> 192.0.2.3"},
		{Subject: "acme.example", Kind: "mail_provider", Old: "google-workspace", New: "microsoft-365"},
	}}
	var b bytes.Buffer
	if err := Text(&b, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`~ acme.example moved: "A 192.0.2.1 -> 192.0.2.2" -> "A 192.0.2.1 -> 192.0.2.3"`,
		`~ acme.example mail_provider: google-workspace -> microsoft-365`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}

func TestIgnoredCountReads(t *testing.T) {
	for n, want := range map[int]string{1: "(1 change hidden by ignore rules.)", 3: "(3 changes hidden by ignore rules.)"} {
		var b bytes.Buffer
		if err := Text(&b, &Result{Old: &Side{Serial: 1}, New: &Side{Serial: 2}, Ignored: n}, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}

// The documented wildcard rule hides the CDN's hosts, not the name it is
// written under nor a look-alike: the pattern is a glob and keeps its
// "*." (NormalizeName would strip it and match cdn.acme.example alone).
func TestIgnoreWildcardName(t *testing.T) {
	rules := []schema.IgnoreRule{{Name: "*.cdn.acme.example"}}
	for name, want := range map[string]bool{
		"a.cdn.acme.example":     true,
		"x.y.cdn.acme.example":   true,
		"cdn.acme.example":       false,
		"evilcdn.acme.example":   false,
		"www.acme.example":       false,
		"a.cdn.acme.example.org": false,
	} {
		f := schema.NewFinding(name, "A", "192.0.2.1")
		if got := MatchesIgnore(rules, &f); got != want {
			t.Errorf("%s: ignored %v, want %v", name, got, want)
		}
	}
	// Written with a trailing dot or capitals, as in a zone file.
	f := schema.NewFinding("a.cdn.acme.example", "A", "192.0.2.1")
	if !MatchesIgnore([]schema.IgnoreRule{{Name: "*.CDN.acme.example."}}, &f) {
		t.Errorf("a rule with capitals and a trailing dot does not match")
	}
}
