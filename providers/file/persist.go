package file

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"unsafe"
)

// A persisted index is the index's flat arrays written back to back in
// native little-endian layout, so loading it is one read and a checksum:
// no parsing, no rehashing (the string table's hash slots are stored too).
// gob or a varint encoding would have to decode tens of millions of
// integers one at a time; this reads at disk/page-cache speed.
//
// The file is keyed by the data file's identity: absolute path and format
// in the index file's name; size, modification time and a SHA-256 of the
// first and last MiB in its header. A full content hash would cost as much
// as a fair part of re-indexing on a 100 GB dump and defeat the point; the
// size, mtime and edge hash catch replaced, re-downloaded, appended and
// truncated files, and only a same-size in-place edit of the middle that
// also preserves the mtime would go unnoticed. Anything that does not
// match, fails its checksum or its structural checks is rebuilt.

const (
	indexMagic    = "RFIDX\x00\x00\x08"
	indexTrailer  = "RFIDXEND"
	indexVersion  = 14 // bump when parsing or normalisation changes (10: shared COF time parser, RFC 3339 times, dnsdbq CSV zone columns; 11: MX values are the host; 12: TXT as schema's canonical text, control bytes escaped; 13: zone files and tool outputs, detected where text was CSV; 14: wildcard names keep their "*." label, MX/SOA/SRV fields joined by one space, control bytes of every type escaped)
	edgeHashBytes = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// littleEndian: the layout is native; big-endian hosts do not persist.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// fileIdentity identifies the data file an index was built from.
type fileIdentity struct {
	Size    int64
	ModTime int64
	Edges   [32]byte
}

func identify(path string) (fileIdentity, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileIdentity{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileIdentity{}, err
	}
	id := fileIdentity{Size: st.Size(), ModTime: st.ModTime().UnixNano()}
	h := sha256.New()
	if _, err := io.CopyN(h, f, edgeHashBytes); err != nil && !errors.Is(err, io.EOF) {
		return fileIdentity{}, err
	}
	if st.Size() > edgeHashBytes {
		if _, err := f.Seek(max(st.Size()-edgeHashBytes, edgeHashBytes), io.SeekStart); err != nil {
			return fileIdentity{}, err
		}
		if _, err := io.Copy(h, f); err != nil {
			return fileIdentity{}, err
		}
	}
	copy(id.Edges[:], h.Sum(nil))
	return id, nil
}

// indexStore is where one data file's index is kept.
type indexStore struct {
	dir, dataPath, format string
}

func newIndexStore(dir, dataPath, format string) *indexStore {
	return &indexStore{dir: dir, dataPath: dataPath, format: format}
}

func (s *indexStore) file() string {
	abs, err := filepath.Abs(s.dataPath)
	if err != nil {
		abs = s.dataPath
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + s.format))
	return filepath.Join(s.dir, fmt.Sprintf("%x.rfidx", sum[:12]))
}

// asBytes views a slice of fixed-size values as bytes.
func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// fromBytes views bytes as a slice of T; b must be aligned for T.
func fromBytes[T any](b []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
}

// indexWriter writes 8-byte aligned sections and checksums them.
type indexWriter struct {
	w   *bufio.Writer
	crc uint32
	n   int64
	err error
}

func (w *indexWriter) raw(b []byte) {
	if w.err != nil {
		return
	}
	w.crc = crc32.Update(w.crc, castagnoli, b)
	_, w.err = w.w.Write(b)
	w.n += int64(len(b))
}

func (w *indexWriter) u64(v uint64) { w.raw(binary.LittleEndian.AppendUint64(nil, v)) }

// section writes a count and the bytes, padded to 8.
func (w *indexWriter) section(count int, b []byte) {
	w.u64(uint64(count))
	w.raw(b)
	if pad := (8 - len(b)%8) % 8; pad > 0 {
		w.raw(make([]byte, pad))
	}
}

func (w *indexWriter) str(s string) { w.section(len(s), []byte(s)) }

