package notify

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reconform/reconform/schema"
)

// Levels of a message or a line, most severe first: a channel turns them
// into colours and marks.
const (
	LevelCritical = "critical" // an error check failed, the run failed, a posture weakened
	LevelWarning  = "warning"  // a change, a warning check
	LevelOK       = "ok"       // a check passes again
	LevelInfo     = "info"     // a baseline, a test
)

// maxLine bounds one line of a message; a longer value is cut.
const maxLine = 300

// Message is what a chat or e-mail channel sends for one notifier: a
// title, the most important items first up to the notifier's max_items,
// counts for the rest, and the full report to attach or link.
type Message struct {
	Engagement string
	Notifier   string
	// Title is one line: "acme: 1 check failed, 5 changes".
	Title string
	// Intro says which runs the message covers.
	Intro string
	Level string
	Lines []Line
	// Rest counts what is not listed, by kind ("8 added"); RestText says
	// it in words ("and 12 more: 8 added, 4 went historical").
	Rest     []Count
	RestText string
	// ReportURL links the full report, when the notifier has one.
	ReportURL string
	// Report is the full Markdown report of every run in the message;
	// ReportName a file name for it.
	Report     string
	ReportName string
	// IDs are the ledger events the message delivers (its first is the
	// delivery ID a receiver may deduplicate on).
	IDs []string
	// Views are the filtered contents (the webhook sends each as a drift
	// document).
	Views []*View
	Test  bool
	Time  time.Time
}

// Line is one item of a message.
type Line struct {
	Level string
	// Kind names the item's list ("added", "check_failed").
	Kind string
	Text string
}

// Count is how many items of a kind a message does not list.
type Count struct {
	Kind string
	N    int
}

// ID is the message's delivery ID: the event's, or one made of all the
// events it covers.
func (m *Message) ID() string {
	switch len(m.IDs) {
	case 0:
		return ""
	case 1:
		return m.IDs[0]
	}
	return m.IDs[0] + "+" + strconv.Itoa(len(m.IDs)-1)
}

// item is a line with its rank: lower is more important.
type item struct {
	rank int
	Line
}

// kindWords are how counts name each kind: one, many.
var kindWords = map[string][2]string{
	"check_failed": {"check failed", "checks failed"}, "check_warning": {"warning check failed", "warning checks failed"},
	"check_passed": {"check passes again", "checks pass again"}, "run_failed": {"run failure", "run failures"},
	"weakening": {"weakening", "weakenings"}, "facts_changed": {"fact changed", "facts changed"},
	"facts_added": {"fact added", "facts added"}, "facts_removed": {"fact removed", "facts removed"},
	"changed": {"changed", "changed"}, "added": {"added", "added"}, "removed": {"removed", "removed"},
	"went_historical": {"went historical", "went historical"}, "became_current": {"became current", "became current"},
	"unverified": {"unverified", "unverified"}, "baseline": {"baseline", "baselines"},
}

