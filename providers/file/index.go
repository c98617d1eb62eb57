package file

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
)

// record is one (name, type, value) observation of the file, 24 bytes.
// Times are unix seconds (0: unknown), enough until 2106.
type record struct {
	Name        uint32 // id in index.names
	Value       uint32 // id in index.values
	First, Last uint32
	Count       uint32 // saturating
	Type        uint16 // index into index.types
	_           uint16
}

// String flags.
const (
	flagOwner  uint8 = 1 << iota // names: a record's owner name
	flagTarget                   // names: a host-name value (CNAME, NS, MX host, PTR); values: the same, by type
	flagNode                     // names: a domain the tree links through
	flagIP                       // parses as an IP address
)

const noKey = math.MaxUint32

// index is everything the queries need, built in one pass over the file
// and never rescanned. Owner names and record values live in two string
// tables so that two goroutines can intern them side by side. All other
// fields are flat arrays of fixed-size integers, so the whole index can be
// written to disk and read back in one go.
type index struct {
	names, values *strtab
	// valueIP4 indexes the canonical IPv4 values, which values' own hash
	// slots leave out.
	valueIP4              *ip4tab
	nameFlags, valueFlags []uint8
	types                 []string
	// recs sorted by owner name; the records of name n are
	// recs[nameStart[n]:nameStart[n+1]].
	recs      []record
	nameStart []uint32
	// keyRecs[keyStart[k]:keyStart[k+1]] are the record positions whose
	// lookup key is value k: the IP of A/AAAA records, the target of
	// CNAME/NS/PTR records, the host of MX records.
	keyStart []uint32
	keyRecs  []uint32
	// parent[n] is the id+1 of the name n is directly under (0: none);
	// childIDs[childStart[p]:childStart[p+1]] are the names directly
	// under p.
	parent     []uint32
	childStart []uint32
	childIDs   []uint32
	// IP values sorted by address for CIDR queries: ip4 entries are
	// addr<<32|id; ip6 entries are triples (hi, lo, id). ptr4 and ptr6
	// are the same for owner names that are IPs (reverse DNS dumps).
	ip4, ip6   []uint64
	ptr4, ptr6 []uint64

	asOf     uint32 // newest time in the file
	lines    int64  // lines (or CSV rows) read
	bad      int64  // lines skipped as malformed
	warnings []string
	reused   bool // read from a persisted index file
}

// lookupValue returns the id of value v.
func (ix *index) lookupValue(v string) (uint32, bool) {
	if a, ok := parseIPv4([]byte(v)); ok {
		return ix.valueIP4.lookup(a)
	}
	return ix.values.lookup([]byte(v))
}

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
// values are interned by two others.
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

	cur               *batch
	free              chan *batch
	toNames, toValues chan *batch
	wg                sync.WaitGroup

	// owned by the names goroutine
	names     *strtab
	nameFlags []uint8
	recs      []record
	asOf      uint32
	// owned by the values goroutine
	values     *strtab
	valueIP4   *ip4tab
	valueFlags []uint8
	valueIDs   []uint32
}

