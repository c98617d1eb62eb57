//go:build cgo && linux

package isal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/flate"
	gzip "github.com/klauspost/compress/gzip"
)

// needISAL skips without libisal.so.2, and fails under CI=true, where
// .ci/run installs it.
func needISAL(t testing.TB) {
	t.Helper()
	if err := load(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (.ci/run installs libisal2)", err)
		}
		t.Skipf("%v: apt-get install libisal2 to test the ISA-L reader", err)
	}
}

func gzipped(t testing.TB, level int, hdr gzip.Header, parts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		w, err := gzip.NewWriterLevel(&buf, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Header = hdr
		w.Write(p)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// zoneLike is text like a zone file's, with its repeats.
func zoneLike(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString("domain")
		b.WriteString(strings.Repeat("x", r.IntN(12)))
		b.WriteString(".example.\t86400\tin\tns\tns")
		b.WriteByte(byte('0' + r.IntN(10)))
		b.WriteString(".provider.net.\n")
	}
	return b.Bytes()[:n]
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// builtin reads data with klauspost/compress, the decoder ISA-L replaces.
func builtin(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func viaISAL(data []byte, wrap func(io.Reader) io.Reader) ([]byte, error) {
	zr, err := NewReader(wrap(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(wrap(zr))
}

func TestReaderMatchesBuiltin(t *testing.T) {
	needISAL(t)
	text := zoneLike(3 << 20)
	header := gzip.Header{Name: "zone.txt", Comment: "from a test", Extra: []byte("xx\x02\x00ab")}
	cases := map[string][]byte{
		"text":                gzipped(t, gzip.DefaultCompression, gzip.Header{}, text),
		"fastest":             gzipped(t, gzip.BestSpeed, gzip.Header{}, text),
		"huffman only":        gzipped(t, gzip.HuffmanOnly, gzip.Header{}, text),
		"stored":              gzipped(t, gzip.NoCompression, gzip.Header{}, text),
		"random":              gzipped(t, gzip.DefaultCompression, gzip.Header{}, randomBytes(1<<20)),
		"empty member":        gzipped(t, gzip.DefaultCompression, gzip.Header{}, nil),
		"name, comment, xtra": gzipped(t, gzip.DefaultCompression, header, text[:1000]),
		"members":             gzipped(t, gzip.DefaultCompression, gzip.Header{}, text[:5000], nil, text[5000:300000], []byte("\n")),
	}
	wraps := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for name, data := range cases {
		want, err := builtin(data)
		if err != nil {
			t.Fatalf("%s: the built-in decoder: %v", name, err)
		}
		for wname, wrap := range wraps {
			if wname == "one byte" && len(data) > 100_000 {
				continue // a byte at a time through cgo: slow for nothing new
			}
			got, err := viaISAL(data, wrap)
			if err != nil {
				t.Errorf("%s, read %s: %v", name, wname, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, read %s: %d bytes, want %d", name, wname, len(got), len(want))
			}
		}
	}
}

func TestReaderErrors(t *testing.T) {
	needISAL(t)
	text := zoneLike(200_000)
	good := gzipped(t, gzip.DefaultCompression, gzip.Header{}, text)
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-8] ^= 1
	badSize := bytes.Clone(good)
	badSize[len(badSize)-1] ^= 1
	corrupt := bytes.Clone(good)
	for i := 40; i < 60; i++ {
		corrupt[i] = 0xff
	}
	cases := map[string]struct {
		data []byte
		want error // nil: any error but io.EOF
	}{
		"cut in the header":  {good[:5], io.ErrUnexpectedEOF},
		"cut in the data":    {good[:len(good)/2], io.ErrUnexpectedEOF},
		"cut in the trailer": {good[:len(good)-3], io.ErrUnexpectedEOF},
		"bad checksum":       {badCRC, nil},
		"bad size":           {badSize, nil},
		"corrupt data":       {corrupt, nil},
		"not gzip":           {[]byte("this is not gzip at all, just text\n"), nil},
		"trailing garbage":   {append(bytes.Clone(good), "garbage after the member"...), nil},
	}
	for name, c := range cases {
		_, berr := builtin(c.data)
		got, err := viaISAL(c.data, func(r io.Reader) io.Reader { return r })
		if err == nil {
			t.Errorf("%s: no error, %d bytes (built-in decoder: %v)", name, len(got), berr)
			continue
		}
		if berr == nil {
			t.Errorf("%s: the built-in decoder took it; ISA-L: %v", name, err)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
		if len(got) > len(text) || !bytes.Equal(got, text[:len(got)]) {
			t.Errorf("%s: %d bytes before the error are not the text's start", name, len(got))
		}
	}
}

func TestReadAfterErrorAndClose(t *testing.T) {
	needISAL(t)
	if _, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 8})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a cut header: %v", err)
	}
	if _, err := NewReader(bytes.NewReader(nil)); err != io.EOF {
		t.Fatalf("no input: %v, want io.EOF as gzip.NewReader", err)
	}
	good := gzipped(t, gzip.DefaultCompression, gzip.Header{}, zoneLike(100_000))
	zr, err := NewReader(bytes.NewReader(good[:len(good)/2]))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	var rerr error
	for rerr == nil {
		_, rerr = zr.Read(buf)
	}
	if !errors.Is(rerr, io.ErrUnexpectedEOF) {
		t.Fatalf("first error: %v", rerr)
	}
	if _, err := zr.Read(buf); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a read after it: %v", err)
	}
	zr.Close()
	zr.Close()
	if _, err := zr.Read(buf); err == nil {
		t.Fatal("a read after Close worked")
	}
}

// member writes a gzip member by hand, with header fields (FEXTRA 4,
// FNAME 8, FCOMMENT 16, FHCRC 2) klauspost's writer does not all write.
func member(flags byte, data []byte, level int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 255})
	if flags&4 != 0 {
		b.Write([]byte{6, 0, 'B', 'C', 2, 0, 0xab, 0xcd})
	}
	if flags&8 != 0 {
		b.WriteString("example.zone\x00")
	}
	if flags&16 != 0 {
		b.WriteString("a comment\x00")
	}
	if flags&2 != 0 {
		b.Write(binary.LittleEndian.AppendUint16(nil, uint16(crc32.ChecksumIEEE(b.Bytes()))))
	}
	w, _ := flate.NewWriter(&b, level)
	w.Write(data)
	w.Close()
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(data)))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(data))))
	return b.Bytes()
}

