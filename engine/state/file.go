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
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), ","))
		return v, err == nil
	}
	return 0, false
}