func (s *indexStore) save(ix *index) error {
	if !littleEndian {
		return nil
	}
	id, err := identify(s.dataPath)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".rfidx-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := &indexWriter{w: bufio.NewWriterSize(tmp, 4<<20)}
	w.raw([]byte(indexMagic))
	w.u64(indexVersion)
	w.u64(uint64(id.Size))
	w.u64(uint64(id.ModTime))
	w.raw(id.Edges[:])
	w.str(s.format)
	w.u64(uint64(ix.asOf))
	w.u64(uint64(ix.lines))
	w.u64(uint64(ix.bad))
	w.u64(uint64(len(ix.warnings)))
	for _, m := range ix.warnings {
		w.str(m)
	}
	w.u64(uint64(len(ix.types)))
	for _, t := range ix.types {
		w.str(t)
	}
	// The tables were sized from a guess of the line count; write them
	// at the load factor they would have had if grown as needed.
	for _, t := range []*strtab{ix.names, ix.values} {
		slots := rehashed(t.slots, t.len(), strSlotHash)
		w.section(len(t.blob), t.blob)
		w.section(len(t.offs), asBytes(t.offs))
		w.section(len(slots), asBytes(slots))
	}
	ip4 := rehashed(ix.valueIP4.slots, ix.valueIP4.n, ip4SlotHash)
	w.section(len(ip4), asBytes(ip4))
	w.section(len(ix.nameFlags), ix.nameFlags)
	w.section(len(ix.valueFlags), ix.valueFlags)
	w.section(len(ix.recs), asBytes(ix.recs))
	for _, a := range [][]uint32{ix.nameStart, ix.keyStart, ix.keyRecs, ix.parent, ix.childStart, ix.childIDs} {
		w.section(len(a), asBytes(a))
	}
	for _, a := range [][]uint64{ix.ip4, ix.ip6, ix.ptr4, ix.ptr6} {
		w.section(len(a), asBytes(a))
	}
	w.u64(uint64(w.crc))
	if w.err == nil {
		_, w.err = w.w.WriteString(indexTrailer)
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if err := tmp.Close(); w.err == nil {
		w.err = err
	}
	if w.err != nil {
		return w.err
	}
	return os.Rename(tmp.Name(), s.file())
}

var errStale = errors.New("the data file changed since the index was built")

// indexReader reads sections back as views into one aligned buffer.
type indexReader struct {
	b   []byte
	off int
	err error
}

func (r *indexReader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = errors.New("index file is truncated")
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *indexReader) u64() uint64 {
	b := r.next(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// section returns the bytes of a section of count elements of size each.
func (r *indexReader) section(size int) (int, []byte) {
	count := r.u64()
	if count > uint64(len(r.b)) {
		r.err = errors.New("index section size is out of range")
		return 0, nil
	}
	n := int(count) * size
	b := r.next(n)
	r.next((8 - n%8) % 8)
	return int(count), b
}

func (r *indexReader) str() string {
	_, b := r.section(1)
	return string(b)
}

func (s *indexStore) load() (*index, error) {
	if !littleEndian {
		return nil, os.ErrNotExist
	}
	f, err := os.Open(s.file())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < int64(len(indexMagic)+len(indexTrailer)+80) {
		return nil, errors.New("index file is truncated")
	}
	id, err := identify(s.dataPath)
	if err != nil {
		return nil, err
	}
	// Check the header before reading the whole file.
	head := make([]byte, len(indexMagic)+24+32)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, err
	}
	if string(head[:8]) != indexMagic || binary.LittleEndian.Uint64(head[8:]) != indexVersion {
		return nil, errors.New("index file has another format version")
	}
	if int64(binary.LittleEndian.Uint64(head[16:])) != id.Size || int64(binary.LittleEndian.Uint64(head[24:])) != id.ModTime || string(head[32:64]) != string(id.Edges[:]) {
		return nil, errStale
	}
	buf, err := mapIndexFile(f, size)
	if err != nil {
		return nil, err
	}
	body := buf[:size-16]
	if string(buf[size-8:]) != indexTrailer || uint32(binary.LittleEndian.Uint64(buf[size-16:])) != crc32.Checksum(body, castagnoli) {
		return nil, errors.New("index file is corrupt (checksum mismatch)")
	}
	r := &indexReader{b: body, off: len(head)}
	if r.str() != s.format {
		return nil, errStale
	}
	ix := &index{names: &strtab{}, values: &strtab{}, valueIP4: &ip4tab{}, reused: true}
	ix.asOf = uint32(r.u64())
	ix.lines = int64(r.u64())
	ix.bad = int64(r.u64())
	nw := r.u64()
	for i := uint64(0); i < nw && r.err == nil; i++ {
		ix.warnings = append(ix.warnings, r.str())
	}
	nt := r.u64()
	for i := uint64(0); i < nt && r.err == nil; i++ {
		ix.types = append(ix.types, r.str())
	}
	for _, t := range []*strtab{ix.names, ix.values} {
		_, t.blob = r.section(1)
		t.offs = sectionOf[uint64](r)
		t.slots = sectionOf[uint64](r)
	}
	ix.valueIP4.slots = sectionOf[uint64](r)
	_, ix.nameFlags = r.section(1)
	_, ix.valueFlags = r.section(1)
	ix.recs = sectionOf[record](r)
	for _, dst := range []*[]uint32{&ix.nameStart, &ix.keyStart, &ix.keyRecs, &ix.parent, &ix.childStart, &ix.childIDs} {
		*dst = sectionOf[uint32](r)
	}
	for _, dst := range []*[]uint64{&ix.ip4, &ix.ip6, &ix.ptr4, &ix.ptr6} {
		*dst = sectionOf[uint64](r)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(body) {
		return nil, errors.New("index file has trailing data")
	}
	if err := ix.check(); err != nil {
		return nil, fmt.Errorf("index file is inconsistent: %w", err)
	}
	return ix, nil
}

// readIndexFile reads a whole index file into 8-byte aligned memory.
func readIndexFile(f *os.File, size int64) ([]byte, error) {
	words := make([]uint64, (size+7)/8)
	buf := asBytes(words)[:size]
	if _, err := f.ReadAt(buf, 0); err != nil {
		return nil, err
	}
	return buf, nil
}

func sectionOf[T any](r *indexReader) []T {
	var zero T
	_, b := r.section(int(unsafe.Sizeof(zero)))
	return fromBytes[T](b)
}

// check verifies the structural invariants queries rely on, so that a
// damaged or mismatched index is rebuilt rather than read out of bounds.
func (ix *index) check() error {
	nn, okN := ix.names.check()
	nv, okV := ix.values.check()
	if !okN || !okV {
		return errors.New("string tables")
	}
	if s := ix.valueIP4.slots; len(s) == 0 || len(s)&(len(s)-1) != 0 {
		return errors.New("IPv4 slots")
	}
	for _, s := range ix.valueIP4.slots {
		if int(uint32(s)) > nv {
			return errors.New("IPv4 slots")
		}
	}
	if len(ix.nameFlags) != nn || len(ix.valueFlags) != nv || len(ix.parent) != nn {
		return errors.New("per-string arrays")
	}
	for _, r := range ix.recs {
		if int(r.Name) >= nn || int(r.Value) >= nv || int(r.Type) >= len(ix.types) {
			return errors.New("records")
		}
	}
	if !offsetsOK(ix.nameStart, nn, len(ix.recs)) || !offsetsOK(ix.keyStart, nv, len(ix.keyRecs)) || !offsetsOK(ix.childStart, nn, len(ix.childIDs)) {
		return errors.New("offset tables")
	}
	for _, p := range ix.keyRecs {
		if int(p) >= len(ix.recs) {
			return errors.New("key index")
		}
	}
	for _, p := range ix.parent {
		if int(p) > nn {
			return errors.New("parents")
		}
	}
	for _, c := range ix.childIDs {
		if int(c) >= nn {
			return errors.New("children")
		}
	}
	if !ipTableOK(ix.ip4, ix.ip6, nv) || !ipTableOK(ix.ptr4, ix.ptr6, nn) {
		return errors.New("IP tables")
	}
	return nil
}

func ipTableOK(ip4, ip6 []uint64, n int) bool {
	for _, e := range ip4 {
		if int(uint32(e)) >= n {
			return false
		}
	}
	if len(ip6)%3 != 0 {
		return false
	}
	for i := 2; i < len(ip6); i += 3 {
		if ip6[i] >= uint64(n) {
			return false
		}
	}
	return true
}

// check verifies a loaded string table and returns its length.
func (t *strtab) check() (int, bool) {
	n := len(t.offs) - 1
	if n < 0 || t.offs[0] != 0 || t.offs[n] != uint64(len(t.blob)) {
		return 0, false
	}
	for i := 1; i <= n; i++ {
		if t.offs[i] < t.offs[i-1] {
			return 0, false
		}
	}
	if len(t.slots) == 0 || len(t.slots)&(len(t.slots)-1) != 0 {
		return 0, false
	}
	// Not every string is hashed (IPv4 values have their own table), so
	// the slot table may be smaller than n; it only needs a free slot for
	// probes to end on.
	used := 0
	for _, s := range t.slots {
		if int(uint32(s)) > n {
			return 0, false
		}
		if s != 0 {
			used++
		}
	}
	if used >= len(t.slots) {
		return 0, false
	}
	return n, true
}

func offsetsOK(start []uint32, n, total int) bool {
	if len(start) != n+1 || start[0] != 0 || int(start[n]) != total {
		return false
	}
	for i := 1; i <= n; i++ {
		if start[i] < start[i-1] {
			return false
		}
	}
	return true
}
