package file

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
)

// index is an opened index file: its counts, warnings and types, and the
// directories of its segments' two tables. Blocks are read from src on
// demand.
type index struct {
	src      readerAt
	segs     []segment
	types    []string
	format   string
	asOf     uint32 // newest time in the file
	lines    int64  // lines (or CSV rows) read
	bad      int64  // lines skipped as malformed
	records  int64  // observations indexed
	names    int64  // distinct owner names (in each segment)
	keys     int64  // distinct lookup keys (in each segment)
	warnings []string
	reused   bool  // read from a persisted index file
	runs     int   // sorted runs the build made (not persisted)
	size     int64 // bytes of the index file
}

const (
	headerSize = 64
	footerSize = 40
	// maxMetaBytes bounds the meta section: directories of a few billion
	// records' blocks.
	maxMetaBytes = 256 << 20
)

func appendHeader(dst []byte, id fileIdentity) []byte {
	dst = append(dst, indexMagic...)
	dst = binary.LittleEndian.AppendUint64(dst, indexVersion)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(id.Size))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(id.ModTime))
	return append(dst, id.Edges[:]...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendDir(dst []byte, dir []blockRef) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(dir)))
	var prev []byte
	var prevEnd int64 = headerSize
	for _, r := range dir {
		dst = appendFront(dst, prev, r.first)
		prev = r.first
		dst = binary.AppendUvarint(dst, zigzag(r.off-prevEnd))
		prevEnd = r.off + int64(r.clen)
		dst = binary.AppendUvarint(dst, uint64(r.clen))
		dst = binary.AppendUvarint(dst, uint64(r.rlen))
	}
	return dst
}

// writeTail appends the meta section and the footer after the blocks.
func (ix *index) writeTail(bf *blockFile, header []byte) error {
	var m []byte
	m = appendString(m, ix.format)
	for _, v := range []int64{int64(ix.asOf), ix.lines, ix.bad, ix.records, ix.names, ix.keys} {
		m = binary.AppendUvarint(m, uint64(v))
	}
	m = binary.AppendUvarint(m, uint64(len(ix.warnings)))
	for _, w := range ix.warnings {
		m = appendString(m, w)
	}
	m = binary.AppendUvarint(m, uint64(len(ix.types)))
	for _, t := range ix.types {
		m = appendString(m, t)
	}
	m = binary.AppendUvarint(m, uint64(len(ix.segs)))
	for _, sg := range ix.segs {
		m = appendDir(m, sg.fdir)
		m = appendDir(m, sg.rdir)
	}
	comp := metaEncoder().EncodeAll(m, nil)
	off, err := bf.append(comp)
	if err != nil {
		return err
	}
	crc := crc32.Update(crc32.Checksum(header, castagnoli), castagnoli, comp)
	var f []byte
	f = binary.LittleEndian.AppendUint64(f, uint64(off))
	f = binary.LittleEndian.AppendUint64(f, uint64(len(comp)))
	f = binary.LittleEndian.AppendUint64(f, uint64(len(m)))
	f = binary.LittleEndian.AppendUint32(f, crc)
	// Reserved, zero: once the CRC of all blocks, checked at open, which
	// read the whole index; each block carries its own (codec.go).
	f = binary.LittleEndian.AppendUint32(f, 0)
	f = append(f, indexTrailer...)
	_, err = bf.append(f)
	return err
}

// metaReader decodes the meta section, every count checked against the
// bytes left so that a hostile file cannot ask for huge allocations.
type metaReader struct {
	b   []byte
	err error
}

var errBadIndex = errors.New("index file is corrupt")

func (r *metaReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadIndex
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items of at least min bytes each.
func (r *metaReader) count(minBytes int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/minBytes) {
		r.err = errBadIndex
		return 0
	}
	return int(n)
}

func (r *metaReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errBadIndex
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *metaReader) str() string { return string(r.bytes(r.uvarint())) }

func (r *metaReader) dir(dataEnd int64) []blockRef {
	n := r.count(4)
	dir := make([]blockRef, 0, n)
	var prev []byte
	var prevEnd int64 = headerSize
	for i := 0; i < n && r.err == nil; i++ {
		p := r.uvarint()
		s := r.uvarint()
		if p > uint64(len(prev)) {
			r.err = errBadIndex
			break
		}
		first := append(prev[:p:p], r.bytes(s)...)
		d := unzigzag(r.uvarint())
		clen, rlen := r.uvarint(), r.uvarint()
		off := prevEnd + d
		// A table's blocks follow each other in the file, and no block
		// expands beyond what the writer lets it: a hostile directory
		// cannot make a small file cost unbounded work.
		if r.err != nil || d < 0 || d > dataEnd || clen > uint64(dataEnd) || off > dataEnd-int64(clen) || rlen > maxBlockBytes || clen == 0 || rlen == 0 || rlen > clen<<12 {
			r.err = errBadIndex
			break
		}
		if i > 0 && bytes.Compare(first, prev) < 0 {
			r.err = errBadIndex
			break
		}
		prevEnd = off + int64(clen)
		dir = append(dir, blockRef{first: first, off: off, clen: uint32(clen), rlen: uint32(rlen)})
		prev = first
	}
	return dir
}