// BuildMessage builds the message of one notifier from the views of its
// pending events, oldest first.
func BuildMessage(n *schema.NotifyBlock, views []*View, now time.Time) *Message {
	m := &Message{Notifier: n.Address, Time: now, Views: views}
	var items []item
	var reports []string
	weak, changes, errChecks, warnChecks, passed, runs := 0, 0, 0, 0, 0, 0
	var baseline *Baseline
	for _, v := range views {
		c := v.Content
		m.Engagement = c.Engagement
		m.IDs = append(m.IDs, c.ID)
		m.Test = m.Test || c.Test
		if c.Report != "" {
			reports = append(reports, strings.TrimSpace(c.Report))
		}
		if v.Baseline != nil {
			baseline = v.Baseline
			b := v.Baseline
			items = append(items, item{5, Line{LevelInfo, "baseline", fmt.Sprintf("First state: %d findings (%d current, %d historical, %d unverified), %d facts. From now on each change is reported once.",
				b.Findings, b.Current, b.Historical, b.Unverified, b.Facts)}})
		}
		for _, ch := range v.Checks {
			text := "Check " + ch.Name
			details := append(append([]string(nil), ch.Messages...), ch.Diagnostics...)
			switch {
			case !ch.Failing():
				passed++
				items = append(items, item{4, Line{LevelOK, "check_passed", text + " passes again."}})
				continue
			case ch.Status == "error":
				text += " could not be evaluated"
			default:
				text += " failed"
			}
			if len(details) > 0 {
				text += ": " + strings.Join(details, "; ")
			}
			if ch.Severity == schema.SeverityError {
				errChecks++
				items = append(items, item{0, Line{LevelCritical, "check_failed", text}})
			} else {
				warnChecks++
				items = append(items, item{3, Line{LevelWarning, "check_warning", text + " (warning)"}})
			}
		}
		if r := v.Run; r != nil {
			runs++
			text := "The run failed: " + r.Reason
			if r.Failed > 0 {
				text += fmt.Sprintf(" (%d of %d queries failed", r.Failed, r.Instances)
				if len(r.Errors) > 0 {
					text += "; " + r.Errors[0]
				}
				text += ")"
			}
			items = append(items, item{1, Line{LevelCritical, "run_failed", text + ". Previous findings are kept, unverified."}})
		}
		if d := v.Drift; d != nil {
			changes += d.Items()
			for _, c := range d.Facts.Changed {
				if c.Weakening {
					weak++
					items = append(items, item{2, Line{LevelCritical, "weakening", fmt.Sprintf("%s %s weakened: %s → %s", c.Subject, c.Kind, quoteEmpty(c.Old), quoteEmpty(c.New))}})
				} else {
					items = append(items, item{6, Line{LevelWarning, "facts_changed", fmt.Sprintf("%s %s: %s → %s", c.Subject, c.Kind, quoteEmpty(c.Old), quoteEmpty(c.New))}})
				}
			}
			for _, f := range d.Facts.Added {
				items = append(items, item{7, Line{LevelWarning, "facts_added", fmt.Sprintf("+ %s %s = %s", f.Subject, f.Kind, f.Value)}})
			}
			for _, c := range d.Findings.Changed {
				items = append(items, item{8, Line{LevelWarning, "changed", fmt.Sprintf("~ %s %s: %s → %s", c.Name, c.Type, quoteEmpty(c.Old.Value), quoteEmpty(c.New.Value))}})
			}
			for _, f := range d.Findings.Added {
				rank := 9
				if f.Currency != "current" {
					rank = 10 // a historical record new to the state matters less than a live one
				}
				items = append(items, item{rank, Line{LevelWarning, "added", "+ " + f.Line() + sourcesNote(f.Sources)}})
			}
			for _, f := range d.Facts.Removed {
				items = append(items, item{11, Line{LevelWarning, "facts_removed", fmt.Sprintf("- %s %s = %s", f.Subject, f.Kind, f.Value)}})
			}
			for _, f := range d.Findings.Removed {
				items = append(items, item{12, Line{LevelWarning, "removed", "- " + f.Line() + " (no longer reported)"}})
			}
			for _, f := range d.Findings.WentHistorical {
				items = append(items, item{13, Line{LevelWarning, "went_historical", "< " + f.Line() + " (went historical)"}})
			}
			for _, f := range d.Findings.BecameCurrent {
				items = append(items, item{14, Line{LevelWarning, "became_current", "> " + f.Line() + " (became current)"}})
			}
			for _, f := range d.Findings.Unverified {
				items = append(items, item{15, Line{LevelInfo, "unverified", "? " + f.Line() + " (unverified: " + f.Unverified + ")"}})
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].rank < items[j].rank })
	max := n.MaxItems
	if max <= 0 {
		max = schema.DefaultNotifyMaxItems
	}
	rest := map[string]int{}
	var restOrder []string
	for i, it := range items {
		if i < max {
			it.Text = cut(it.Text, maxLine)
			m.Lines = append(m.Lines, it.Line)
			continue
		}
		if rest[it.Kind] == 0 {
			restOrder = append(restOrder, it.Kind)
		}
		rest[it.Kind]++
	}
	for _, k := range restOrder {
		m.Rest = append(m.Rest, Count{Kind: k, N: rest[k]})
	}
	m.sayRest()

	// Title and level.
	var parts []string
	for _, c := range []struct {
		n         int
		one, many string
	}{
		{errChecks, "check failed", "checks failed"}, {runs, "run failed", "runs failed"}, {weak, "weakening", "weakenings"},
		{warnChecks, "warning", "warnings"}, {changes, "change", "changes"}, {passed, "check passes again", "checks pass again"},
	} {
		if c.n > 0 {
			parts = append(parts, countWord(c.n, c.one, c.many))
		}
	}
	switch {
	case m.Test:
		m.Level = LevelInfo
		parts = []string{"test message"}
	case errChecks+runs+weak > 0:
		m.Level = LevelCritical
	case warnChecks+changes > 0:
		m.Level = LevelWarning
	case passed > 0:
		m.Level = LevelOK
	default:
		m.Level = LevelInfo
	}
	if baseline != nil && !m.Test {
		parts = append([]string{"watching started"}, parts...)
	}
	if len(parts) == 0 {
		parts = []string{"no changes"}
	}
	m.Title = fmt.Sprintf("reconform %s: %s", m.Engagement, strings.Join(parts, ", "))
	m.Intro = intro(views)
	m.Report = strings.Join(reports, "\n\n---\n\n") + "\n"
	last := uint64(0)
	if len(views) > 0 {
		last = views[len(views)-1].Content.Serial
	}
	m.ReportName = fmt.Sprintf("reconform-%s-serial-%d.md", fileSafe(m.Engagement), last)
	if n.ReportURL != "" {
		m.ReportURL = strings.NewReplacer("{engagement}", m.Engagement, "{serial}", strconv.FormatUint(last, 10)).Replace(n.ReportURL)
	}
	return m
}

