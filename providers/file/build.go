package file

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
)

// record is one (name, type, value) observation of a run, 24 bytes.
// Times are unix seconds (0: unknown), enough until 2106.
type record struct {
	Name        uint32 // id in the run's names
	Value       uint32 // id in the run's values
	First, Last uint32
	Count       uint32 // saturating
	Type        uint16 // index into the builder's types
	IPv4        bool   // the value is an IPv4 address (frec.addr, once sealed)
}

const noKey = math.MaxUint32

// maxWarnings bounds the per-line warnings kept; the rest are counted.
const maxWarnings = 10

// batch carries parsed observations from the parsing goroutine to the two
// interning goroutines.
type batch struct {
	buf     []byte
	names   []span
	values  []span
	meta    []recMeta
	pending atomic.Int32
}

type span struct{ off, end uint32 }

type recMeta struct {
	first, last, count uint32
	typ                uint16
}

const batchBytes = 1 << 20

// builder accumulates the index during the streaming pass. emit and
// badLine are called from one goroutine (the parser); the names and the
// values are interned by two others. When the run in memory reaches its
// share of the memory budget it is handed to the sealer, which sorts it
// and writes it as a segment of the index while the next run is read.
type builder struct {
	ctx     context.Context
	types   []string
	typeIDs map[string]uint16
	target  []bool // by type id: values are host names
	lines   int64
	bad     int64
	emitted int64 // observations queued
	badMsgs []string
	notes   []string // file-level warnings (truncated gzip, ...)

	budget     int64 // bytes a run may take, sorting included
	batchBytes int   // a batch is handed over at this size
	sealer     *sealer
	tables     []*runTables // at most two: one read while the other is sealed

	cur               *batch
	free              chan *batch
	toNames, toValues chan *batch
	wg                sync.WaitGroup
	// sizes published by the interning goroutines, for the budget
	nameBytes, valueBytes atomic.Int64
	runObs                int64 // observations in the current run

	run  *runTables // the run being read
	asOf uint32     // owned by the names goroutine
	hint int        // observations a run's tables are first sized for
}

// runTables are one run's strings and records. The names goroutine owns
// names and recs, the values goroutine values, valueIDs and addrs, until
// the run is sealed.
type runTables struct {
	names  *strtab
	recs   []record
	values *strtab // values other than canonical IPv4 addresses
	// valueIDs are by record: the value's id, or isIPv4Value for an IPv4
	// address, which is kept in addrs and not interned at all: most FDNS
	// values are addresses, and the seal sorts them as numbers (a hash
	// probe per line into a table of millions cost more).
	valueIDs  []uint32
	addrs     []uint32 // by record: the value's IPv4 address, if it is one
	types     []string // the builder's types when the run was sealed
	sink      uint64   // keeps the names' interning's touches
	valueSink uint64   // and the values'
}

func newRunTables(lines int) *runTables {
	rt := &runTables{
		names:    newStrtab(lines / 2),  // names repeat on consecutive lines
		values:   newStrtab(lines / 16), // values repeat a lot (MX, NS, CNAME targets)
		recs:     make([]record, 0, max(lines, 64)),
		valueIDs: make([]uint32, 0, max(lines, 64)),
		addrs:    make([]uint32, 0, max(lines, 64)),
	}
	rt.names.blob = make([]byte, 0, max(int64(lines)*20, 1024))
	return rt
}

// reset empties the tables for another run, keeping their memory.
func (rt *runTables) reset() {
	rt.names.reset()
	rt.values.reset()
	rt.recs, rt.valueIDs, rt.addrs = rt.recs[:0], rt.valueIDs[:0], rt.addrs[:0]
	rt.types = nil
}

func (rt *runTables) free() {
	rt.names.free()
	rt.values.free()
	rt.recs, rt.valueIDs, rt.addrs = nil, nil, nil
}

// defaultBudget is the memory a build's runs may take: with the
// pipeline's buffers and the runtime, a build stays well under 1 GiB
// whatever the size of the file.
const defaultBudget = 320 << 20

// maxBudget bounds index_memory: a larger run would overflow the 32-bit
// offsets of its names and keys.
const maxBudget = 2 << 30

// Bytes a run takes per observation (its record, value id and address,
// sort arrays, the records in forward order, the address sort's pairs) and per distinct string (hash slot,
// offset, sort arrays), besides the string bytes themselves (twice for
// names: as read, and reversed in order).
// maxRunRecords bounds a run: its sort packs record positions in 31 bits.
const maxRunRecords = 1 << 30

const (
	bytesPerObs    = 24 + 4 + 4 + 4 + 4 + 4 + 32 + 40 + 16
	bytesPerString = 8 + 16 + 28
)

