package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reconform/reconform/schema"
)

// The on-disk form. Every struct lists its fields in the order of their
// JSON names, so encoding/json writes sorted keys; maps are sorted by the
// encoder. The top-level object is written key by key (encodeTo) so a
// state of a million findings is streamed, never held twice in memory.

type findingJSON struct {
	Active          bool      `json:"active,omitempty"`
	Block           string    `json:"block,omitempty"`
	Blocks          []string  `json:"blocks,omitempty"`
	Count           int64     `json:"count,omitempty"`
	Currency        Currency  `json:"currency"`
	Depth           int       `json:"depth,omitempty"`
	FirstSeen       time.Time `json:"first_seen,omitzero"`
	Instances       []string  `json:"instances,omitempty"`
	LastSeen        time.Time `json:"last_seen,omitzero"`
	Name            string    `json:"name"`
	Query           string    `json:"query,omitempty"`
	Sources         []string  `json:"sources,omitempty"`
	Type            string    `json:"type"`
	Unverified      string    `json:"unverified,omitempty"`
	UnverifiedSince time.Time `json:"unverified_since,omitzero"`
	Value           string    `json:"value"`
}

type subjectJSON struct {
	Kind  schema.SubjectKind `json:"kind"`
	Value string             `json:"value"`
}

type queryJSON struct {
	Op       schema.Op         `json:"op"`
	Params   map[string]string `json:"params,omitempty"`
	Provider string            `json:"provider"`
	RRTypes  []string          `json:"rrtypes,omitempty"`
	Subject  subjectJSON       `json:"subject"`
}

type instanceJSON struct {
	Active   bool                  `json:"active,omitempty"`
	Block    string                `json:"block,omitempty"`
	Blocks   []string              `json:"blocks,omitempty"`
	Depth    int                   `json:"depth"`
	Findings int                   `json:"findings"`
	Key      string                `json:"key"`
	Query    queryJSON             `json:"query"`
	Reason   string                `json:"reason,omitempty"`
	Requests int                   `json:"requests,omitempty"`
	Status   schema.InstanceStatus `json:"status"`
}

type factJSON struct {
	Evidence []string `json:"evidence,omitempty"`
	Kind     string   `json:"kind"`
	Subject  string   `json:"subject"`
	Value    string   `json:"value"`
}

type runJSON struct {
	FinishedAt  time.Time                     `json:"finished_at,omitzero"`
	Findings    int                           `json:"findings"`
	Instances   map[schema.InstanceStatus]int `json:"instances"`
	Interrupted bool                          `json:"interrupted,omitempty"`
	Plan        string                        `json:"plan,omitempty"`
	Requests    map[string]int                `json:"requests"`
	StartedAt   time.Time                     `json:"started_at,omitzero"`
	Targets     []string                      `json:"targets,omitempty"`
	Warnings    []string                      `json:"warnings,omitempty"`
}

type checkJSON struct {
	Description string      `json:"description,omitempty"`
	Diagnostics []string    `json:"diagnostics,omitempty"`
	Messages    []string    `json:"messages,omitempty"`
	Name        string      `json:"name"`
	Severity    string      `json:"severity"`
	Status      CheckStatus `json:"status"`
}

// CheckJSON returns the on-disk form of a check result; apply -json and
// check -json reuse it.
func CheckJSON(c *CheckResult) any {
	return checkJSON{Description: c.Description, Diagnostics: c.Diagnostics, Messages: c.Messages, Name: c.Name, Severity: c.Severity, Status: c.Status}
}

type outputJSON struct {
	Description string          `json:"description,omitempty"`
	Name        string          `json:"name"`
	Secret      bool            `json:"secret,omitempty"`
	Sensitive   bool            `json:"sensitive,omitempty"`
	Type        json.RawMessage `json:"type,omitempty"`
	Value       json.RawMessage `json:"value,omitempty"`
}

