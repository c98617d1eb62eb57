package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	gzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"io"
	"os"
	"strings"
)

const (
	maxLineBytes = 16 << 20 // a longer line is skipped as malformed
	blockBytes   = 1 << 20  // lines are handed from reader to parser in blocks this big
	blocksAhead  = 4
)

// openData opens path, transparently decompressing gzip or zstd, and
// returns a reader positioned at the start of the data (past a UTF-8 byte
// order mark). compressed reports a compressed file.
func openData(path string) (r *bufio.Reader, compressed bool, closeFn func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, _ := br.Peek(4)
	closeFn = f.Close
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, false, nil, fmt.Errorf("reading gzip header: %w", err)
		}
		br, compressed = bufio.NewReaderSize(zr, 1<<20), true
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<30))
		if err != nil {
			f.Close()
			return nil, false, nil, fmt.Errorf("reading zstd header: %w", err)
		}
		br, compressed = bufio.NewReaderSize(zr, 1<<20), true
		closeFn = func() error { zr.Close(); return f.Close() }
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	return br, compressed, closeFn, nil
}

// readIndex reads the whole file in one streaming pass into a fresh index.
// format may be empty to detect it. Malformed lines and a truncated file
// become warnings; only an unreadable file or an unknown format is an
// error.
func readIndex(ctx context.Context, path, format string) (*index, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	r, gz, closeFn, err := openData(path)
	if err != nil {
		return nil, "", err
	}
	defer closeFn()
	if format == "" {
		head, _ := r.Peek(64 << 10)
		if format, err = detectFormat(head); err != nil {
			return nil, "", err
		}
	}
	sizeHint := st.Size()
	if gz {
		sizeHint *= 6
	}
	var parse func([]byte, emitFunc) error
	switch format {
	case FormatCOF:
		parse = parseCOFLine
	case FormatFDNS:
		parse = parseFDNSLine
	case FormatCSV:
	default:
		return nil, "", fmt.Errorf("unknown format %q: use cof, fdns or csv", format)
	}
	b := newBuilder(ctx, sizeHint)
	if parse != nil {
		err = readLines(ctx, r, b, parse)
	} else {
		err = readCSV(ctx, r, b)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		b.abort()
		return nil, "", err
	}
	return b.finish(), format, nil
}

// lineBlock is a batch of lines copied out of the reader.
type lineBlock struct {
	data  []byte
	ends  []int32 // end offset of each line in data
	long  []int   // indexes of lines skipped for being over maxLineBytes
	first int64   // line number of the first line
	err   error   // read error after the last line, if any
}

// readLines splits r into lines on one goroutine (which also runs the
// gzip decoder) and parses them on this one, so decompression and parsing
// overlap on two cores.
func readLines(ctx context.Context, r io.Reader, b *builder, parse func([]byte, emitFunc) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *lineBlock, blocksAhead)
	free := make(chan *lineBlock, blocksAhead+1)
	for range blocksAhead + 1 {
		free <- &lineBlock{} // buffers grow to blockBytes as needed
	}
	go splitLines(ctx, bufio.NewReaderSize(r, 1<<20), full, free)
	for {
		var blk *lineBlock
		select {
		case <-ctx.Done():
			return ctx.Err()
		case got, ok := <-full:
			if !ok {
				return nil
			}
			blk = got
		}
		start, longIdx := int32(0), 0
		for i, end := range blk.ends {
			line := blk.data[start:end]
			start = end
			lineNo := blk.first + int64(i)
			b.lines++
			if longIdx < len(blk.long) && blk.long[longIdx] == i {
				longIdx++
				b.badLine(lineNo, fmt.Errorf("line longer than %d MiB", maxLineBytes>>20))
				continue
			}
			if len(bytes.TrimSpace(line)) == 0 {
				b.lines--
				continue
			}
			if err := parse(line, b.add); err != nil {
				b.badLine(lineNo, err)
			}
		}
		if blk.err != nil {
			b.notes = append(b.notes, fmt.Sprintf("reading stopped after line %d: %v (the file is truncated or corrupt; the lines before were indexed)", blk.first+int64(len(blk.ends))-1, blk.err))
		}
		select {
		case free <- blk:
		default:
		}
	}
}

