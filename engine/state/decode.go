package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/reconform/reconform/schema"
)

// The reader is a small streaming JSON parser written for the state file
// rather than encoding/json: a state of a million findings loads in about
// a second, parsing straight into the final values with little garbage,
// and repeated strings (sources, instance keys, blocks) shared. It accepts
// any valid JSON with the state's shape (keys in any order, unknown keys
// skipped, null for empty) and rejects anything that is not valid JSON.

// Decode reads a state from r, checking the format version and the
// invariants of the file (sorted, unique findings; known currencies).
func Decode(r io.Reader) (*State, error) {
	return decodeSized(r, 0)
}

// decodeSized is Decode with the expected number of findings (0: unknown).
func decodeSized(r io.Reader, findingsHint int) (*State, error) {
	d := &decoder{sc: newScanner(r), strs: map[string]string{}, lists: map[string][]string{}, hint: findingsHint}
	s, err := d.decode()
	if err != nil {
		if d.version > FormatVersion {
			return nil, &VersionError{FileVersion: d.version, ReaderVersion: FormatVersion}
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		if off := d.sc.offset(); off > 0 {
			return nil, fmt.Errorf("at byte %d: %w", off, err)
		}
		return nil, err
	}
	return s, nil
}

// countFindings counts the findings of a canonical state file from the
// lines only findings have, so the reader allocates them once.
func countFindings(r io.Reader) int {
	marker := []byte("\n      \"currency\": ")
	buf := make([]byte, 1<<20)
	n, carry := 0, 0
	for {
		m, err := r.Read(buf[carry:])
		chunk := buf[:carry+m]
		n += bytes.Count(chunk, marker)
		// Keep a tail shorter than the marker for a match across reads.
		carry = min(len(marker)-1, len(chunk))
		copy(buf, chunk[len(chunk)-carry:])
		if err != nil {
			return n
		}
	}
}

type decoder struct {
	sc      scanner
	strs    map[string]string
	lists   map[string][]string
	version int
	hint    int
	arena   []byte
	// pair, when set, receives the findings array raw (ReadPairFiles).
	pair *pairSide
}

// in returns one shared copy of a string that repeats across findings.
func (d *decoder) in(b []byte) string {
	if v, ok := d.strs[string(b)]; ok {
		return v
	}
	if len(d.strs) > 1<<20 {
		return string(b) // do not let a hostile file grow the table without bound
	}
	v := string(b)
	d.strs[v] = v
	return v
}

// text returns b as a string kept in the decoder's arena: the names and
// values of a million findings are then a few hundred large blocks, not
// two million small objects, which the garbage collector never has to
// visit and the allocator never rounds up. The arena's bytes are never
// written again once a string refers to them.
func (d *decoder) text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaBlock/16 {
		return string(b)
	}
	if cap(d.arena)-len(d.arena) < len(b) {
		d.arena = make([]byte, 0, arenaBlock)
	}
	off := len(d.arena)
	d.arena = append(d.arena, b...)
	return unsafe.String(&d.arena[off], len(b))
}

const arenaBlock = 256 << 10

// inList shares sorted string lists (the sources and instances of most
// findings are the same few lists). Shared lists are sorted, so sorting
// them again in place never writes.
func (d *decoder) inList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	for i := 1; i < len(l); i++ {
		if l[i-1] >= l[i] {
			return l
		}
	}
	var key []byte
	for _, s := range l {
		key = append(key, s...)
		key = append(key, 0)
	}
	if v, ok := d.lists[string(key)]; ok {
		return v
	}
	if len(d.lists) < 1<<20 {
		d.lists[string(key)] = l
	}
	return l
}

// formatVersion reads format_version: a number, as every reconform
// writes it, or a string "1" or "1.0" (the scheme other JSON outputs once
// used, docs/json.md), read as the integer before the dot.
func (d *decoder) formatVersion() (int64, error) {
	if c, err := d.sc.peek(); err != nil || c != '"' {
		return d.sc.int()
	}
	str, err := d.sc.str()
	if err != nil {
		return 0, err
	}
	major, minor, _ := strings.Cut(str, ".")
	v, err := strconv.ParseInt(major, 10, 32)
	if err != nil || strings.Trim(minor, "0") != "" {
		return 0, fmt.Errorf("format_version %q is not a version this reconform knows", str)
	}
	return v, nil
}

