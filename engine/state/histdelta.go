package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
)

// History entries hold the state file's text as changes from the state
// before it. The text is cut into records: a record starts at the first
// byte and at every line that does not begin with five spaces, so each
// element of a top-level array of the canonical JSON (a finding, an
// instance, a fact) and each top-level line is one record. The cut is
// defined for any bytes, whatever they hold, so a delta is exact by
// construction: the rebuilt text is the recorded one byte for byte.
//
// A delta is a list of operations over the records of its base:
//
//	'C' uvarint(start) uvarint(count)   copy base records [start, start+count)
//	'I' uvarint(len) bytes              insert these bytes (whole records)
//
// A snapshot is the same list over an empty base (inserts only). The list
// is compressed with zstd in the entry file (history.go).

// continuation is how a line that belongs to the record before it starts.
var continuation = []byte("     ")

// splitRecords calls fn with every record of text, in order; their
// concatenation is text.
func splitRecords(text []byte, fn func(rec []byte)) {
	start := 0
	for i := 0; i < len(text); {
		j := bytes.IndexByte(text[i:], '\n')
		if j < 0 {
			break
		}
		next := i + j + 1
		if next < len(text) && !bytes.HasPrefix(text[next:], continuation) {
			fn(text[start:next])
			start = next
		}
		i = next
	}
	if start < len(text) {
		fn(text[start:])
	}
}

// recordSplitter cuts a stream into records: Write buffers what it is
// given and calls emit with every record known to be whole; Close emits
// the last one.
type recordSplitter struct {
	buf  []byte
	scan int // buf[:scan] holds no undecided line end
	emit func(rec []byte) error
}

func (r *recordSplitter) Write(p []byte) (int, error) {
	r.buf = append(r.buf, p...)
	start := 0
	for {
		j := bytes.IndexByte(r.buf[r.scan:], '\n')
		if j < 0 {
			r.scan = len(r.buf)
			break
		}
		next := r.scan + j + 1
		if len(r.buf)-next < len(continuation) {
			// Not enough of the next line yet to know whether it
			// continues this record.
			r.scan = next - 1
			break
		}
		if !bytes.HasPrefix(r.buf[next:], continuation) {
			if err := r.emit(r.buf[start:next]); err != nil {
				return 0, err
			}
			start = next
		}
		r.scan = next
	}
	if start > 0 {
		n := copy(r.buf, r.buf[start:])
		r.buf = r.buf[:n]
		r.scan -= start
	}
	return len(p), nil
}

// Close emits what is left: the last record. A line shorter than the
// continuation prefix at the very end is its own record, as splitRecords
// cuts it.
func (r *recordSplitter) Close() error {
	var err error
	splitRecords(r.buf, func(rec []byte) {
		if err == nil {
			err = r.emit(rec)
		}
	})
	r.buf, r.scan = nil, 0
	return err
}

// recordKey identifies a record's bytes within one build: two 64-bit
// hashes under independent random seeds (a collision is about 2^-100 for
// a state of a million records), so the base's bytes need not be kept.
type recordKey [2]uint64

type recordHasher struct{ a, b maphash.Seed }

func newRecordHasher() recordHasher {
	return recordHasher{a: maphash.MakeSeed(), b: maphash.MakeSeed()}
}

func (h recordHasher) key(rec []byte) recordKey {
	return recordKey{maphash.Bytes(h.a, rec), maphash.Bytes(h.b, rec)}
}

// baseIndex is what a delta needs of its base: the key of every record,
// in order, and where each key first occurs.
type baseIndex struct {
	keys  []recordKey
	first map[recordKey]int
}

func (x *baseIndex) add(k recordKey) {
	if _, ok := x.first[k]; !ok {
		x.first[k] = len(x.keys)
	}
	x.keys = append(x.keys, k)
}

// maxLiteral is how many bytes of inserted records are gathered into one
// insert operation.
const maxLiteral = 1 << 20

// opWriter writes the operations of a delta (or, with a nil base, of a
// snapshot) as the new text's records come.
type opWriter struct {
	out  func([]byte) error
	h    recordHasher
	base *baseIndex
	// The copy being extended, and the records waiting to be inserted.
	copyStart, copyLen int
	lit                []byte
	scratch            []byte
	// What the operations hold, for the entry's header.
	copied, inserted int
}

