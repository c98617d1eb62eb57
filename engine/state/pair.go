package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/reconform/reconform/schema"
)

// Pair is two states read for a comparison (engine/diff): every part of
// both, except the findings a comparison would find nothing in. A finding
// with the same identity, currency and verification (verified, or not) in
// both is such a finding, whatever else moved (last_seen, count, sources);
// those are counted in Same and kept in neither state, so that comparing
// two states of a million findings holds only what differs.
type Pair struct {
	// Old and New hold the findings that may differ, sorted by identity;
	// everything else of the two states is whole.
	Old, New *State
	// Same counts the findings left out of both.
	Same int
}

// ReadPairFiles reads the states at oldPath and newPath for a comparison.
//
// Files in the layout Encode writes are read side by side, one goroutine
// each, and their findings are told apart from a few lines each (identity,
// currency, unverified) without decoding the rest; only the findings that
// differ are decoded. A file in any other layout, or anything unexpected,
// reads both states whole (as ReadFile), with its errors.
func ReadPairFiles(oldPath, newPath string) (*Pair, error) {
	if p, err := readPairCanonical(oldPath, newPath); err == nil {
		return p, nil
	}
	var old, new *State
	var oldErr, newErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		old, oldErr = ReadFile(oldPath)
	}()
	new, newErr = ReadFile(newPath)
	wg.Wait()
	if err := errors.Join(oldErr, newErr); err != nil {
		return nil, err
	}
	return &Pair{Old: old, New: new}, nil
}

// errNotCanonical ends the side-by-side read: the layout is not Encode's.
var errNotCanonical = errors.New("not in the canonical layout")

// A pairBatch carries raw findings from a file's reader to the merge:
// the bytes of each finding object, copied into arena, and what the
// merge compares.
type pairBatch struct {
	arena []byte
	recs  []pairRec
}

// pairRec is one finding object as the side-by-side read sees it.
type pairRec struct {
	name, typ, value []byte // the identity, unescaped
	raw              []byte // the object, as in the file
	currency         byte   // 'c' current, 'h' historical
	unverified       bool
	// decode: the finding's value may change on reading (renormalize),
	// so its pair is decoded whatever the lines say.
	decode bool
}

const (
	pairArena   = 4 << 20
	pairBatches = 4 // per side, in flight
)

// pairSide reads one file: everything through a decoder, the findings
// array as raw batches sent to the merge.
type pairSide struct {
	out  chan *pairBatch
	free chan *pairBatch
	stop <-chan struct{}
	cur  *pairBatch
	// arenaSize is the size of a batch's arena, at most pairArena.
	arenaSize int

	state *State
	err   error
}