// newBuilder starts a build whose segments are written to out, a new
// file whose first headerSize bytes are header.
func newBuilder(ctx context.Context, sizeHint, budget int64, out io.Writer, header []byte) *builder {
	if budget <= 0 {
		budget = defaultBudget
	}
	budget = min(budget, maxBudget)
	// Two runs are in memory at once (one read, one sealed), each within
	// half the budget; a run's name and key bytes are addressed by 32-bit
	// offsets, so it stays well under 4 GiB of them.
	budget /= 2
	// Size the tables for the run this file will need, at most the
	// budget's worth (about 80 bytes per line is typical of FDNS).
	lines := int(min(sizeHint/80, budget/100, 1<<28))
	b := &builder{
		ctx:        ctx,
		typeIDs:    map[string]uint16{},
		budget:     budget,
		batchBytes: int(min(batchBytes, max(budget/32, 1<<10))),
		free:       make(chan *batch, 16),
		hint:       lines,
	}
	b.run = newRunTables(lines)
	b.tables = []*runTables{b.run}
	b.sealer = startSealer(ctx, out, header)
	b.cur = &batch{}
	b.start()
	return b
}

// start runs the interning goroutines for a run.
func (b *builder) start() {
	b.toNames = make(chan *batch, 8)
	b.toValues = make(chan *batch, 8)
	b.wg.Add(2)
	go b.internNames(b.run)
	go b.internValues(b.run)
}

// stop waits for the interning goroutines to finish the queued batches.
func (b *builder) stop() {
	close(b.toNames)
	close(b.toValues)
	b.wg.Wait()
}

// runBytes estimates the memory the current run takes once sorted.
func (b *builder) runBytes() int64 {
	return b.runObs*bytesPerObs + b.nameBytes.Load() + b.valueBytes.Load()
}

// badLine records a malformed line.
func (b *builder) badLine(line int64, err error) {
	b.bad++
	if len(b.badMsgs) < maxWarnings {
		b.badMsgs = append(b.badMsgs, fmt.Sprintf("line %d: %v", line, err))
	}
}

func appendSpan(buf []byte, s []byte) ([]byte, span) {
	off := len(buf)
	buf = append(buf, s...)
	return buf, span{uint32(off), uint32(len(buf))}
}

// typeID finds a type's id: among the first few types by comparison
// (a dump has a handful, and a map lookup per line cost more), then in
// the map.
func (b *builder) typeID(rrtype string) (uint16, bool) {
	for i, t := range b.types[:min(len(b.types), 8)] {
		if t == rrtype {
			return uint16(i), true
		}
	}
	typ, ok := b.typeIDs[rrtype]
	return typ, ok
}

// add queues one normalised observation.
func (b *builder) add(name []byte, rrtype string, value []byte, first, last, count int64) {
	b.emitted++
	typ, ok := b.typeID(rrtype)
	if !ok {
		if len(b.types) >= math.MaxUint16 {
			return
		}
		typ = uint16(len(b.types))
		b.types = append(b.types, rrtype)
		b.typeIDs[rrtype] = typ
		b.target = append(b.target, nameTargetType(rrtype) && rrtype != "MX")
	}
	if first > 0 && last > 0 && last < first {
		first, last = last, first
	}
	if first <= 0 {
		first = last
	}
	if last <= 0 {
		last = first
	}
	c := b.cur
	var ns, vs span
	c.buf, ns = appendSpan(c.buf, name)
	c.buf, vs = appendSpan(c.buf, value)
	c.names = append(c.names, ns)
	c.values = append(c.values, vs)
	c.meta = append(c.meta, recMeta{first: clampTime(first), last: clampTime(last), count: clampTime(count), typ: typ})
	if len(c.buf) >= b.batchBytes {
		b.flush()
	}
}

// flush hands the current batch to the interning goroutines.
func (b *builder) flush() {
	c := b.cur
	if len(c.names) == 0 {
		return
	}
	if b.ctx.Err() != nil {
		b.cur = &batch{}
		return
	}
	// Both interning goroutines take every batch (they drain their
	// channels until stopped), so these sends never hang; a batch that
	// reached one and not the other would leave the run's names and
	// values of different lengths.
	c.pending.Store(2)
	b.toNames <- c
	b.toValues <- c
	b.runObs += int64(len(c.names))
	select {
	case b.cur = <-b.free:
	default:
		b.cur = &batch{}
	}
	b.cur.buf, b.cur.names, b.cur.values, b.cur.meta = b.cur.buf[:0], b.cur.names[:0], b.cur.values[:0], b.cur.meta[:0]
	if b.runBytes() > b.budget || b.runObs >= maxRunRecords {
		b.stop()
		b.handOff(true)
		b.start()
	}
}

