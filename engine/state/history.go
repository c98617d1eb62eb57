package state

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/schema"
)

// The history as changes (issue 15). Every commit writes one entry file
// for the state it writes, .reconform/history/<serial>-<lineage
// prefix>-<content hash prefix>.rfhist:
//
//	reconform-history 1\n
//	{header JSON}\n
//	zstd(operations)
//
// The header says what the entry rebuilds (serial, lineage, the SHA-256
// and size of the state file's text), how (kind snapshot or delta; a
// delta names its base entry file and its depth, the deltas since the
// snapshot under it) and what changed from the state before (counts of
// findings added, changed, removed). The operations are those of
// histdelta.go. Every SnapshotEvery-th entry of a chain is a snapshot, so
// a rebuild applies at most SnapshotEvery-1 deltas. Names hold the content
// hash, so an entry is never overwritten by a different one (a state
// pushed again under the same serial has an entry of its own), and every
// file is written atomically: a crash leaves the history as it was, or
// with the new entry whole.
//
// Entries written by reconform 0.1 (<serial>-<lineage prefix>.rfstate,
// whole state files) are still listed, read, diffed and pruned.

// SnapshotEvery is how many entries a chain holds: a snapshot and up to
// SnapshotEvery-1 deltas on it.
const SnapshotEvery = 32

// Kinds of history entries.
const (
	HistorySnapshot = "snapshot"
	HistoryDelta    = "delta"
	// HistoryFull is a whole state file, as reconform 0.1 kept them.
	HistoryFull = "full"
)

const (
	historyMagic = "reconform-history 1\n"
	historyExt   = ".rfhist"
	legacyExt    = ".rfstate"
	// maxHeader bounds an entry's header line.
	maxHeader = 64 << 10
	// maxStateBytes bounds a rebuilt state (and what a hostile entry can
	// make a rebuild allocate).
	maxStateBytes = 1 << 38
	// maxChain bounds the entries a rebuild follows.
	maxChain = 1 << 12
)

// ChangeCounts are the findings a state added, changed and removed from
// the one before it.
type ChangeCounts struct {
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Removed int `json:"removed"`
}

// entryHeader is the header line of an entry file.
type entryHeader struct {
	Base     string        `json:"base,omitempty"`
	Changes  *ChangeCounts `json:"changes,omitempty"`
	Depth    int           `json:"depth"`
	Findings int           `json:"findings"`
	Kind     string        `json:"kind"`
	Lineage  string        `json:"lineage"`
	Serial   uint64        `json:"serial"`
	SHA256   string        `json:"sha256"`
	Size     int64         `json:"size"`
	Written  time.Time     `json:"written"`
}

// HistoryEntry is one kept state.
type HistoryEntry struct {
	Serial        uint64
	LineagePrefix string
	// Lineage is the whole lineage when the entry says it ("" for 0.1
	// files, whose names hold only its prefix).
	Lineage string
	Path    string
	// Kind is HistorySnapshot, HistoryDelta or HistoryFull.
	Kind string
	// Bytes is the entry's size on disk; StateBytes that of the state
	// file it rebuilds.
	Bytes, StateBytes int64
	// Written is when the entry was written (a 0.1 file's time).
	Written time.Time
	// Findings is how many findings the state has (-1: not known without
	// reading it, a 0.1 file).
	Findings int
	// Changes are what changed from the state before; nil when not known
	// (a 0.1 file, or the first entry written for a state an older
	// reconform wrote).
	Changes *ChangeCounts

	base   string
	depth  int
	sha256 string
}

// HistoryName is the name of a 0.1 history file:
// <serial>-<first 8 characters of the lineage>.rfstate.
func HistoryName(serial uint64, lineage string) string {
	return historyStem(serial, lineage) + legacyExt
}

func historyStem(serial uint64, lineage string) string {
	prefix := lineage
	if len(prefix) > 8 {
		prefix = prefix[:8]
	}
	if prefix == "" {
		prefix = "nolineage"
	}
	return fmt.Sprintf("%06d-%s", serial, prefix)
}

func entryName(serial uint64, lineage, sha string) string {
	return historyStem(serial, lineage) + "-" + sha[:12] + historyExt
}

