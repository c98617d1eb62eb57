package file

import (
	"bufio"
	"io"
	"os"
)

// appender is the buffered writer an index file is written through:
// written once, front to back, and flushed when the index is complete.
type appender interface {
	io.Writer
	Flush() error
}

// appendBuffer is the size of an appender's buffer.
const appendBuffer = 4 << 20

// newAppender returns the appender of out, a new index file: a file is
// written with direct I/O where the system allows it (see
// directAppender), anything else through a bufio.Writer.
func newAppender(out io.Writer) appender {
	if f, ok := out.(*os.File); ok {
		if d := newDirectAppender(f); d != nil {
			return d
		}
	}
	return bufio.NewWriterSize(out, appendBuffer)
}
