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

	"github.com/reconform/reconform/internal/isal"
	"github.com/reconform/reconform/providers"
)

const (
	blockBytes  = 1 << 20 // lines are handed from reader to parser in blocks this big
	blocksAhead = 4
)

// maxLineBytes: a longer line is skipped as malformed. A variable so that
// tests can lower it.
var maxLineBytes = 16 << 20

// peekBytes is the buffer over a decompressor: as much as format
// detection looks at. The line splitter's larger reads then go straight
// to the decompressor instead of through a copy.
const peekBytes = 64 << 10

// useISAL: gzip goes through ISA-L when the system has it. Tests turn it
// off to cover the built-in decoder too.
var useISAL = true

// openData opens path, transparently decompressing gzip or zstd, and
// returns a reader positioned at the start of the data (past a UTF-8 byte
// order mark). compressed reports a compressed file.
func openData(path string) (r *bufio.Reader, compressed bool, closeFn func() error, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil, err
	}
	var magic [4]byte
	f.ReadAt(magic[:], 0) // a short file matches no magic
	var br *bufio.Reader
	closeFn = f.Close
	isGzip := bytes.HasPrefix(magic[:], []byte{0x1f, 0x8b})
	if isGzip && useISAL {
		// ISA-L where the system has it: it inflates about three times
		// as fast as the built-in decoder (internal/isal).
		zr, err := isal.NewReader(f)
		switch {
		case err == nil: // the built-in decoder below is not needed
			br, compressed, isGzip = bufio.NewReaderSize(zr, peekBytes), true, false
			closeFn = func() error { zr.Close(); return f.Close() }
		case !errors.Is(err, isal.ErrUnavailable):
			f.Close()
			return nil, false, nil, fmt.Errorf("reading gzip header: %w", err)
		}
	}
	if br == nil {
		br = bufio.NewReaderSize(f, 1<<20)
	}
	switch {
	case isGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, false, nil, fmt.Errorf("reading gzip header: %w", err)
		}
		br, compressed = bufio.NewReaderSize(zr, peekBytes), true
	case bytes.HasPrefix(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<30))
		if err != nil {
			f.Close()
			return nil, false, nil, fmt.Errorf("reading zstd header: %w", err)
		}
		br, compressed = bufio.NewReaderSize(zr, peekBytes), true
		closeFn = func() error { zr.Close(); return f.Close() }
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	return br, compressed, closeFn, nil
}

// buildOptions say where a build writes and how much memory it takes.
type buildOptions struct {
	budget int64       // memory of a run; 0: defaultBudget
	dir    string      // unkept indexes and merges; "": the system's temp folder
	store  *indexStore // keep the index there
}

// readIndex reads the whole file in one streaming pass into a fresh index.
// format may be empty to detect it. Malformed lines and a truncated file
// become warnings; only an unreadable file or an unknown format is an
// error.
func readIndex(ctx context.Context, path, format string) (*index, string, error) {
	return readIndexAt(ctx, path, format, 0, buildOptions{})
}

// readIndexAt is readIndex for a file whose snapshot time is asOf (0:
// unset); formats whose lines carry no time take it, else the file's
// modification time (see fileTime). The index is written to a file: the
// store's when persisting, else a temporary one removed at once (held
// open, or read into memory when small).
func readIndexAt(ctx context.Context, path, format string, asOf int64, opt buildOptions) (*index, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	var id fileIdentity
	if opt.store != nil {
		if id, err = identify(path); err != nil {
			return nil, "", err
		}
	}
	r, gz, closeFn, err := openData(path)
	if err != nil {
		return nil, "", err
	}
	defer closeFn()
	if format == "" {
		head, _ := r.Peek(peekBytes)
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
		var ok bool
		if parse, ok = formatParser(format, st, asOf); !ok {
			return nil, "", fmt.Errorf("unknown format %q: use %s", format, formatList)
		}
	}
	dir := opt.dir
	if opt.store != nil {
		dir = opt.store.dir
	}
	// The index is written as it is built: each sorted run becomes a
	// segment of it as soon as it is sealed.
	newOut := func() (*spillFile, error) {
		if opt.store != nil {
			return newNamedFile(dir)
		}
		return newSpillFile(dir)
	}
	out, err := newOut()
	if err != nil {
		return nil, "", err
	}
	key := format
	if opt.store != nil {
		key = opt.store.format
	}
	b := newBuilder(ctx, sizeHint, opt.budget, out.f, appendHeader(nil, id))
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
		out.close()
		return nil, "", err
	}
	ix, out, err := b.finish(out, newOut, key)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		out.close()
		return nil, "", err
	}
	if opt.store != nil {
		if err := opt.store.keep(out); err != nil {
			out.close()
			return nil, "", err
		}
	} else if ix.size < smallIndex {
		defer out.close()
		mem, err := inMemory(out.f, key)
		if err != nil {
			return nil, "", err
		}
		mem.runs = ix.runs
		return mem, format, nil
	}
	opened, err := openFileIndex(out.f, nil, key)
	if err != nil {
		out.close()
		return nil, "", err
	}
	opened.runs = ix.runs
	return opened, format, nil
}

