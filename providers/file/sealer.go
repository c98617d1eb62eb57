package file

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// sealer sorts the runs the builder hands it and writes each as a
// segment of the index file, on a goroutine of its own so that sorting
// and compressing a run overlap the reading of the next.
type sealer struct {
	ctx  context.Context
	in   chan *runTables // runs to seal; unbuffered: a run waits for the sealer
	free chan *runTables // a sealed run's tables, emptied, for the next run
	done chan struct{}

	scratch sealScratch
	bw      appender
	bf      *blockFile
	header  []byte

	// set by the goroutine, read after done
	segs []segment
	mu   sync.Mutex
	err  error
}

func startSealer(ctx context.Context, out io.Writer, header []byte) *sealer {
	s := &sealer{ctx: ctx, in: make(chan *runTables), free: make(chan *runTables, 2), done: make(chan struct{}), header: header}
	s.bw = newAppender(out)
	s.bw.Write(header)
	s.bf = &blockFile{w: s.bw, off: int64(len(header))}
	go s.loop()
	return s
}

func (s *sealer) loop() {
	defer close(s.done)
	for rt := range s.in {
		if s.failed() == nil && s.ctx.Err() == nil && len(rt.recs) > 0 {
			m := seal(rt, &s.scratch)
			seg, err := writeSegment(s.ctx, s.bf, m, &s.scratch)
			m = nil
			if err != nil {
				s.fail(err)
			} else {
				s.segs = append(s.segs, seg)
			}
			// The sort's arrays are garbage now: collect them before the
			// next run grows, so that the heap stays near the budget.
			runtime.GC()
		}
		rt.reset()
		select {
		case s.free <- rt:
		default:
		}
	}
}

func (s *sealer) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *sealer) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// sealScratch are the sealer's sort arrays, kept from run to run: runs
// are of about one size, and fresh arrays of hundreds of megabytes would
// be zeroed and faulted in again for each.
type sealScratch struct {
	valueKey, recKey, keyRank, start, buckets, entPos, ends []uint32
	addrKeys, gpos, rgpos                                   []uint32
	ftmp                                                    []frec
	rtmp                                                    []rentPos
	addrRecs, addrTmp, valueWin                             []uint64
	frecs                                                   []frec
	rents                                                   []rentPos
}

// reuse returns (*s)[:n], reallocated when too small; the elements are
// left as they were.
func reuse[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n, n+n/8)
	}
	*s = (*s)[:n]
	return *s
}

// stop ends the sealer once the runs handed to it are written.
func (s *sealer) stop() {
	select {
	case <-s.done:
	default:
		close(s.in)
		<-s.done
	}
}

// writeSegment writes a sealed run's two tables and counts its distinct
// names and keys.
func writeSegment(ctx context.Context, bf *blockFile, m *memRun, sc *sealScratch) (segment, error) {
	// A sealed run's names and keys stay put while it is written.
	seg, err := writeTables(bf, true, func(fw *tableWriter) (names int64) {
		var x fent
		prev := uint32(noKey)
		for m.nextF(&x) {
			if m.fi%(1<<16) == 0 && ctx.Err() != nil {
				break
			}
			if r := m.frecs[m.fi-1].Name; r != prev {
				names++
				prev = r
			}
			fw.addF(&x)
		}
		return names
	}, func(rw *tableWriter) (keys int64) {
		m.sealReverse(sc)
		var y rent
		prev := uint32(noKey)
		for m.nextR(&y) {
			if m.ri%(1<<16) == 0 && ctx.Err() != nil {
				break
			}
			if k := uint32(m.rb / 2); k != prev {
				keys++
				prev = k
			}
			rw.addR(&y)
		}
		return keys
	})
	return seg, cmp.Or(err, ctx.Err())
}

// writeTables writes a segment's two tables to bf, compressed, the
// forward one on a goroutine of its own: fillF and fillR add the entries
// and return how many distinct names or keys they hold. stable says the
// entries' bytes stay valid after the next entry is added.
func writeTables(bf *blockFile, stable bool, fillF func(*tableWriter) int64, fillR func(*tableWriter) int64) (segment, error) {
	fw, rw := newTableWriter(bf), newTableWriter(bf)
	fw.enc.stable, rw.enc.stable = stable, stable
	var seg segment
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		seg.names = fillF(fw)
	}()
	seg.keys = fillR(rw)
	wg.Wait()
	var err1, err2 error
	seg.fdir, err1 = fw.close()
	seg.rdir, err2 = rw.close()
	return seg, cmp.Or(err1, err2)
}