func (d *decoder) decode() (*State, error) {
	s := &State{}
	seen := map[string]bool{}
	err := d.sc.object(func(key []byte) error {
		k := string(key)
		if seen[k] {
			return fmt.Errorf("duplicate key %q", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "format_version":
			var v int64
			v, err = d.formatVersion()
			if err == nil && (v > 1<<30 || v < -(1<<30)) {
				err = fmt.Errorf("format_version %d out of range", v)
			}
			d.version = int(v)
			s.FormatVersion = d.version
		case "serial":
			var v int64
			v, err = d.sc.int()
			if v < 0 {
				err = fmt.Errorf("negative serial")
			}
			s.Serial = uint64(v)
		case "lineage":
			s.Lineage, err = d.sc.str()
		case "engagement":
			s.Engagement, err = d.sc.str()
		case "config_hash":
			s.ConfigHash, err = d.sc.str()
		case "run":
			err = d.run(&s.Run)
		case "findings":
			if d.pair != nil {
				err = d.rawFindings()
				break
			}
			if d.hint > 0 {
				s.Findings = make([]Finding, 0, d.hint)
			}
			err = d.sc.array(func() error {
				f, err := d.finding()
				if err == nil {
					s.Findings = append(s.Findings, f)
				}
				return err
			})
		case "instances":
			err = d.sc.array(func() error {
				in, err := d.instance()
				if err == nil {
					s.Instances = append(s.Instances, in)
				}
				return err
			})
		case "facts":
			err = d.sc.array(func() error {
				f, err := d.fact()
				if err == nil {
					s.Facts = append(s.Facts, f)
				}
				return err
			})
		case "checks":
			err = d.sc.array(func() error {
				raw, err := d.sc.raw()
				if err != nil {
					return err
				}
				var c checkJSON
				if err := json.Unmarshal(raw, &c); err != nil {
					return err
				}
				if c.Name == "" {
					return fmt.Errorf("a check result has no name")
				}
				s.Checks = append(s.Checks, CheckResult{Name: c.Name, Description: c.Description, Severity: c.Severity,
					Status: c.Status, Messages: c.Messages, Diagnostics: c.Diagnostics})
				return nil
			})
		case "outputs":
			err = d.sc.array(func() error {
				o, err := d.output()
				if err == nil {
					s.Outputs = append(s.Outputs, o)
				}
				return err
			})
		default:
			// A key this version does not know: written by a newer
			// build of the same format version; skip it.
			err = d.sc.skip()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := d.sc.atEnd(); err != nil {
		return nil, err
	}
	switch {
	case d.version == 0:
		return nil, fmt.Errorf("no format_version: not a reconform state file")
	case d.version > FormatVersion:
		return nil, &VersionError{FileVersion: d.version, ReaderVersion: FormatVersion}
	case d.version < 0:
		return nil, fmt.Errorf("invalid format_version %d", d.version)
	}
	s.renormalize()
	return s, s.check()
}

func (d *decoder) finding() (Finding, error) {
	var f Finding
	err := d.sc.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "active":
			f.Active, err = d.sc.bool()
		case "block":
			f.Block, err = d.sc.strWith(d.in)
		case "blocks":
			f.Blocks, err = d.sc.strList(d.in)
			f.Blocks = d.inList(f.Blocks)
		case "count":
			f.Count, err = d.sc.int()
		case "currency":
			var c string
			c, err = d.sc.strWith(d.in)
			f.Currency = Currency(c)
		case "depth":
			var v int64
			v, err = d.sc.int()
			f.Depth = int(v)
		case "first_seen":
			f.FirstSeen, err = d.sc.time()
		case "instances":
			f.Instances, err = d.sc.strList(d.in)
			f.Instances = d.inList(f.Instances)
		case "last_seen":
			f.LastSeen, err = d.sc.time()
		case "name":
			f.Name, err = d.sc.strWith(d.text)
		case "query":
			f.Query, err = d.sc.strWith(d.in)
		case "sources":
			f.Sources, err = d.sc.strList(d.in)
			f.Sources = d.inList(f.Sources)
		case "type":
			f.Type, err = d.sc.strWith(d.in)
		case "unverified":
			f.Unverified, err = d.sc.strWith(d.in)
		case "unverified_since":
			f.UnverifiedSince, err = d.sc.time()
		case "value":
			f.Value, err = d.sc.strWith(d.text)
		default:
			err = d.sc.skip()
		}
		return err
	})
	if err != nil {
		return f, err
	}
	switch f.Currency {
	case Current, Historical:
	default:
		return f, fmt.Errorf("finding %q: currency must be \"current\" or \"historical\", not %q", f.ID(), f.Currency)
	}
	f.Current = f.Currency == Current
	return f, nil
}

func (d *decoder) instance() (schema.InstanceResult, error) {
	var in schema.InstanceResult
	err := d.sc.object(func(key []byte) error {
		var err error
		var v int64
		switch string(key) {
		case "active":
			in.Active, err = d.sc.bool()
		case "block":
			in.Block, err = d.sc.strWith(d.in)
		case "blocks":
			in.Blocks, err = d.sc.strList(d.in)
		case "depth":
			v, err = d.sc.int()
			in.Depth = int(v)
		case "findings":
			v, err = d.sc.int()
			in.Findings = int(v)
		case "key":
			in.Key, err = d.sc.strWith(d.in)
		case "query":
			err = d.query(&in.Query)
		case "reason":
			in.Reason, err = d.sc.str()
		case "requests":
			v, err = d.sc.int()
			in.Requests = int(v)
		case "status":
			var st string
			st, err = d.sc.strWith(d.in)
			in.Status = schema.InstanceStatus(st)
		default:
			err = d.sc.skip()
		}
		return err
	})
	return in, err
}

func (d *decoder) query(q *schema.Query) error {
	return d.sc.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "op":
			var op string
			op, err = d.sc.strWith(d.in)
			q.Op = schema.Op(op)
		case "params":
			err = d.sc.object(func(k []byte) error {
				name := string(k)
				v, err := d.sc.str()
				if err == nil {
					if q.Params == nil {
						q.Params = map[string]string{}
					}
					q.Params[name] = v
				}
				return err
			})
		case "provider":
			q.Provider, err = d.sc.strWith(d.in)
		case "rrtypes":
			q.RRTypes, err = d.sc.strList(d.in)
		case "subject":
			err = d.sc.object(func(k []byte) error {
				var err error
				switch string(k) {
				case "kind":
					var kind string
					kind, err = d.sc.strWith(d.in)
					q.Subject.Kind = schema.SubjectKind(kind)
				case "value":
					q.Subject.Value, err = d.sc.str()
				default:
					err = d.sc.skip()
				}
				return err
			})
		default:
			err = d.sc.skip()
		}
		return err
	})
}

