package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/ansi"
	"github.com/reconform/reconform/schema"
)

// TextOptions tune Text.
type TextOptions struct {
	Color bool
}

type textWriter struct {
	w     io.Writer
	color bool
	pal   ansi.Palette
	err   error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// c wraps s in the styles when colour is on.
func (t *textWriter) c(s string, styles ...ansi.Style) string {
	return t.pal.Paint(s, styles...)
}

func stamp(tm time.Time) string {
	if tm.IsZero() {
		return "unknown time"
	}
	return tm.UTC().Format("2006-01-02 15:04 UTC")
}

func describeSide(s *Side) string {
	return fmt.Sprintf("serial %d (%s)", s.Serial, stamp(s.FinishedAt))
}

// findingLine is "name TYPE value", with "(host)" for a bare host name.
func findingLine(f *schema.Finding) string {
	if f.Value == "" {
		return f.Name + " " + f.Type
	}
	return f.Name + " " + f.Type + " " + f.Value
}

func sourcesNote(f *state.Finding) string {
	if len(f.Sources) == 0 {
		return ""
	}
	return " [" + strings.Join(f.Sources, ", ") + "]"
}

// Summary is the one-line count of the drift.
func (r *Result) Summary() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(len(r.Added), "added")
	add(len(r.Removed), "removed")
	add(len(r.Changed), "changed")
	add(len(r.BecameCurrent), "became current")
	add(len(r.WentHistorical), "went historical")
	if n := len(r.FactsAdded) + len(r.FactsRemoved) + len(r.FactsChanged); n == 1 {
		add(n, "fact change")
	} else {
		add(n, "fact changes")
	}
	if w := r.Weakenings(); w == 1 {
		add(w, "weakening")
	} else {
		add(w, "weakenings")
	}
	s := "no drift"
	if len(parts) > 0 {
		s = strings.Join(parts, ", ")
	}
	var extra []string
	if n := len(r.Unverified); n > 0 {
		extra = append(extra, fmt.Sprintf("%d unverified", n))
	}
	if n := r.Ignored; n > 0 {
		extra = append(extra, fmt.Sprintf("%d ignored by rules", n))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// Text renders the drift for a terminal or a log.
func Text(w io.Writer, r *Result, opts TextOptions) error {
	t := &textWriter{w: w, color: opts.Color, pal: ansi.Palette{On: opts.Color}}
	name := ""
	if r.New != nil && r.New.Engagement != "" {
		name = " of " + r.New.Engagement
	}
	switch {
	case r.Old == nil:
		t.printf("%s\n", t.c("Drift"+name+": no previous state, everything is new", ansi.Bold))
	case r.New != nil:
		t.printf("%s\n", t.c(fmt.Sprintf("Drift%s: %s -> %s", name, describeSide(r.Old), describeSide(r.New)), ansi.Bold))
	}
	if !r.HasDrift() && len(r.Unverified) == 0 && len(r.Reverified) == 0 && len(r.Forgotten) == 0 {
		t.printf("\nNo changes: the infrastructure matches the previous state.")
		if r.Ignored > 0 {
			t.printf(" (%d %s hidden by ignore rules.)", r.Ignored, plural(r.Ignored, "change"))
		}
		t.printf("\n")
		return t.err
	}
	if len(r.Added)+len(r.Removed)+len(r.Changed)+len(r.BecameCurrent)+len(r.WentHistorical) > 0 {
		t.printf("\nFindings:\n")
		for _, f := range r.Added {
			t.printf("  %s %s%s\n", t.c("+", ansi.Green), t.c(findingLine(&f.Finding), ansi.Green), sourcesNote(f))
		}
		for _, f := range r.Removed {
			t.printf("  %s %s  (no longer reported)\n", t.c("-", ansi.Red), t.c(findingLine(&f.Finding), ansi.Red))
		}
		for _, c := range r.Changed {
			t.changed(c)
		}
		for _, f := range r.BecameCurrent {
			t.printf("  %s %s  (became current)%s\n", t.c(">", ansi.Green), t.c(findingLine(&f.Finding), ansi.Green), sourcesNote(f))
		}
		for _, f := range r.WentHistorical {
			t.printf("  %s %s  (went historical; last seen %s)\n", t.c("<", ansi.Red), t.c(findingLine(&f.Finding), ansi.Red), day(f.LastSeen))
		}
	}
	if len(r.FactsAdded)+len(r.FactsRemoved)+len(r.FactsChanged) > 0 {
		t.printf("\nFacts:\n")
		for _, c := range r.FactsChanged {
			if c.Weakening {
				t.printf("  %s %s %s: %s -> %s  %s\n", t.c("!", ansi.Red, ansi.Bold), c.Subject, c.Kind, changeSide(c.Old), t.c(changeSide(c.New), ansi.Red, ansi.Bold), t.c("WEAKENED", ansi.Red, ansi.Bold))
			}
		}
		for _, f := range r.FactsAdded {
			t.printf("  %s %s %s = %s\n", t.c("+", ansi.Green), f.Subject, f.Kind, t.c(f.Value, ansi.Green))
		}
		for _, f := range r.FactsRemoved {
			t.printf("  %s %s %s = %s\n", t.c("-", ansi.Red), f.Subject, f.Kind, t.c(f.Value, ansi.Red))
		}
		for _, c := range r.FactsChanged {
			if !c.Weakening {
				t.printf("  %s %s %s: %s -> %s\n", t.c("~", ansi.Yellow), c.Subject, c.Kind, t.c(changeSide(c.Old), ansi.Red), t.c(changeSide(c.New), ansi.Green))
			}
		}
	}
	if len(r.Unverified) > 0 {
		t.printf("\n%s\n", t.c("Unverified (kept, not removed: the queries that report them did not complete):", ansi.Yellow))
		for _, f := range r.Unverified {
			t.printf("  %s %s  (%s)\n", t.c("?", ansi.Yellow), findingLine(&f.Finding), f.Unverified)
		}
	}
	if len(r.Reverified) > 0 {
		t.printf("\nVerified again: %d finding(s) unverified before were reported again.\n", len(r.Reverified))
	}
	if len(r.Forgotten) > 0 {
		t.printf("\nForgotten (unverified for longer than forget_after):\n")
		for _, f := range r.Forgotten {
			t.printf("  %s %s  (%s since %s)\n", t.c("x", ansi.Cyan), findingLine(&f.Finding), f.Unverified, day(f.UnverifiedSince))
		}
	}
	if mods := r.ByModule(); len(mods) > 0 {
		t.printf("\nBy module instance:\n")
		for _, m := range mods {
			name := m.Module
			if name == "" {
				name = "(root module)"
			}
			t.printf("  %s: %s\n", name, m.summary())
		}
	}
	t.printf("\nSummary: %s.\n", r.Summary())
	return t.err
}

// summary is a module instance's counts in words.
func (m ModuleDrift) summary() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(m.Added, "added")
	add(m.Removed, "removed")
	add(m.Changed, "changed")
	add(m.BecameCurrent, "became current")
	add(m.WentHistorical, "went historical")
	add(m.Unverified, "unverified")
	if len(parts) == 0 {
		return "no drift"
	}
	return strings.Join(parts, ", ")
}

func day(tm time.Time) string {
	if tm.IsZero() {
		return "unknown"
	}
	return tm.UTC().Format("2006-01-02")
}

func (t *textWriter) changed(c Change) {
	how := ""
	switch {
	case c.OldHow == HowWentHistorical && c.NewHow == HowBecameCurrent:
		how = "  (old value went historical, new value became current)"
	case c.OldHow == HowWentHistorical:
		how = "  (old value went historical)"
	case c.NewHow == HowBecameCurrent:
		how = "  (new value became current)"
	}
	if c.Text == nil {
		t.printf("  %s %s %s: %s -> %s%s\n", t.c("~", ansi.Yellow), c.Name, c.Type, t.c(c.Old.Value, ansi.Red), t.c(c.New.Value, ansi.Green), how)
		return
	}
	t.printf("  %s %s %s%s\n", t.c("~", ansi.Yellow), c.Name, c.Type, how)
	var b strings.Builder
	for _, s := range c.Text {
		switch {
		case s.Op == "equal":
			b.WriteString(s.Text)
		case t.color && s.Op == "delete":
			b.WriteString(t.c(s.Text, ansi.RedBg))
		case t.color:
			b.WriteString(t.c(s.Text, ansi.GreenBg))
		case s.Op == "delete":
			b.WriteString("[-" + s.Text + "-]")
		default:
			b.WriteString("{+" + s.Text + "+}")
		}
	}
	t.printf("      %s\n", b.String())
}

// Markdown renders the drift for a pull-request comment or a chat
// message: a heading, a summary line, loud warnings first, then diff
// blocks that GitHub and GitLab colour.
func Markdown(w io.Writer, r *Result) error {
	t := &textWriter{w: w}
	name := ""
	if r.New != nil && r.New.Engagement != "" {
		name = ": `" + mdCode(r.New.Engagement) + "`"
	}
	t.printf("### reconform drift%s\n\n", name)
	switch {
	case r.Old == nil && r.New != nil:
		t.printf("First state (serial %d, %s). ", r.New.Serial, stamp(r.New.FinishedAt))
	case r.Old != nil && r.New != nil:
		t.printf("Serial %d → %d (%s → %s). ", r.Old.Serial, r.New.Serial, stamp(r.Old.FinishedAt), stamp(r.New.FinishedAt))
	}
	t.printf("**%s**\n", capitalize(r.Summary()))
	for _, c := range r.FactsChanged {
		if c.Weakening {
			t.printf("\n> [!WARNING]\n> `%s` %s weakened: `%s` → `%s`\n", mdCode(c.Subject), mdCode(c.Kind), mdCode(c.Old), mdCode(c.New))
		}
	}
	block := func(title string, n int, lines []string) {
		if len(lines) == 0 {
			return
		}
		t.printf("\n#### %s (%d)\n\n```diff\n%s\n```\n", title, n, strings.Join(lines, "\n"))
	}
	lines := func(prefix string, fs []*state.Finding, note func(*state.Finding) string) []string {
		var out []string
		for _, f := range fs {
			l := prefix + " " + fence(findingLine(&f.Finding))
			if note != nil {
				l += note(f)
			}
			out = append(out, l)
		}
		return out
	}
	block("Added", len(r.Added), lines("+", r.Added, nil))
	block("Removed", len(r.Removed), lines("-", r.Removed, nil))
	var ch []string
	for _, c := range r.Changed {
		ch = append(ch, "- "+fence(findingLine(&c.Old.Finding)), "+ "+fence(findingLine(&c.New.Finding)))
	}
	block("Changed", len(r.Changed), ch)
	block("Became current", len(r.BecameCurrent), lines("+", r.BecameCurrent, nil))
	block("Went historical", len(r.WentHistorical), lines("-", r.WentHistorical, func(f *state.Finding) string { return "   (last seen " + day(f.LastSeen) + ")" }))
	var facts []string
	for _, f := range r.FactsAdded {
		facts = append(facts, "+ "+fence(f.Subject+" "+f.Kind+" = "+f.Value))
	}
	for _, f := range r.FactsRemoved {
		facts = append(facts, "- "+fence(f.Subject+" "+f.Kind+" = "+f.Value))
	}
	for _, c := range r.FactsChanged {
		facts = append(facts, "- "+fence(c.Subject+" "+c.Kind+" = "+c.Old), "+ "+fence(c.Subject+" "+c.Kind+" = "+c.New))
	}
	block("Facts", len(r.FactsAdded)+len(r.FactsRemoved)+len(r.FactsChanged), facts)
	if len(r.Unverified) > 0 {
		t.printf("\n<details><summary>Unverified: %d finding(s) kept, not removed, because their queries did not complete</summary>\n\n", len(r.Unverified))
		t.printf("| Finding | Why |\n|---|---|\n")
		for _, f := range r.Unverified {
			t.printf("| `%s` | %s |\n", mdCode(findingLine(&f.Finding)), mdCell(f.Unverified))
		}
		t.printf("\n</details>\n")
	}
	return t.err
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// fence keeps a value from closing a code block.
func fence(s string) string { return strings.ReplaceAll(s, "```", "`\u200b``") }

// mdCode makes s safe inside single backticks.
func mdCode(s string) string { return strings.ReplaceAll(s, "`", "'") }

// mdCell makes s safe in a table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return s
}

// JSONFormatVersion is the version of the drift JSON document
// (docs/drift-json.md); it changes only when a field changes meaning or
// goes away.
const JSONFormatVersion = 1

type jsonSide struct {
	Engagement string    `json:"engagement"`
	Findings   int       `json:"findings"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Lineage    string    `json:"lineage"`
	Serial     uint64    `json:"serial"`
}

type jsonChange struct {
	Name   string `json:"name"`
	New    any    `json:"new"`
	NewHow string `json:"new_how"`
	Old    any    `json:"old"`
	OldHow string `json:"old_how"`
	Text   []Span `json:"text_diff,omitempty"`
	Type   string `json:"type"`
}

type jsonFactChange struct {
	Kind      string `json:"kind"`
	New       string `json:"new"`
	Old       string `json:"old"`
	Subject   string `json:"subject"`
	Weakening bool   `json:"weakening"`
}

type jsonFindings struct {
	Added          []any        `json:"added"`
	BecameCurrent  []any        `json:"became_current"`
	Changed        []jsonChange `json:"changed"`
	Forgotten      []any        `json:"forgotten"`
	Removed        []any        `json:"removed"`
	Reverified     []any        `json:"reverified"`
	Unverified     []any        `json:"unverified"`
	WentHistorical []any        `json:"went_historical"`
}

type jsonFacts struct {
	Added   []any            `json:"added"`
	Changed []jsonFactChange `json:"changed"`
	Removed []any            `json:"removed"`
}

type jsonSummary struct {
	Added          int `json:"added"`
	BecameCurrent  int `json:"became_current"`
	Changed        int `json:"changed"`
	FactsAdded     int `json:"facts_added"`
	FactsChanged   int `json:"facts_changed"`
	FactsRemoved   int `json:"facts_removed"`
	Forgotten      int `json:"forgotten"`
	Ignored        int `json:"ignored"`
	Removed        int `json:"removed"`
	Reverified     int `json:"reverified"`
	Unverified     int `json:"unverified"`
	Weakenings     int `json:"weakenings"`
	WentHistorical int `json:"went_historical"`
}

type jsonDoc struct {
	Facts         jsonFacts    `json:"facts"`
	Findings      jsonFindings `json:"findings"`
	FormatVersion int          `json:"format_version"`
	HasDrift      bool         `json:"has_drift"`
	Modules       []jsonModule `json:"modules,omitempty"`
	New           *jsonSide    `json:"new"`
	Old           *jsonSide    `json:"old"`
	Summary       jsonSummary  `json:"summary"`
}

// jsonModule is one module instance's drift counts.
type jsonModule struct {
	Added          int    `json:"added"`
	BecameCurrent  int    `json:"became_current"`
	Changed        int    `json:"changed"`
	Module         string `json:"module"`
	Removed        int    `json:"removed"`
	Unverified     int    `json:"unverified"`
	WentHistorical int    `json:"went_historical"`
}

func jside(s *Side) *jsonSide {
	if s == nil {
		return nil
	}
	fin := s.FinishedAt
	if !fin.IsZero() {
		fin = fin.UTC()
	}
	return &jsonSide{Engagement: s.Engagement, FinishedAt: fin, Findings: s.Findings, Lineage: s.Lineage, Serial: s.Serial}
}

func jfindings(fs []*state.Finding) []any {
	out := make([]any, 0, len(fs))
	for _, f := range fs {
		out = append(out, state.FindingJSON(f))
	}
	return out
}

func jfacts(fs []schema.Fact) []any {
	out := make([]any, 0, len(fs))
	for i := range fs {
		out = append(out, state.FactJSON(&fs[i]))
	}
	return out
}

// JSON writes the drift as the document described in docs/drift-json.md:
// sorted keys, two-space indent, every list present (possibly empty).
func JSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(buildDoc(r))
}

// JSONEvent writes the drift as one line of a JSON event stream (apply
// -json): {"type":"drift","drift":<the document JSON writes>}.
func JSONEvent(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		Drift jsonDoc `json:"drift"`
		Type  string  `json:"type"`
	}{buildDoc(r), "drift"})
}

func buildDoc(r *Result) jsonDoc {
	doc := jsonDoc{
		FormatVersion: JSONFormatVersion,
		HasDrift:      r.HasDrift(),
		Old:           jside(r.Old),
		New:           jside(r.New),
		Findings: jsonFindings{
			Added: jfindings(r.Added), Removed: jfindings(r.Removed),
			BecameCurrent: jfindings(r.BecameCurrent), WentHistorical: jfindings(r.WentHistorical),
			Unverified: jfindings(r.Unverified), Reverified: jfindings(r.Reverified), Forgotten: jfindings(r.Forgotten),
			Changed: make([]jsonChange, 0, len(r.Changed)),
		},
		Facts: jsonFacts{Added: jfacts(r.FactsAdded), Removed: jfacts(r.FactsRemoved), Changed: make([]jsonFactChange, 0, len(r.FactsChanged))},
		Summary: jsonSummary{
			Added: len(r.Added), Removed: len(r.Removed), Changed: len(r.Changed),
			BecameCurrent: len(r.BecameCurrent), WentHistorical: len(r.WentHistorical),
			Unverified: len(r.Unverified), Reverified: len(r.Reverified), Forgotten: len(r.Forgotten),
			FactsAdded: len(r.FactsAdded), FactsRemoved: len(r.FactsRemoved), FactsChanged: len(r.FactsChanged),
			Weakenings: r.Weakenings(), Ignored: r.Ignored,
		},
	}
	for _, c := range r.Changed {
		doc.Findings.Changed = append(doc.Findings.Changed, jsonChange{Name: c.Name, Type: c.Type,
			Old: state.FindingJSON(c.Old), OldHow: c.OldHow, New: state.FindingJSON(c.New), NewHow: c.NewHow, Text: c.Text})
	}
	for _, m := range r.ByModule() {
		doc.Modules = append(doc.Modules, jsonModule{Module: m.Module, Added: m.Added, Removed: m.Removed, Changed: m.Changed,
			BecameCurrent: m.BecameCurrent, WentHistorical: m.WentHistorical, Unverified: m.Unverified})
	}
	for _, c := range r.FactsChanged {
		doc.Facts.Changed = append(doc.Facts.Changed, jsonFactChange{Subject: c.Subject, Kind: c.Kind, Old: c.Old, New: c.New, Weakening: c.Weakening})
	}
	return doc
}

// changeSide is one side of "old -> new": quoted when it is empty or holds
// an arrow itself (a moved fact's "A 192.0.2.1 -> 192.0.2.2"), so the
// line still reads unambiguously.
func changeSide(v string) string {
	if v == "" || strings.Contains(v, "->") {
		return strconv.Quote(v)
	}
	return v
}

// plural is word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
