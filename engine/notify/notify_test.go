package notify_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/notifytest"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

func lines(m *notify.Message) []string {
	var out []string
	for _, l := range m.Lines {
		out = append(out, l.Level+" "+l.Text)
	}
	return out
}

func TestMessageMostImportantFirst(t *testing.T) {
	n := notifytest.Notifier("slack", nil)
	m := notifytest.Message(t, n, 0)
	want := []string{
		"critical Check dmarc_enforced failed: DMARC policy is none on: acme.example",
		"critical acme.example dmarc_policy weakened: reject → none",
		"warning Check mx_approved failed: Mail of acme.example moved to microsoft-365 (warning)",
		"warning acme.example mail_provider: google-workspace → microsoft-365",
		"warning ~ _dmarc.acme.example TXT: v=DMARC1; p=reject → v=DMARC1; p=none",
		"warning ~ acme.example MX: aspmx.l.google.com → acme-example.mail.protection.outlook.com",
		"warning ~ www.acme.example A: 198.51.100.7 → 203.0.113.10",
		"warning + new.acme.example A 203.0.113.20 [file.pdns]",
	}
	if d := cmp.Diff(want, lines(m)); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	if m.Title != "reconform acme: 1 check failed, 1 weakening, 1 warning, 6 changes" || m.Level != notify.LevelCritical {
		t.Errorf("title %q level %s", m.Title, m.Level)
	}
	if m.Intro != "State serial 1 → 2 (run finished 2026-03-02 02:00 UTC)." || m.RestText != "" {
		t.Errorf("intro %q rest %q", m.Intro, m.RestText)
	}
	if !strings.Contains(m.Report, "### reconform drift") || !strings.Contains(m.Report, "#### Checks") || m.ReportName != "reconform-acme-serial-2.md" {
		t.Errorf("report %q name %q", m.Report, m.ReportName)
	}
}

func TestMessageIsBounded(t *testing.T) {
	n := notifytest.Notifier("slack", nil)
	n.MaxItems = 5
	m := notifytest.Message(t, n, 40)
	if len(m.Lines) != 5 || m.Lines[0].Kind != "check_failed" {
		t.Fatalf("lines: %v", lines(m))
	}
	if m.RestText != "and 43 more: 2 changed, 41 added" {
		t.Errorf("rest %q", m.RestText)
	}
	// Every item is counted exactly once, listed or not.
	total := len(m.Lines)
	for _, c := range m.Rest {
		total += c.N
	}
	if total != 8+40 {
		t.Errorf("%d items, want 48", total)
	}
	if m.DropLast(); len(m.Lines) != 4 || m.RestText != "and 44 more: 3 changed, 41 added" {
		t.Errorf("after DropLast: %d lines, %q", len(m.Lines), m.RestText)
	}
}

func TestFilters(t *testing.T) {
	a, b := notifytest.States(0)
	c := notifytest.Content(t, a, b, "")
	if d := cmp.Diff([]string{"drift", "check_failed"}, c.Events); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		name   string
		set    func(n *schema.NotifyBlock)
		events []string
		lines  int
	}{
		{"default", func(*schema.NotifyBlock) {}, []string{"drift", "check_failed"}, 8},
		{"only checks", func(n *schema.NotifyBlock) { n.On = []string{"check_failed"} }, []string{"check_failed"}, 2},
		{"error checks", func(n *schema.NotifyBlock) { n.On = []string{"check_failed"}; n.Filter.MinSeverity = "error" }, []string{"check_failed"}, 1},
		{"named check", func(n *schema.NotifyBlock) {
			n.On = []string{"check_failed"}
			n.Filter.Checks = []string{"mx_approved"}
		}, []string{"check_failed"}, 1},
		{"A records", func(n *schema.NotifyBlock) {
			n.On = []string{"drift"}
			n.Filter.Types = []string{"A"}
			n.Filter.FactKinds = []string{"none"}
		}, []string{"drift"}, 2},
		{"names", func(n *schema.NotifyBlock) {
			n.On = []string{"drift"}
			n.Filter.Names = []string{"*.acme.example"}
			n.Filter.Changes = []string{"added"}
		}, []string{"drift"}, 1},
		{"facts only", func(n *schema.NotifyBlock) { n.On = []string{"drift"}; n.Filter.Changes = []string{"facts_changed"} }, []string{"drift"}, 2},
		{"nothing", func(n *schema.NotifyBlock) { n.On = []string{"run_failed"} }, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := notifytest.Notifier("webhook", nil)
			tc.set(n)
			v, err := c.View(n)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.events, v.Events()); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			if v.Empty() != (tc.lines == 0) {
				t.Errorf("empty %v", v.Empty())
			}
			if got := len(notify.BuildMessage(n, []*notify.View{v}, notifytest.T0).Lines); got != tc.lines {
				t.Errorf("%d lines, want %d", got, tc.lines)
			}
			// A filtered document keeps every list and a matching summary.
			d := v.DriftDocument()
			if d.Summary["added"] != len(d.Findings.Added) || d.HasDrift != (d.Items() > 0) || d.Findings.Removed == nil {
				t.Errorf("document: %+v", d.Summary)
			}
		})
	}
}