func (d *decoder) fact() (schema.Fact, error) {
	var f schema.Fact
	err := d.sc.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "evidence":
			f.Evidence, err = d.sc.strList(nil)
		case "kind":
			f.Kind, err = d.sc.strWith(d.in)
		case "subject":
			f.Subject, err = d.sc.str()
		case "value":
			f.Value, err = d.sc.strWith(d.text)
		default:
			err = d.sc.skip()
		}
		return err
	})
	return f, err
}

func (d *decoder) run(r *RunSummary) error {
	counts := func(set func(k string, v int)) error {
		return d.sc.object(func(k []byte) error {
			name := string(k)
			v, err := d.sc.int()
			if err == nil {
				set(name, int(v))
			}
			return err
		})
	}
	return d.sc.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "finished_at":
			r.FinishedAt, err = d.sc.time()
		case "findings":
			var v int64
			v, err = d.sc.int()
			r.Findings = int(v)
		case "instances":
			err = counts(func(k string, v int) {
				if r.Instances == nil {
					r.Instances = map[schema.InstanceStatus]int{}
				}
				r.Instances[schema.InstanceStatus(k)] = v
			})
		case "interrupted":
			r.Interrupted, err = d.sc.bool()
		case "plan":
			r.Plan, err = d.sc.str()
		case "targets":
			r.Targets, err = d.sc.strList(nil)
		case "requests":
			err = counts(func(k string, v int) {
				if r.Requests == nil {
					r.Requests = map[string]int{}
				}
				r.Requests[k] = v
			})
		case "started_at":
			r.StartedAt, err = d.sc.time()
		case "warnings":
			r.Warnings, err = d.sc.strList(nil)
		default:
			err = d.sc.skip()
		}
		return err
	})
}

// output reads one output value; its value and type are kept as JSON.
func (d *decoder) output() (Output, error) {
	var o Output
	err := d.sc.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "description":
			o.Description, err = d.sc.str()
		case "name":
			o.Name, err = d.sc.str()
		case "secret":
			o.Secret, err = d.sc.bool()
		case "sensitive":
			o.Sensitive, err = d.sc.bool()
		case "type":
			o.Type, err = d.sc.raw()
		case "value":
			o.Value, err = d.sc.raw()
		default:
			err = d.sc.skip()
		}
		return err
	})
	if err == nil && o.Name == "" {
		err = fmt.Errorf("an output has no name")
	}
	return o, err
}

