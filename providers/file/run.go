package file

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
)

// A run is the observations read while the memory budget lasted, sorted
// into the index's two tables: in memory for the last run, in a spill
// file for the others. The index is the merge of the runs.

// memRun is a sealed run: the builder's tables plus the sort orders.
type memRun struct {
	b *builder
	// frecs are the records in forward order, exact repeats dropped,
	// their Name the owner's rank; rnames[roffs[r]:roffs[r+1]] is the
	// owner name of rank r, reversed. Both are laid out in the order they
	// are read, so that writing the tables reads memory mostly in order.
	frecs  []record
	rnames []byte
	roffs  []uint32
	// rents are the reverse entries in order: keyRank<<32 | owned<<31 |
	// index into fpos.
	rents   []uint64
	keys    []byte
	keyOffs []uint32 // key k is keys[keyOffs[k]:keyOffs[k+1]], by rank
	nkeys   int

	fi, ri int
	mx     []bool // by type: MX
}

// keyedType reports the types whose records have a lookup key.
func keyedType(t string) bool {
	switch t {
	case "A", "AAAA", "CNAME", "NS", "PTR", "DNAME", "MX":
		return true
	}
	return false
}

// seal sorts the current run. The interning goroutines must be stopped.
func (b *builder) seal() *memRun {
	recs := b.recs
	for i := range recs {
		recs[i].Value = b.valueIDs[i]
	}
	names := b.names
	n := names.len()

	// Owner names in reversed-bytes order, on one goroutine while the
	// records' value keys are found on another.
	rank := make([]uint32, n)
	m := &memRun{b: b}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ids := sortStrings(n, names.bytesOf, true, nil)
		m.rnames, m.roffs = reversedByRank(names, ids, rank)
	}()

	// Lookup keys: the value for most types, the host for MX.
	keyType := make([]bool, len(b.types))
	mxType := make([]bool, len(b.types))
	ptrType := make([]bool, len(b.types))
	for i, t := range b.types {
		keyType[i], mxType[i], ptrType[i] = keyedType(t), t == "MX", t == "PTR"
	}
	valueKey := make([]uint32, b.values.len())
	for i := range valueKey {
		valueKey[i] = noKey
	}
	var keyIsOwner []bool
	m.keyOffs = []uint32{0}
	addKey := func(s []byte, owner bool) uint32 {
		m.keys = appendKey(m.keys, s)
		m.keyOffs = append(m.keyOffs, uint32(len(m.keys)))
		keyIsOwner = append(keyIsOwner, owner)
		return uint32(len(keyIsOwner) - 1)
	}
	recKey := make([]uint32, len(recs)) // key index per record, or noKey
	ownerKey := map[uint32]uint32{}
	for i := range recs {
		r := &recs[i]
		recKey[i] = noKey
		if !keyType[r.Type] {
			continue
		}
		kv := r.Value
		if mxType[r.Type] {
			host := mxHost(b.values.str(kv))
			if len(host) != len(b.values.bytesOf(kv)) {
				kv = b.internValue([]byte(host))
				for len(valueKey) < b.values.len() {
					valueKey = append(valueKey, noKey)
				}
			}
		}
		if valueKey[kv] == noKey {
			valueKey[kv] = addKey(b.values.bytesOf(kv), false)
		}
		recKey[i] = valueKey[kv]
	}
	// PTR records owned by an address are keyed by it too.
	for i := range recs {
		r := &recs[i]
		if !ptrType[r.Type] {
			continue
		}
		if _, done := ownerKey[r.Name]; done {
			continue
		}
		owner := names.bytesOf(r.Name)
		k := uint32(noKey)
		if looksLikeIP(owner) {
			if kb := appendKey(nil, owner); kb[0] != keyName {
				k = addKey(owner, true)
			}
		}
		ownerKey[r.Name] = k
	}
	nkeys := len(keyIsOwner)
	keyRank := make([]uint32, nkeys)
	{
		key := func(k uint32) []byte { return m.keys[m.keyOffs[k]:m.keyOffs[k+1]] }
		// Equal keys: a value's before a PTR owner's, then in the order found.
		ids := sortStrings(nkeys, key, false, func(a, c uint32) int {
			switch {
			case keyIsOwner[a] == keyIsOwner[c]:
				return cmp.Compare(a, c)
			case keyIsOwner[c]:
				return -1
			}
			return 1
		})
		// Keys by rank, so that readers need no second table.
		sorted := make([]byte, 0, len(m.keys))
		offs := make([]uint32, 0, nkeys+1)
		for r, k := range ids {
			keyRank[k] = uint32(r)
			offs = append(offs, uint32(len(sorted)))
			sorted = append(sorted, key(k)...)
		}
		m.keys, m.keyOffs = sorted, append(offs, uint32(len(sorted)))
	}
	m.nkeys = nkeys
	wg.Wait()

	// Records by owner rank (counting sort), then within a name by type,
	// value and window, exact repeats dropped. The counting sort moves
	// the records and their keys, so that all that follows reads them in
	// order.
	start := make([]uint32, n+1)
	for _, r := range recs {
		start[rank[r.Name]+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	frecs := make([]record, len(recs))
	keyAt := make([]uint32, len(recs))
	for i := range recs {
		p := &start[rank[recs[i].Name]]
		frecs[*p], keyAt[*p] = recs[i], recKey[i]
		*p++
	}
	recKey = nil
	// start[r] is now the end of rank r's records. The run's records are
	// compacted in place: position w never passes the group being read,
	// and a group of more than one is sorted in a copy.
	//
	// Reverse entries, sorted below by key rank, owned after keyed, then
	// in forward order; they are made in forward order.
	values := b.values
	rents := make([]uint64, 0, len(recs))
	var group []keyedRec
	w, lo := 0, 0
	add := func(r uint32, rec record, key uint32) {
		p := uint64(w)
		if key != noKey {
			rents = append(rents, uint64(keyRank[key])<<32|p)
		}
		if ptrType[rec.Type] {
			if k := ownerKey[rec.Name]; k != noKey {
				rents = append(rents, uint64(keyRank[k])<<32|1<<31|p)
			}
		}
		rec.Name = r
		frecs[w] = rec
		w++
	}
	for r := range uint32(n) {
		hi := int(start[r])
		if hi-lo == 1 {
			add(r, frecs[lo], keyAt[lo])
		} else if hi > lo {
			group = group[:0]
			for i := lo; i < hi; i++ {
				group = append(group, keyedRec{record: frecs[i], key: keyAt[i]})
			}
			sortRecords(group, values)
			for k := range group {
				if k > 0 && compareRecords(values, &group[k-1].record, &group[k].record) == 0 {
					continue
				}
				add(r, group[k].record, group[k].key)
			}
		}
		lo = hi
	}
	start, keyAt = nil, nil
	m.frecs = frecs[:w]
	if w < len(frecs)-len(frecs)/4 {
		m.frecs = slices.Clone(m.frecs)
	}
	// rents were made in forward order: those with the same key rank and
	// owned bit are in the order of their low 31 bits.
	radixSortHigh(rents, 3)
	m.rents = rents
	m.mx = mxType
	return m
}

func (m *memRun) nextF(x *fent) bool {
	if m.fi >= len(m.frecs) {
		return false
	}
	r := &m.frecs[m.fi]
	m.fi++
	x.rname, x.typ, x.value = m.rnames[m.roffs[r.Name]:m.roffs[r.Name+1]], r.Type, m.b.values.bytesOf(r.Value)
	x.first, x.last, x.count = r.First, r.Last, r.Count
	return true
}

func (m *memRun) nextR(x *rent) bool {
	if m.ri >= len(m.rents) {
		return false
	}
	e := m.rents[m.ri]
	m.ri++
	k := uint32(e >> 32)
	r := &m.frecs[uint32(e)&(1<<31-1)]
	x.key = m.keys[m.keyOffs[k]:m.keyOffs[k+1]]
	x.owned = e&(1<<31) != 0
	x.rname, x.typ = m.rnames[m.roffs[r.Name]:m.roffs[r.Name+1]], r.Type
	// A keyed record's value is its key's text, except an MX value
	// written with its preference: only then are its bytes read.
	x.implied = !x.owned && !m.mx[r.Type]
	x.value = nil
	if !x.implied {
		x.value = m.b.values.bytesOf(r.Value)
	}
	x.first, x.last, x.count = r.First, r.Last, r.Count
	return true
}

// spilledRun is a run written to a spill file, uncompressed.
type spilledRun struct {
	file       *spillFile
	fdir, rdir []blockRef
}

// spill seals the current run, writes it to a spill file and starts the
// next run with emptied tables.
func (b *builder) spill() {
	b.stop()
	m := b.seal()
	f, err := newSpillFile(b.spillDir)
	if err == nil {
		fw, rw := newTableWriter(f.bw, false), newTableWriter(f.bw, false)
		var x fent
		for m.nextF(&x) {
			fw.addF(&x)
		}
		var y rent
		for m.nextR(&y) {
			rw.addR(&y)
		}
		run := &spilledRun{file: f}
		var err1, err2 error
		run.fdir, err1 = fw.close()
		run.rdir, err2 = rw.close()
		err = cmp.Or(err1, err2, f.finishWrites())
		if err != nil {
			f.close()
		} else {
			b.runs = append(b.runs, run)
		}
	}
	if err != nil {
		b.err = err
	}
	m = nil
	// The sort's arrays are garbage now: collect them before the next
	// run's grow, so that the heap stays near the budget.
	runtime.GC()
	b.names.reset()
	b.values.reset()
	b.valueIP4.reset()
	b.recs, b.valueIDs = b.recs[:0], b.valueIDs[:0]
	b.runObs = 0
	b.nameBytes.Store(0)
	b.valueBytes.Store(0)
	b.start()
}

// fsource and rsource are the merge's inputs.
type fsource interface{ nextF(*fent) bool }
type rsource interface{ nextR(*rent) bool }

func compareF(a, b *fent) int {
	if d := bytes.Compare(a.rname, b.rname); d != 0 {
		return d
	}
	if a.typ != b.typ {
		return cmp.Compare(a.typ, b.typ)
	}
	if d := bytes.Compare(a.value, b.value); d != 0 {
		return d
	}
	if a.first != b.first {
		return cmp.Compare(a.first, b.first)
	}
	if a.last != b.last {
		return cmp.Compare(a.last, b.last)
	}
	return cmp.Compare(a.count, b.count)
}

func compareR(a, b *rent) int {
	if d := bytes.Compare(a.key, b.key); d != 0 {
		return d
	}
	if a.owned != b.owned {
		if b.owned {
			return -1
		}
		return 1
	}
	if d := bytes.Compare(a.rname, b.rname); d != 0 {
		return d
	}
	if a.typ != b.typ {
		return cmp.Compare(a.typ, b.typ)
	}
	if !(a.implied && b.implied) {
		if d := bytes.Compare(a.valueOf(), b.valueOf()); d != 0 {
			return d
		}
	}
	if a.first != b.first {
		return cmp.Compare(a.first, b.first)
	}
	if a.last != b.last {
		return cmp.Compare(a.last, b.last)
	}
	return cmp.Compare(a.count, b.count)
}

// mergeTable merges sorted sources into w, dropping exact repeats, and
// counts the distinct names (F) or keys (R).
func mergeTable[E any](srcs []func(*E) bool, cmpE func(a, b *E) int, clone func(dst, src *E), add func(*E), key func(*E) []byte) (distinct int64) {
	if len(srcs) == 1 {
		// One run, already sorted and without repeats.
		var e E
		var last []byte
		for srcs[0](&e) {
			if k := key(&e); distinct == 0 || !bytes.Equal(k, last) {
				distinct++
				last = append(last[:0], k...)
			}
			add(&e)
		}
		return distinct
	}
	cur := make([]E, len(srcs))
	live := make([]int, 0, len(srcs))
	for i, next := range srcs {
		if next(&cur[i]) {
			live = append(live, i)
		}
	}
	var last E
	have := false
	for len(live) > 0 {
		best := 0
		for j := 1; j < len(live); j++ {
			if cmpE(&cur[live[j]], &cur[live[best]]) < 0 {
				best = j
			}
		}
		i := live[best]
		e := &cur[i]
		if !have || cmpE(e, &last) != 0 {
			if !have || !bytes.Equal(key(e), key(&last)) {
				distinct++
			}
			add(e)
			clone(&last, e)
			have = true
		}
		if !srcs[i](&cur[i]) {
			live = append(live[:best], live[best+1:]...)
		}
	}
	return distinct
}

// finish ends the build: it seals the last run, merges the runs into an
// index written to out from its start, and returns the index (its source
// is for the caller to set). The builder must not be used afterwards.
func (b *builder) finish(out io.Writer, id fileIdentity, format string) (*index, error) {
	b.flush()
	b.stop()
	defer b.release2()
	if b.err != nil {
		return nil, fmt.Errorf("spilling a sorted run: %w", b.err)
	}
	m := b.seal()
	header := appendHeader(nil, id)
	bw := bufio.NewWriterSize(out, 4<<20)
	bw.Write(header)
	bf := &blockFile{w: bw, off: headerSize}
	fw, rw := newTableWriter(bf, true), newTableWriter(bf, true)
	ix := &index{format: format, asOf: b.asOf, lines: b.lines, bad: b.bad, records: b.emitted, types: b.types, runs: len(b.runs) + 1}
	ix.warnings = append(ix.warnings, b.notes...)
	ix.warnings = append(ix.warnings, b.badMsgs...)
	if b.bad > int64(len(b.badMsgs)) {
		ix.warnings = append(ix.warnings, fmt.Sprintf("%d malformed lines skipped in all (%d shown)", b.bad, len(b.badMsgs)))
	}
	fsrcs := []func(*fent) bool{m.nextF}
	rsrcs := []func(*rent) bool{m.nextR}
	var readers []*tableReader
	for _, run := range b.runs {
		fr := &tableReader{src: run.file.f, refs: run.fdir, raw: true, ntypes: len(b.types)}
		rr := &tableReader{src: run.file.f, refs: run.rdir, raw: true, ntypes: len(b.types)}
		readers = append(readers, fr, rr)
		fsrcs = append(fsrcs, fr.nextF)
		rsrcs = append(rsrcs, rr.nextR)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		ix.names = mergeTable(fsrcs, compareF, func(dst, src *fent) {
			*dst = fent{rname: append(dst.rname[:0], src.rname...), typ: src.typ, value: append(dst.value[:0], src.value...), first: src.first, last: src.last, count: src.count}
		}, fw.addF, func(x *fent) []byte { return x.rname })
	}()
	go func() {
		defer wg.Done()
		ix.keys = mergeTable(rsrcs, compareR, func(dst, src *rent) {
			*dst = rent{key: append(dst.key[:0], src.key...), owned: src.owned, rname: append(dst.rname[:0], src.rname...), typ: src.typ, implied: src.implied, first: src.first, last: src.last, count: src.count}
			if !src.implied {
				dst.value = append(dst.value[:0], src.value...)
			}
		}, rw.addR, func(x *rent) []byte { return x.key })
	}()
	wg.Wait()
	var err1, err2 error
	ix.fdir, err1 = fw.close()
	ix.rdir, err2 = rw.close()
	err := cmp.Or(err1, err2)
	for _, r := range readers {
		err = cmp.Or(err, r.err)
	}
	if err != nil {
		return nil, err
	}
	if err := ix.writeTail(bf, header); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	ix.size = bf.off
	return ix, nil
}