// cutReader gives data in pieces that end at the cuts.
type cutReader struct {
	data []byte
	cuts []int
	pos  int
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.pos == len(c.data) {
		return 0, io.EOF
	}
	end := len(c.data)
	for len(c.cuts) > 0 && c.cuts[0] <= c.pos {
		c.cuts = c.cuts[1:]
	}
	if len(c.cuts) > 0 {
		end = min(end, c.cuts[0])
	}
	n := copy(p, c.data[c.pos:end])
	c.pos += n
	return n, nil
}

// readAll reads r through ISA-L bufSize bytes at a time.
func readAll(r io.Reader, bufSize int) ([]byte, error) {
	zr, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var out []byte
	buf := make([]byte, bufSize)
	for {
		n, err := zr.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// A header split between two reads of the source (a member that starts
// near the end of a 256 KiB read) is read whole: ISA-L's own parser
// loses the flags and the header CRC across calls.
func TestSplitHeaders(t *testing.T) {
	needISAL(t)
	text := zoneLike(3000)
	for _, flags := range []byte{0, 2, 4, 8, 16, 4 | 8, 8 | 16, 4 | 8 | 16 | 2} {
		m := member(flags, text, 6)
		data := append(bytes.Clone(m), m...)
		want, err := builtin(data)
		if err != nil {
			t.Fatalf("flags %#x, the built-in decoder: %v", flags, err)
		}
		for cut := 1; cut < 60; cut++ {
			for _, at := range []int{cut, len(m) + cut} {
				got, err := readAll(&cutReader{data: data, cuts: []int{at}}, 1<<20)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("flags %#x, cut at %d: %d bytes, %v", flags, at, len(got), err)
				}
			}
		}
	}
}

// The second member's header straddles the end of the first 256 KiB read
// of a real file.
func TestHeaderAtBufferEdge(t *testing.T) {
	needISAL(t)
	text := randomBytes(300_000)
	n := inBytes - 100
	var first []byte
	for first = member(8|16, text[:n], 0); len(first) < inBytes-12; first = member(8|16, text[:n], 0) {
		n++
	}
	data := append(first, member(8|16, []byte("second member\n"), 6)...)
	path := filepath.Join(t.TempDir(), "x.gz")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := builtin(data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := readAll(f, 1<<20)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("%d bytes (want %d), %v", len(got), len(want), err)
	}
}

// Input cut short gives at least what the built-in decoder gives before
// its io.ErrUnexpectedEOF (ISA-L holds decoded bytes it must still hand
// over; it may decode a little further), and only the text's start.
func TestTruncatedGivesAllItDecoded(t *testing.T) {
	needISAL(t)
	text := zoneLike(1 << 20)
	good := gzipped(t, gzip.DefaultCompression, gzip.Header{}, text)
	for _, cut := range []int{len(good) / 3, len(good) / 2, len(good) - 20, len(good) - 9, len(good) - 4} {
		zr, err := gzip.NewReader(bytes.NewReader(good[:cut]))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := io.ReadAll(zr)
		for _, bufSize := range []int{1000, 64 << 10, 1 << 20} {
			got, err := readAll(bytes.NewReader(good[:cut]), bufSize)
			if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) < len(want) || !bytes.HasPrefix(text, got) {
				t.Errorf("cut at %d of %d, %d-byte reads: %d bytes, %v; the built-in decoder %d bytes", cut, len(good), bufSize, len(got), err, len(want))
			}
		}
	}
}