func TestBaselineIsOneSummary(t *testing.T) {
	_, b := notifytest.States(500)
	c := notifytest.Content(t, nil, b, "")
	if d := cmp.Diff([]string{"baseline"}, c.Events); d != "" {
		t.Errorf("events: %s", d)
	}
	if len(c.Drift) != 0 || c.Baseline.Findings != 506 {
		t.Errorf("baseline content: drift %d bytes, %+v", len(c.Drift), c.Baseline)
	}
	n := notifytest.Notifier("slack", nil)
	n.On = []string{"drift"}
	v, _ := c.View(n)
	m := notify.BuildMessage(n, []*notify.View{v}, notifytest.T0)
	// One summary line and the failing checks; never the 506 findings.
	if len(m.Lines) != 3 || m.Lines[2].Kind != "baseline" || m.RestText != "" || !strings.HasPrefix(m.Title, "reconform acme: watching started") {
		t.Errorf("baseline message: %q %v %q", m.Title, lines(m), m.RestText)
	}
}

func TestCheckSentOnceAndOnRecovery(t *testing.T) {
	a, b := notifytest.States(0)
	// Failing again with the same messages: nothing about checks.
	b2 := *b
	b2.Serial = 3
	b2.Findings = b.Findings
	c, err := notify.NewContent(notify.Run{Prev: b, Next: &b2})
	if err != nil || c != nil {
		t.Fatalf("a check failing again alike: %+v %v", c, err)
	}
	// New offenders: sent again.
	b3 := b2
	b3.Checks = []state.CheckResult{{Name: "dmarc_enforced", Severity: "error", Status: state.CheckFail, Messages: []string{"DMARC policy is none on: acme.example, shop.acme.example"}}, b.Checks[1]}
	c = notifytest.Content(t, &b2, &b3, "")
	if len(c.Checks) != 1 || c.Checks[0].Previous != "fail" {
		t.Errorf("changed offenders: %+v", c.Checks)
	}
	// Passing again.
	b4 := b3
	b4.Checks = a.Checks
	c = notifytest.Content(t, &b3, &b4, "")
	if d := cmp.Diff([]string{"check_passed"}, c.Events); d != "" {
		t.Errorf("recovery events: %s", d)
	}
	n := notifytest.Notifier("slack", nil)
	v, _ := c.View(n)
	if !v.Empty() {
		t.Error("check_passed is not in the default on list, yet the view is not empty")
	}
	n.On = append(n.On, "check_passed")
	v, _ = c.View(n)
	if m := notify.BuildMessage(n, []*notify.View{v}, notifytest.T0); len(m.Lines) != 2 || m.Level != notify.LevelOK {
		t.Errorf("recovery message: %v %s", lines(m), m.Level)
	}
}

func TestRunFailure(t *testing.T) {
	a, b := notifytest.States(0)
	b.Instances = append(b.Instances, schema.InstanceResult{Key: "k", Block: "query.history", Status: schema.StatusFailed, Reason: "timeout",
		Query: schema.Query{Provider: "circl"}})
	c := notifytest.Content(t, a, b, "every query failed")
	if c.Run == nil || c.Run.Failed != 1 || !c.Has("run_failed") {
		t.Fatalf("run: %+v", c.Run)
	}
	n := notifytest.Notifier("slack", nil)
	n.On = []string{"run_failed"}
	v, _ := c.View(n)
	m := notify.BuildMessage(n, []*notify.View{v}, notifytest.T0)
	if len(m.Lines) != 1 || !strings.Contains(m.Lines[0].Text, "every query failed (1 of 1 queries failed; query.history: circl: timeout)") {
		t.Errorf("run failure message: %v", lines(m))
	}
}

func TestCoalescedRuns(t *testing.T) {
	a, b := notifytest.States(0)
	first := notifytest.Content(t, nil, a, "")
	second := notifytest.Content(t, a, b, "")
	n := notifytest.Notifier("email", nil)
	v1, _ := first.View(n)
	v2, _ := second.View(n)
	m := notify.BuildMessage(n, []*notify.View{v1, v2}, notifytest.T0)
	if len(m.IDs) != 2 || m.ID() != first.ID+"+1" || !strings.HasPrefix(m.Intro, "2 runs, state serial 0 → 2") {
		t.Errorf("coalesced: %v %q", m.IDs, m.Intro)
	}
	if strings.Count(m.Report, "\n---\n") != 1 {
		t.Errorf("reports are not both there:\n%s", m.Report)
	}
}

func TestRedact(t *testing.T) {
	secrets := []string{"hooks.example/T0/B0/SECRET", `pa"ss`}
	b := notify.RedactJSON([]byte(`{"a":"https://hooks.example/T0/B0/SECRET","b":"pa\"ss"}`), secrets)
	if strings.Contains(string(b), "SECRET") || strings.Contains(string(b), `pa\"ss`) {
		t.Errorf("redacted JSON: %s", b)
	}
	if got := notify.Redact("x hooks.example/T0/B0/SECRET y", secrets); got != "x (sensitive value) y" {
		t.Errorf("Redact: %q", got)
	}
}