func readPairCanonical(oldPath, newPath string) (*Pair, error) {
	stop := make(chan struct{})
	sides := [2]*pairSide{}
	var wg sync.WaitGroup
	for i, path := range []string{oldPath, newPath} {
		ps := &pairSide{out: make(chan *pairBatch, pairBatches), free: make(chan *pairBatch, pairBatches), stop: stop}
		for range pairBatches {
			ps.free <- &pairBatch{} // arenas are made to the file's size
		}
		sides[i] = ps
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(ps.out)
			ps.state, ps.err = ps.read(path)
		}()
	}
	findings, same, mergeErr := mergeSides(sides[0], sides[1])
	close(stop)
	for _, ps := range sides {
		for range ps.out { // let a blocked reader finish
		}
	}
	wg.Wait()
	if err := errors.Join(mergeErr, sides[0].err, sides[1].err); err != nil {
		return nil, err
	}
	p := &Pair{Old: sides[0].state, New: sides[1].state, Same: same}
	for i, s := range []*State{p.Old, p.New} {
		s.Findings = findings[i]
		s.renormalize()
		if err := s.check(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// read decodes the file at path, sending its findings to the merge.
func (ps *pairSide) read(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64 = 1 << 30
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	ps.arenaSize = int(min(max(size/2, 64<<10), pairArena))
	d := &decoder{sc: scanner{r: f, win: make([]byte, min(max(size+1, 4<<10), 1<<20))}, strs: map[string]string{}, lists: map[string][]string{}, pair: ps}
	s, err := d.decode()
	if err == nil && d.version != FormatVersion {
		err = errNotCanonical
	}
	if err != nil {
		return nil, err
	}
	if ps.cur != nil && len(ps.cur.recs) > 0 {
		if !ps.send() {
			return nil, errNotCanonical
		}
	}
	return s, nil
}

// send hands the current batch to the merge; false when the merge ended.
func (ps *pairSide) send() bool {
	select {
	case ps.out <- ps.cur:
		ps.cur = nil
		return true
	case <-ps.stop:
		return false
	}
}

// rawFindings reads the findings array of a canonical file: each element
// is "    {" on a line of its own, keys on lines indented by six spaces,
// and "    }" closing it, as appendFinding writes them. JSON strings hold
// no raw line breaks, so the lines are the structure.
func (d *decoder) rawFindings() error {
	s := &d.sc
	head := s.need(4)
	if !bytes.HasPrefix(head, []byte(" [\n")) {
		if bytes.HasPrefix(head, []byte(" []")) {
			s.pos += 3
			return nil
		}
		return errNotCanonical
	}
	s.pos += 3
	for {
		// One element: its lines classified as they are found, reading
		// more (and starting the element again) when the window ends.
		var rec pairRec
		var end int
		for {
			var more bool
			var err error
			if rec, end, more, err = scanElement(s.win[s.pos:s.end]); err != nil {
				return err
			}
			if !more {
				break
			}
			if s.rerr != nil {
				return errNotCanonical
			}
			if s.pos == 0 && s.end == len(s.win) {
				s.win = append(s.win, make([]byte, len(s.win))...)
			}
			s.need(s.end - s.pos + 1)
		}
		if err := d.pair.add(rec, s.win[s.pos:s.pos+end]); err != nil {
			return err
		}
		s.pos += end
		rest := s.need(4)
		switch {
		case bytes.HasPrefix(rest, []byte(",\n")):
			s.pos += 2
		case bytes.HasPrefix(rest, []byte("\n  ]")):
			s.pos += 4
			return nil
		default:
			return errNotCanonical
		}
	}
}

// scanElement reads the element at the start of win: "    {" on a line
// of its own, key lines indented by six spaces (lists' elements by
// eight), and "    }" closing it, as appendFinding writes them; end is its
// length without what follows. more: win ends before the element does.
//
// Every line is checked as the decoder would read it (strings, numbers,
// booleans, times), so that a damaged finding the merge skips still fails
// the read.
func scanElement(win []byte) (r pairRec, end int, more bool, err error) {
	const open = "    {\n"
	if len(win) < len(open) {
		if !bytes.HasPrefix([]byte(open), win) {
			return r, 0, false, errNotCanonical
		}
		return r, 0, true, nil
	}
	if string(win[:len(open)]) != open {
		return r, 0, false, errNotCanonical
	}
	for i := len(open); ; {
		nl := bytes.IndexByte(win[i:], '\n')
		if nl < 0 {
			return r, 0, true, nil
		}
		line := win[i : i+nl]
		if len(line) >= 5 && line[4] == '}' && string(line[:4]) == "    " {
			if r.name == nil || r.typ == nil || r.value == nil || r.currency == 0 && !r.decode {
				return r, 0, false, errNotCanonical
			}
			if renormalizedTypes[string(r.typ)] {
				v := string(r.value)
				r.decode = r.decode || schema.NormalizeValue(string(r.typ), v) != v
			}
			return r, i + 5, false, nil
		}
		if err := r.line(line); err != nil {
			return r, 0, false, err
		}
		i += nl + 1
	}
}

// line reads one line of an element into r.
func (r *pairRec) line(line []byte) error {
	switch {
	case len(line) > 8 && string(line[:9]) == `        "`: // a list's element
		return checkString(bytes.TrimSuffix(line[8:], []byte(",")))
	case string(line) == "      ]" || string(line) == "      ],":
		return nil
	case len(line) < 8 || string(line[:7]) != `      "`:
		return errNotCanonical
	}
	kv := line[7:]
	q := bytes.IndexByte(kv, '"')
	if q < 0 || !bytes.HasPrefix(kv[q:], []byte(`": `)) {
		return errNotCanonical
	}
	key, val := kv[:q], bytes.TrimSuffix(kv[q+3:], []byte(","))
	var err error
	switch string(key) {
	case "name":
		r.name, err = rawString(val)
	case "type":
		r.typ, err = rawString(val)
	case "value":
		r.value, err = rawString(val)
	case "currency":
		switch string(val) {
		case `"current"`:
			r.currency = 'c'
		case `"historical"`:
			r.currency = 'h'
		default:
			r.decode = true // the decoder says what is wrong with it
		}
	case "unverified":
		r.unverified = string(val) != `""` && string(val) != "null"
		err = checkString(val)
	case "first_seen", "last_seen", "unverified_since":
		if err = checkString(val); err == nil {
			var t time.Time
			if t.UnmarshalText(val[1:len(val)-1]) != nil {
				err = errNotCanonical
			}
		}
	case "count", "depth":
		if _, perr := strconv.ParseInt(string(val), 10, 64); perr != nil {
			err = errNotCanonical
		}
	case "active":
		if string(val) != "true" && string(val) != "false" {
			err = errNotCanonical
		}
	default:
		if string(val) != "[" { // a list, its elements on the lines that follow
			err = checkString(val)
		}
	}
	return err
}

// checkString checks that v is one JSON string as the decoder reads it,
// without decoding it.
func checkString(v []byte) error {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return errNotCanonical
	}
	inner := v[1 : len(v)-1]
	// Eight bytes at a time while none is a quote, a backslash or a
	// control byte (SWAR: a byte below 0x20, or equal to 0x22 or 0x5c,
	// sets its high bit in special).
	i := 0
	for ; i+8 <= len(inner); i += 8 {
		x := binary.LittleEndian.Uint64(inner[i:])
		const ones, highs = 0x0101010101010101, 0x8080808080808080
		lt20 := (x - 0x20*ones) &^ x
		q := x ^ 0x22*ones
		bs := x ^ 0x5c*ones
		if ((lt20 | (q-ones)&^q | (bs-ones)&^bs) & highs) != 0 {
			break
		}
	}
	for ; i < len(inner); i++ {
		switch c := inner[i]; {
		case c == '\\':
			if i+1 == len(inner) {
				return errNotCanonical
			}
			i++
			switch inner[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(inner) {
					return errNotCanonical
				}
				if _, ok := parseHex4(inner[i+1:]); !ok {
					return errNotCanonical
				}
				i += 4
			default:
				return errNotCanonical
			}
		case c == '"' || c < 0x20:
			return errNotCanonical
		}
	}
	return nil
}

// rawString returns the content of the JSON string v: v itself inside
// the quotes when it needs no decoding (printable ASCII, no escapes), or
// its decoding.
func rawString(v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, errNotCanonical
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
			sc := scanner{win: bytes.Clone(v), end: len(v), r: bytes.NewReader(nil)} // a scanner may move its window
			b, err := sc.stringBytes()
			if err != nil || sc.pos != len(v) {
				return nil, errNotCanonical
			}
			return bytes.Clone(b), nil
		}
	}
	return inner, nil
}

