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

	"github.com/reconform/reconform/schema"
)

// The on-disk form. Every struct lists its fields in the order of their
// JSON names, so encoding/json writes sorted keys; maps are sorted by the
// encoder. The top-level object is written key by key (encodeTo) so a
// state of a million findings is streamed, never held twice in memory.

type findingJSON struct {
	Active          bool      `json:"active,omitempty"`
	Block           string    `json:"block,omitempty"`
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
	Requests    map[string]int                `json:"requests"`
	StartedAt   time.Time                     `json:"started_at,omitzero"`
	Warnings    []string                      `json:"warnings,omitempty"`
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
	e.field("config_hash", s.ConfigHash, false)
	e.field("engagement", s.Engagement, false)
	e.array("facts", len(s.Facts), func(i int) any { return FactJSON(&s.Facts[i]) })
	e.array("findings", len(s.Findings), func(i int) any { return toFindingJSON(&s.Findings[i]) })
	version := s.FormatVersion
	if version == 0 {
		version = FormatVersion
	}
	e.field("format_version", version, false)
	e.array("instances", len(s.Instances), func(i int) any { return toInstanceJSON(&s.Instances[i]) })
	e.field("lineage", s.Lineage, false)
	run := runJSON{
		FinishedAt:  utc(s.Run.FinishedAt),
		Findings:    s.Run.Findings,
		Instances:   s.Run.Instances,
		Interrupted: s.Run.Interrupted,
		Requests:    s.Run.Requests,
		StartedAt:   utc(s.Run.StartedAt),
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
	w   *bufio.Writer
	buf bytes.Buffer
	err error
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
	enc := json.NewEncoder(&e.buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
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
	s, err := Decode(f)
	if err == nil {
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
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), ","))
		return v, err == nil
	}
	return 0, false
}

// Decode reads a state from r, checking the format version and the
// invariants of the file (sorted, unique findings; known currencies).
func Decode(r io.Reader) (*State, error) {
	d := &decoder{dec: json.NewDecoder(bufio.NewReaderSize(r, 1<<16)), intern: map[string]string{}}
	s, err := d.decode()
	if err != nil {
		if d.version > FormatVersion {
			return nil, &VersionError{FileVersion: d.version, ReaderVersion: FormatVersion}
		}
		return nil, err
	}
	return s, nil
}

type decoder struct {
	dec     *json.Decoder
	intern  map[string]string
	version int
}

// in returns one shared copy of strings that repeat across findings
// (sources, instance keys, blocks), which keeps a large state small.
func (d *decoder) in(s string) string {
	if v, ok := d.intern[s]; ok {
		return v
	}
	d.intern[s] = s
	return s
}

func (d *decoder) inAll(ss []string) []string {
	for i, s := range ss {
		ss[i] = d.in(s)
	}
	return ss
}

func (d *decoder) delim(want json.Delim) error {
	t, err := d.dec.Token()
	if err != nil {
		return err
	}
	if t != want {
		return fmt.Errorf("expected %q, found %v", want, t)
	}
	return nil
}

// array decodes a JSON array (or null) element by element.
func (d *decoder) array(name string, each func() error) error {
	t, err := d.dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if t != json.Delim('[') {
		return fmt.Errorf("%s: expected an array", name)
	}
	for i := 0; d.dec.More(); i++ {
		if err := each(); err != nil {
			return fmt.Errorf("%s[%d]: %w", name, i, err)
		}
	}
	return d.delim(']')
}

