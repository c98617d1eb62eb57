//go:build cgo && linux

// Package isal reads gzip through Intel's ISA-L (libisal.so.2) when the
// system has it, loaded at run time: nothing is needed to build, and
// without the library NewReader says so and the caller keeps its own
// decoder.
//
// ISA-L's inflate is hand-written assembly, about three times as fast as
// klauspost/compress on a CZDS-like zone (0.43 s of CPU against 1.4 s for
// 628 MB out; GNU zcat 2.3 s), and decompression is the largest single
// cost of the file provider's first index build. Debian and Ubuntu ship
// it as libisal2 (with igzip as the package isal).
//
// The library is called through dlopen, so the layout of its struct
// inflate_state is written down here (isal_layout.h). It has not changed
// since ISA-L 2.23 and is part of the ABI of the .so.2 soname,
// since callers allocate it themselves; TestLayout checks it against the
// installed header, and a self-test inflates a known member before the
// library is used at all.
package isal

/*
#cgo LDFLAGS: -ldl
#include "isal_layout.h"
*/
import "C"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"sync"
	"unsafe"

	gzip "github.com/klauspost/compress/gzip"
)

// ErrUnavailable: libisal.so.2 is not installed, failed the self-test,
// or is turned off with RECONFORM_ISAL=off.
var ErrUnavailable = errors.New("ISA-L (libisal.so.2) is not available")

// ErrHeader is compress/gzip's error for what is not a gzip header.
var ErrHeader = gzip.ErrHeader

// Available reports whether NewReader can use ISA-L.
func Available() bool { return load() == nil }

// Decoder names the gzip decoder a reader of gzip gets here: ISA-L, or
// the built-in one with how to get ISA-L.
func Decoder() string {
	if Available() {
		return DecoderISAL
	}
	return DecoderBuiltin
}

var load = sync.OnceValue(func() error {
	if v := strings.ToLower(os.Getenv("RECONFORM_ISAL")); v == "off" || v == "0" || v == "false" {
		return fmt.Errorf("%w: RECONFORM_ISAL=%s", ErrUnavailable, v)
	}
	if C.rc_isal_load() == 0 {
		return ErrUnavailable
	}
	if err := selfTest(); err != nil {
		return fmt.Errorf("%w: its self-test failed: %v", ErrUnavailable, err)
	}
	return nil
})

// selfTest inflates two members, one stored and one compressed, that
// klauspost/compress wrote, and requires an error for a third whose CRC
// is wrong: the trailer check of ISAL_GZIP_NO_HDR_VER, which ISA-L before
// 2.24 lacks, must work.
func selfTest() error {
	want := bytes.Repeat([]byte("reconform selftest\n"), 200)
	var buf bytes.Buffer
	for _, level := range []int{gzip.NoCompression, gzip.BestSpeed} {
		w, err := gzip.NewWriterLevel(&buf, level)
		if err != nil {
			return err
		}
		w.Write(want)
		if err := w.Close(); err != nil {
			return err
		}
	}
	good := bytes.Clone(buf.Bytes())
	got, err := inflateAll(good)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, append(want, want...)) {
		return fmt.Errorf("inflated %d bytes, not the %d written", len(got), 2*len(want))
	}
	bad := good
	bad[len(bad)-8] ^= 1 // the last member's CRC
	if _, err := inflateAll(bad); !errors.Is(err, gzip.ErrChecksum) {
		return fmt.Errorf("a wrong CRC gave %v", err)
	}
	return nil
}