// openIndex opens the index file in src of size bytes: it reads the
// header (which must name the data file id, when set), the footer and the
// meta section, whatever the index's size. Blocks are checked as they are
// read, each against its own CRC-32C: reading a whole persisted index to
// check it at open took 0.4 s for a 10M-line dump's 330 MiB once the
// page cache had let it go, and would take minutes for a billion lines.
func openIndex(src readerAt, size int64, id *fileIdentity, format string) (*index, error) {
	if size < headerSize+footerSize {
		return nil, errors.New("index file is truncated")
	}
	head := make([]byte, headerSize)
	if _, err := src.ReadAt(head, 0); err != nil {
		return nil, err
	}
	if string(head[:8]) != indexMagic || binary.LittleEndian.Uint64(head[8:]) != indexVersion {
		return nil, errors.New("index file has another format version")
	}
	if id != nil && (int64(binary.LittleEndian.Uint64(head[16:])) != id.Size || int64(binary.LittleEndian.Uint64(head[24:])) != id.ModTime || string(head[32:64]) != string(id.Edges[:])) {
		return nil, errStale
	}
	foot := make([]byte, footerSize)
	if _, err := src.ReadAt(foot, size-footerSize); err != nil {
		return nil, err
	}
	if string(foot[32:]) != indexTrailer {
		return nil, errors.New("index file is truncated")
	}
	off, clen, rlen := binary.LittleEndian.Uint64(foot), binary.LittleEndian.Uint64(foot[8:]), binary.LittleEndian.Uint64(foot[16:])
	dataEnd := size - footerSize
	if off < headerSize || clen > uint64(dataEnd) || off != uint64(dataEnd)-clen || rlen > maxMetaBytes || rlen > clen<<12 {
		return nil, errBadIndex
	}
	comp := make([]byte, clen)
	if _, err := src.ReadAt(comp, int64(off)); err != nil {
		return nil, err
	}
	if crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, comp) != binary.LittleEndian.Uint32(foot[24:]) {
		return nil, errors.New("index file is corrupt (checksum mismatch)")
	}
	raw, err := metaDecoder().DecodeAll(comp, make([]byte, 0, min(rlen, 1<<20)))
	if err != nil || uint64(len(raw)) != rlen {
		return nil, errBadIndex
	}
	r := &metaReader{b: raw}
	ix := &index{src: src, size: size}
	if ix.format = r.str(); ix.format != format && r.err == nil {
		return nil, errStale
	}
	var nums [6]uint64
	for i := range nums {
		nums[i] = r.uvarint()
	}
	if nums[0] > 1<<32-1 {
		return nil, errBadIndex
	}
	ix.asOf = uint32(nums[0])
	ix.lines, ix.bad, ix.records, ix.names, ix.keys = int64(nums[1]), int64(nums[2]), int64(nums[3]), int64(nums[4]), int64(nums[5])
	for range r.count(1) {
		ix.warnings = append(ix.warnings, r.str())
	}
	nt := r.count(1)
	if nt > 1<<16 {
		return nil, errBadIndex
	}
	for range nt {
		ix.types = append(ix.types, r.str())
	}
	nseg := r.count(2)
	if nseg > maxSegments {
		return nil, errBadIndex
	}
	for range nseg {
		sg := segment{fdir: r.dir(int64(off)), rdir: r.dir(int64(off))}
		ix.segs = append(ix.segs, sg)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errors.New("index file has trailing data")
	}
	return ix, nil
}

// openFileIndex opens an index file and keeps it open while anything
// reads it: the index, or a scan's readers, which hold only its source.
func openFileIndex(f *os.File, id *fileIdentity, format string) (*index, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	src := &indexFile{f: f}
	ix, err := openIndex(src, st.Size(), id, format)
	if err != nil {
		return nil, err
	}
	// Tied to the source, not the index: a scan that outlives its last
	// use of the index must not find the file closed under it.
	runtime.AddCleanup(src, func(f *os.File) { f.Close() }, f)
	return ix, nil
}

// indexFile is an opened index file, closed once nothing reads it.
type indexFile struct{ f *os.File }

func (s *indexFile) ReadAt(p []byte, off int64) (int, error) { return s.f.ReadAt(p, off) }