func newBuilder(ctx context.Context, sizeHint int64) *builder {
	// About 80 bytes per line is typical of FDNS; pre-size to avoid
	// regrowing the big tables many times.
	lines := int(min(sizeHint/80, 1<<28))
	b := &builder{
		ctx:      ctx,
		typeIDs:  map[string]uint16{},
		free:     make(chan *batch, 16),
		toNames:  make(chan *batch, 8),
		toValues: make(chan *batch, 8),
		names:    newStrtab(lines / 2), // names repeat on consecutive lines
		values:   newStrtab(lines / 8), // values repeat a lot (shared IPs, MX, NS)
		valueIP4: newIP4tab(lines / 8),
		recs:     make([]record, 0, max(lines, 64)),
		valueIDs: make([]uint32, 0, max(lines, 64)),
	}
	b.names.blob = make([]byte, 0, max(sizeHint/4, 1024))
	b.cur = &batch{}
	b.wg.Add(2)
	go b.internNames()
	go b.internValues()
	return b
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

// maxRecords bounds an index: record positions are 32-bit.
const maxRecords = math.MaxUint32 - 1

// add queues one normalised observation.
func (b *builder) add(name []byte, rrtype string, value []byte, first, last, count int64) {
	if b.emitted >= maxRecords {
		if b.emitted == maxRecords {
			b.notes = append(b.notes, fmt.Sprintf("only the first %d records were indexed; split the file", maxRecords))
			b.emitted++
		}
		return
	}
	b.emitted++
	typ, ok := b.typeIDs[rrtype]
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
	if len(c.buf) >= batchBytes {
		b.flush()
	}
}

// flush hands the current batch to the interning goroutines.
func (b *builder) flush() {
	c := b.cur
	if len(c.names) == 0 {
		return
	}
	c.pending.Store(2)
	for _, ch := range []chan *batch{b.toNames, b.toValues} {
		select {
		case ch <- c:
		case <-b.ctx.Done():
			b.cur = &batch{}
			return
		}
	}
	select {
	case b.cur = <-b.free:
	default:
		b.cur = &batch{}
	}
	b.cur.buf, b.cur.names, b.cur.values, b.cur.meta = b.cur.buf[:0], b.cur.names[:0], b.cur.values[:0], b.cur.meta[:0]
}

// abort stops the interning goroutines after a failed or cancelled read.
func (b *builder) abort() {
	close(b.toNames)
	close(b.toValues)
	b.wg.Wait()
}

func (b *builder) release(c *batch) {
	if c.pending.Add(-1) == 0 {
		select {
		case b.free <- c:
		default:
		}
	}
}

func internFlag(t *strtab, flags *[]uint8, s []byte, flag uint8) uint32 {
	id, added := t.intern(s)
	if added {
		var f uint8
		if looksLikeIP(s) {
			f = flagIP
		}
		*flags = append(*flags, f)
	}
	(*flags)[id] |= flag
	return id
}

func (b *builder) internNames() {
	defer b.wg.Done()
	var prev []byte
	var prevID uint32
	for c := range b.toNames {
		for i, s := range c.names {
			m := c.meta[i]
			name := c.buf[s.off:s.end]
			// Dumps list a name's records on consecutive lines.
			id := prevID
			if prev == nil || !bytes.Equal(name, prev) {
				id = internFlag(b.names, &b.nameFlags, name, flagOwner)
				prev, prevID = b.names.bytesOf(id), id
			}
			b.recs = append(b.recs, record{Name: id, First: m.first, Last: m.last, Count: m.count, Type: m.typ})
			b.asOf = max(b.asOf, m.last)
		}
		b.release(c)
	}
}

func (b *builder) internValues() {
	defer b.wg.Done()
	for c := range b.toValues {
		for i, s := range c.values {
			var flag uint8
			if b.target[c.meta[i].typ] {
				flag = flagTarget
			}
			b.valueIDs = append(b.valueIDs, b.internValue(c.buf[s.off:s.end], flag))
		}
		b.release(c)
	}
}

// internValue interns a value, canonical IPv4 addresses through the
// address table.
func (b *builder) internValue(v []byte, flag uint8) uint32 {
	a, ok := parseIPv4(v)
	if !ok {
		return internFlag(b.values, &b.valueFlags, v, flag)
	}
	i, found := b.valueIP4.find(a)
	if found {
		return uint32(b.valueIP4.slots[i]) - 1
	}
	id := b.values.appendString(v)
	b.valueFlags = append(b.valueFlags, flagIP|flag)
	b.valueIP4.insert(i, a, id)
	return id
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

// finish waits for the interning goroutines and builds the lookup
// structures, on two goroutines. The builder must not be used afterwards.
func (b *builder) finish() *index {
	b.flush()
	close(b.toNames)
	close(b.toValues)
	b.wg.Wait()

	ix := &index{names: b.names, values: b.values, valueIP4: b.valueIP4, types: b.types, asOf: b.asOf, lines: b.lines, bad: b.bad}
	ix.warnings = append(ix.warnings, b.notes...)
	ix.warnings = append(ix.warnings, b.badMsgs...)
	if b.bad > int64(len(b.badMsgs)) {
		ix.warnings = append(ix.warnings, fmt.Sprintf("%d malformed lines skipped in all (%d shown)", b.bad, len(b.badMsgs)))
	}
	recs := b.recs
	for i := range recs {
		recs[i].Value = b.valueIDs[i]
	}
	b.recs, b.valueIDs = nil, nil

	// Lookup keys. MX values are "pref host": intern the host.
	keys := make([]uint32, len(recs))
	for i, r := range recs {
		keys[i] = noKey
		switch b.types[r.Type] {
		case "A", "AAAA", "CNAME", "NS", "PTR", "DNAME":
			keys[i] = r.Value
		case "MX":
			host := mxHost(b.values.str(r.Value))
			keys[i] = b.internValue([]byte(host), flagTarget)
		}
	}
	ix.valueFlags = b.valueFlags
	ownerNames := b.names.len()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		// The name tree: host-name values join the names, then every
		// name is linked to its parent, adding missing domains as nodes.
		defer wg.Done()
		for id := uint32(0); int(id) < b.values.len(); id++ {
			if b.valueFlags[id]&flagTarget != 0 {
				internFlag(b.names, &b.nameFlags, b.values.bytesOf(id), flagTarget)
			}
		}
		var last parentCache
		for id := uint32(0); int(id) < b.names.len(); id++ {
			ix.parent = append(ix.parent, b.parentOf(id, &last))
		}
		ix.nameFlags = b.nameFlags
		ix.ptr4, ix.ptr6 = ipTables(b.names, b.nameFlags, ownerNames)
		ix.childStart, ix.childIDs = csr(len(ix.parent), func(yield func(key, item uint32)) {
			for id, p := range ix.parent {
				if p != 0 {
					yield(p-1, uint32(id))
				}
			}
		})
	}()

	// Records sorted by owner name (stable counting sort), keys alongside.
	nameStart := make([]uint32, ownerNames+1)
	for _, r := range recs {
		nameStart[r.Name+1]++
	}
	for i := 1; i <= ownerNames; i++ {
		nameStart[i] += nameStart[i-1]
	}
	ix.recs = make([]record, len(recs))
	sortedKeys := make([]uint32, len(recs))
	next := slices.Clone(nameStart[:ownerNames])
	for i, r := range recs {
		pos := next[r.Name]
		next[r.Name]++
		ix.recs[pos] = r
		sortedKeys[pos] = keys[i]
	}
	recs, keys, next = nil, nil, nil
	ix.keyStart, ix.keyRecs = csr(b.values.len(), func(yield func(key, item uint32)) {
		for pos, k := range sortedKeys {
			if k != noKey {
				yield(k, uint32(pos))
			}
		}
	})
	sortedKeys = nil
	ix.ip4, ix.ip6 = ipTables(b.values, b.valueFlags, b.values.len())
	wg.Wait()
	// Names added for the tree own no records.
	for len(nameStart) < b.names.len()+1 {
		nameStart = append(nameStart, nameStart[len(nameStart)-1])
	}
	ix.nameStart = nameStart
	return ix
}

// ipTables lists the strings among the first n of t that are IP
// addresses, sorted by address.
func ipTables(t *strtab, flags []uint8, n int) (ip4, ip6 []uint64) {
	for id := uint32(0); int(id) < n; id++ {
		if flags[id]&flagIP == 0 {
			continue
		}
		a, err := netip.ParseAddr(t.str(id))
		if err != nil {
			continue
		}
		a = a.Unmap()
		if a.Is4() {
			v := a.As4()
			ip4 = append(ip4, uint64(binary.BigEndian.Uint32(v[:]))<<32|uint64(id))
		} else {
			v := a.As16()
			ip6 = append(ip6, binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]), uint64(id))
		}
	}
	slices.Sort(ip4)
	sortTriples(ip6)
	return ip4, ip6
}

