package main

import (
	"context"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// stampListener accepts connections that note when the kernel received
// each piece of data they read (SO_TIMESTAMPNS): when a request reached
// the server's socket, which is where a vendor's edge counts it, however
// late the server's own threads get to run on a busy machine.
func stampListener(ln net.Listener) net.Listener { return &tsListener{ln} }

type tsListener struct{ net.Listener }

func (l *tsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c, nil
	}
	var serr error
	raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	})
	if serr != nil {
		return c, nil
	}
	return &tsConn{TCPConn: tc, raw: raw}, nil
}

// tsConn is a connection whose reads keep the kernel's receive times.
type tsConn struct {
	*net.TCPConn
	raw   syscall.RawConn
	mu    sync.Mutex
	times []int64 // receive times of the reads since the last take
}

func (c *tsConn) Read(p []byte) (int, error) {
	var n, oobn int
	var rerr error
	oob := make([]byte, 128)
	err := c.raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), p, oob, 0)
		return rerr != syscall.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	at := time.Now().UnixNano()
	if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
				ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
				at = ts.Nano()
			}
		}
	}
	c.mu.Lock()
	c.times = append(c.times, at)
	c.mu.Unlock()
	return n, nil
}

// take is the receive time of the first read since the last take: the
// arrival of the request being served (a connection carries one request
// at a time; the next cannot come before this one is answered).
func (c *tsConn) take() (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.times) == 0 {
		return 0, false
	}
	t := c.times[0]
	c.times = c.times[:0]
	return t, true
}

type connKey struct{}

// withConn is http.Server's ConnContext.
func withConn(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// kernelArrival is when the kernel received the request served under ctx.
func kernelArrival(ctx context.Context) (int64, bool) {
	if c, ok := ctx.Value(connKey{}).(*tsConn); ok {
		return c.take()
	}
	return 0, false
}
