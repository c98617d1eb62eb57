package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/schema"
)

// JSONFormatVersion is the version of the JSON report document.
const JSONFormatVersion = 1

type jsonFinding struct {
	Name       string    `json:"name"`
	Type       string    `json:"type"`
	Value      string    `json:"value"`
	FirstSeen  time.Time `json:"first_seen,omitzero"`
	LastSeen   time.Time `json:"last_seen,omitzero"`
	Count      int64     `json:"count,omitempty"`
	Sources    []string  `json:"sources,omitempty"`
	Current    bool      `json:"current"`
	Unverified string    `json:"unverified,omitempty"`
}

type jsonDoc struct {
	FormatVersion int                     `json:"format_version"`
	Engagement    string                  `json:"engagement"`
	GeneratedAt   time.Time               `json:"generated_at,omitzero"`
	Serial        uint64                  `json:"serial"`
	Lineage       string                  `json:"lineage,omitempty"`
	RunFinished   time.Time               `json:"run_finished,omitzero"`
	Summary       Summary                 `json:"summary"`
	Warnings      []string                `json:"warnings"`
	Checks        []CheckResult           `json:"checks"`
	Risks         []Risk                  `json:"takeover_risks"`
	CAA           []CAAViolation          `json:"caa_violations"`
	Profiles      []Profile               `json:"profiles"`
	SaaS          []SaaSRow               `json:"saas"`
	Hosted        []HostedRow             `json:"hosted_services"`
	Timeline      []analysis.NameTimeline `json:"timeline"`
	Ranges        []RangeRow              `json:"ranges"`
	ByAS          []ASRow                 `json:"by_as"`
	SharedHosting []SharedRow             `json:"shared_hosting"`
	Correlation   []RelatedRow            `json:"correlation"`
	NoLongerLive  []string                `json:"no_longer_resolve"`
	Facts         []schema.Fact           `json:"facts"`
	Findings      []jsonFinding           `json:"findings"`
	Drift         json.RawMessage         `json:"drift"`
}