// parentCache remembers the last parent looked up: dumps sorted by name
// list a domain's hosts together.
type parentCache struct {
	name []byte
	id   uint32
}

// parentOf interns the domain name id is directly under and returns its
// id+1, or 0 when id is not a host name or has no parent below the TLD.
func (b *builder) parentOf(id uint32, last *parentCache) uint32 {
	f := b.nameFlags[id]
	if f&flagIP != 0 || f&(flagOwner|flagTarget|flagNode) == 0 {
		return 0
	}
	s := b.names.bytesOf(id)
	dot := bytes.IndexByte(s, '.')
	if dot < 0 || bytes.IndexByte(s[dot+1:], '.') < 0 {
		return 0
	}
	parent := s[dot+1:]
	if last.name != nil && bytes.Equal(parent, last.name) {
		return last.id + 1
	}
	p := internFlag(b.names, &b.nameFlags, parent, flagNode)
	last.name, last.id = b.names.bytesOf(p), p
	return p + 1
}

// csr builds a compressed sparse row mapping from n keys to items, from a
// generator of (key, item) pairs that can be run twice.
func csr(n int, pairs func(yield func(key, item uint32))) (start, items []uint32) {
	start = make([]uint32, n+1)
	total := 0
	pairs(func(k, _ uint32) { start[k+1]++; total++ })
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	items = make([]uint32, total)
	next := slices.Clone(start[:n])
	pairs(func(k, it uint32) {
		items[next[k]] = it
		next[k]++
	})
	return start, items
}

// sortTriples sorts a flat slice of (hi, lo, id) triples by (hi, lo).
func sortTriples(t []uint64) {
	type triple struct{ hi, lo, id uint64 }
	tr := make([]triple, len(t)/3)
	for i := range tr {
		tr[i] = triple{t[3*i], t[3*i+1], t[3*i+2]}
	}
	slices.SortFunc(tr, func(a, b triple) int {
		if a.hi != b.hi {
			return cmpU64(a.hi, b.hi)
		}
		return cmpU64(a.lo, b.lo)
	})
	for i, x := range tr {
		t[3*i], t[3*i+1], t[3*i+2] = x.hi, x.lo, x.id
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
