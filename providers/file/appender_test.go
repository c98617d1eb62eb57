package file

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestAppender writes chunks of many sizes, flushing now and then as the
// index build does (once before a compaction, once at the end), and reads
// the file back through the same descriptor.
func TestAppender(t *testing.T) {
	for _, flushes := range []int{0, 1, 7} {
		f, err := os.Create(filepath.Join(t.TempDir(), "ix"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w := newAppender(f)
		rng := rand.New(rand.NewPCG(1, uint64(flushes)))
		var want bytes.Buffer
		for i := range 400 {
			chunk := make([]byte, rng.IntN(70000))
			for j := range chunk {
				chunk[j] = byte(rng.Uint32())
			}
			if i == 100 {
				chunk = make([]byte, 3*appendBuffer+5) // spans whole buffers
			}
			if _, err := w.Write(chunk); err != nil {
				t.Fatal(err)
			}
			want.Write(chunk)
			if flushes > 0 && i%(400/flushes) == 0 {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if pos, err := f.Seek(0, io.SeekCurrent); err != nil || pos != int64(want.Len()) {
			t.Fatalf("flushes %d: offset after Flush %d, %v; want %d", flushes, pos, err, want.Len())
		}
		got := make([]byte, want.Len()+1)
		n, err := f.ReadAt(got, 0) // an unaligned read: the descriptor is back to buffered I/O
		if err != io.EOF || !bytes.Equal(got[:n], want.Bytes()) {
			t.Fatalf("flushes %d: read back %d bytes (%v), want the %d written", flushes, n, err, want.Len())
		}
	}
}

// TestAppenderNotFile: anything but a file at an aligned offset gets a
// bufio.Writer.
func TestAppenderNotFile(t *testing.T) {
	var b bytes.Buffer
	w := newAppender(&b)
	w.Write([]byte("abc"))
	if err := w.Flush(); err != nil || b.String() != "abc" {
		t.Fatalf("got %q, %v", b.String(), err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "ix"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("x"))
	if _, ok := newAppender(f).(*bufio.Writer); !ok {
		t.Fatal("a file at an unaligned offset was given direct I/O")
	}
}