// json writes the report as one indented JSON document; every list is
// present (possibly empty), the drift is engine/diff's JSON document or
// null.
func (m *model) json(w io.Writer) error {
	doc := jsonDoc{
		FormatVersion: JSONFormatVersion,
		Engagement:    m.in.Engagement,
		GeneratedAt:   m.in.GeneratedAt.UTC(),
		Serial:        m.in.Serial,
		Lineage:       m.in.Lineage,
		RunFinished:   m.in.RunFinished.UTC(),
		Summary:       m.summary,
		Warnings:      nonNil(m.warnings),
		Checks:        nonNil(m.in.Checks),
		Risks:         nonNil(m.attention.Risks),
		CAA:           nonNil(m.attention.CAA),
		Profiles:      nonNil(m.profiles),
		SaaS:          nonNil(m.saas),
		Hosted:        nonNil(m.hosted),
		Timeline:      groupedTimeline(m.timeline),
		ByAS:          nonNil(m.byAS),
		Ranges:        nonNil(m.ranges),
		SharedHosting: nonNil(m.shared),
		Correlation:   nonNil(m.related),
		NoLongerLive:  nonNil(m.gone),
		Facts:         nonNil(m.facts),
		Findings:      make([]jsonFinding, 0, len(m.findings)),
		Drift:         json.RawMessage("null"),
	}
	for _, f := range m.findings {
		doc.Findings = append(doc.Findings, jsonFinding{Name: f.Name, Type: f.Type, Value: f.Value,
			FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(), Count: f.Count, Sources: f.Sources,
			Current: f.Current, Unverified: f.Unverified})
	}
	if m.in.Drift != nil {
		var buf bytes.Buffer
		if err := diff.JSON(&buf, m.in.Drift); err != nil {
			return err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, buf.Bytes()); err != nil {
			return err
		}
		doc.Drift = compact.Bytes()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// groupedTimeline is the timeline with one move per replacement, as the
// Markdown and HTML moves tables and the summary count them.
func groupedTimeline(tls []analysis.NameTimeline) []analysis.NameTimeline {
	out := make([]analysis.NameTimeline, len(tls))
	for i, tl := range tls {
		out[i] = tl
		if len(tl.Moves) > 0 {
			out[i].Moves = analysis.GroupMoves(tl.Moves)
		}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// csv writes one row per record with a header:
// name,type,value,first_seen,last_seen,count,sources,current. Times are
// RFC 3339 (empty when unknown), sources are joined with ";". As in the
// COF export, HOST findings are names, not records, and are left out: a
// row without a value is not one other tools (or reconform's file
// provider) can read back. Record values are chosen by the target, so a
// field a spreadsheet would take for a formula is neutralised
// (csvField).
func (m *model) csv(w io.Writer) error {
	bw := bufio.NewWriter(w)
	row := func(fields ...string) {
		for i, f := range fields {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(csvField(f))
		}
		bw.WriteByte('\n')
	}
	row("name", "type", "value", "first_seen", "last_seen", "count", "sources", "current")
	for _, f := range m.findings {
		if f.Type == schema.TypeHost || f.Value == "" {
			continue
		}
		row(f.Name, f.Type, f.Value, rfc3339(f.FirstSeen), rfc3339(f.LastSeen),
			strconv.FormatInt(f.Count, 10), strings.Join(f.Sources, ";"), strconv.FormatBool(f.Current))
	}
	return bw.Flush()
}

// csvField is one CSV field (RFC 4180: quoted when it holds a comma, a
// quote, a line break or leading space). A field that starts with =, +,
// -, @, a tab or a carriage return would be run as a formula by a
// spreadsheet (CSV injection): as OWASP advises, it gets a single quote
// in front and is quoted. A field that starts with a single quote gets a
// second one, so that a reader removes exactly one quote from any field
// starting with one (the file provider does) and gets the value back.
func csvField(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r'", rune(s[0])) {
		return `"'` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// cofRecord is one line of Passive DNS Common Output Format
// (draft-dulaunoy-dnsop-passive-dns-cof).
type cofRecord struct {
	RRName    string `json:"rrname"`
	RRType    string `json:"rrtype"`
	RData     string `json:"rdata"`
	TimeFirst int64  `json:"time_first"`
	TimeLast  int64  `json:"time_last"`
	Count     int64  `json:"count,omitempty"`
}

// cof writes the findings as COF NDJSON, one record per line: rdata in
// master-file presentation format (TXT quoted, split in 255-byte
// strings), times in unix seconds (0 when the source gave none). HOST
// findings are names, not records, and are left out.
func (m *model) cof(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, f := range m.findings {
		if f.Type == schema.TypeHost || f.Value == "" {
			continue
		}
		rec := cofRecord{RRName: f.Name, RRType: f.Type, RData: presentation(f.Type, f.Value), Count: f.Count}
		if !f.FirstSeen.IsZero() {
			rec.TimeFirst = f.FirstSeen.Unix()
		}
		if !f.LastSeen.IsZero() {
			rec.TimeLast = f.LastSeen.Unix()
		}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return nil
}

// presentation turns a normalised value back into presentation format.
// Names stay without their trailing dot, as CIRCL and DNSDB emit them;
// TXT is its text (schema.UnquoteTXT of the canonical form) quoted and
// escaped.
func presentation(rrtype, v string) string {
	if rrtype != "TXT" && rrtype != "SPF" {
		return v
	}
	v = schema.UnquoteTXT(v)
	var b strings.Builder
	for first := true; first || v != ""; first = false {
		n := min(len(v), 255)
		chunk := v[:n]
		v = v[n:]
		if !first {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				b.WriteString("\\" + leftPad(strconv.Itoa(int(c))))
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

func leftPad(s string) string {
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}