// check sorts a hand-edited state and refuses duplicate findings.
func (s *State) check() error {
	sorted := true
	for i := 1; i < len(s.Findings); i++ {
		if schema.CompareFindings(&s.Findings[i-1].Finding, &s.Findings[i].Finding) >= 0 {
			sorted = false
			break
		}
	}
	if !sorted {
		SortFindings(s.Findings)
		for i := 1; i < len(s.Findings); i++ {
			if schema.CompareFindings(&s.Findings[i-1].Finding, &s.Findings[i].Finding) == 0 {
				return fmt.Errorf("finding %q appears twice", s.Findings[i].ID())
			}
		}
	}
	return nil
}

// scanner reads JSON values from a reader through its own buffer window
// (buf[pos:end]); bytes are consumed by moving pos.
type scanner struct {
	r        io.Reader
	win      []byte
	pos, end int
	base     int64 // offset of win[0] in the input
	rerr     error // the reader's error, once it returned one
	strBuf   []byte
	num      []byte
	dep      int // nesting depth, bounded against hostile input
}

const maxDepth = 64

var errSyntax = errors.New("invalid JSON")

func newScanner(r io.Reader) scanner { return scanner{r: r, win: make([]byte, 1<<16)} }

// offset is the number of bytes consumed.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// need makes at least n bytes available if the input has them and
// returns what is available (shorter only at the end of the input).
func (s *scanner) need(n int) []byte {
	for s.end-s.pos < n && s.rerr == nil {
		if s.pos > 0 {
			copy(s.win, s.win[s.pos:s.end])
			s.base += int64(s.pos)
			s.end -= s.pos
			s.pos = 0
		}
		m, err := s.r.Read(s.win[s.end:])
		s.end += m
		if err != nil {
			s.rerr = err
		}
	}
	return s.win[s.pos:s.end]
}

// avail returns the buffered bytes, reading more when there are none.
func (s *scanner) avail() []byte {
	if s.pos < s.end {
		return s.win[s.pos:s.end]
	}
	return s.need(1)
}

// eofErr is the error for running out of input.
func (s *scanner) eofErr() error {
	if s.rerr != nil && s.rerr != io.EOF {
		return s.rerr
	}
	return io.EOF
}

func (s *scanner) readByte() (byte, error) {
	if s.pos < s.end {
		c := s.win[s.pos]
		s.pos++
		return c, nil
	}
	if len(s.need(1)) == 0 {
		return 0, s.eofErr()
	}
	c := s.win[s.pos]
	s.pos++
	return c, nil
}

// peek returns the next byte that is not white space, without consuming it.
func (s *scanner) peek() (byte, error) {
	for {
		chunk := s.avail()
		if len(chunk) == 0 {
			return 0, s.eofErr()
		}
		i := 0
		for i < len(chunk) && (chunk[i] == ' ' || chunk[i] == '\n' || chunk[i] == '\t' || chunk[i] == '\r') {
			i++
		}
		s.pos += i
		if i < len(chunk) {
			return chunk[i], nil
		}
	}
}

func (s *scanner) expect(want byte) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != want {
		return fmt.Errorf("%w: expected %q, found %q", errSyntax, want, c)
	}
	s.readByte()
	return nil
}

// null consumes a null if one is next and reports whether it did.
func (s *scanner) null() (bool, error) {
	c, err := s.peek()
	if err != nil || c != 'n' {
		return false, err
	}
	return true, s.literal("null")
}

func (s *scanner) literal(word string) error {
	for i := 0; i < len(word); i++ {
		c, err := s.readByte()
		if err != nil {
			return err
		}
		if c != word[i] {
			return fmt.Errorf("%w: expected %s", errSyntax, word)
		}
	}
	return nil
}

// object reads an object (or null), calling each with every key; each
// must consume the value.
func (s *scanner) object(each func(key []byte) error) error {
	more, err := s.open('{', '}')
	if !more || err != nil {
		return err
	}
	defer func() { s.dep-- }()
	for more {
		if c, err := s.peek(); err != nil {
			return err
		} else if c != '"' {
			return fmt.Errorf("%w: expected a key", errSyntax)
		}
		key, err := s.stringBytes()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := each(key); err != nil {
			return err
		}
		if more, err = s.next('}'); err != nil {
			return err
		}
	}
	return nil
}