// smallIndex is the size below which an index not kept on disk is held
// in memory rather than in an unlinked temporary file.
const smallIndex = 16 << 20

// inMemory reads a temporary index file into memory.
func inMemory(f *os.File, format string) (*index, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return openIndex(bytes.NewReader(b), int64(len(b)), nil, format)
}

// blockIndex returns the first block that may hold key: the last one
// whose first key is below it (a run of equal keys may start in the block
// before the first block that begins with it).
func blockIndex(dir []blockRef, key []byte) int {
	i := sort.Search(len(dir), func(i int) bool { return bytes.Compare(dir[i].first, key) >= 0 })
	return max(i-1, 0)
}

// scanF calls fn for the forward entries from the first with rname >= from,
// in order, until fn returns false. The segments' entries are merged, an
// entry found in several segments given once: what one merged table
// would hold.
func (ix *index) scanF(from []byte, fn func(*fent) bool) error {
	var srcs []func(*fent) bool
	var readers []*tableReader
	for _, sg := range ix.segs {
		if len(sg.fdir) == 0 {
			continue
		}
		r := newScanReader(ix, sg.fdir[blockIndex(sg.fdir, from):])
		defer r.release()
		readers = append(readers, r)
		reached := false // entries past the first at or after from need no check
		srcs = append(srcs, func(x *fent) bool {
			for r.nextF(x) {
				if reached || bytes.Compare(x.rname, from) >= 0 {
					reached = true
					return true
				}
			}
			return false
		})
	}
	mergeSorted(srcs, compareF, cloneF, fn)
	return readersErr(readers)
}

// scanR is scanF for the reverse table, by key.
func (ix *index) scanR(from []byte, fn func(*rent) bool) error {
	var srcs []func(*rent) bool
	var readers []*tableReader
	for _, sg := range ix.segs {
		if len(sg.rdir) == 0 {
			continue
		}
		r := newScanReader(ix, sg.rdir[blockIndex(sg.rdir, from):])
		defer r.release()
		readers = append(readers, r)
		reached := false // entries past the first at or after from need no check
		srcs = append(srcs, func(x *rent) bool {
			for r.nextR(x) {
				if reached || bytes.Compare(x.key, from) >= 0 {
					reached = true
					return true
				}
			}
			return false
		})
	}
	mergeSorted(srcs, compareR, cloneR, fn)
	return readersErr(readers)
}

// scanBufs are a query's block buffers, reused: a query over many
// segments reads a block of each.
var scanBufs = sync.Pool{New: func() any { return new([2][]byte) }}

func newScanReader(ix *index, refs []blockRef) *tableReader {
	b := scanBufs.Get().(*[2][]byte)
	return &tableReader{src: ix.src, refs: refs, ntypes: len(ix.types), buf: b[0][:0], tmp: b[1][:0], pooled: b}
}

// release returns a scan's buffers to the pool; the reader's entries are
// invalid afterwards.
func (r *tableReader) release() {
	if r.pooled != nil {
		r.pooled[0], r.pooled[1] = r.buf[:0], r.tmp[:0]
		scanBufs.Put(r.pooled)
		r.pooled = nil
	}
}

func readersErr(readers []*tableReader) error {
	for _, r := range readers {
		if err := r.errOr(); err != nil {
			return err
		}
	}
	return nil
}

func (r *tableReader) errOr() error {
	if r.err != nil {
		return fmt.Errorf("%w (remove .reconform/index to rebuild it)", r.err)
	}
	return nil
}

// hasName reports whether name owns records.
func (ix *index) hasName(name string) bool {
	rn := reverseInto(nil, []byte(name))
	found := false
	ix.scanF(rn, func(x *fent) bool { found = bytes.Equal(x.rname, rn); return false })
	return found
}

// check reads every block and verifies that each segment's entries
// decode and are in strictly increasing order: what the queries' range
// scans and merges rely on.
func (ix *index) check() error {
	for _, sg := range ix.segs {
		var prevF, x fent
		r := &tableReader{src: ix.src, refs: sg.fdir, ntypes: len(ix.types)}
		for n := 0; r.nextF(&x); n++ {
			if n > 0 && compareF(&prevF, &x) >= 0 {
				return errEntryOrder
			}
			cloneF(&prevF, &x)
		}
		if err := r.errOr(); err != nil {
			return err
		}
		var prevR, y rent
		r = &tableReader{src: ix.src, refs: sg.rdir, ntypes: len(ix.types)}
		for n := 0; r.nextR(&y); n++ {
			if n > 0 && compareR(&prevR, &y) >= 0 {
				return errEntryOrder
			}
			cloneR(&prevR, &y)
		}
		if err := r.errOr(); err != nil {
			return err
		}
	}
	return nil
}
