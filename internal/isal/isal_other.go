//go:build !cgo || !linux

package isal

import (
	"errors"
	"io"

	gzip "github.com/klauspost/compress/gzip"
)

// ErrUnavailable: this build has no cgo, so ISA-L cannot be loaded.
var ErrUnavailable = errors.New("ISA-L is not available in a build without cgo")

// ErrHeader is compress/gzip's error for what is not a gzip header.
var ErrHeader = gzip.ErrHeader

// Available reports whether NewReader can use ISA-L: never here.
func Available() bool { return false }

// Decoder names the gzip decoder: the built-in one here.
func Decoder() string { return DecoderBuiltin }

// Reader is never made in this build.
type Reader struct{}

// NewReader returns ErrUnavailable.
func NewReader(io.Reader) (*Reader, error) { return nil, ErrUnavailable }

func (*Reader) Read([]byte) (int, error) { return 0, ErrUnavailable }

// Close does nothing.
func (*Reader) Close() error { return nil }
