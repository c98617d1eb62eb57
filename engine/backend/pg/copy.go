package pg

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyBinary streams rows into table with COPY ... FROM STDIN (FORMAT
// binary), encoding each value itself: pgx's general encoder looks every
// value's type up in its type map, which costs more than the server's
// whole insert for a state of a million findings. Values are int64,
// int16, int, bool, string, []string (text[]), time.Time (timestamptz),
// []byte (bytea), jsonb, and nil for NULL.
func copyBinary(ctx context.Context, tx pgx.Tx, table pgx.Identifier, cols []string, n int, written *int64, row func(int) []any) (int64, error) {
	return copyRows(ctx, tx, table, cols, n, written, func(b []byte, i int) ([]byte, error) {
		vals := row(i)
		if len(vals) != len(cols) {
			return nil, fmt.Errorf("row %d has %d values for %d columns", i, len(vals), len(cols))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(cols)))
		for c, v := range vals {
			var err error
			if b, err = appendValue(b, v); err != nil {
				return nil, fmt.Errorf("column %s of row %d: %w", cols[c], i, err)
			}
		}
		return b, nil
	})
}

// copyRows is copyBinary for rows appended by appendRow, which writes a
// whole binary COPY tuple (the field count, then each field). written,
// when set, counts the bytes of the tuples sent.
func copyRows(ctx context.Context, tx pgx.Tx, table pgx.Identifier, cols []string, n int, written *int64, appendRow func(b []byte, i int) ([]byte, error)) (int64, error) {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize()
	}
	sql := fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", table.Sanitize(), strings.Join(quoted, ", "))
	pr, pw := io.Pipe()
	encErr := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 1<<16)
		err := encodeRows(bw, n, written, appendRow)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		encErr <- err
	}()
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, pr, sql)
	pr.CloseWithError(io.ErrClosedPipe) // stops the encoder if the server gave up
	if eerr := <-encErr; err == nil && eerr != nil && eerr != io.ErrClosedPipe {
		err = eerr
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// jsonb is a JSON document for a jsonb column (nil: NULL).
type jsonb []byte

// jsonText is a JSON document for a json column, kept as written (nil:
// NULL).
type jsonText []byte

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// pgEpoch is 2000-01-01, where timestamptz counts from, in Unix
// microseconds.
const pgEpoch = 946684800 * 1_000_000

func encodeRows(w *bufio.Writer, n int, written *int64, appendRow func(b []byte, i int) ([]byte, error)) error {
	w.Write(copyHeader)
	var b []byte
	for i := 0; i < n; i++ {
		var err error
		if b, err = appendRow(b[:0], i); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		if written != nil {
			*written += int64(len(b))
		}
	}
	_, err := w.Write([]byte{0xff, 0xff})
	return err
}

func appendLen(b []byte, n int) []byte { return binary.BigEndian.AppendUint32(b, uint32(int32(n))) }

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return appendLen(b, -1), nil
	case int64:
		return binary.BigEndian.AppendUint64(appendLen(b, 8), uint64(x)), nil
	case int:
		return binary.BigEndian.AppendUint32(appendLen(b, 4), uint32(int32(x))), nil
	case int16:
		return binary.BigEndian.AppendUint16(appendLen(b, 2), uint16(x)), nil
	case bool:
		if x {
			return append(appendLen(b, 1), 1), nil
		}
		return append(appendLen(b, 1), 0), nil
	case string:
		return append(appendLen(b, len(x)), x...), nil
	case []byte:
		if x == nil {
			return appendLen(b, -1), nil
		}
		return append(appendLen(b, len(x)), x...), nil
	case jsonText:
		if x == nil {
			return appendLen(b, -1), nil
		}
		return append(appendLen(b, len(x)), x...), nil
	case jsonb:
		if x == nil {
			return appendLen(b, -1), nil
		}
		return append(append(appendLen(b, len(x)+1), 1), x...), nil
	case time.Time:
		us := x.Unix()*1_000_000 + int64(x.Nanosecond()/1000) - pgEpoch
		return binary.BigEndian.AppendUint64(appendLen(b, 8), uint64(us)), nil
	case []string:
		if x == nil {
			return appendLen(b, -1), nil
		}
		if arraySize(x) > math.MaxInt32 {
			return nil, fmt.Errorf("array too large")
		}
		return appendTextArray(b, x), nil
	}
	return nil, fmt.Errorf("no COPY encoding for %T", v)
}