// add copies a classified element into the current batch.
func (ps *pairSide) add(rec pairRec, raw []byte) error {
	if ps.cur != nil && len(ps.cur.arena)+len(raw)+len(rec.name)+len(rec.typ)+len(rec.value) > cap(ps.cur.arena) && len(ps.cur.recs) > 0 {
		if !ps.send() {
			return errNotCanonical
		}
	}
	if ps.cur == nil {
		select {
		case ps.cur = <-ps.free:
		case <-ps.stop:
			return errNotCanonical
		}
		if ps.cur.arena == nil {
			ps.cur.arena = make([]byte, 0, ps.arenaSize)
		}
		ps.cur.arena, ps.cur.recs = ps.cur.arena[:0], ps.cur.recs[:0]
	}
	b := ps.cur
	keep := func(p []byte) []byte {
		off := len(b.arena)
		b.arena = append(b.arena, p...)
		return b.arena[off:len(b.arena):len(b.arena)]
	}
	// Identity bytes that raw holds are found again in the copy.
	rec.raw = keep(raw)
	rec.name, rec.typ, rec.value = keep(rec.name), keep(rec.typ), keep(rec.value)
	b.recs = append(b.recs, rec)
	return nil
}

// pairCursor walks one side's batches.
type pairCursor struct {
	ps   *pairSide
	b    *pairBatch
	i    int
	prev pairRec // the previous identity (copied), to check the order
	any  bool
	dec  *decoder
	done bool
}