func inflateAll(b []byte) ([]byte, error) {
	r, err := newReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// inBytes is the compressed input read from the source at a time.
const inBytes = 256 << 10

// Reader decompresses a gzip stream, member after member, as
// compress/gzip's Reader in its default multistream mode: io.EOF at the
// clean end of the last member, io.ErrUnexpectedEOF when the input ends
// inside one, and gzip.ErrHeader, gzip.ErrChecksum or a flate error for
// corrupt data. The gzip headers are read here, not by ISA-L, whose
// parser loses a header's flags and checksum when the header is split
// across two calls (a member starting near the end of a 256 KiB read);
// ISA-L inflates the data and checks each trailer's CRC and size. A
// Reader is for one goroutine.
type Reader struct {
	src    io.Reader
	state  unsafe.Pointer // C memory: ISA-L's inflate_state
	in     []byte
	off    int  // in[off:] is not yet consumed
	srcEOF bool // src returned io.EOF
	member bool // inside a member: its end is still to come
	err    error
}

// NewReader reads the first gzip header of r, as gzip.NewReader does (an
// empty r is io.EOF). It returns ErrUnavailable when ISA-L cannot be
// used.
func NewReader(r io.Reader) (*Reader, error) {
	if err := load(); err != nil {
		return nil, err
	}
	return newReader(r)
}

func newReader(r io.Reader) (*Reader, error) {
	st := C.rc_new()
	if st == nil {
		return nil, errors.New("isal: allocating an inflate state")
	}
	z := &Reader{src: r, state: st, in: make([]byte, 0, inBytes)}
	if err := z.header(); err != nil {
		z.Close()
		return nil, err
	}
	return z, nil
}

// header reads the next member's header, filling as needed: io.EOF when
// the input ends cleanly before it.
func (z *Reader) header() error {
	for {
		n, err := headerLen(z.in[z.off:])
		if err == errShort && !z.srcEOF {
			if err := z.fill(); err != nil {
				return err
			}
			continue
		}
		if err == errShort {
			if z.off == len(z.in) {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		z.off += n
		z.member = true
		return nil
	}
}

// Read decompresses into p.
func (z *Reader) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if z.state == nil {
		return 0, errors.New("isal: read after Close")
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if !z.member {
			if err := z.header(); err != nil {
				z.err = err
				return 0, err
			}
		}
		if z.off == len(z.in) && !z.srcEOF {
			if err := z.fill(); err != nil {
				z.err = err
				return 0, err
			}
		}
		rest := z.in[z.off:]
		var inLeft, outLeft C.uint32_t
		var finished C.int
		inPtr := (*C.uint8_t)(nil)
		if len(rest) > 0 {
			inPtr = (*C.uint8_t)(unsafe.Pointer(&rest[0]))
		}
		out := p[:min(len(p), 1<<30)]
		// With no input left this still runs: ISA-L may hold output it
		// has decoded but not yet given.
		ret := C.rc_step(z.state, inPtr, C.uint32_t(len(rest)), (*C.uint8_t)(unsafe.Pointer(&out[0])), C.uint32_t(len(out)), &inLeft, &outLeft, &finished)
		consumed := len(rest) - int(inLeft)
		n := len(out) - int(outLeft)
		z.off += consumed
		if ret < 0 {
			z.err = stepError(int(ret))
			return n, z.err
		}
		if finished != 0 {
			// The trailer is checked; what follows is the next member,
			// or the end.
			C.rc_restart(z.state)
			z.member = false
		}
		if n > 0 {
			return n, nil
		}
		if consumed == 0 && finished == 0 {
			if z.srcEOF {
				z.err = io.ErrUnexpectedEOF
				return 0, z.err
			}
			if err := z.fill(); err != nil {
				z.err = err
				return 0, err
			}
		}
	}
}

// fill moves the unconsumed input to the front and reads more after it.
func (z *Reader) fill() error {
	if z.off == 0 && len(z.in) == cap(z.in) {
		return errors.New("isal: inflate takes no input") // not seen; no endless loop
	}
	n := copy(z.in[:cap(z.in)], z.in[z.off:])
	z.in, z.off = z.in[:n], 0
	for range 100 { // as bufio: a source that keeps giving nothing is an error
		m, err := z.src.Read(z.in[len(z.in):cap(z.in)])
		z.in = z.in[:len(z.in)+m]
		if errors.Is(err, io.EOF) {
			z.srcEOF = true
			return nil
		}
		if err != nil {
			return err
		}
		if m > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// errShort: the header goes on past the input read so far.
var errShort = errors.New("isal: short header")

// headerLen parses the RFC 1952 header at the start of b as compress/gzip
// does: the magic and method, no reserved flags, a name and a comment of
// at most 511 bytes each, the header CRC when there is one.
func headerLen(b []byte) (int, error) {
	if len(b) < 10 {
		return 0, errShort
	}
	if b[0] != 0x1f || b[1] != 0x8b || b[2] != 8 {
		return 0, ErrHeader
	}
	flg, n := b[3], 10
	if flg&0xe0 != 0 {
		return 0, ErrHeader
	}
	if flg&4 != 0 { // FEXTRA
		if len(b) < n+2 {
			return 0, errShort
		}
		n += 2 + int(binary.LittleEndian.Uint16(b[n:]))
		if len(b) < n {
			return 0, errShort
		}
	}
	for _, f := range []byte{8, 16} { // FNAME, FCOMMENT
		if flg&f == 0 {
			continue
		}
		i := bytes.IndexByte(b[n:min(len(b), n+512)], 0)
		if i < 0 {
			if len(b) >= n+512 {
				return 0, ErrHeader
			}
			return 0, errShort
		}
		n += i + 1
	}
	if flg&2 != 0 { // FHCRC
		if len(b) < n+2 {
			return 0, errShort
		}
		if uint16(crc32.ChecksumIEEE(b[:n])) != binary.LittleEndian.Uint16(b[n:]) {
			return 0, ErrHeader
		}
		n += 2
	}
	return n, nil
}

// stepError names isal_inflate's error codes as compress/gzip does.
func stepError(ret int) error {
	switch ret {
	case -1, -2, -3: // ISAL_INVALID_BLOCK, _SYMBOL, _LOOKBACK
		return errors.New("flate: corrupt input")
	case -4: // ISAL_INVALID_WRAPPER
		return ErrHeader
	case -5: // ISAL_UNSUPPORTED_METHOD
		return errors.New("gzip: unsupported compression method")
	case -6: // ISAL_INCORRECT_CHECKSUM
		return gzip.ErrChecksum
	}
	return fmt.Errorf("isal: inflate failed (%d)", ret)
}

// Close frees the decompressor's state; it does not close the source.
func (z *Reader) Close() error {
	if z.state != nil {
		C.free(z.state)
		z.state = nil
	}
	return nil
}