// lineBlock is a batch of lines read from the input.
type lineBlock struct {
	data  []byte
	lines []span // each line's bytes in data, without the line ending
	long  []int  // indexes of lines skipped for being over maxLineBytes
	first int64  // line number of the first line
	err   error  // read error after the last line, if any
}

// readLines splits r into lines on one goroutine (which also runs the
// decompressor) and parses them on this one, so decompression and parsing
// overlap on two cores.
func readLines(ctx context.Context, r io.Reader, b *builder, parse func([]byte, emitFunc) error) error {
	ctx, cancel := context.WithCancel(ctx)
	add := emitFunc(b.add) // one method value, not one allocation per line
	full := make(chan *lineBlock, blocksAhead)
	free := make(chan *lineBlock, blocksAhead+1)
	for range blocksAhead + 1 {
		free <- &lineBlock{} // buffers grow to blockBytes as needed
	}
	maxLine := maxLineBytes
	go splitLines(ctx, r, maxLine, full, free)
	defer func() {
		// Stop the reader and wait for it: nothing outlives the call.
		cancel()
		for range full {
		}
	}()
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
		longIdx := 0
		for i, sp := range blk.lines {
			line := blk.data[sp.off:sp.end]
			lineNo := blk.first + int64(i)
			if longIdx < len(blk.long) && blk.long[longIdx] == i {
				longIdx++
				b.lines++
				b.badLine(lineNo, fmt.Errorf("line longer than %d bytes", maxLine))
				continue
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			b.lines++
			if err := parse(line, add); err != nil {
				var end *safEnd
				if errors.As(err, &end) {
					b.notes = append(b.notes, fmt.Sprintf("line %d: %v", lineNo, err))
					continue
				}
				b.badLine(lineNo, err)
			}
		}
		if err := b.failed(); err != nil {
			// A run could not be written: reading on would hold the rest
			// of the input in memory.
			return fmt.Errorf("writing a sorted run: %w", err)
		}
		if blk.err != nil {
			b.notes = append(b.notes, fmt.Sprintf("reading stopped after line %d: %v (the file is truncated or corrupt; the lines before were indexed)", blk.first+int64(len(blk.lines))-1, blk.err))
		}
		select {
		case free <- blk:
		default:
		}
	}
}