// Members of every kind, the source cut at every byte, read with tiny
// and large buffers.
func TestMembersEverySplit(t *testing.T) {
	needISAL(t)
	text := zoneLike(2000)
	var data []byte
	data = append(data, gzipped(t, gzip.DefaultCompression, gzip.Header{}, text[:700])...)
	data = append(data, gzipped(t, gzip.NoCompression, gzip.Header{}, nil)...)
	data = append(data, gzipped(t, gzip.NoCompression, gzip.Header{Name: "n"}, text[700:900])...)
	data = append(data, member(2|4, text[900:], 1)...)
	want, err := builtin(data)
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k < len(data); k++ {
		for _, bufSize := range []int{1, 7, 1 << 16} {
			got, err := readAll(&cutReader{data: data, cuts: []int{k, k + 1, k + 3}}, bufSize)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("cut at %d, %d-byte reads: %d bytes, %v", k, bufSize, len(got), err)
			}
		}
	}
}

// TestLayout checks isal_layout.h's offsets against the installed header
// (package libisal-dev), compiled with the system's C compiler.
func TestLayout(t *testing.T) {
	header := "/usr/include/isa-l/igzip_lib.h"
	cc, err := exec.LookPath("gcc")
	if _, serr := os.Stat(header); serr != nil || err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s or gcc is missing (.ci/run installs libisal-dev)", header)
		}
		t.Skipf("%s or gcc is missing: apt-get install libisal-dev to check the layout", header)
	}
	src := `#include <stdio.h>
#include <stddef.h>
#include <isa-l/igzip_lib.h>
int main(void) {
	printf("RC_STATE_SIZE %zu\n", sizeof(struct inflate_state));
	printf("RC_OFF_BLOCK_STATE %zu\n", offsetof(struct inflate_state, block_state));
	printf("RC_OFF_CRC_FLAG %zu\n", offsetof(struct inflate_state, crc_flag));
	printf("RC_ISAL_BLOCK_FINISH %d\n", (int)ISAL_BLOCK_FINISH);
	printf("RC_ISAL_GZIP_NO_HDR_VER %d\n", (int)ISAL_GZIP_NO_HDR_VER);
	printf("next_in %zu avail_in %zu next_out %zu avail_out %zu\n",
	       offsetof(struct inflate_state, next_in), offsetof(struct inflate_state, avail_in),
	       offsetof(struct inflate_state, next_out), offsetof(struct inflate_state, avail_out));
	return 0;
}
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "layout.c"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-o", filepath.Join(dir, "layout"), filepath.Join(dir, "layout.c")).CombinedOutput(); err != nil {
		t.Fatalf("compiling: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(dir, "layout")).Output()
	if err != nil {
		t.Fatal(err)
	}
	ours, err := os.ReadFile("isal_layout.h")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "next_in") {
			// struct rc_state_head's fields
			if line != "next_in 16 avail_in 32 next_out 0 avail_out 8" {
				t.Errorf("the state's head: %s", line)
			}
			continue
		}
		name, value, _ := strings.Cut(line, " ")
		m := regexp.MustCompile(`#define ` + name + ` (\d+)`).FindSubmatch(ours)
		if m == nil || string(m[1]) != value {
			t.Errorf("%s: the installed header says %s, isal_layout.h %q", name, value, m)
		}
	}
}