// intro says which runs a message covers.
func intro(views []*View) string {
	if len(views) == 0 {
		return ""
	}
	first, last := views[0].Content, views[len(views)-1].Content
	if first.Test {
		return "A test message from reconform: this notifier is set up right."
	}
	when := ""
	if !last.FinishedAt.IsZero() {
		when = " (run finished " + last.FinishedAt.UTC().Format("2006-01-02 15:04 UTC") + ")"
	}
	if len(views) == 1 {
		if first.PrevSerial == 0 {
			return fmt.Sprintf("First run, state serial %d%s.", first.Serial, when)
		}
		return fmt.Sprintf("State serial %d → %d%s.", first.PrevSerial, first.Serial, when)
	}
	return fmt.Sprintf("%d runs, state serial %d → %d%s: what earlier messages could not deliver is included.", len(views), first.PrevSerial, last.Serial, when)
}

func kindWord(k string, n int) string {
	w, ok := kindWords[k]
	if !ok {
		return k
	}
	if n == 1 {
		return w[0]
	}
	return w[1]
}

func countWord(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

func sourcesNote(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return " [" + strings.Join(s, ", ") + "]"
}

// cut shortens s to at most n bytes, on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// DriftDocument is the view's drift as a document of docs/drift-json.md:
// the filtered drift, or one with every list empty (a baseline, a test,
// a run whose only news is a check).
func (v *View) DriftDocument() *DriftDoc {
	if v.Drift != nil {
		return v.Drift
	}
	side, _ := json.Marshal(map[string]any{"engagement": v.Content.Engagement, "findings": 0, "lineage": "", "serial": v.Content.Serial})
	if v.Baseline != nil {
		side, _ = json.Marshal(map[string]any{"engagement": v.Content.Engagement, "findings": v.Baseline.Findings, "lineage": "", "serial": v.Content.Serial})
	}
	d := &DriftDoc{FormatVersion: 1, New: side, Old: json.RawMessage("null")}
	d.normalize()
	d.summarize(0)
	return d
}

// DropLast moves the message's last listed line into the counts of the
// rest: what a channel does while its payload is over the receiver's
// limit. It reports false when no line is left to drop.
func (m *Message) DropLast() bool {
	if len(m.Lines) == 0 {
		return false
	}
	l := m.Lines[len(m.Lines)-1]
	m.Lines = m.Lines[:len(m.Lines)-1]
	found := false
	for i := range m.Rest {
		if m.Rest[i].Kind == l.Kind {
			m.Rest[i].N++
			found = true
		}
	}
	if !found {
		m.Rest = append([]Count{{Kind: l.Kind, N: 1}}, m.Rest...)
	}
	m.sayRest()
	return true
}

// sayRest puts Rest in words: "and 12 more: 8 added, 4 went historical".
func (m *Message) sayRest() {
	if len(m.Rest) == 0 {
		m.RestText = ""
		return
	}
	var parts []string
	total := 0
	for _, c := range m.Rest {
		parts = append(parts, fmt.Sprintf("%d %s", c.N, kindWord(c.Kind, c.N)))
		total += c.N
	}
	m.RestText = fmt.Sprintf("and %d more: %s", total, strings.Join(parts, ", "))
}
