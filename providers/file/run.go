package file

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// A run is the observations read while its share of the memory budget
// lasted, sorted by seal into the index's two tables and written by the
// sealer as a segment of the index (sealer.go); readers merge the
// segments.

// memRun is a sealed run: the builder's tables plus the sort orders.
type memRun struct {
	rt *runTables
	// frecs are the records in forward order, exact repeats dropped,
	// their Name the owner's rank; rnames[roffs[r]:roffs[r+1]] is the
	// owner name of rank r, reversed. Both are laid out in the order they
	// are read, so that writing the tables reads memory mostly in order.
	frecs  []frec
	rnames []byte
	roffs  []uint32
	// rents are the reverse entries in order, each with what its table
	// entry needs, so that writing the table reads them in order; the
	// entries of key rank k, keyed then owned, end at rends[2k] and
	// rends[2k+1].
	rents   []rentPos
	rends   []uint32
	rb      int // the bucket of the entry at ri
	keys    []byte
	keyOffs []uint32 // key k is keys[keyOffs[k]:keyOffs[k+1]], by rank
	nkeys   int

	fi, ri   int
	touched  int // reverse entries before it were touched (touchAhead)
	touchedF int // forward entries before it were touched (touchValues)
	// The touches' loads are kept in fields of their own goroutines: the
	// seal's, the name sort's, and the forward and reverse tables' writers.
	sink, nameSink, sinkF, sinkR byte
	mx                           []bool // by type: MX

	// What sealReverse needs of the forward half: the names' ids by rank,
	// the keys' ranks by id, the address-owned PTRs' keys by owner id.
	nameIDs  []uint32
	keyRank  []uint32
	ownerKey map[uint32]uint32
	ptr      []bool // by type: PTR
}

// frec is a record of a sealed run with its lookup key's index (noKey:
// none).
type frec struct {
	record
	key  uint32
	addr uint32 // the value's IPv4 address, when record.IPv4
}

// keyedType reports the types whose records have a lookup key.
func keyedType(t string) bool {
	switch t {
	case "A", "AAAA", "CNAME", "NS", "PTR", "DNAME", "MX":
		return true
	}
	return false
}