// splitLines fills blocks with whole lines from br and sends them on full,
// closing it at the end of the input.
func splitLines(ctx context.Context, br *bufio.Reader, full chan<- *lineBlock, free <-chan *lineBlock) {
	defer close(full)
	lineNo := int64(1)
	for {
		var blk *lineBlock
		select {
		case <-ctx.Done():
			return
		case blk = <-free:
		}
		blk.data, blk.ends, blk.long, blk.first, blk.err = blk.data[:0], blk.ends[:0], blk.long[:0], lineNo, nil
		var readErr error
		for len(blk.data) < blockBytes {
			start := len(blk.data)
			tooLong, got := false, false
			for {
				chunk, err := br.ReadSlice('\n')
				got = got || len(chunk) > 0
				if !tooLong {
					if len(blk.data)-start+len(chunk) > maxLineBytes {
						tooLong = true
						blk.data = blk.data[:start]
					} else {
						blk.data = append(blk.data, chunk...)
					}
				}
				if err == bufio.ErrBufferFull {
					continue
				}
				readErr = err
				break
			}
			if !got {
				break
			}
			end := len(blk.data)
			for end > start && (blk.data[end-1] == '\n' || blk.data[end-1] == '\r') {
				end--
			}
			blk.data = blk.data[:end]
			if tooLong {
				blk.long = append(blk.long, len(blk.ends))
			}
			blk.ends = append(blk.ends, int32(end))
			lineNo++
			if readErr != nil {
				break
			}
		}
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			blk.err = readErr
		}
		if len(blk.ends) > 0 || blk.err != nil {
			select {
			case <-ctx.Done():
				return
			case full <- blk:
			}
		}
		if readErr != nil {
			return
		}
	}
}

// csvColumns maps header names to the fields we read.
var csvColumns = map[string]string{
	"name": "name", "rrname": "name", "hostname": "name", "host": "name", "domain": "name", "query": "name",
	"type": "type", "rrtype": "type", "record_type": "type",
	"value": "value", "rdata": "value", "data": "value", "answer": "value",
	"first_seen": "first", "time_first": "first", "first": "first", "firstseen": "first",
	"last_seen": "last", "time_last": "last", "last": "last", "lastseen": "last",
	"count": "count",
}

// readCSV reads name,type,value[,first_seen,last_seen[,count]] rows, with
// an optional header row that may name the columns in any order.
func readCSV(ctx context.Context, r io.Reader, b *builder) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.Comment = '#'
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cols := map[string]int{"name": 0, "type": 1, "value": 2, "first": 3, "last": 4, "count": 5}
	firstRow := true
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			b.lines++
			b.badLine(int64(pe.Line), pe.Err)
			continue
		}
		if err != nil {
			b.notes = append(b.notes, fmt.Sprintf("reading stopped after %d rows: %v (the file is truncated or corrupt; the rows before were indexed)", b.lines, err))
			return nil
		}
		line, _ := cr.FieldPos(0)
		if firstRow {
			firstRow = false
			if header, ok := csvHeader(rec); ok {
				for _, need := range []string{"name", "type", "value"} {
					if _, ok := header[need]; !ok {
						return fmt.Errorf("the CSV header has no %s column (accepted: name, type, value, first_seen, last_seen, count)", need)
					}
				}
				cols = header
				continue
			}
		}
		b.lines++
		if err := csvRow(rec, cols, b.add); err != nil {
			b.badLine(int64(line), err)
		}
	}
}

// csvHeader recognises a header row: one that names the name column.
func csvHeader(rec []string) (map[string]int, bool) {
	cols := map[string]int{}
	for i, f := range rec {
		key := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(f, "\ufeff")))
		if c, ok := csvColumns[key]; ok {
			if _, dup := cols[c]; !dup {
				cols[c] = i
			}
		}
	}
	_, hasName := cols["name"]
	return cols, hasName && len(cols) >= 2
}

func csvRow(rec []string, cols map[string]int, emit emitFunc) error {
	field := func(c string) string {
		i, ok := cols[c]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	name, typ, value := field("name"), field("type"), field("value")
	if name == "" || typ == "" || value == "" {
		return errors.New("a row needs name, type and value")
	}
	rrtype, err := typeName([]byte(typ))
	if err != nil {
		return err
	}
	first, err := parseTime(field("first"))
	if err != nil {
		return fmt.Errorf("first_seen: %w", err)
	}
	last, err := parseTime(field("last"))
	if err != nil {
		return fmt.Errorf("last_seen: %w", err)
	}
	var count int64
	if c := field("count"); c != "" {
		if count, err = jsonUint(kindString, []byte(c)); err != nil {
			return fmt.Errorf("count: %w", err)
		}
	}
	n, err := normName([]byte(name))
	if err != nil {
		return fmt.Errorf("name: %w", err)
	}
	v, err := normValue(rrtype, []byte(value))
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	emit(n, rrtype, v, first, last, count)
	return nil
}
