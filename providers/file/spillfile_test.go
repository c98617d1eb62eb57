package file

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// A spill reads back what was written to it, across the end of its held
// memory, chunk boundaries and the file behind them.
func TestSpillReadsBackAcrossMemoryAndFile(t *testing.T) {
	for _, held := range []int64{0, 1000, heldChunk, heldChunk + 12345, 1 << 30} {
		s, err := newSpillFile(t.TempDir(), held)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(held), 1))
		var want []byte
		for len(want) < 2*heldChunk+5000 {
			p := make([]byte, rng.IntN(300_000))
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
			if n, err := s.Write(p); err != nil || n != len(p) {
				t.Fatalf("held %d: write %d of %d: %v", held, n, len(p), err)
			}
			want = append(want, p...)
		}
		if s.Size() != int64(len(want)) {
			t.Fatalf("held %d: size %d, want %d", held, s.Size(), len(want))
		}
		if inFile := s.f != nil; inFile != (held < int64(len(want))) {
			t.Errorf("held %d: file made %v for %d bytes", held, inFile, len(want))
		}
		for i := 0; i < 200; i++ {
			off := rng.IntN(len(want))
			p := make([]byte, rng.IntN(100_000))
			n, err := s.ReadAt(p, int64(off))
			end := min(off+len(p), len(want))
			if n != end-off || !bytes.Equal(p[:n], want[off:end]) {
				t.Fatalf("held %d: ReadAt(%d bytes at %d) = %d, %v: wrong bytes", held, len(p), off, n, err)
			}
			if end < off+len(p) && err != io.EOF {
				t.Fatalf("held %d: ReadAt past the end: %v, want EOF", held, err)
			}
		}
		s.close()
	}
}