// historyFiles lists every entry file, 0.1 and new, unsorted.
func (st Store) historyFiles() ([]HistoryEntry, error) {
	ents, err := os.ReadDir(st.HistoryDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []HistoryEntry
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(st.HistoryDir(), e.Name())
		if name, ok := strings.CutSuffix(e.Name(), legacyExt); ok {
			num, lineage, ok := strings.Cut(name, "-")
			if !ok {
				continue
			}
			serial, err := strconv.ParseUint(num, 10, 64)
			if err != nil {
				continue
			}
			he := HistoryEntry{Serial: serial, LineagePrefix: lineage, Path: path, Kind: HistoryFull, Findings: -1}
			if fi, err := e.Info(); err == nil {
				he.Bytes, he.StateBytes, he.Written = fi.Size(), fi.Size(), fi.ModTime().UTC()
			}
			out = append(out, he)
			continue
		}
		if !strings.HasSuffix(e.Name(), historyExt) {
			continue
		}
		h, size, err := readEntryHeader(path)
		if err != nil {
			// A damaged entry is left alone and not listed; a rebuild
			// that needs it says so.
			continue
		}
		out = append(out, HistoryEntry{
			Serial: h.Serial, LineagePrefix: prefixOf(h.Lineage), Lineage: h.Lineage, Path: path,
			Kind: h.Kind, Bytes: size, StateBytes: h.Size, Written: h.Written, Findings: h.Findings,
			Changes: h.Changes, base: h.Base, depth: h.Depth, sha256: h.SHA256,
		})
	}
	return out, nil
}

func prefixOf(lineage string) string {
	if len(lineage) > 8 {
		return lineage[:8]
	}
	if lineage == "" {
		return "nolineage"
	}
	return lineage
}

// readEntryHeader reads an entry file's header, and the file's size.
func readEntryHeader(path string) (entryHeader, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return entryHeader{}, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return entryHeader{}, 0, err
	}
	h, _, err := parseEntryHeader(bufio.NewReaderSize(io.LimitReader(f, maxHeader+int64(len(historyMagic))), 4096))
	return h, fi.Size(), err
}

