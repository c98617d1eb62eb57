package file

import (
	"io"
	"os"
	"runtime"
)

// spillFile is where an index is written as it is built and read from
// afterwards. An index that is not kept on disk holds its first bytes in
// memory, up to heldMax, and only the rest in a temporary file: writing a
// new file costs the kernel several times what filling fresh memory does
// (about 2 ns a byte on the machines we measure on, against 0.5), and a
// typical index fits. The temporary file is removed as soon as it is
// created where the system allows it, so that a crash leaves nothing
// behind.
type spillFile struct {
	dir     string
	f       *os.File // nil until the held memory is full
	name    string   // set while the file is to be removed on close
	heldMax int64
	held    int64    // bytes in chunks: the first bytes of the index
	chunks  [][]byte // of heldChunk bytes each, from mapChunk
	size    int64    // bytes written in all
}

// heldChunk is the unit of an index's held memory.
const heldChunk = 4 << 20

// maxHeld bounds the memory an index not kept on disk holds, whatever
// index_memory is: with the default budget's runs, a build stays under
// 1 GiB.
const maxHeld = 256 << 20

// newSpillFile returns a spill that holds up to heldMax bytes in memory
// and the rest in an unlinked temporary file in dir ("": the system's).
func newSpillFile(dir string, heldMax int64) (*spillFile, error) {
	s := &spillFile{dir: dir, heldMax: heldMax}
	if heldMax <= 0 {
		if err := s.create(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *spillFile) create() error {
	if s.dir != "" {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(s.dir, ".rfidx-run-*")
	if err != nil {
		return err
	}
	s.f, s.name = f, f.Name()
	if os.Remove(f.Name()) == nil {
		s.name = ""
	}
	return nil
}

// newNamedFile is a spill that is to be renamed into place: all of it is
// in the file, which keeps its name until close or rename.
func newNamedFile(dir string) (*spillFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".rfidx-*")
	if err != nil {
		return nil, err
	}
	return &spillFile{dir: dir, f: f, name: f.Name()}, nil
}

// Write appends p: to the held memory while it has room, then to the file.
func (s *spillFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) && s.f == nil {
		if s.held == s.heldMax {
			if err := s.create(); err != nil {
				return n, err
			}
			break
		}
		at := s.held % heldChunk
		if at == 0 {
			c := mapChunk(heldChunk)
			if c == nil {
				s.heldMax = s.held // out of memory to map: the rest goes to the file
				continue
			}
			s.chunks = append(s.chunks, c)
		}
		room := min(heldChunk-at, s.heldMax-s.held)
		k := copy(s.chunks[len(s.chunks)-1][at:at+room], p[n:])
		n += k
		s.held += int64(k)
		s.size += int64(k)
	}
	if n == len(p) {
		return n, nil
	}
	k, err := s.f.Write(p[n:])
	s.size += int64(k)
	return n + k, err
}

// ReadAt reads the index's bytes at off, from memory or the file.
func (s *spillFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < s.held {
		c := s.chunks[off/heldChunk][:min(heldChunk, s.held-off/heldChunk*heldChunk)]
		k := copy(p[n:], c[off%heldChunk:])
		n += k
		off += int64(k)
	}
	var err error
	if n < len(p) {
		if s.f == nil {
			err = io.EOF
		} else {
			var k int
			k, err = s.f.ReadAt(p[n:], off-s.held)
			n += k
		}
	}
	// The chunks are unmapped when s is collected: it must stay reachable
	// until the copy out of them is done.
	runtime.KeepAlive(s)
	return n, err
}

// Size is the number of bytes written.
func (s *spillFile) Size() int64 { return s.size }

// sync makes the file's contents durable; only a named file's matter.
func (s *spillFile) sync() error {
	if s.f == nil {
		return nil
	}
	return s.f.Sync()
}

// close releases the memory and the file (removing it if it has a name).
// The spill must not be read afterwards.
func (s *spillFile) close() {
	releaseSpill(spillParts{f: s.f, name: s.name, chunks: s.chunks})
	s.f, s.name, s.chunks, s.held, s.size = nil, "", nil, 0, 0
}

// spillParts are what a spill releases: kept apart from it so that a
// cleanup tied to the spill does not keep it reachable.
type spillParts struct {
	f      *os.File
	name   string
	chunks [][]byte
}

func releaseSpill(p spillParts) {
	if p.f != nil {
		p.f.Close()
		if p.name != "" {
			os.Remove(p.name)
		}
	}
	for _, c := range p.chunks {
		unmapChunk(c)
	}
}

// releaseWhenUnused releases the spill's memory and file once nothing
// reads it any more: the index, or a scan's readers, which hold only
// their source.
func (s *spillFile) releaseWhenUnused() {
	runtime.AddCleanup(s, releaseSpill, spillParts{f: s.f, name: s.name, chunks: s.chunks})
}