// seal sorts a run whose interning goroutines are done.
func seal(rt *runTables, sc *sealScratch) *memRun {
	recs := rt.recs
	for i := range recs {
		v := rt.valueIDs[i]
		recs[i].IPv4 = v == isIPv4Value
		recs[i].Value = v &^ isIPv4Value
	}
	names := rt.names
	n := names.len()

	// Owner names in reversed-bytes order, on one goroutine while the
	// records' value keys are found on another.
	rank := make([]uint32, n)
	m := &memRun{rt: rt}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ids := sortStrings(n, names.bytesOf, true, nil)
		m.nameIDs = ids
		m.rnames = make([]byte, 0, len(names.blob))
		m.roffs = make([]uint32, 1, n+1)
		var sink byte
		for r, id := range ids {
			if r%touchBatch == 0 { // as touchAhead: the names are read at random
				for _, t := range ids[min(r+touchBatch, n):min(r+2*touchBatch, n)] {
					if o := names.offs[t]; o < uint64(len(names.blob)) {
						sink += names.blob[o]
					}
				}
			}
			rank[id] = uint32(r)
			m.rnames = reverseInto(m.rnames, names.bytesOf(id))
			m.roffs = append(m.roffs, uint32(len(m.rnames)))
		}
		m.nameSink = sink
	}()

	// Lookup keys: the value for most types, the host for MX.
	keyType := make([]bool, len(rt.types))
	mxType := make([]bool, len(rt.types))
	ptrType := make([]bool, len(rt.types))
	for i, t := range rt.types {
		keyType[i], mxType[i], ptrType[i] = keyedType(t), t == "MX", t == "PTR"
	}
	valueKey := reuse(&sc.valueKey, rt.values.len())
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
	recKey := reuse(&sc.recKey, len(recs)) // key index per record, or noKey
	// Records keyed by an IPv4 address, as address<<32 | record: sorted
	// as numbers below, each distinct address one key.
	addrRecs := reuse(&sc.addrRecs, len(recs))[:0]
	ownerKey := map[uint32]uint32{}
	for i := range recs {
		r := &recs[i]
		recKey[i] = noKey
		if !keyType[r.Type] {
			continue
		}
		if r.IPv4 {
			addrRecs = append(addrRecs, uint64(rt.addrs[i])<<32|uint64(i))
			continue
		}
		kv := r.Value
		if mxType[r.Type] {
			host := mxHost(rt.values.str(kv))
			if len(host) != len(rt.values.bytesOf(kv)) {
				if a, ok := parseIPv4([]byte(host)); ok {
					addrRecs = append(addrRecs, uint64(a)<<32|uint64(i))
					continue
				}
				kv, _ = rt.values.intern([]byte(host))
				for len(valueKey) < rt.values.len() {
					valueKey = append(valueKey, noKey)
				}
			}
		}
		if valueKey[kv] == noKey {
			valueKey[kv] = addKey(rt.values.bytesOf(kv), false)
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
	// The address keys follow the others' ids.
	g := len(keyIsOwner)
	sortByHigh32(addrRecs, reuse(&sc.addrTmp, len(addrRecs)))
	addrKeys := reuse(&sc.addrKeys, len(addrRecs))[:0] // distinct, ascending
	for j, p := range addrRecs {
		if a := uint32(p >> 32); j == 0 || a != uint32(addrRecs[j-1]>>32) {
			addrKeys = append(addrKeys, a)
		}
		recKey[uint32(p)] = uint32(g + len(addrKeys) - 1)
	}
	nkeys := g + len(addrKeys)
	// The values' first windows (no more are interned from here on): a
	// name's records are ordered by them, reading text only on a tie.
	valueWin := reuse(&sc.valueWin, rt.values.len())
	for id := range valueWin {
		valueWin[id] = window(rt.values.bytesOf(uint32(id)), 0, false)
	}
	keyRank := reuse(&sc.keyRank, nkeys)
	{
		key := func(k uint32) []byte { return m.keys[m.keyOffs[k]:m.keyOffs[k+1]] }
		// Equal keys: a value's before a PTR owner's, then in the order found.
		ids := sortStrings(g, key, false, func(a, c uint32) int {
			switch {
			case keyIsOwner[a] == keyIsOwner[c]:
				return cmp.Compare(a, c)
			case keyIsOwner[c]:
				return -1
			}
			return 1
		})
		// Keys by rank, so that readers need no second table: the sorted
		// addresses merged in. Only a PTR owner's key can equal an
		// address's (values that are addresses are all in addrKeys), and
		// the value's goes first.
		sorted := make([]byte, 0, len(m.keys)+5*len(addrKeys))
		offs := make([]uint32, 0, nkeys+1)
		ak := [5]byte{keyIPv4}
		gi, ai := 0, 0
		for r := range nkeys {
			offs = append(offs, uint32(len(sorted)))
			if ai < len(addrKeys) {
				binary.BigEndian.PutUint32(ak[1:], addrKeys[ai])
				if gi == len(ids) || bytes.Compare(ak[:], key(ids[gi])) <= 0 {
					sorted = append(sorted, ak[:]...)
					keyRank[g+ai] = uint32(r)
					ai++
					continue
				}
			}
			k := ids[gi]
			keyRank[k] = uint32(r)
			sorted = append(sorted, key(k)...)
			gi++
		}
		m.keys, m.keyOffs = sorted, append(offs, uint32(len(sorted)))
	}
	m.nkeys = nkeys
	wg.Wait()

	// Records by owner rank (counting sort, each record moved with its
	// key so that what follows reads them in order), then within a name
	// by type, value and window, exact repeats dropped.
	start := reuse(&sc.start, n+1)
	clear(start)
	for _, r := range recs {
		start[rank[r.Name]+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	frecs := reuse(&sc.frecs, len(recs))
	// Two passes of a radix sort: the records go first to about 512
	// groups of ranks, each written in order (a few hundred streams that
	// the caches hold), then within each group, small enough for the
	// caches, to their places. One pass straight to their places wrote
	// each record at random into an array far larger than the caches.
	shift := groupShift(n)
	groups := n>>shift + 1
	gpos := reuse(&sc.gpos, groups)
	for g := range gpos {
		gpos[g] = start[min(g<<shift, n)]
	}
	for i, r := range recs {
		r.Name = rank[r.Name] // from here on a record's name is its rank
		p := &gpos[r.Name>>shift]
		frecs[*p] = frec{record: r, key: recKey[i], addr: rt.addrs[i]}
		*p++
	}
	sortWithinGroups(frecs, start, n, shift, &sc.ftmp, func(f *frec) uint32 { return f.Name })
	start, recKey = nil, nil
	values := rt.values
	cmpRec := func(a, c *frec) int {
		if a.Type != c.Type {
			return cmp.Compare(a.Type, c.Type)
		}
		if d := compareValues(values, valueWin, a, c); d != 0 {
			return d
		}
		if a.First != c.First {
			return cmp.Compare(a.First, c.First)
		}
		if a.Last != c.Last {
			return cmp.Compare(a.Last, c.Last)
		}
		return cmp.Compare(a.Count, c.Count)
	}
	w := 0
	for i := 0; i < len(frecs); {
		name := frecs[i].Name
		j := i + 1
		for j < len(frecs) && frecs[j].Name == name {
			j++
		}
		g := frecs[i:j]
		switch {
		case len(g) <= 1:
		case len(g) <= 8:
			// A name has a few records as a rule: an insertion sort,
			// comparing in place, not by copies as SortFunc's callback.
			for k := 1; k < len(g); k++ {
				for m := k; m > 0 && cmpRec(&g[m-1], &g[m]) > 0; m-- {
					g[m-1], g[m] = g[m], g[m-1]
				}
			}
		default:
			slices.SortFunc(g, func(a, c frec) int { return cmpRec(&a, &c) })
		}
		for k := range g {
			if k > 0 && cmpRec(&g[k-1], &g[k]) == 0 {
				continue
			}
			frecs[w] = g[k]
			w++
		}
		i = j
	}
	m.frecs = frecs[:w]
	m.keyRank, m.ownerKey, m.ptr, m.mx = keyRank, ownerKey, ptrType, mxType
	return m
}

// sealReverse sorts a sealed run's reverse entries: on the reverse
// table's writer, while the forward table is written from m.frecs,
// which it only reads.
func (m *memRun) sealReverse(sc *sealScratch) {
	keyRank, ownerKey, ptrType, nkeys := m.keyRank, m.ownerKey, m.ptr, m.nkeys
	var sink uint32
	// Reverse entries, sorted by key rank, owned after keyed, then in
	// forward order: a counting sort on buckets of 2*rank+owned, filled
	// in forward order.
	buckets := reuse(&sc.buckets, len(m.frecs))[:0] // per entry, in forward order
	entPos := reuse(&sc.entPos, len(m.frecs))[:0]   // its forward position
	ends := reuse(&sc.ends, 2*nkeys+1)
	clear(ends)
	for p := range m.frecs {
		if p%touchBatch == 0 {
			for q := p + touchBatch; q < min(p+2*touchBatch, len(m.frecs)); q++ {
				if k := m.frecs[q].key; k != noKey {
					sink += ends[2*keyRank[k]+1]
				}
			}
		}
		if k := m.frecs[p].key; k != noKey {
			b := 2 * keyRank[k]
			buckets, entPos = append(buckets, b), append(entPos, uint32(p))
			ends[b+1]++
		}
		if r := &m.frecs[p]; ptrType[r.Type] {
			if k, ok := ownerKey[m.nameIDs[r.Name]]; ok && k != noKey {
				b := 2*keyRank[k] + 1
				buckets, entPos = append(buckets, b), append(entPos, uint32(p))
				ends[b+1]++
			}
		}
	}
	for i := 1; i < len(ends); i++ {
		ends[i] += ends[i-1]
	}
	// As the records above: first to groups of buckets, then within each.
	rents := reuse(&sc.rents, len(buckets))
	nb := 2 * nkeys
	shift := groupShift(nb)
	groups := nb>>shift + 1
	gpos := reuse(&sc.rgpos, groups)
	for g := range gpos {
		gpos[g] = ends[min(g<<shift, nb)]
	}
	for i, b := range buckets {
		r := &m.frecs[entPos[i]]
		v := r.Value
		if r.IPv4 {
			v = r.addr
		}
		p := &gpos[b>>shift]
		rents[*p] = rentPos{roff: m.roffs[r.Name], rend: m.roffs[r.Name+1], first: r.First, last: r.Last, count: r.Count, value: v, bucket: b, typ: r.Type, owned: b&1 == 1, ip4: r.IPv4}
		*p++
	}
	sortWithinGroups(rents, ends, nb, shift, &sc.rtmp, func(e *rentPos) uint32 { return e.bucket })
	m.rents, m.rends = rents, ends[:2*nkeys]
	m.sink = byte(sink)
	m.nameIDs, m.ownerKey = nil, nil // garbage while the table is written
}

func (m *memRun) nextF(x *fent) bool {
	if m.fi >= len(m.frecs) {
		return false
	}
	if m.fi >= m.touchedF {
		m.touchValues()
	}
	r := &m.frecs[m.fi]
	m.fi++
	x.rname, x.typ = m.rnames[m.roffs[r.Name]:m.roffs[r.Name+1]], r.Type
	// The values goroutine said whether the value is an IPv4 address;
	// then its text is not read at all (addF writes the address), which
	// spares a random read of the value table for most FDNS records.
	if r.IPv4 {
		x.addr, x.value = valueIPv4|uint64(r.addr), nil
	} else {
		x.addr, x.value = valueNotIPv4, m.rt.values.bytesOf(r.Value)
	}
	x.first, x.last, x.count = r.First, r.Last, r.Count
	return true
}

// touchValues is touchAhead for the text of the next forward entries'
// values that are not addresses.
func (m *memRun) touchValues() {
	end := min(m.fi+touchBatch, len(m.frecs))
	values := m.rt.values
	var s byte
	for i := m.fi; i < end; i++ {
		if r := &m.frecs[i]; !r.IPv4 {
			if o := values.offs[r.Value]; o < uint64(len(values.blob)) {
				s += values.blob[o]
			}
		}
	}
	m.sinkF += s
	m.touchedF = end
}

func (m *memRun) nextR(x *rent) bool {
	if m.ri >= len(m.rents) {
		return false
	}
	for uint32(m.ri) >= m.rends[m.rb] {
		m.rb++
	}
	if m.ri >= m.touched {
		m.touchAhead()
	}
	e := &m.rents[m.ri]
	m.ri++
	k := m.rb / 2
	x.key = m.keys[m.keyOffs[k]:m.keyOffs[k+1]]
	x.owned = e.owned
	x.rname, x.typ = m.rnames[e.roff:e.rend], e.typ
	// A keyed record's value is its key's text, except an MX value
	// written with its preference: only then are its bytes read.
	x.implied = !x.owned && !m.mx[e.typ]
	x.value = nil
	switch {
	case x.implied:
	case e.ip4: // a PTR or MX value that is an address: rare
		x.value = appendIPv4(nil, e.value)
	default:
		x.value = m.rt.values.bytesOf(e.value)
	}
	x.first, x.last, x.count = e.first, e.last, e.count
	return true
}

// touchAhead reads the owner names of the next reverse entries, which
// are spread over the run's names, in one loop of independent loads:
// their cache misses overlap instead of stalling the entries' encoding
// one after another.
func (m *memRun) touchAhead() {
	end := min(m.ri+touchBatch, len(m.rents))
	var s byte
	for i := m.ri; i < end; i++ {
		e := &m.rents[i]
		if e.rend > e.roff {
			s += m.rnames[e.roff] + m.rnames[e.rend-1]
		}
	}
	m.sinkR += s
	m.touched = end
}

const touchBatch = 32

// rentPos is a reverse entry of a sealed run.
type rentPos struct {
	roff, rend         uint32 // its owner's reversed name in rnames
	first, last, count uint32
	value              uint32 // its id, or its address with ip4
	bucket             uint32 // 2*key rank + owned, for the seal's sort
	typ                uint16
	owned, ip4         bool
}

// groupShift is the shift that parts n ranks into about 512 groups for
// the seal's two-pass radix sorts.
func groupShift(n int) uint {
	return uint(max(0, bits.Len(uint(n))-9))
}

// sortWithinGroups is the second pass of the seal's radix sorts: items
// are in their groups (2^shift buckets each, of nb), and are put in
// bucket order within each, through *tmp. starts[b] is bucket b's first
// position (len nb+1) and is left at its end. A group that holds one
// bucket is in place already (a name of many records, say).
func sortWithinGroups[T any](items []T, starts []uint32, nb int, shift uint, tmp *[]T, bucketOf func(*T) uint32) {
	for g := range nb>>shift + 1 {
		first, end := min(g<<shift, nb), min((g+1)<<shift, nb)
		lo, hi := starts[first], starts[end]
		if hi-lo < 2 || oneNonEmpty(starts[first:end+1]) {
			for b := first; b < end; b++ {
				starts[b] = starts[b+1]
			}
			continue
		}
		t := reuse(tmp, int(hi-lo))
		for i := range items[lo:hi] {
			it := &items[lo+uint32(i)]
			p := &starts[bucketOf(it)]
			t[*p-lo] = *it
			*p++
		}
		copy(items[lo:hi], t)
	}
}

// oneNonEmpty reports whether at most one of the ranges between
// consecutive starts holds anything.
func oneNonEmpty(starts []uint32) bool {
	seen := false
	for i := 1; i < len(starts); i++ {
		if starts[i] != starts[i-1] {
			if seen {
				return false
			}
			seen = true
		}
	}
	return true
}

// compareValues orders two sealed records' values as their text: two
// addresses by number (ipv4TextOrder), two others by their first windows
// (win, by value id), reading their text only when those are equal and
// full.
func compareValues(values *strtab, win []uint64, a, c *frec) int {
	switch {
	case a.IPv4 && c.IPv4:
		if a.addr == c.addr {
			return 0
		}
		return cmp.Compare(ipv4TextOrder(a.addr), ipv4TextOrder(c.addr))
	case a.IPv4 || c.IPv4:
		var ab, cb [15]byte
		return bytes.Compare(valueText(values, a, ab[:0]), valueText(values, c, cb[:0]))
	case a.Value == c.Value:
		return 0
	}
	if wa, wc := win[a.Value], win[c.Value]; wa != wc || wa&0xff < winBytes {
		return cmp.Compare(wa, wc)
	}
	return bytes.Compare(values.bytesOf(a.Value), values.bytesOf(c.Value))
}

func valueText(values *strtab, r *frec, buf []byte) []byte {
	if r.IPv4 {
		return appendIPv4(buf, r.addr)
	}
	return values.bytesOf(r.Value)
}

// octetTextRank[n] is the rank of n's decimal text among those of 0-255
// in byte order ("1" < "10" < "100" < ... < "2" < "20" ...).
var octetTextRank = func() (rank [256]uint8) {
	texts := make([]string, 256)
	for i := range texts {
		texts[i] = strconv.Itoa(i)
	}
	order := make([]int, 256)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(texts[a], texts[b]) })
	for r, n := range order {
		rank[n] = uint8(r)
	}
	return rank
}()

// ipv4TextOrder maps an address to a number ordered as its dotted-quad
// text is in byte order. Comparing texts octet by octet is comparing the
// octets' decimal texts, as a shorter one that is a prefix of the other
// is followed by a '.' or the end, both below any digit.
func ipv4TextOrder(a uint32) uint32 {
	return uint32(octetTextRank[a>>24])<<24 | uint32(octetTextRank[a>>16&0xff])<<16 |
		uint32(octetTextRank[a>>8&0xff])<<8 | uint32(octetTextRank[a&0xff])
}

// sortByHigh32 sorts a by its high 32 bits, a radix sort a byte at a
// time; tmp is scratch of len(a).
func sortByHigh32(a, tmp []uint64) {
	var counts [4][256]int
	for _, x := range a {
		counts[0][byte(x>>32)]++
		counts[1][byte(x>>40)]++
		counts[2][byte(x>>48)]++
		counts[3][byte(x>>56)]++
	}
	src, dst := a, tmp
	for d := range 4 {
		c := &counts[d]
		shift := 32 + 8*uint(d)
		if len(src) == 0 || c[byte(src[0]>>shift)] == len(src) {
			continue
		}
		sum := 0
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		for _, x := range src {
			b := byte(x >> shift)
			dst[c[b]] = x
			c[b]++
		}
		src, dst = dst, src
	}
	if len(a) > 0 && &src[0] != &a[0] {
		copy(a, src)
	}
}

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