// parseEntryHeader reads the magic line and the header from r, and
// returns how many bytes they took.
func parseEntryHeader(r *bufio.Reader) (entryHeader, int, error) {
	var h entryHeader
	magic := make([]byte, len(historyMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != historyMagic {
		return h, 0, fmt.Errorf("not a reconform history entry")
	}
	line, err := r.ReadSlice('\n')
	if err != nil {
		return h, 0, fmt.Errorf("history entry header: %w", err)
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return h, 0, fmt.Errorf("history entry header: %w", err)
	}
	if err := h.check(); err != nil {
		return h, 0, err
	}
	return h, len(historyMagic) + len(line), nil
}

func (h *entryHeader) check() error {
	switch {
	case h.Kind != HistorySnapshot && h.Kind != HistoryDelta:
		return fmt.Errorf("history entry of unknown kind %q", h.Kind)
	case h.Kind == HistoryDelta && (h.Base == "" || filepath.Base(h.Base) != h.Base || !strings.HasSuffix(h.Base, historyExt)):
		return fmt.Errorf("history delta with base %q", h.Base)
	case len(h.SHA256) != 64:
		return fmt.Errorf("history entry without its content hash")
	case h.Size < 0 || h.Size > maxStateBytes:
		return fmt.Errorf("history entry of %d bytes", h.Size)
	case h.Findings < 0 || int64(h.Findings) > h.Size/64:
		// The count sizes the rebuilt state's allocation: no finding's
		// text is shorter than 64 bytes.
		return fmt.Errorf("history entry of %d bytes claims %d findings", h.Size, h.Findings)
	case h.Depth < 0 || h.Depth >= SnapshotEvery || h.Kind == HistorySnapshot && h.Depth != 0:
		return fmt.Errorf("history %s entry at depth %d", h.Kind, h.Depth)
	}
	return nil
}

// sortHistory orders entries by serial, lineage prefix, then time written.
func sortHistory(hist []HistoryEntry) {
	sort.SliceStable(hist, func(i, j int) bool {
		a, b := &hist[i], &hist[j]
		if a.Serial != b.Serial {
			return a.Serial < b.Serial
		}
		if a.LineagePrefix != b.LineagePrefix {
			return a.LineagePrefix < b.LineagePrefix
		}
		return a.Written.Before(b.Written)
	})
}

// collapse keeps, of the entries of one serial and lineage, the one
// written last (a state pushed again under its serial replaces the
// earlier one as what that serial means). hist is sorted.
func collapse(hist []HistoryEntry) []HistoryEntry {
	var out []HistoryEntry
	for _, h := range hist {
		if n := len(out); n > 0 && out[n-1].Serial == h.Serial && out[n-1].LineagePrefix == h.LineagePrefix {
			if !h.Written.Before(out[n-1].Written) {
				out[n-1] = h
			}
			continue
		}
		out = append(out, h)
	}
	return out
}

// Log lists every kept state, oldest serial first, the current one's
// entry included (current says which it is: -1 when the current state has
// no entry, a state written by an older reconform).
func (st Store) Log() (hist []HistoryEntry, current int, err error) {
	all, err := st.historyFiles()
	if err != nil {
		return nil, -1, err
	}
	sortHistory(all)
	hist = collapse(all)
	serial, lineage, ok := st.peekIdentity()
	current = -1
	if !ok {
		return hist, current, nil
	}
	// Entries of the current lineage past its serial were written for a
	// state that then replaced them (state push -force of an older
	// serial): not part of this state's past.
	out := hist[:0]
	for _, h := range hist {
		if h.LineagePrefix == prefixOf(lineage) && h.Serial > serial {
			continue
		}
		out = append(out, h)
	}
	hist = out
	for i := len(hist) - 1; i >= 0; i-- {
		if h := hist[i]; h.Serial == serial && h.LineagePrefix == prefixOf(lineage) && h.Kind != HistoryFull {
			current = i
			break
		}
	}
	return hist, current, nil
}

// History lists the kept states before the current one, oldest serial
// first.
func (st Store) History() ([]HistoryEntry, error) {
	hist, current, err := st.Log()
	if current >= 0 {
		hist = slices.Delete(hist, current, current+1)
	}
	return hist, err
}

// peekIdentity reads the current state file's serial and lineage from its
// end, where the canonical form writes them, without reading the rest.
func (st Store) peekIdentity() (uint64, string, bool) {
	f, err := os.Open(st.Path)
	if err != nil {
		return 0, "", false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", false
	}
	const tail = 256 << 10
	off := max(0, fi.Size()-tail)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return 0, "", false
	}
	serial, ok1 := lastValue(buf, "\n  \"serial\": ")
	lineage, ok2 := lastValue(buf, "\n  \"lineage\": ")
	if ok1 && ok2 {
		n, err := strconv.ParseUint(serial, 10, 64)
		l, err2 := strconv.Unquote(lineage)
		if err == nil && err2 == nil {
			return n, l, true
		}
	}
	// Not the canonical form's end (a very long run summary, a file
	// written by hand): read it.
	s, err := st.Read()
	if err != nil || s == nil {
		return 0, "", false
	}
	return s.Serial, s.Lineage, true
}

func lastValue(buf []byte, key string) (string, bool) {
	i := bytes.LastIndex(buf, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := buf[i+len(key):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	return strings.TrimSuffix(strings.TrimSpace(string(rest)), ","), true
}

// ReadHistory reads a kept state.
func (st Store) ReadHistory(e HistoryEntry) (*State, error) {
	if e.Kind == HistoryFull || strings.HasSuffix(e.Path, legacyExt) {
		return ReadFile(e.Path)
	}
	recs, h, err := rebuild(e.Path)
	if err != nil {
		return nil, err
	}
	s, err := decodeSized(&recordReader{recs: recs}, h.Findings)
	if err != nil {
		return nil, &CorruptError{Path: e.Path, Err: err}
	}
	return s, nil
}

// ReadHistoryFile reads the state a history entry file holds (an entry
// of this build or a 0.1 state file).
func ReadHistoryFile(path string) (*State, error) {
	return Store{}.ReadHistory(HistoryEntry{Path: path})
}

// IsHistoryEntry reports whether path names a history entry of this
// build (not a state file).
func IsHistoryEntry(path string) bool { return strings.HasSuffix(path, historyExt) }

// HistoryText writes the state file's text a kept state had, byte for
// byte.
func (st Store) HistoryText(w io.Writer, e HistoryEntry) error {
	if e.Kind == HistoryFull || strings.HasSuffix(e.Path, legacyExt) {
		f, err := os.Open(e.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
	recs, _, err := rebuild(e.Path)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, &recordReader{recs: recs})
	return err
}

// recordReader reads records one after the other.
type recordReader struct {
	recs [][]byte
	off  int
}

func (r *recordReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && len(r.recs) > 0 {
		c := copy(p[n:], r.recs[0][r.off:])
		n += c
		r.off += c
		if r.off == len(r.recs[0]) {
			r.recs, r.off = r.recs[1:], 0
		}
	}
	if n == 0 && len(r.recs) == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// DamagedError says a history entry cannot be rebuilt.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("history entry %s cannot be rebuilt: %v", e.Path, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// rebuild rebuilds the records of the entry at path, from the snapshot
// under it through each delta, and checks them against the hash the
// entry recorded.
func rebuild(path string) ([][]byte, entryHeader, error) {
	dir := filepath.Dir(path)
	type link struct {
		path string
		h    entryHeader
		ops  []byte
	}
	var chain []link
	seen := map[string]bool{}
	for p := path; ; {
		if seen[p] || len(chain) >= maxChain {
			return nil, entryHeader{}, &DamagedError{Path: path, Err: errors.New("its chain of deltas loops or is too long")}
		}
		seen[p] = true
		h, ops, err := readEntry(p)
		if err != nil {
			return nil, entryHeader{}, &DamagedError{Path: p, Err: err}
		}
		chain = append(chain, link{p, h, ops})
		if h.Kind == HistorySnapshot {
			break
		}
		p = filepath.Join(dir, h.Base)
	}
	var recs, spare [][]byte
	for i := len(chain) - 1; i >= 0; i-- {
		l := chain[i]
		out, size, err := applyOps(spare, recs, l.ops, l.h.Size)
		if err == nil && size != l.h.Size {
			err = fmt.Errorf("%w: %d bytes where %d were recorded", ErrBadDelta, size, l.h.Size)
		}
		if err != nil {
			return nil, entryHeader{}, &DamagedError{Path: l.path, Err: err}
		}
		recs, spare = out, recs
		clear(spare) // its records may belong to entries no longer needed
	}
	sum := sha256.New()
	for _, r := range recs {
		sum.Write(r)
	}
	if hex.EncodeToString(sum.Sum(nil)) != chain[0].h.SHA256 {
		return nil, entryHeader{}, &DamagedError{Path: path, Err: errors.New("the rebuilt state does not have the content hash the entry recorded")}
	}
	return recs, chain[0].h, nil
}

// readEntry reads an entry's header and its operations, uncompressed.
func readEntry(path string) (entryHeader, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return entryHeader{}, nil, err
	}
	return decodeEntry(data)
}

// decodeEntry parses an entry file's bytes: the header, then the
// operations decompressed, never to more than the state they describe
// could need.
func decodeEntry(data []byte) (entryHeader, []byte, error) {
	h, n, err := parseEntryHeader(bufio.NewReaderSize(bytes.NewReader(data[:min(len(data), maxHeader+len(historyMagic))]), 4096))
	if err != nil {
		return h, nil, err
	}
	// Operations are the inserted bytes plus a few bytes an operation.
	// The bound is at least the encoder's window (a decoder refuses a
	// frame whose window exceeds it).
	limit := max(uint64(h.Size)*2+1<<20, 1<<27)
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(limit))
	if err != nil {
		return h, nil, err
	}
	defer dec.Close()
	ops, err := dec.DecodeAll(data[n:], nil)
	if err != nil {
		return h, nil, fmt.Errorf("decompressing: %w", err)
	}
	return h, ops, nil
}

// historyWriter builds the entry of the state a write is encoding, from
// the text as it is written (Write) and the index of the base's records.
type historyWriter struct {
	st   Store
	next *State
	now  time.Time
	kind string
	base *HistoryEntry
	sum  hash.Hash
	// The text is hashed on another goroutine (another core): chunks
	// go to it copied, through free buffers.
	chunks, free chan []byte
	hashed       chan struct{}
	stopOnce     sync.Once
	size         int64
	split        *recordSplitter
	ops          *opWriter
	zw           *zstd.Encoder
	buf          bytes.Buffer
	count        ChangeCounts
	err          error
}

func (w *historyWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	b := <-w.free
	w.chunks <- append(b[:0], p...)
	w.size += int64(len(p))
	if _, err := w.split.Write(p); err != nil {
		w.err = err
		return 0, err
	}
	return len(p), nil
}

// prepareHistory readies the entry of next, about to replace prev: a
// delta on the entry of prev when there is one whose content is the file
// on disk, else a snapshot. A state written by an older reconform (or
// whose entry is missing) gets a snapshot entry first, so that it is
// kept as the history always kept replaced states.
func (st Store) prepareHistory(prev, next *State, now time.Time) (*historyWriter, error) {
	next.Normalize()
	w := &historyWriter{st: st, next: next, now: now, kind: HistorySnapshot, sum: sha256.New(), count: CountChanges(prev, next),
		chunks: make(chan []byte, 4), free: make(chan []byte, 4), hashed: make(chan struct{})}
	for range 4 {
		w.free <- make([]byte, 0, 64<<10)
	}
	w.ops = &opWriter{h: newRecordHasher(), out: func(b []byte) error { _, err := w.zw.Write(b); return err }}
	w.split = &recordSplitter{emit: w.ops.record}
	if prev != nil {
		if err := os.MkdirAll(st.HistoryDir(), 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", st.HistoryDir(), err)
		}
		atomicfile.RemoveStaleIn(st.HistoryDir(), historyExt)
		base, idx, err := st.baseFor(prev, w.ops.h, now)
		if err != nil {
			return nil, fmt.Errorf("keeping the previous state in history: %w", err)
		}
		if base != nil && base.depth+1 < SnapshotEvery && prefixOf(next.Lineage) == base.LineagePrefix && base.Lineage == next.Lineage {
			w.kind, w.base, w.ops.base = HistoryDelta, base, idx
		}
	}
	level := zstd.SpeedDefault
	if w.kind == HistorySnapshot {
		level = zstd.SpeedBetterCompression
	}
	zw, err := zstd.NewWriter(&w.buf, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(2))
	if err != nil {
		return nil, err
	}
	w.zw = zw
	// Started last: nothing above that fails leaves it waiting.
	go func() {
		defer close(w.hashed)
		for b := range w.chunks {
			w.sum.Write(b)
			w.free <- b
		}
	}()
	return w, nil
}

// baseFor finds the entry of prev whose content is the state file on disk
// (writing one when there is none) and indexes its records.
func (st Store) baseFor(prev *State, h recordHasher, now time.Time) (*HistoryEntry, *baseIndex, error) {
	f, err := os.Open(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil // removed by hand since it was read
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	idx := &baseIndex{first: map[recordKey]int{}}
	// The file's hash (to find its entry) and its records' keys, read
	// side by side: two passes over the cached file on two cores.
	sum := sha256.New()
	sumErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(sum, bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 1<<20))
		sumErr <- err
	}()
	split := &recordSplitter{emit: func(rec []byte) error { idx.add(h.key(rec)); return nil }}
	_, err = io.Copy(split, bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 1<<20))
	if serr := <-sumErr; err == nil {
		err = serr
	}
	if err != nil {
		return nil, nil, err
	}
	split.Close()
	sha := hex.EncodeToString(sum.Sum(nil))
	files, err := st.historyFiles()
	if err != nil {
		return nil, nil, err
	}
	var base *HistoryEntry
	for i := range files {
		e := &files[i]
		if e.Kind != HistoryFull && e.sha256 == sha && e.Serial == prev.Serial && e.Lineage == prev.Lineage {
			if base == nil || e.Written.After(base.Written) {
				base = e
			}
		}
	}
	if base != nil {
		return base, idx, nil
	}
	// No entry holds the file: keep it as a snapshot (counts unknown).
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	e, err := st.writeSnapshotOf(f, prev, sha, now)
	if err != nil {
		return nil, nil, err
	}
	return e, idx, nil
}

// writeSnapshotOf writes a snapshot entry of the state text in r.
func (st Store) writeSnapshotOf(r io.Reader, s *State, sha string, now time.Time) (*HistoryEntry, error) {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(2))
	if err != nil {
		return nil, err
	}
	ow := &opWriter{h: newRecordHasher(), out: func(b []byte) error { _, err := zw.Write(b); return err }}
	split := &recordSplitter{emit: ow.record}
	n, err := io.Copy(split, bufio.NewReaderSize(r, 1<<20))
	if err == nil {
		err = split.Close()
	}
	if err == nil {
		err = ow.flush()
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	h := entryHeader{Kind: HistorySnapshot, Serial: s.Serial, Lineage: s.Lineage, SHA256: sha, Size: n, Written: now.UTC(), Findings: len(s.Findings)}
	return st.writeEntry(h, buf.Bytes())
}

// stop ends the hashing goroutine once it has hashed what it was given.
// Safe to call more than once; WriteWith calls it whatever happened.
func (w *historyWriter) stop() {
	if w == nil {
		return
	}
	w.stopOnce.Do(func() {
		close(w.chunks)
		<-w.hashed
	})
}

// finish completes the entry once the text is written.
func (w *historyWriter) finish() error {
	w.stop()
	if w.err != nil {
		return w.err
	}
	err := w.split.Close()
	if err == nil {
		err = w.ops.flush()
	}
	if cerr := w.zw.Close(); err == nil {
		err = cerr
	}
	w.err = err
	return err
}

// commit writes the entry file; after finish, before the state file is
// renamed into place.
func (w *historyWriter) commit() error {
	if w.err != nil {
		return w.err
	}
	if err := os.MkdirAll(w.st.HistoryDir(), 0o755); err != nil {
		return err
	}
	h := entryHeader{Kind: w.kind, Serial: w.next.Serial, Lineage: w.next.Lineage, SHA256: hex.EncodeToString(w.sum.Sum(nil)),
		Size: w.size, Written: w.now.UTC(), Findings: len(w.next.Findings), Changes: &w.count}
	if w.base != nil {
		h.Base, h.Depth = filepath.Base(w.base.Path), w.base.depth+1
	}
	_, err := w.st.writeEntry(h, w.buf.Bytes())
	return err
}

// writeEntry writes an entry file atomically.
func (st Store) writeEntry(h entryHeader, payload []byte) (*HistoryEntry, error) {
	line, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(st.HistoryDir(), entryName(h.Serial, h.Lineage, h.SHA256))
	err = atomicfile.Write(path, atomicfile.Options{Perm: 0o644}, func(w io.Writer) error {
		if _, err := io.WriteString(w, historyMagic); err != nil {
			return err
		}
		if _, err := w.Write(append(line, '\n')); err != nil {
			return err
		}
		_, err := w.Write(payload)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("writing the history entry %s: %w", path, err)
	}
	return &HistoryEntry{Serial: h.Serial, LineagePrefix: prefixOf(h.Lineage), Lineage: h.Lineage, Path: path, Kind: h.Kind,
		Bytes: int64(len(historyMagic) + len(line) + 1 + len(payload)), StateBytes: h.Size, Written: h.Written,
		Findings: h.Findings, Changes: h.Changes, base: h.Base, depth: h.Depth, sha256: h.SHA256}, nil
}

// CountChanges counts the findings next added, changed and removed from
// prev (nil: none). Both are sorted.
func CountChanges(prev, next *State) ChangeCounts {
	var c ChangeCounts
	var pf []Finding
	if prev != nil {
		pf = prev.Findings
	}
	nf := next.Findings
	i, j := 0, 0
	for i < len(pf) || j < len(nf) {
		switch {
		case j == len(nf):
			c.Removed++
			i++
		case i == len(pf):
			c.Added++
			j++
		default:
			switch cmp := schema.CompareFindings(&pf[i].Finding, &nf[j].Finding); {
			case cmp < 0:
				c.Removed++
				i++
			case cmp > 0:
				c.Added++
				j++
			default:
				if !SameFinding(&pf[i], &nf[j]) {
					c.Changed++
				}
				i++
				j++
			}
		}
	}
	return c
}

// SameFinding reports whether a and b are written the same in a state
// file.
func SameFinding(a, b *Finding) bool {
	return a.Name == b.Name && a.Type == b.Type && a.Value == b.Value && a.Currency == b.Currency &&
		a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen) && a.Count == b.Count &&
		slices.Equal(a.Sources, b.Sources) && slices.Equal(a.Instances, b.Instances) && a.Block == b.Block &&
		a.Query == b.Query && a.Depth == b.Depth && a.Active == b.Active && a.Unverified == b.Unverified &&
		a.UnverifiedSince.Equal(b.UnverifiedSince) && slices.Equal(extraBlocks(a.Block, a.Blocks), extraBlocks(b.Block, b.Blocks))
}

// PruneError says the history could not be pruned after a commit that
// succeeded; the state is written.
type PruneError struct{ Err error }

func (e *PruneError) Error() string { return fmt.Sprintf("pruning the history: %v", e.Err) }
func (e *PruneError) Unwrap() error { return e.Err }

// Prune removes the entries keep does not keep: of the past states (the
// current one always stays), the keep.Count newest, or those that were
// current within keep.Age of now (a state is current until the next is
// written). A kept delta whose base is removed is rewritten as a snapshot
// first, so every kept entry can still be rebuilt; a crash at any point
// leaves every kept entry readable. It returns how many files it removed.
func (st Store) Prune(keep schema.HistoryKeep, now time.Time) (int, error) {
	if keep.KeepsAll() {
		return 0, nil
	}
	all, err := st.historyFiles()
	if err != nil {
		return 0, err
	}
	sortHistory(all)
	hist, current, err := st.Log()
	if err != nil {
		return 0, err
	}
	// The past states, newest written last.
	var past []HistoryEntry
	for i, h := range hist {
		if i != current {
			past = append(past, h)
		}
	}
	sort.SliceStable(past, func(i, j int) bool { return past[i].Written.Before(past[j].Written) })
	kept := map[string]bool{}
	if current >= 0 {
		kept[hist[current].Path] = true
	}
	for i, h := range past {
		switch {
		case keep.Count > 0:
			if i >= len(past)-keep.Count {
				kept[h.Path] = true
			}
		case keep.Age > 0:
			replaced := now
			if i+1 < len(past) {
				replaced = past[i+1].Written
			} else if current >= 0 {
				replaced = hist[current].Written
			}
			if !replaced.Before(now.Add(-keep.Age)) {
				kept[h.Path] = true
			}
		}
	}
	// Re-base: a kept delta whose base goes becomes a snapshot, oldest
	// first (a later delta on it then has its base).
	sort.SliceStable(all, func(i, j int) bool { return all[i].Written.Before(all[j].Written) })
	for _, h := range all {
		if !kept[h.Path] || h.Kind != HistoryDelta || kept[filepath.Join(st.HistoryDir(), h.base)] {
			continue
		}
		if err := st.rebase(h); err != nil {
			return 0, err
		}
	}
	removed := 0
	for _, h := range all {
		if kept[h.Path] {
			continue
		}
		if err := os.Remove(h.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, err
		}
		removed++
	}
	if removed > 0 {
		return removed, atomicfile.SyncDir(st.HistoryDir())
	}
	return 0, nil
}

// rebase rewrites a delta entry as a snapshot of the same content, under
// the same name (an atomic replace: readers see the delta or the
// snapshot, both whole).
func (st Store) rebase(h HistoryEntry) error {
	recs, hdr, err := rebuild(h.Path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(2))
	if err != nil {
		return err
	}
	ow := &opWriter{h: newRecordHasher(), out: func(b []byte) error { _, err := zw.Write(b); return err }}
	for _, r := range recs {
		if err := ow.record(r); err != nil {
			return err
		}
	}
	err = ow.flush()
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	hdr.Kind, hdr.Base, hdr.Depth = HistorySnapshot, "", 0
	_, err = st.writeEntry(hdr, buf.Bytes())
	return err
}