// FuzzReader: on any input, cut anywhere and read in any buffer size,
// ISA-L agrees with the built-in decoder on whether it is good gzip and
// on what a good one holds. (Before an error in corrupt data the two may
// give different garbage; what they give of a stream cut short is
// TestTruncatedGivesAllItDecoded's.)
func FuzzReader(f *testing.F) {
	needISAL(f)
	text := zoneLike(5000)
	f.Add(gzipped(f, gzip.DefaultCompression, gzip.Header{}, text), uint16(100), uint16(1000))
	f.Add(gzipped(f, gzip.NoCompression, gzip.Header{Name: "a"}, text[:100], text[100:200]), uint16(15), uint16(7))
	f.Add(gzipped(f, gzip.HuffmanOnly, gzip.Header{}, nil), uint16(3), uint16(1))
	f.Add(member(2|4|8|16, text[:300], 6), uint16(20), uint16(64))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, cut, bufSize uint16) {
		want, berr := builtin(data)
		got, err := readAll(&cutReader{data: data, cuts: []int{int(cut)}}, int(bufSize)%4096+1)
		if (err == nil) != (berr == nil) {
			t.Fatalf("ISA-L: %v; built-in decoder: %v", err, berr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("ISA-L inflated %d bytes, the built-in decoder %d", len(got), len(want))
		}
	})
}

// Gzip as real tools write it: GNU gzip (levels 1 and 9, with the file's
// name in the header, and as a concatenation of two runs, which
// `cat a.gz b.gz` gives) and igzip when it is installed, of the real
// vendor bodies in testdata/real. ISA-L and the built-in decoder must
// give the same bytes.
func TestRealToolsGzip(t *testing.T) {
	needISAL(t)
	var files []string
	filepath.WalkDir("../../testdata/real", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatal("no files under testdata/real")
	}
	tools := [][]string{{"gzip", "-1", "-c"}, {"gzip", "-9", "-N", "-c"}}
	if _, err := exec.LookPath("igzip"); err == nil {
		tools = append(tools, []string{"igzip", "-3", "-c"})
	}
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("no gzip command")
	}
	checked := 0
	for _, tool := range tools {
		var all []byte
		for _, path := range files {
			out, err := exec.Command(tool[0], append(tool[1:], path)...).Output()
			if err != nil {
				t.Fatalf("%v %s: %v", tool, path, err)
			}
			all = append(all, out...)
			for name, data := range map[string][]byte{path: out, path + " twice": append(bytes.Clone(out), out...)} {
				want, berr := builtin(data)
				got, err := readAll(bytes.NewReader(data), 64<<10)
				if berr != nil || err != nil || !bytes.Equal(got, want) {
					t.Errorf("%v %s: ISA-L %d bytes, %v; built-in %d bytes, %v", tool, name, len(got), err, len(want), berr)
				}
				checked++
			}
		}
		// every file's member one after another, as `cat *.gz` makes
		want, berr := builtin(all)
		got, err := readAll(bytes.NewReader(all), 1<<20)
		if berr != nil || err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v, all files' members: ISA-L %d bytes, %v; built-in %d bytes, %v", tool, len(got), err, len(want), berr)
		}
	}
	t.Logf("%d streams of %d files", checked, len(files))
}
