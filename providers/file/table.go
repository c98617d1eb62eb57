package file

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/s2"
)

// blockFile is a file that compressed blocks are appended to by
// several table writers at once: every block's offset is recorded in its
// table's directory, so tables may interleave.
type blockFile struct {
	mu  sync.Mutex
	w   io.Writer
	off int64
	err error
}

func (f *blockFile) append(b []byte) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	off := f.off
	_, f.err = f.w.Write(b)
	f.off += int64(len(b))
	return off, f.err
}

// tableWriter cuts a sorted stream of entries into blocks, each
// compressed on a goroutine of its own, so that the encoding of the next
// block overlaps the compression of this one.
type tableWriter struct {
	out     *blockFile
	enc     blockEnc
	refs    []blockRef
	entries int64

	pending chan *pendingBlock
	done    chan struct{}
	err     error
	spare   chan []byte
	// compSpare are compressed blocks' buffers, once written
	compSpare chan []byte
}

type pendingBlock struct {
	raw   []byte
	first []byte
	ready chan []byte // the compressed block
}

func newTableWriter(out *blockFile) *tableWriter {
	t := &tableWriter{out: out, pending: make(chan *pendingBlock, 4), done: make(chan struct{}), spare: make(chan []byte, 8), compSpare: make(chan []byte, 8)}
	go t.writeLoop()
	return t
}

func (t *tableWriter) writeLoop() {
	defer close(t.done)
	for p := range t.pending {
		comp := <-p.ready
		if t.err != nil {
			continue
		}
		off, err := t.out.append(comp)
		if err != nil {
			t.err = err
			continue
		}
		t.refs = append(t.refs, blockRef{first: p.first, off: off, clen: uint32(len(comp)), rlen: uint32(len(p.raw))})
		select {
		case t.spare <- p.raw[:0]:
		default:
		}
		select {
		case t.compSpare <- comp[:0]:
		default:
		}
	}
}

func (t *tableWriter) addF(x *fent) {
	t.enc.addF(x)
	t.entries++
	if len(t.enc.buf) >= blockRaw {
		t.flush()
	}
}

func (t *tableWriter) addR(x *rent) {
	t.enc.addR(x)
	t.entries++
	if len(t.enc.buf) >= blockRaw {
		t.flush()
	}
}

func (t *tableWriter) flush() {
	if t.enc.n == 0 {
		return
	}
	first := bytes.Clone(t.enc.first)
	raw := t.enc.buf
	p := &pendingBlock{raw: raw, first: first, ready: make(chan []byte, 1)}
	// A written block's buffer is used again: a fresh one for each block
	// was hundreds of megabytes to allocate and zero over a build.
	var dst []byte
	select {
	case dst = <-t.compSpare:
	default:
	}
	if need := s2.MaxEncodedLen(len(raw)) + blockTrailer; cap(dst) < need {
		dst = make([]byte, 0, need)
	}
	go func() {
		p.ready <- compressBlock(dst, raw)
	}()
	t.pending <- p
	var next []byte
	select {
	case next = <-t.spare:
	default:
		next = make([]byte, 0, blockRaw+blockRaw/4)
	}
	t.enc.reset()
	t.enc.buf = next
}

// close flushes the last block and returns the directory.
func (t *tableWriter) close() ([]blockRef, error) {
	t.flush()
	close(t.pending)
	<-t.done
	return t.refs, t.err
}

// spillFile is a temporary index file, removed as soon as it
// is created where the system allows it, so that a crash leaves nothing
// behind.
type spillFile struct {
	f    *os.File
	name string
}

func newSpillFile(dir string) (*spillFile, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	f, err := os.CreateTemp(dir, ".rfidx-run-*")
	if err != nil {
		return nil, err
	}
	s := &spillFile{f: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		s.name = ""
	}
	return s, nil
}

// newNamedFile is newSpillFile for a file that is to be renamed into
// place: it keeps its name until close or rename.
func newNamedFile(dir string) (*spillFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".rfidx-*")
	if err != nil {
		return nil, err
	}
	return &spillFile{f: f, name: f.Name()}, nil
}

func (s *spillFile) close() {
	s.f.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
}

// tableReader reads a table's entries in order, block by block.
type tableReader struct {
	src      readerAt
	refs     []blockRef
	ntypes   int
	next     int
	dec      blockDec
	buf, tmp []byte
	pooled   *[2][]byte // where buf and tmp go back to, for a query's reader
	err      error
}

func (r *tableReader) load() bool {
	for !r.dec.more() {
		if r.dec.err != nil {
			r.err = r.dec.err
			return false
		}
		if r.next >= len(r.refs) {
			return false
		}
		ref := r.refs[r.next]
		r.next++
		var err error
		r.buf, err = decodeBlock(r.src, ref, r.buf, &r.tmp)
		if err != nil {
			r.err = err
			return false
		}
		r.dec = blockDec{b: r.buf, key: r.dec.key[:0], name: r.dec.name[:0], value: r.dec.value[:0], prevValue: r.dec.prevValue[:0]}
	}
	return true
}

func (r *tableReader) nextF(x *fent) bool {
	if !r.load() {
		return false
	}
	if !r.dec.nextF(x, r.ntypes) {
		r.err = r.dec.err
		return false
	}
	return true
}

func (r *tableReader) nextR(x *rent) bool {
	if !r.load() {
		return false
	}
	if !r.dec.nextR(x, r.ntypes) {
		r.err = r.dec.err
		return false
	}
	return true
}

var errEntryOrder = errors.New("index entries out of order")
