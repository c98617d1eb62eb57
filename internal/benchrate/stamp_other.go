//go:build !linux

package main

import (
	"context"
	"net"
)

// stampListener is ln: only Linux gives the kernel's receive times here.
func stampListener(ln net.Listener) net.Listener { return ln }

func withConn(ctx context.Context, c net.Conn) context.Context { return ctx }

func kernelArrival(ctx context.Context) (int64, bool) { return 0, false }
