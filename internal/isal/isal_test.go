//go:build cgo && linux

package isal

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

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
	if err == io.EOF {
		return nil, nil // no member at all: ISA-L's Reader ends at once
	}
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
	zr, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 8}))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := zr.Read(buf); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("first read: %v", err)
	}
	if _, err := zr.Read(buf); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("second read: %v", err)
	}
	zr.Close()
	zr.Close()
	if _, err := zr.Read(buf); err == nil {
		t.Fatal("a read after Close worked")
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
	printf("RC_ISAL_GZIP %d\n", (int)ISAL_GZIP);
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

// FuzzReader: on any input ISA-L agrees with the built-in decoder on
// whether it is good gzip, and on what a good one holds.
func FuzzReader(f *testing.F) {
	needISAL(f)
	text := zoneLike(5000)
	f.Add(gzipped(f, gzip.DefaultCompression, gzip.Header{}, text))
	f.Add(gzipped(f, gzip.NoCompression, gzip.Header{Name: "a"}, text[:100], text[100:200]))
	f.Add(gzipped(f, gzip.HuffmanOnly, gzip.Header{}, nil))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		want, berr := builtin(data)
		got, err := viaISAL(data, func(r io.Reader) io.Reader { return r })
		if (err == nil) != (berr == nil) {
			t.Fatalf("ISA-L: %v; built-in decoder: %v", err, berr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("ISA-L inflated %d bytes, the built-in decoder %d", len(got), len(want))
		}
	})
}