// peek returns the next record, or nil at the end.
func (c *pairCursor) peek() *pairRec {
	for !c.done && (c.b == nil || c.i == len(c.b.recs)) {
		if c.b != nil {
			c.ps.free <- c.b
		}
		b, ok := <-c.ps.out
		c.b, c.i = b, 0
		if !ok {
			c.done, c.b = true, nil
		}
	}
	if c.done {
		return nil
	}
	return &c.b.recs[c.i]
}

// next moves past the current record, checking that identities rise.
func (c *pairCursor) next(r *pairRec) error {
	if c.any && compareRecs(&c.prev, r) >= 0 {
		return errNotCanonical // unsorted or repeated: the decoder sorts or reports it
	}
	c.any = true
	c.prev.name = append(c.prev.name[:0], r.name...)
	c.prev.typ = append(c.prev.typ[:0], r.typ...)
	c.prev.value = append(c.prev.value[:0], r.value...)
	c.i++
	return nil
}

func compareRecs(a, b *pairRec) int {
	if c := bytes.Compare(a.name, b.name); c != 0 {
		return c
	}
	if c := bytes.Compare(a.typ, b.typ); c != 0 {
		return c
	}
	return bytes.Compare(a.value, b.value)
}

// decode decodes a raw element as Decode would.
func (c *pairCursor) decode(r *pairRec) (Finding, error) {
	c.dec.sc = scanner{win: r.raw, end: len(r.raw), r: bytes.NewReader(nil), strBuf: c.dec.sc.strBuf}
	f, err := c.dec.finding()
	if err == nil {
		err = c.dec.sc.atEnd()
	}
	if err != nil {
		return f, fmt.Errorf("findings: %w", err)
	}
	return f, nil
}

// mergeSides joins the two sides' findings as Compare will, keeping only
// what may differ.
func mergeSides(old, new *pairSide) (findings [2][]Finding, same int, err error) {
	cur := [2]*pairCursor{}
	for i, ps := range []*pairSide{old, new} {
		cur[i] = &pairCursor{ps: ps, dec: &decoder{strs: map[string]string{}, lists: map[string][]string{}}}
	}
	keep := func(side int, r *pairRec) error {
		f, err := cur[side].decode(r)
		if err != nil {
			return err
		}
		findings[side] = append(findings[side], f)
		return cur[side].next(r)
	}
	for {
		a, b := cur[0].peek(), cur[1].peek()
		var c int
		switch {
		case a == nil && b == nil:
			return findings, same, nil
		case a == nil:
			c = 1
		case b == nil:
			c = -1
		default:
			c = compareRecs(a, b)
		}
		switch {
		case c < 0:
			err = keep(0, a)
		case c > 0:
			err = keep(1, b)
		case a.decode || b.decode || a.currency != b.currency || a.unverified != b.unverified:
			if err = keep(0, a); err == nil {
				err = keep(1, b)
			}
		default:
			same++
			if err = cur[0].next(a); err == nil {
				err = cur[1].next(b)
			}
		}
		if err != nil {
			return findings, same, err
		}
	}
}