// array reads an array (or null), calling each for every element.
func (s *scanner) array(each func() error) error {
	more, err := s.open('[', ']')
	if !more || err != nil {
		return err
	}
	defer func() { s.dep-- }()
	for i := 0; more; i++ {
		if err := each(); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		if more, err = s.next(']'); err != nil {
			return err
		}
	}
	return nil
}

// open reads null or the bracket that opens a container, within the
// nesting limit. more reports that elements follow: the scanner is then
// one level deeper and the caller must decrement s.dep when it leaves.
func (s *scanner) open(bracket, closing byte) (more bool, err error) {
	if isNull, err := s.null(); isNull || err != nil {
		return false, err
	}
	if err := s.expect(bracket); err != nil {
		return false, err
	}
	if s.dep++; s.dep > maxDepth {
		s.dep--
		return false, fmt.Errorf("%w: nested too deeply", errSyntax)
	}
	c, err := s.peek()
	if err != nil || c == closing {
		if err == nil {
			s.readByte()
		}
		s.dep--
		return false, err
	}
	return true, nil
}

// next reads the comma or closing bracket after an element; more is
// false at the closing bracket.
func (s *scanner) next(closing byte) (more bool, err error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	s.readByte()
	switch c {
	case ',':
		return true, nil
	case closing:
		return false, nil
	}
	return false, fmt.Errorf("%w: expected , or %c", errSyntax, closing)
}

// end checks that only white space follows the top-level value.
func (s *scanner) atEnd() error {
	if _, err := s.peek(); err != io.EOF {
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: data after the state object", errSyntax)
	}
	return nil
}

// stringBytes reads a string into the scratch buffer, valid until the
// next read. Escapes are decoded; invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func (s *scanner) stringBytes() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	b := s.strBuf[:0]
	defer func() { s.strBuf = b[:0] }()
	for {
		// Fast path: copy the bytes that need no attention.
		chunk := s.avail()
		if len(chunk) == 0 {
			return nil, s.eofErr()
		}
		i := 0
		for i < len(chunk) && chunk[i] != '"' && chunk[i] != '\\' && chunk[i] >= 0x20 && chunk[i] < utf8.RuneSelf {
			i++
		}
		b = append(b, chunk[:i]...)
		s.pos += i
		if i == len(chunk) {
			continue
		}
		if len(b) > 64<<20 {
			return nil, fmt.Errorf("string longer than 64 MiB")
		}
		c := chunk[i]
		switch {
		case c == '"':
			s.readByte()
			return b, nil
		case c == '\\':
			s.readByte()
			e, err := s.readByte()
			if err != nil {
				return nil, err
			}
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, err := s.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(r) {
					// As encoding/json: a valid pair is one rune; anything
					// else is U+FFFD, and the next escape is read on its own.
					dec := utf8.RuneError
					if next := s.need(6); len(next) >= 6 && next[0] == '\\' && next[1] == 'u' {
						if r2, ok := parseHex4(next[2:]); ok {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								dec = d
								s.pos += 6
							}
						}
					}
					r = dec
				}
				b = utf8.AppendRune(b, r)
			default:
				return nil, fmt.Errorf("%w: invalid escape \\%c", errSyntax, e)
			}
		case c < 0x20:
			return nil, fmt.Errorf("%w: control character in a string", errSyntax)
		default:
			// A multi-byte sequence: take it whole if valid.
			head := s.need(utf8.UTFMax)
			r, size := utf8.DecodeRune(head)
			if r == utf8.RuneError && size <= 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
				size = 1
			} else {
				b = append(b, head[:size]...)
			}
			s.pos += size
		}
	}
}