// handOff gives the current run to the sealer and, with next, starts
// the next one in the other tables, once the sealer is done with them.
// The interning goroutines must be stopped.
func (b *builder) handOff(next bool) {
	b.run.types = b.types[:len(b.types):len(b.types)]
	b.sealer.in <- b.run
	b.run = nil
	switch {
	case !next:
	case len(b.tables) < 2:
		b.run = newRunTables(b.hint)
		b.tables = append(b.tables, b.run)
	default:
		b.run = <-b.sealer.free
	}
	b.runObs = 0
	b.nameBytes.Store(0)
	b.valueBytes.Store(0)
}

// failed reports the sealer's error, if it failed.
func (b *builder) failed() error { return b.sealer.failed() }

// abort stops the interning goroutines and the sealer after a failed or
// cancelled read.
func (b *builder) abort() {
	b.stop()
	b.releaseAll()
}

// releaseAll stops the sealer and frees the runs' tables.
func (b *builder) releaseAll() {
	b.sealer.stop()
	for _, rt := range b.tables {
		rt.free()
	}
	b.tables, b.run = nil, nil
}

func (b *builder) release(c *batch) {
	if c.pending.Add(-1) == 0 {
		select {
		case b.free <- c:
		default:
		}
	}
}

func (b *builder) internNames(rt *runTables) {
	defer b.wg.Done()
	var prev []byte
	var prevID uint32
	var hashes []uint32
	var sink uint64
	for c := range b.toNames {
		// Hash the batch's names first, so that the hash slots of the
		// names a batch ahead can be touched together (see touchAhead):
		// the names table is far larger than the caches.
		hashes = hashes[:0]
		for _, s := range c.names {
			hashes = append(hashes, hashBytes(c.buf[s.off:s.end]))
		}
		for i, s := range c.names {
			if i%touchBatch == 0 {
				sink += rt.names.touch(hashes[min(i+touchBatch, len(hashes)):min(i+2*touchBatch, len(hashes))])
			}
			m := c.meta[i]
			name := c.buf[s.off:s.end]
			// Dumps list a name's records on consecutive lines.
			id := prevID
			if prev == nil || !bytes.Equal(name, prev) {
				id, _ = rt.names.internHashed(name, hashes[i])
				prev, prevID = rt.names.bytesOf(id), id
			}
			rt.recs = append(rt.recs, record{Name: id, First: m.first, Last: m.last, Count: m.count, Type: m.typ})
			b.asOf = max(b.asOf, m.last)
		}
		b.release(c)
		b.nameBytes.Store(2*int64(len(rt.names.blob)) + int64(rt.names.len())*bytesPerString)
	}
	rt.sink = sink
	prev = nil
}

func (b *builder) internValues(rt *runTables) {
	defer b.wg.Done()
	// A batch's values are parsed (parseValue) first, so that the hash
	// slots of the values a batch ahead can be touched together as the
	// names' are (a zone's DS digests are all distinct: the table is
	// large).
	var parsed []uint64
	var sink uint64
	for c := range b.toValues {
		parsed = parsed[:0]
		for _, s := range c.values {
			parsed = append(parsed, parseValue(c.buf[s.off:s.end]))
		}
		for i, s := range c.values {
			if i%touchBatch == 0 {
				mask := uint64(len(rt.values.slots) - 1)
				for _, p := range parsed[min(i+touchBatch, len(parsed)):min(i+2*touchBatch, len(parsed))] {
					if p&parsedAddr == 0 {
						sink += rt.values.slots[p&mask]
					}
				}
			}
			rt.addParsed(c.buf[s.off:s.end], parsed[i])
		}
		b.release(c)
		b.valueBytes.Store(int64(len(rt.values.blob)) + int64(rt.values.len())*bytesPerString)
	}
	rt.valueSink = sink
}

// isIPv4Value is the value id of a record whose value is an IPv4 address
// (ids stay below maxRunRecords).
const isIPv4Value = 1 << 31

// parsedAddr marks a parseValue result that is an IPv4 address.
const parsedAddr = 1 << 32

// parseValue returns v's IPv4 address | parsedAddr, or v's hash.
func parseValue(v []byte) uint64 {
	if a, ok := parseIPv4(v); ok {
		return parsedAddr | uint64(a)
	}
	return uint64(hashBytes(v))
}

// addParsed adds the next record's value, v, given parseValue(v): an
// IPv4 address as a number, any other value interned.
func (rt *runTables) addParsed(v []byte, p uint64) {
	if p&parsedAddr != 0 {
		rt.valueIDs, rt.addrs = append(rt.valueIDs, isIPv4Value), append(rt.addrs, uint32(p))
		return
	}
	id, _ := rt.values.internHashed(v, uint32(p))
	rt.valueIDs, rt.addrs = append(rt.valueIDs, id), append(rt.addrs, 0)
}

func clampTime(t int64) uint32 {
	if t <= 0 {
		return 0
	}
	if t > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(t)
}