// fill reads until buf is full or r fails. Unlike io.ReadFull it keeps
// the reader's own error: io.EOF is the clean end of the data, while a
// decompressor's io.ErrUnexpectedEOF means the file was cut short.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// splitLines reads r in large chunks, cuts them at line ends and sends
// them on full, closing it at the end of the input. A partial last line
// is carried over to the next block.
func splitLines(ctx context.Context, r io.Reader, maxLineBytes int, full chan<- *lineBlock, free <-chan *lineBlock) {
	defer close(full)
	lineNo := int64(1)
	var carry []byte
	discarding := false  // inside an over-long line, skipping to its end
	var spare *lineBlock // a block that held no whole line, to fill again
	for {
		blk := spare
		spare = nil
		if blk == nil {
			select {
			case <-ctx.Done():
				return
			case blk = <-free:
			}
		}
		size := blockBytes + len(carry)
		if cap(blk.data) < size {
			blk.data = make([]byte, 0, size)
		}
		blk.data = append(blk.data[:0], carry...)
		blk.lines, blk.long, blk.first, blk.err = blk.lines[:0], blk.long[:0], lineNo, nil
		n, err := fill(r, blk.data[len(blk.data):size])
		blk.data = blk.data[:len(blk.data)+n]
		atEOF := err != nil
		if err != nil && !errors.Is(err, io.EOF) {
			blk.err = err
		}
		data, pos := blk.data, 0
		if discarding {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				pos = len(data)
			} else {
				pos, discarding = i+1, false
			}
		}
		for {
			i := bytes.IndexByte(data[pos:], '\n')
			if i < 0 {
				break
			}
			end := pos + i
			if end > pos && data[end-1] == '\r' {
				end--
			}
			if end-pos > maxLineBytes {
				blk.long = append(blk.long, len(blk.lines))
			}
			blk.lines = append(blk.lines, span{uint32(pos), uint32(end)})
			pos += i + 1
			lineNo++
		}
		rest := data[pos:]
		carry = carry[:0]
		switch {
		case discarding:
		case atEOF:
			if len(rest) > 0 {
				end := len(data)
				if data[end-1] == '\r' {
					end--
				}
				if end-pos > maxLineBytes {
					blk.long = append(blk.long, len(blk.lines))
				}
				blk.lines = append(blk.lines, span{uint32(pos), uint32(end)})
				lineNo++
			}
		case len(rest) > maxLineBytes:
			blk.long = append(blk.long, len(blk.lines))
			blk.lines = append(blk.lines, span{uint32(pos), uint32(pos)})
			lineNo++
			discarding = true
		default:
			carry = append(carry, rest...)
		}
		if len(blk.lines) == 0 && blk.err == nil {
			spare = blk
		} else {
			select {
			case <-ctx.Done():
				return
			case full <- blk:
			}
		}
		if atEOF {
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
	// dnsdbq -p csv writes the zone-file window in columns of its own.
	"zone_first": "zfirst", "zone_time_first": "zfirst",
	"zone_last": "zlast", "zone_time_last": "zlast",
	"count": "count",
}

// readCSV reads name,type,value[,first_seen,last_seen[,count]] rows, with
// an optional header row that may name the columns in any order (dnsdbq's
// -p csv header among them: its zone_first and zone_last columns widen the
// window as zone times do in COF). Times are read by the shared COF time
// parser.
func readCSV(ctx context.Context, r io.Reader, b *builder) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.Comment = '#'
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cols := map[string]int{"name": 0, "type": 1, "value": 2, "first": 3, "last": 4, "count": 5}
	add := emitFunc(b.add)
	firstRow := true
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := b.failed(); err != nil {
			return fmt.Errorf("writing a sorted run: %w", err)
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
		if err := csvRow(rec, cols, add); err != nil {
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

// unneutralise undoes the CSV-injection protection spreadsheet-safe
// exports apply (reconform's own among them, OWASP's advice): a field
// that would start with =, +, -, @, a tab or a carriage return is written
// with a single quote in front, and one that starts with a quote gets a
// second. One such quote is removed.
func unneutralise(s string) string {
	if len(s) >= 2 && s[0] == '\'' && strings.IndexByte("=+-@\t\r'", s[1]) >= 0 {
		return s[1:]
	}
	return s
}

func csvRow(rec []string, cols map[string]int, emit emitFunc) error {
	field := func(c string) string {
		i, ok := cols[c]
		if !ok || i >= len(rec) {
			return ""
		}
		return unneutralise(strings.TrimSpace(rec[i]))
	}
	name, typ, value := field("name"), field("type"), field("value")
	if name == "" || typ == "" || value == "" {
		return errors.New("a row needs name, type and value")
	}
	rrtype, err := typeName([]byte(typ))
	if err != nil {
		return err
	}
	var t providers.COFTimes
	for _, c := range []struct {
		col, name string
		field     providers.COFField
	}{
		{"first", "first_seen", providers.COFTimeFirst}, {"last", "last_seen", providers.COFTimeLast},
		{"zfirst", "zone_first", providers.COFZoneTimeFirst}, {"zlast", "zone_last", providers.COFZoneTimeLast},
	} {
		v, err := parseTime(field(c.col))
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		t.Set(c.field, v)
	}
	first, last := t.Window()
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