func parseHex4(h []byte) (rune, bool) {
	var r rune
	for _, c := range h[:4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

func (s *scanner) hex4() (rune, error) {
	h := make([]byte, 4)
	for i := range h {
		c, err := s.readByte()
		if err != nil {
			return 0, err
		}
		h[i] = c
	}
	r, ok := parseHex4(h)
	if !ok {
		return 0, fmt.Errorf("%w: invalid \\u escape", errSyntax)
	}
	return r, nil
}

// str reads a string (or null) into a new string.
func (s *scanner) str() (string, error) {
	return s.strWith(func(b []byte) string { return string(b) })
}

// strWith reads a string (or null) and converts it with conv (e.g. the
// decoder's interning).
func (s *scanner) strWith(conv func([]byte) string) (string, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return "", err
	}
	b, err := s.stringBytes()
	if err != nil {
		return "", err
	}
	return conv(b), nil
}

// strList reads an array of strings (or null).
func (s *scanner) strList(conv func([]byte) string) ([]string, error) {
	if conv == nil {
		conv = func(b []byte) string { return string(b) }
	}
	var out []string
	err := s.array(func() error {
		v, err := s.strWith(conv)
		out = append(out, v)
		return err
	})
	return out, err
}

func (s *scanner) bool() (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	switch c {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	}
	return false, fmt.Errorf("%w: expected true or false", errSyntax)
}

// number reads a JSON number, checking its grammar.
func (s *scanner) number() ([]byte, error) {
	b := s.num[:0]
	defer func() { s.num = b[:0] }()
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	digits := func() (int, error) {
		n := 0
		for {
			next := s.avail()
			if len(next) == 0 {
				if err := s.eofErr(); err != io.EOF {
					return n, err
				}
				return n, nil
			}
			c := next[0]
			if c < '0' || c > '9' {
				return n, nil
			}
			s.pos++
			b = append(b, c)
			n++
			if len(b) > 64 {
				return n, fmt.Errorf("%w: number too long", errSyntax)
			}
		}
	}
	if c == '-' {
		s.readByte()
		b = append(b, c)
	}
	start := len(b)
	n, err := digits()
	if err != nil {
		return nil, err
	}
	if n == 0 || (n > 1 && b[start] == '0') {
		return nil, fmt.Errorf("%w: invalid number", errSyntax)
	}
	if next := s.avail(); len(next) > 0 && next[0] == '.' {
		s.readByte()
		b = append(b, '.')
		if n, err := digits(); err != nil || n == 0 {
			return nil, fmt.Errorf("%w: invalid number", errSyntax)
		}
	}
	if next := s.avail(); len(next) > 0 && (next[0] == 'e' || next[0] == 'E') {
		s.readByte()
		b = append(b, 'e')
		if sign := s.avail(); len(sign) > 0 && (sign[0] == '+' || sign[0] == '-') {
			s.readByte()
			b = append(b, sign[0])
		}
		if n, err := digits(); err != nil || n == 0 {
			return nil, fmt.Errorf("%w: invalid number", errSyntax)
		}
	}
	return b, nil
}

func (s *scanner) int() (int64, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return 0, err
	}
	b, err := s.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", b)
	}
	return v, nil
}

func (s *scanner) time() (time.Time, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return time.Time{}, err
	}
	b, err := s.stringBytes()
	if err != nil {
		return time.Time{}, err
	}
	var t time.Time
	if err := t.UnmarshalText(b); err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q: %w", b, err)
	}
	return t, nil
}

// skip reads and discards any value.
func (s *scanner) skip() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '{':
		return s.object(func([]byte) error { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == '"':
		_, err := s.stringBytes()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.number()
		return err
	}
	return fmt.Errorf("%w: unexpected %q", errSyntax, c)
}

// raw reads any JSON value and returns it as compact JSON (an output's
// value and type, which the state keeps as they are).
func (s *scanner) raw() (json.RawMessage, error) {
	var b []byte
	var value func(depth int) error
	value = func(depth int) error {
		if depth > maxRawDepth {
			return fmt.Errorf("%w: value nested deeper than %d", errSyntax, maxRawDepth)
		}
		c, err := s.peek()
		if err != nil {
			return err
		}
		switch {
		case c == '{':
			b = append(b, '{')
			first := true
			err := s.object(func(key []byte) error {
				if !first {
					b = append(b, ',')
				}
				first = false
				b = appendJSONString(b, string(key))
				b = append(b, ':')
				return value(depth + 1)
			})
			b = append(b, '}')
			return err
		case c == '[':
			b = append(b, '[')
			first := true
			err := s.array(func() error {
				if !first {
					b = append(b, ',')
				}
				first = false
				return value(depth + 1)
			})
			b = append(b, ']')
			return err
		case c == '"':
			str, err := s.str()
			b = appendJSONString(b, str)
			return err
		case c == 't', c == 'f':
			v, err := s.bool()
			b = strconv.AppendBool(b, v)
			return err
		case c == 'n':
			b = append(b, "null"...)
			return s.literal("null")
		case c == '-' || (c >= '0' && c <= '9'):
			n, err := s.number()
			b = append(b, n...)
			return err
		}
		return fmt.Errorf("%w: unexpected %q", errSyntax, c)
	}
	if err := value(0); err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

// maxRawDepth bounds the nesting of an output value read from a state.
const maxRawDepth = 64
