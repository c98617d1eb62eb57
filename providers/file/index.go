package file

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
)

// record is one (name, type, value) observation of the file, 24 bytes.
// Times are unix seconds (0: unknown), enough until 2106.
type record struct {
	Name, Value uint32 // string ids
	First, Last uint32
	Count       uint32 // saturating
	Type        uint16 // index into index.types
	_           uint16
}

// String flags.
const (
	flagOwner  uint8 = 1 << iota // appears as a record's owner name
	flagTarget                   // appears as a host-name value (CNAME, NS, MX host, PTR)
	flagNode                     // an intermediate domain added to link the name tree
	flagIP                       // parses as an IP address
)

const noKey = math.MaxUint32

// index is everything the queries need, built in one pass over the file
// and never rescanned. All slices are flat arrays of fixed-size integers
// so that the whole index can be written to disk and read back in one go.
type index struct {
	strs  *strtab
	types []string
	// flags per string id.
	flags []uint8
	// recs sorted by owner name; the records of string id n are
	// recs[nameStart[n]:nameStart[n+1]].
	recs      []record
	nameStart []uint32
	// keyRecs[keyStart[k]:keyStart[k+1]] are the record positions whose
	// lookup key is string k: the IP of A/AAAA records, the target of
	// CNAME/NS/PTR records, the host of MX records.
	keyStart []uint32
	keyRecs  []uint32
	// parent[n] is the id+1 of the domain n is directly under (0: none);
	// childIDs[childStart[p]:childStart[p+1]] are the names directly
	// under p.
	parent     []uint32
	childStart []uint32
	childIDs   []uint32
	// IPs among the strings, sorted by address for CIDR queries:
	// ip4 entries are addr<<32|id; ip6 entries are triples (hi, lo, id).
	ip4 []uint64
	ip6 []uint64

	asOf     uint32 // newest time in the file
	lines    int64  // lines (or CSV rows) read
	bad      int64  // lines skipped as malformed
	warnings []string
}

// maxWarnings bounds the per-line warnings kept; the rest are counted.
const maxWarnings = 10

// builder accumulates records during the streaming pass.
type builder struct {
	strs    *strtab
	flags   []uint8
	types   []string
	typeIDs map[string]uint16
	recs    []record
	asOf    uint32
	lines   int64
	bad     int64
	badMsgs []string
	notes   []string // file-level warnings (truncated gzip, ...)
}

func newBuilder(sizeHint int64) *builder {
	// About 60 bytes per line is typical of FDNS; pre-size to avoid
	// regrowing the big tables many times.
	expected := int(min(sizeHint/60, 1<<26))
	b := &builder{
		strs:    newStrtab(expected),
		typeIDs: map[string]uint16{},
		recs:    make([]record, 0, max(expected, 64)),
	}
	b.strs.blob = make([]byte, 0, max(sizeHint/3, 1024))
	return b
}

// badLine records a malformed line.
func (b *builder) badLine(line int64, err error) {
	b.bad++
	if len(b.badMsgs) < maxWarnings {
		b.badMsgs = append(b.badMsgs, fmt.Sprintf("line %d: %v", line, err))
	}
}