func (w *opWriter) record(rec []byte) error {
	if w.base != nil {
		k := w.h.key(rec)
		if w.copyLen > 0 && w.copyStart+w.copyLen < len(w.base.keys) && w.base.keys[w.copyStart+w.copyLen] == k {
			w.copyLen++
			w.copied++
			return nil
		}
		if i, ok := w.base.first[k]; ok {
			if err := w.flush(); err != nil {
				return err
			}
			w.copyStart, w.copyLen = i, 1
			w.copied++
			return nil
		}
	}
	if w.copyLen > 0 {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.lit = append(w.lit, rec...)
	w.inserted++
	if len(w.lit) >= maxLiteral {
		return w.flush()
	}
	return nil
}

// flush writes the pending copy or insert.
func (w *opWriter) flush() error {
	b := w.scratch[:0]
	switch {
	case w.copyLen > 0:
		b = append(b, 'C')
		b = binary.AppendUvarint(b, uint64(w.copyStart))
		b = binary.AppendUvarint(b, uint64(w.copyLen))
		w.copyLen = 0
	case len(w.lit) > 0:
		b = append(b, 'I')
		b = binary.AppendUvarint(b, uint64(len(w.lit)))
		if err := w.out(b); err != nil {
			return err
		}
		err := w.out(w.lit)
		w.lit = w.lit[:0]
		w.scratch = b
		return err
	default:
		return nil
	}
	w.scratch = b
	return w.out(b)
}

// EncodeDelta returns the operations that make text from base (nil: a
// snapshot), uncompressed. The history writes them as text is encoded
// (opWriter); this is the same, for whole texts.
func EncodeDelta(base, text []byte) []byte {
	var out []byte
	w := &opWriter{out: func(b []byte) error { out = append(out, b...); return nil }, h: newRecordHasher()}
	if base != nil {
		w.base = &baseIndex{first: map[recordKey]int{}}
		splitRecords(base, func(rec []byte) { w.base.add(w.h.key(rec)) })
	}
	splitRecords(text, func(rec []byte) { w.record(rec) })
	w.flush()
	return out
}

// ErrBadDelta says a history entry's operations do not describe a state.
var ErrBadDelta = errors.New("malformed history delta")

// applyOps rebuilds the records of a text from the records of its base
// and the operations of a delta. Inserted records point into ops. The
// result is at most maxSize bytes; hostile operations give an error,
// never a panic or an allocation beyond their own size and the bound.
//
// The records are appended to dst (a rebuild passes the list of two steps
// before, so a chain of deltas allocates two lists, not one a step).
func applyOps(dst, base [][]byte, ops []byte, maxSize int64) ([][]byte, int64, error) {
	out := dst[:0]
	if need := len(base) + len(ops)/256; cap(out) < need {
		out = make([][]byte, 0, need)
	}
	var size int64
	bad := func(format string, args ...any) ([][]byte, int64, error) {
		return nil, 0, fmt.Errorf("%w: %s", ErrBadDelta, fmt.Sprintf(format, args...))
	}
	for p := 0; p < len(ops); {
		op := ops[p]
		p++
		switch op {
		case 'C':
			start, n := binary.Uvarint(ops[p:])
			if n <= 0 {
				return bad("copy at byte %d: bad start", p)
			}
			p += n
			count, n := binary.Uvarint(ops[p:])
			if n <= 0 {
				return bad("copy at byte %d: bad count", p)
			}
			p += n
			if count == 0 || start >= uint64(len(base)) || count > uint64(len(base))-start {
				return bad("copy of records %d+%d from a base of %d", start, count, len(base))
			}
			for _, r := range base[start : start+count] {
				size += int64(len(r))
			}
			if size > maxSize {
				return bad("larger than the %d bytes it declares", maxSize)
			}
			out = append(out, base[start:start+count]...)
		case 'I':
			l, n := binary.Uvarint(ops[p:])
			if n <= 0 {
				return bad("insert at byte %d: bad length", p)
			}
			p += n
			if l == 0 || l > uint64(len(ops)-p) {
				return bad("insert of %d bytes at byte %d of %d", l, p, len(ops))
			}
			lit := ops[p : p+int(l)]
			p += int(l)
			size += int64(len(lit))
			if size > maxSize {
				return bad("larger than the %d bytes it declares", maxSize)
			}
			splitRecords(lit, func(rec []byte) { out = append(out, rec[:len(rec):len(rec)]) })
		default:
			return bad("unknown operation %q at byte %d", op, p-1)
		}
	}
	return out, size, nil
}

// ApplyDelta rebuilds a text from its base (nil for a snapshot) and the
// uncompressed operations EncodeDelta made; maxSize bounds the result.
func ApplyDelta(base, ops []byte, maxSize int64) ([]byte, error) {
	var recs [][]byte
	splitRecords(base, func(rec []byte) { recs = append(recs, rec) })
	out, size, err := applyOps(nil, recs, ops, maxSize)
	if err != nil {
		return nil, err
	}
	text := make([]byte, 0, size)
	for _, r := range out {
		text = append(text, r...)
	}
	return text, nil
}