// arraySize is the encoded size of a one-dimensional text[].
func arraySize(x []string) int {
	size := 12
	if len(x) > 0 {
		size = 20
	}
	for _, s := range x {
		size += 4 + len(s)
	}
	return size
}

// appendTextArray appends x as a one-dimensional text[] (nil: NULL).
// A row's arrays are far below the 1 GiB a field can hold.
func appendTextArray(b []byte, x []string) []byte {
	if x == nil {
		return appendLen(b, -1)
	}
	b = appendLen(b, arraySize(x))
	if len(x) == 0 {
		b = binary.BigEndian.AppendUint32(b, 0) // no dimensions
		b = binary.BigEndian.AppendUint32(b, 0)
		return binary.BigEndian.AppendUint32(b, 25) // text
	}
	b = binary.BigEndian.AppendUint32(b, 1)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, 25)
	b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
	b = binary.BigEndian.AppendUint32(b, 1)
	for _, s := range x {
		b = append(appendLen(b, len(s)), s...)
	}
	return b
}

// Appenders of one field each, for the tuples written without []any.

func appendInt8(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(appendLen(b, 8), uint64(v))
}

func appendText(b []byte, s string) []byte { return append(appendLen(b, len(s)), s...) }

// appendTS appends a timestamptz and its *_ns smallint (NULL and 0 for
// the zero time).
func appendTS(b []byte, t time.Time) []byte {
	if t.IsZero() {
		b = appendLen(b, -1)
		return binary.BigEndian.AppendUint16(appendLen(b, 2), 0)
	}
	b = binary.BigEndian.AppendUint64(appendLen(b, 8), uint64(t.Unix()*1_000_000+int64(t.Nanosecond()/1000)-pgEpoch))
	return binary.BigEndian.AppendUint16(appendLen(b, 2), uint16(t.Nanosecond()%1000))
}

// Decoders of binary result values (nil: NULL).

func decInt8(v []byte) int64 {
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func decInt2(v []byte) int16 {
	if len(v) != 2 {
		return 0
	}
	return int16(binary.BigEndian.Uint16(v))
}

func decTS(v []byte, ns []byte) time.Time {
	if len(v) != 8 {
		return time.Time{}
	}
	us := int64(binary.BigEndian.Uint64(v)) + pgEpoch
	sec, rem := us/1_000_000, us%1_000_000
	if rem < 0 {
		sec, rem = sec-1, rem+1_000_000
	}
	return time.Unix(sec, rem*1000+int64(decInt2(ns))).UTC()
}

// decTextArray decodes a one-dimensional text[]; in interns its strings.
func decTextArray(v []byte, in func([]byte) string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	if len(v) < 12 {
		return nil, fmt.Errorf("short array")
	}
	ndim := binary.BigEndian.Uint32(v)
	if ndim == 0 {
		return []string{}, nil
	}
	if ndim != 1 || len(v) < 20 {
		return nil, fmt.Errorf("array of %d dimensions", ndim)
	}
	n := int(binary.BigEndian.Uint32(v[12:]))
	v = v[20:]
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if len(v) < 4 {
			return nil, fmt.Errorf("short array element")
		}
		l := int(int32(binary.BigEndian.Uint32(v)))
		v = v[4:]
		if l < 0 || l > len(v) {
			return nil, fmt.Errorf("bad array element length")
		}
		out = append(out, in(v[:l]))
		v = v[l:]
	}
	return out, nil
}