func (b *builder) internFlag(s []byte, flag uint8) uint32 {
	id, added := b.strs.intern(s)
	if added {
		var f uint8
		if looksLikeIP(s) {
			f = flagIP
		}
		b.flags = append(b.flags, f)
	}
	b.flags[id] |= flag
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

// add stores one normalised observation.
func (b *builder) add(name []byte, rrtype string, value []byte, first, last, count int64) {
	typ, ok := b.typeIDs[rrtype]
	if !ok {
		if len(b.types) >= math.MaxUint16 {
			return
		}
		typ = uint16(len(b.types))
		b.types = append(b.types, rrtype)
		b.typeIDs[rrtype] = typ
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
	r := record{
		Name:  b.internFlag(name, flagOwner),
		First: clampTime(first),
		Last:  clampTime(last),
		Count: clampTime(count),
		Type:  typ,
	}
	var vflag uint8
	if nameTargetType(rrtype) && rrtype != "MX" {
		vflag = flagTarget
	}
	r.Value = b.internFlag(value, vflag)
	if r.Last > b.asOf {
		b.asOf = r.Last
	}
	b.recs = append(b.recs, r)
}

// finish builds the lookup structures. The builder must not be used
// afterwards.
func (b *builder) finish() *index {
	ix := &index{strs: b.strs, types: b.types, asOf: b.asOf, lines: b.lines, bad: b.bad}
	ix.warnings = append(ix.warnings, b.notes...)
	ix.warnings = append(ix.warnings, b.badMsgs...)
	if b.bad > int64(len(b.badMsgs)) {
		ix.warnings = append(ix.warnings, fmt.Sprintf("%d malformed lines skipped in all (%d shown)", b.bad, len(b.badMsgs)))
	}

	// Lookup keys; MX hosts are interned here since the value is "pref host".
	keys := make([]uint32, len(b.recs))
	for i, r := range b.recs {
		keys[i] = noKey
		switch b.types[r.Type] {
		case "A", "AAAA", "CNAME", "NS", "PTR", "DNAME":
			keys[i] = r.Value
		case "MX":
			host := mxHost(b.strs.str(r.Value))
			keys[i] = b.internFlag([]byte(host), flagTarget)
		}
	}

	// Link every name into the domain tree, adding missing intermediate
	// domains as nodes. The loop sees the nodes it appends.
	for id := uint32(0); int(id) < b.strs.len(); id++ {
		ix.parent = append(ix.parent, b.parentOf(id))
	}
	n := b.strs.len()
	ix.flags = b.flags

	// Records sorted by owner name (stable counting sort), keys alongside.
	ix.nameStart = make([]uint32, n+1)
	for _, r := range b.recs {
		ix.nameStart[r.Name+1]++
	}
	for i := 1; i <= n; i++ {
		ix.nameStart[i] += ix.nameStart[i-1]
	}
	ix.recs = make([]record, len(b.recs))
	sortedKeys := make([]uint32, len(b.recs))
	next := slices.Clone(ix.nameStart[:n])
	for i, r := range b.recs {
		pos := next[r.Name]
		next[r.Name]++
		ix.recs[pos] = r
		sortedKeys[pos] = keys[i]
	}
	b.recs, keys, next = nil, nil, nil

	ix.keyStart, ix.keyRecs = csr(n, len(sortedKeys), func(yield func(key, item uint32)) {
		for pos, k := range sortedKeys {
			if k != noKey {
				yield(k, uint32(pos))
			}
		}
	})
	sortedKeys = nil

	ix.childStart, ix.childIDs = csr(n, len(ix.parent), func(yield func(key, item uint32)) {
		for id, p := range ix.parent {
			if p != 0 {
				yield(p-1, uint32(id))
			}
		}
	})

	for id := uint32(0); int(id) < n; id++ {
		if ix.flags[id]&flagIP == 0 {
			continue
		}
		a, err := netip.ParseAddr(ix.strs.str(id))
		if err != nil {
			continue
		}
		a = a.Unmap()
		if a.Is4() {
			v := a.As4()
			ix.ip4 = append(ix.ip4, uint64(binary.BigEndian.Uint32(v[:]))<<32|uint64(id))
		} else {
			v := a.As16()
			ix.ip6 = append(ix.ip6, binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:]), uint64(id))
		}
	}
	slices.Sort(ix.ip4)
	sortTriples(ix.ip6)
	return ix
}

// parentOf interns the domain id is directly under and returns its id+1,
// or 0 when id is not a host name or has no parent below the TLD.
func (b *builder) parentOf(id uint32) uint32 {
	f := b.flags[id]
	if f&flagIP != 0 || f&(flagOwner|flagTarget|flagNode) == 0 {
		return 0
	}
	s := b.strs.bytesOf(id)
	dot := bytes.IndexByte(s, '.')
	if dot < 0 || bytes.IndexByte(s[dot+1:], '.') < 0 {
		return 0
	}
	p, added := b.strs.intern(s[dot+1:])
	if added {
		b.flags = append(b.flags, flagNode)
	} else {
		b.flags[p] |= flagNode
	}
	return p + 1
}

// csr builds a compressed sparse row mapping from n keys to items, from a
// generator that yields each (key, item) pair twice-callable.
func csr(n, capHint int, pairs func(yield func(key, item uint32))) (start, items []uint32) {
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