// finish ends the build: it seals the last run, waits for the sealer,
// and ends the index file with its meta section; past maxSegments it
// first compacts the segments into a new file, made by another(). It
// returns the index (its source is for the caller to set) and the file
// that holds it, out or the new one. The builder must not be used
// afterwards.
func (b *builder) finish(out *spillFile, another func() (*spillFile, error), format string) (*index, *spillFile, error) {
	b.flush()
	b.stop()
	if len(b.run.recs) > 0 {
		b.handOff(false)
	}
	s := b.sealer
	defer b.releaseAll()
	s.stop()
	if err := s.failed(); err != nil {
		return nil, out, fmt.Errorf("writing a sorted run: %w", err)
	}
	if err := b.ctx.Err(); err != nil {
		return nil, out, err
	}
	ix := &index{format: format, asOf: b.asOf, lines: b.lines, bad: b.bad, records: b.emitted, types: b.types, runs: len(s.segs), segs: s.segs}
	ix.countStrings()
	ix.warnings = append(ix.warnings, b.notes...)
	ix.warnings = append(ix.warnings, b.badMsgs...)
	if b.bad > int64(len(b.badMsgs)) {
		ix.warnings = append(ix.warnings, fmt.Sprintf("%d malformed lines skipped in all (%d shown)", b.bad, len(b.badMsgs)))
	}
	bw, bf := s.bw, s.bf
	if len(ix.segs) > maxSegments {
		if err := bw.Flush(); err != nil {
			return nil, out, err
		}
		merged, err := another()
		if err != nil {
			return nil, out, err
		}
		bw = newAppender(merged.f)
		bw.Write(s.header)
		bf = &blockFile{w: bw, off: int64(len(s.header))}
		if err := ix.compact(out.f, bf); err != nil {
			merged.close()
			return nil, out, err
		}
		out.close()
		out = merged
	}
	if err := ix.writeTail(bf, s.header); err != nil {
		return nil, out, err
	}
	if err := bw.Flush(); err != nil {
		return nil, out, err
	}
	ix.size = bf.off
	return ix, out, nil
}

// countStrings sums the segments' distinct names and keys.
func (ix *index) countStrings() {
	ix.names, ix.keys = 0, 0
	for _, sg := range ix.segs {
		ix.names += sg.names
		ix.keys += sg.keys
	}
}

// compact brings the index, read from src, to maxSegments segments
// written to bf: the first segments, as few as it takes, are merged into
// one, and the others' blocks are copied as they are.
func (ix *index) compact(src readerAt, bf *blockFile) error {
	n := len(ix.segs) - maxSegments + 1
	merged, err := mergeSegments(src, ix.segs[:n], len(ix.types), bf)
	if err != nil {
		return err
	}
	segs := []segment{merged}
	var buf []byte
	for _, sg := range ix.segs[n:] {
		c := segment{names: sg.names, keys: sg.keys}
		for _, t := range []struct {
			from []blockRef
			to   *[]blockRef
		}{{sg.fdir, &c.fdir}, {sg.rdir, &c.rdir}} {
			for _, ref := range t.from {
				if cap(buf) < int(ref.clen) {
					buf = make([]byte, ref.clen)
				}
				buf = buf[:ref.clen]
				if _, err := src.ReadAt(buf, ref.off); err != nil {
					return fmt.Errorf("copying a segment: %w", err)
				}
				off, err := bf.append(buf)
				if err != nil {
					return err
				}
				ref.off = off
				*t.to = append(*t.to, ref)
			}
		}
		segs = append(segs, c)
	}
	ix.segs = segs
	ix.countStrings()
	return nil
}

// mergeSegments merges segments read from src into one written to bf,
// counting its distinct names and keys.
func mergeSegments(src readerAt, segs []segment, ntypes int, bf *blockFile) (segment, error) {
	var fsrcs []func(*fent) bool
	var rsrcs []func(*rent) bool
	var readers []*tableReader
	for _, sg := range segs {
		fr := &tableReader{src: src, refs: sg.fdir, ntypes: ntypes}
		rr := &tableReader{src: src, refs: sg.rdir, ntypes: ntypes}
		readers = append(readers, fr, rr)
		fsrcs = append(fsrcs, fr.nextF)
		rsrcs = append(rsrcs, rr.nextR)
	}
	seg, err := writeTables(bf, false, func(fw *tableWriter) (names int64) {
		var last []byte
		mergeSorted(fsrcs, compareF, cloneF, func(x *fent) bool {
			if names == 0 || !bytes.Equal(x.rname, last) {
				names++
				last = append(last[:0], x.rname...)
			}
			fw.addF(x)
			return true
		})
		return names
	}, func(rw *tableWriter) (keys int64) {
		var last []byte
		mergeSorted(rsrcs, compareR, cloneR, func(x *rent) bool {
			if keys == 0 || !bytes.Equal(x.key, last) {
				keys++
				last = append(last[:0], x.key...)
			}
			rw.addR(x)
			return true
		})
		return keys
	})
	for _, r := range readers {
		err = cmp.Or(err, r.err)
	}
	return seg, err
}
