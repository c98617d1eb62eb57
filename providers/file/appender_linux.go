package file

import (
	"errors"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// directAppender writes an index file with O_DIRECT: its blocks go from
// the appender's buffer to the disk without a copy into the page cache.
// An index is written once, front to back, hundreds of megabytes of it
// for a 10M-line dump, and read back a block at a time; through the page
// cache, copying it there and taking the pages for it cost about a
// tenth of a zone build's CPU time (copy_folio_from_iter_atomic alone
// 4.5% of the samples of `perf record` on benchzone's build), and the
// written pages pushed the page cache's other contents out.
//
// Direct writes are of whole aligned blocks from aligned memory. The
// buffer is written whole when full; Flush writes its aligned part
// directly and the rest through the page cache with O_DIRECT cleared, and
// keeps that rest, so that the next full buffer covers it again from an
// aligned offset. After Flush the descriptor is as it was opened, for the
// reads of the built index. Where the file system refuses direct I/O
// (EINVAL), everything goes through the page cache.
type directAppender struct {
	f       *os.File
	buf     []byte // aligned; len is the capacity used
	n       int    // bytes of buf filled
	base    int64  // file offset of buf[0], aligned
	direct  bool   // O_DIRECT is set on f's descriptor
	refused bool   // the file system refused direct I/O
	err     error
}

const directAlign = 4096 // the largest logical block size of common disks

// newDirectAppender returns nil when f is not a regular file at an
// aligned offset.
func newDirectAppender(f *os.File) appender {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil || pos%directAlign != 0 {
		return nil
	}
	return &directAppender{f: f, buf: alignedBuffer(appendBuffer), base: pos}
}

// alignedBuffer returns n bytes starting at a multiple of directAlign.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	skip := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % directAlign); r != 0 {
		skip = directAlign - r
	}
	return b[skip : skip+n : skip+n]
}

func (d *directAppender) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	written := 0
	for len(p) > 0 {
		c := copy(d.buf[d.n:], p)
		d.n, p, written = d.n+c, p[c:], written+c
		if d.n == len(d.buf) {
			if d.err = d.writeAligned(d.buf); d.err != nil {
				return written, d.err
			}
			d.base += int64(d.n)
			d.n = 0
		}
	}
	return written, nil
}

// Flush writes what is buffered and leaves the descriptor without
// O_DIRECT (after an error too), its offset at the end of what was
// written.
func (d *directAppender) Flush() error {
	err := d.flush()
	if err != nil {
		_ = d.setDirect(false)
	}
	return err
}

func (d *directAppender) flush() error {
	if d.err != nil {
		return d.err
	}
	if a := d.n &^ (directAlign - 1); a > 0 {
		if d.err = d.writeAligned(d.buf[:a]); d.err != nil {
			return d.err
		}
		d.n = copy(d.buf, d.buf[a:d.n])
		d.base += int64(a)
	}
	if d.err = d.setDirect(false); d.err != nil {
		return d.err
	}
	if d.n > 0 {
		if _, d.err = d.f.WriteAt(d.buf[:d.n], d.base); d.err != nil {
			return d.err
		}
	}
	_, d.err = d.f.Seek(d.base+int64(d.n), io.SeekStart)
	return d.err
}

// writeAligned writes b, a whole number of aligned blocks, at d.base.
func (d *directAppender) writeAligned(b []byte) error {
	if !d.refused && !d.direct {
		if err := d.setDirect(true); err != nil {
			d.refused = true
		}
	}
	if d.direct {
		_, err := d.f.WriteAt(b, d.base)
		if !errors.Is(err, syscall.EINVAL) {
			return err
		}
		d.refused = true
		if err := d.setDirect(false); err != nil {
			return err
		}
	}
	_, err := d.f.WriteAt(b, d.base)
	return err
}

// setDirect sets or clears O_DIRECT on the descriptor (fcntl F_SETFL
// may change it on Linux).
func (d *directAppender) setDirect(on bool) error {
	if d.direct == on {
		return nil
	}
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if e != 0 {
			errno = e
			return
		}
		if on {
			flags |= syscall.O_DIRECT
		} else {
			flags &^= syscall.O_DIRECT
		}
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags); e != 0 {
			errno = e
		}
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	d.direct = on
	return nil
}