// extraBlocks is the list of blocks written for a finding or an
// instance: nil when it is just the one block, so a state without
// modules or shared queries reads as it always did.
func extraBlocks(block string, blocks []string) []string {
	if len(blocks) == 0 || len(blocks) == 1 && blocks[0] == block {
		return nil
	}
	return blocks
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// FindingJSON returns the on-disk form of f; the drift JSON reuses it.
func FindingJSON(f *Finding) any { return toFindingJSON(f) }

func toFindingJSON(f *Finding) findingJSON {
	return findingJSON{
		Active:          f.Active,
		Block:           f.Block,
		Blocks:          extraBlocks(f.Block, f.Blocks),
		Count:           f.Count,
		Currency:        f.Currency,
		Depth:           f.Depth,
		FirstSeen:       utc(f.FirstSeen),
		Instances:       f.Instances,
		LastSeen:        utc(f.LastSeen),
		Name:            f.Name,
		Query:           f.Query,
		Sources:         f.Sources,
		Type:            f.Type,
		Unverified:      f.Unverified,
		UnverifiedSince: utc(f.UnverifiedSince),
		Value:           f.Value,
	}
}

// FactJSON returns the on-disk form of a fact; the drift JSON reuses it.
func FactJSON(f *schema.Fact) any {
	return factJSON{Evidence: f.Evidence, Kind: f.Kind, Subject: f.Subject, Value: f.Value}
}

func toInstanceJSON(in *schema.InstanceResult) instanceJSON {
	return instanceJSON{
		Active:   in.Active,
		Block:    in.Block,
		Blocks:   extraBlocks(in.Block, in.Blocks),
		Depth:    in.Depth,
		Findings: in.Findings,
		Key:      in.Key,
		Query: queryJSON{
			Op:       in.Query.Op,
			Params:   in.Query.Params,
			Provider: in.Query.Provider,
			RRTypes:  in.Query.RRTypes,
			Subject:  subjectJSON(in.Query.Subject),
		},
		Reason:   in.Reason,
		Requests: in.Requests,
		Status:   in.Status,
	}
}

// Encode writes s as canonical JSON: sorted keys and arrays, two-space
// indent, a trailing newline. It sorts s in place first.
func Encode(w io.Writer, s *State) error {
	s.Normalize()
	bw := bufio.NewWriterSize(w, 1<<16)
	e := &encoder{w: bw}
	e.raw("{\n")
	if len(s.Checks) > 0 {
		// Only when there are checks: a state without them encodes as it
		// did before checks existed.
		e.array("checks", len(s.Checks), func(i int) any { return CheckJSON(&s.Checks[i]) })
	}
	e.field("config_hash", s.ConfigHash, false)
	e.field("engagement", s.Engagement, false)
	e.array("facts", len(s.Facts), func(i int) any { return FactJSON(&s.Facts[i]) })
	e.findings(s.Findings)
	version := s.FormatVersion
	if version == 0 {
		version = FormatVersion
	}
	e.field("format_version", version, false)
	e.array("instances", len(s.Instances), func(i int) any { return toInstanceJSON(&s.Instances[i]) })
	e.field("lineage", s.Lineage, false)
	if len(s.Outputs) > 0 {
		// Only when there are outputs: a state without them encodes as
		// it did before outputs existed.
		e.array("outputs", len(s.Outputs), func(i int) any {
			o := &s.Outputs[i]
			return outputJSON{Description: o.Description, Name: o.Name, Secret: o.Secret, Sensitive: o.Sensitive, Type: o.Type, Value: o.Value}
		})
	}
	run := runJSON{
		FinishedAt:  utc(s.Run.FinishedAt),
		Findings:    s.Run.Findings,
		Instances:   s.Run.Instances,
		Interrupted: s.Run.Interrupted,
		Plan:        s.Run.Plan,
		Requests:    s.Run.Requests,
		StartedAt:   utc(s.Run.StartedAt),
		Targets:     s.Run.Targets,
		Warnings:    s.Run.Warnings,
	}
	if run.Instances == nil {
		run.Instances = map[schema.InstanceStatus]int{}
	}
	if run.Requests == nil {
		run.Requests = map[string]int{}
	}
	e.field("run", run, false)
	e.field("serial", s.Serial, true)
	e.raw("}\n")
	if e.err != nil {
		return e.err
	}
	return bw.Flush()
}

// encoder writes the top-level object one key at a time.
type encoder struct {
	w    *bufio.Writer
	buf  bytes.Buffer
	encs map[string]*json.Encoder // by line prefix, all writing to buf
	err  error
}

func (e *encoder) raw(s string) {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// value encodes v with the given line prefix, without the encoder's
// trailing newline and without HTML escaping (TXT records are text).
func (e *encoder) value(v any, prefix string) {
	if e.err != nil {
		return
	}
	e.buf.Reset()
	enc := e.encs[prefix]
	if enc == nil {
		enc = json.NewEncoder(&e.buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent(prefix, "  ")
		if e.encs == nil {
			e.encs = map[string]*json.Encoder{}
		}
		e.encs[prefix] = enc
	}
	if e.err = enc.Encode(v); e.err != nil {
		return
	}
	_, e.err = e.w.Write(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
}

func (e *encoder) field(name string, v any, last bool) {
	e.raw("  " + strconv.Quote(name) + ": ")
	e.value(v, "  ")
	if last {
		e.raw("\n")
	} else {
		e.raw(",\n")
	}
}

func (e *encoder) array(name string, n int, elem func(int) any) {
	e.raw("  " + strconv.Quote(name) + ": ")
	if n == 0 {
		e.raw("[],\n")
		return
	}
	e.raw("[\n")
	for i := 0; i < n; i++ {
		e.raw("    ")
		e.value(elem(i), "    ")
		if i < n-1 {
			e.raw(",\n")
		} else {
			e.raw("\n")
		}
	}
	e.raw("  ],\n")
}

// findings writes the findings array with appendFinding: the same bytes
// the generic path would write, several times faster, which matters for
// states of a million findings.
func (e *encoder) findings(fs []Finding) {
	if len(fs) == 0 {
		e.raw("  \"findings\": [],\n")
		return
	}
	e.raw("  \"findings\": [\n")
	var b []byte
	for i := range fs {
		if e.err != nil {
			return
		}
		b = append(b[:0], "    "...)
		b, e.err = appendFinding(b, &fs[i])
		if i < len(fs)-1 {
			b = append(b, ",\n"...)
		} else {
			b = append(b, '\n')
		}
		if e.err == nil {
			_, e.err = e.w.Write(b)
		}
	}
	e.raw("  ],\n")
}

// appendFinding appends f as encoding/json would write its findingJSON
// form inside the findings array (prefix "    ", indent "  ", no HTML
// escaping). TestAppendFindingMatchesEncodingJSON and the fuzz target
// hold it to that.
func appendFinding(b []byte, f *Finding) ([]byte, error) {
	const ind = "\n      "
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, ind...)
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, `": `...)
	}
	str := func(k, v string) {
		key(k)
		b = appendJSONString(b, v)
	}
	var terr error
	tm := func(k string, t time.Time) {
		if t.IsZero() {
			return
		}
		key(k)
		t = t.UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			terr = fmt.Errorf("time %v of %s: year outside of range [0,9999]", t, f.ID())
			return
		}
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	list := func(k string, l []string) {
		if len(l) == 0 {
			return
		}
		key(k)
		b = append(b, '[')
		for i, v := range l {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n        "...)
			b = appendJSONString(b, v)
		}
		b = append(b, ind...)
		b = append(b, ']')
	}
	if f.Active {
		key("active")
		b = append(b, "true"...)
	}
	if f.Block != "" {
		str("block", f.Block)
	}
	list("blocks", extraBlocks(f.Block, f.Blocks))
	if f.Count != 0 {
		key("count")
		b = strconv.AppendInt(b, f.Count, 10)
	}
	str("currency", string(f.Currency))
	if f.Depth != 0 {
		key("depth")
		b = strconv.AppendInt(b, int64(f.Depth), 10)
	}
	tm("first_seen", f.FirstSeen)
	list("instances", f.Instances)
	tm("last_seen", f.LastSeen)
	str("name", f.Name)
	if f.Query != "" {
		str("query", f.Query)
	}
	list("sources", f.Sources)
	str("type", f.Type)
	if f.Unverified != "" {
		str("unverified", f.Unverified)
	}
	tm("unverified_since", f.UnverifiedSince)
	str("value", f.Value)
	b = append(b, "\n    }"...)
	return b, terr
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// VersionError is returned for a state written by a newer reconform.
type VersionError struct {
	Path          string
	FileVersion   int
	ReaderVersion int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("state was written by a newer reconform: %s has format_version %d, this build reads format_version %d at most; upgrade reconform (the file was not changed)",
		e.Path, e.FileVersion, e.ReaderVersion)
}

// CorruptError is returned for a state that is not valid.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("state file %s is not a valid reconform state (the file was not changed; restore it from .reconform/history or version control): %v", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// ReadFile reads the state at path. A missing file is reported with an
// error satisfying errors.Is(err, fs.ErrNotExist). The file is only ever
// read here, whatever is wrong with it.
func ReadFile(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Count the findings first (a fast scan of the cached file) so they
	// are allocated once: a large state then needs no slack for growth.
	hint := countFindings(f)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	s, err := decodeSized(f, hint)
	if err == nil {
		s.disk, _ = f.Stat()
		return s, nil
	}
	var ve *VersionError
	if errors.As(err, &ve) {
		ve.Path = path
		return nil, ve
	}
	// The version is checked first: a newer format may not parse as this
	// one, and then its version is what the user needs to hear about.
	if v, ok := peekVersion(path); ok && v > FormatVersion {
		return nil, &VersionError{Path: path, FileVersion: v, ReaderVersion: FormatVersion}
	}
	return nil, &CorruptError{Path: path, Err: err}
}

// peekVersion finds the top-level format_version line of a state file
// without parsing the rest, for files that do not parse as this version.
func peekVersion(path string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, `  "format_version": `)
		if !ok {
			continue
		}
		rest = strings.Trim(strings.TrimSuffix(strings.TrimSpace(rest), ","), `"`)
		major, _, _ := strings.Cut(rest, ".")
		v, err := strconv.Atoi(major)
		return v, err == nil
	}
	return 0, false
}
