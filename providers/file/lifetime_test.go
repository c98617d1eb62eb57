package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/internal/fdnsgen"
)

// A scan of a file-backed index keeps the file open while it reads, even
// when nothing refers to the index any more (its readers hold only the
// file): the garbage collector used to close it mid-scan.
func TestScanOutlivesItsIndex(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "fdns.json")
	if err := fdnsgen.WriteFile(data, fdnsgen.Options{Lines: 20000, Seed: 5}, false); err != nil {
		t.Fatal(err)
	}
	built, format, err := readIndexAt(context.Background(), data, "", 0, buildOptions{dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, built.size)
	if _, err := built.src.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "index")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	want := 0
	built.scanR(nil, func(*rent) bool { want++; return true })
	if len(built.rdirs()) < 4 {
		t.Fatalf("the index has %d reverse blocks: too few to read after a collection", len(built.rdirs()))
	}
	got, err := scanDroppingIndex(t, path, format)
	if err != nil || got != want {
		t.Errorf("scan read %d of %d entries: %v", got, want, err)
	}
}

// scanDroppingIndex opens the index file and scans its reverse table,
// collecting garbage as it goes; the index is unreachable once the scan
// has started.
func scanDroppingIndex(t *testing.T, path, format string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := openFileIndex(f, nil, format)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	return n, ix.scanR(nil, func(*rent) bool {
		if n++; n%200 == 0 {
			runtime.GC()
			time.Sleep(time.Millisecond) // the cleanup runs on a goroutine of its own
		}
		return true
	})
}

func (ix *index) rdirs() []blockRef {
	var all []blockRef
	for _, sg := range ix.segs {
		all = append(all, sg.rdir...)
	}
	return all
}

// A block that compresses more than readers accept (4096 times) is
// stored raw, so a value of one repeated byte still builds an index.
func TestHighlyCompressibleBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.csv")
	value := strings.Repeat("a", 300<<10)
	if err := os.WriteFile(path, []byte("a.example,TXT,"+value+"\nb.example,A,192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := readIndex(context.Background(), path, FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.check(); err != nil {
		t.Fatal(err)
	}
	n := 0
	ix.scanF(nil, func(*fent) bool { n++; return true })
	if n != 2 {
		t.Errorf("%d forward entries, want 2", n)
	}
}

// A name's records are in value order (compareF) whatever their values
// share: the seal orders them by their first seven bytes and reads the
// rest only on a tie.
func TestRecordsOfANameInValueOrder(t *testing.T) {
	values := []string{"host-a.example.net", "host-a.example.com", "host-a.example", "host-a", "host-", "h", "host-a.example.net.x", "hos\x01t", "1.2.3.4", "10.0.0.1", "host-a.exbmple", "zz"}
	var b strings.Builder
	distinct := map[string]bool{}
	for i := range 3 {
		for j := range values {
			v := values[(j*7+i)%len(values)] + strings.Repeat("x", i%2*j%3)
			fmt.Fprintf(&b, "a.example,CNAME,%q\n", v)
			fmt.Fprintf(&b, "a.example,TXT,%q\n", v)
			distinct[v] = true
		}
	}
	path := filepath.Join(t.TempDir(), "records.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, _, err := readIndex(context.Background(), path, FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.check(); err != nil {
		t.Fatal(err)
	}
	n := 0
	ix.scanF(nil, func(*fent) bool { n++; return true })
	if n != 2*len(distinct) {
		t.Errorf("%d forward entries, want %d", n, 2*len(distinct))
	}
}