func (d *decoder) decode() (*State, error) {
	if err := d.delim('{'); err != nil {
		return nil, err
	}
	s := &State{}
	seen := map[string]bool{}
	for d.dec.More() {
		t, err := d.dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		switch key {
		case "format_version":
			err = d.dec.Decode(&d.version)
			s.FormatVersion = d.version
		case "serial":
			err = d.dec.Decode(&s.Serial)
		case "lineage":
			err = d.dec.Decode(&s.Lineage)
		case "engagement":
			err = d.dec.Decode(&s.Engagement)
		case "config_hash":
			err = d.dec.Decode(&s.ConfigHash)
		case "run":
			var r runJSON
			err = d.dec.Decode(&r)
			s.Run = RunSummary{StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Interrupted: r.Interrupted,
				Instances: r.Instances, Requests: r.Requests, Findings: r.Findings, Warnings: r.Warnings}
		case "findings":
			err = d.array("findings", func() error {
				var fj findingJSON
				if err := d.dec.Decode(&fj); err != nil {
					return err
				}
				f, err := d.finding(&fj)
				if err != nil {
					return err
				}
				s.Findings = append(s.Findings, f)
				return nil
			})
		case "instances":
			err = d.array("instances", func() error {
				var ij instanceJSON
				if err := d.dec.Decode(&ij); err != nil {
					return err
				}
				s.Instances = append(s.Instances, schema.InstanceResult{
					Query: schema.Query{Provider: ij.Query.Provider, Op: ij.Query.Op, Subject: schema.Subject(ij.Query.Subject),
						RRTypes: ij.Query.RRTypes, Params: ij.Query.Params},
					Key: d.in(ij.Key), Block: d.in(ij.Block), Depth: ij.Depth, Active: ij.Active, Status: ij.Status,
					Reason: ij.Reason, Requests: ij.Requests, Findings: ij.Findings,
				})
				return nil
			})
		case "facts":
			err = d.array("facts", func() error {
				var fj factJSON
				if err := d.dec.Decode(&fj); err != nil {
					return err
				}
				s.Facts = append(s.Facts, schema.Fact{Subject: fj.Subject, Kind: fj.Kind, Value: fj.Value, Evidence: fj.Evidence})
				return nil
			})
		default:
			// A key this version does not know: written by a newer
			// build of the same format version; skip it.
			err = skipValue(d.dec)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	if err := d.delim('}'); err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the state object")
	}
	switch {
	case d.version == 0:
		return nil, fmt.Errorf("no format_version: not a reconform state file")
	case d.version > FormatVersion:
		return nil, &VersionError{FileVersion: d.version, ReaderVersion: FormatVersion}
	case d.version < 0:
		return nil, fmt.Errorf("invalid format_version %d", d.version)
	}
	return s, s.check()
}

func (d *decoder) finding(fj *findingJSON) (Finding, error) {
	switch fj.Currency {
	case Current, Historical:
	default:
		return Finding{}, fmt.Errorf("finding %q: currency must be \"current\" or \"historical\", not %q", fj.Name+" "+fj.Type+" "+fj.Value, fj.Currency)
	}
	return Finding{
		Finding: schema.Finding{
			Name: fj.Name, Type: d.in(fj.Type), Value: fj.Value,
			FirstSeen: fj.FirstSeen, LastSeen: fj.LastSeen, Count: fj.Count,
			Sources: d.inAll(fj.Sources), Current: fj.Currency == Current, Active: fj.Active,
			Query: d.in(fj.Query), Depth: fj.Depth,
		},
		Instances:       d.inAll(fj.Instances),
		Block:           d.in(fj.Block),
		Currency:        fj.Currency,
		Unverified:      d.in(fj.Unverified),
		UnverifiedSince: fj.UnverifiedSince,
	}, nil
}

// check sorts a hand-edited state and refuses duplicate findings.
func (s *State) check() error {
	sorted := true
	for i := 1; i < len(s.Findings); i++ {
		if CompareIdentity(&s.Findings[i-1].Finding, &s.Findings[i].Finding) >= 0 {
			sorted = false
			break
		}
	}
	if !sorted {
		SortFindings(s.Findings)
		for i := 1; i < len(s.Findings); i++ {
			if CompareIdentity(&s.Findings[i-1].Finding, &s.Findings[i].Finding) == 0 {
				return fmt.Errorf("finding %q appears twice", s.Findings[i].ID())
			}
		}
	}
	return nil
}

// skipValue consumes one JSON value token by token.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
