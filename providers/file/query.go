package file

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reconform/reconform/schema"
)

// result collects the findings of one query, merging records that share
// an identity (the same tuple seen by several sensors, in several
// windows, in a zone file and by a sensor).
//
// A record repeated exactly (same name, type, value, window and count) is
// one observation read twice and counts once: the rule every COF reader
// follows (see providers.MergeObservations). Real exports repeat lines
// that way: Robtex repeats whole lines of one answer, and exports made by
// concatenating answers or pages repeat records.
type result struct {
	ix        *index
	q         schema.Query
	source    string
	cutoff    uint32 // last_seen at or after this is current
	max       int
	byID      map[[3]uint32]int
	out       []schema.Finding
	truncated bool
	// lastValue is the id+1 of the value lastValueStr holds.
	lastValue    uint32
	lastValueStr string
	// obs[i] is the first observation merged into out[i] while it is the
	// only one (state[i] 1); seen holds the observations of findings that
	// have more (state[i] 2), so that a finding seen once (the common
	// case) costs no set.
	obs   []record
	state []uint8
	seen  map[record]struct{}
}

// repeated reports whether rec is an observation already merged into the
// finding at i, and remembers it otherwise. obs and state grow with out. Records of different findings
// differ in name, type or value, so one set serves them all.
func (r *result) repeated(i int, rec record) bool {
	switch r.state[i] {
	case 0:
		r.obs[i], r.state[i] = rec, 1
		return false
	case 1:
		if rec == r.obs[i] {
			return true
		}
		if r.seen == nil {
			r.seen = map[record]struct{}{}
		}
		r.seen[r.obs[i]] = struct{}{}
		r.state[i] = 2
	}
	if _, dup := r.seen[rec]; dup {
		return true
	}
	r.seen[rec] = struct{}{}
	return false
}

// eachDistinct calls fn for each record at the positions given by pos(0)
// .. pos(n-1), skipping exact repeats of an earlier one.
func (ix *index) eachDistinct(n int, pos func(int) uint32, fn func(record)) {
	const small = 16 // below this, comparing pairs is cheaper than a set
	var seen map[record]struct{}
	if n > small {
		seen = make(map[record]struct{}, n)
	}
	for k := 0; k < n; k++ {
		rec := ix.recs[pos(k)]
		if seen != nil {
			if _, dup := seen[rec]; dup {
				continue
			}
			seen[rec] = struct{}{}
		} else {
			dup := false
			for j := 0; j < k && !dup; j++ {
				dup = ix.recs[pos(j)] == rec
			}
			if dup {
				continue
			}
		}
		fn(rec)
	}
}

const hostType = ^uint32(0) // identity slot for HOST findings

func (ix *index) newResult(p *Provider, q schema.Query) *result {
	asOf := int64(ix.asOf)
	if p.asOf > 0 {
		asOf = p.asOf
	}
	cutoff := asOf - int64(p.window/time.Second)
	return &result{
		ix: ix, q: q, source: p.cfg.Address, cutoff: clampTime(max(cutoff, 1)),
		max: p.maxResults, byID: map[[3]uint32]int{},
	}
}

func (r *result) full() bool {
	if len(r.out) >= r.max {
		r.truncated = true
		return true
	}
	return false
}

func unixTime(s uint32) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s), 0).UTC()
}

// merge folds an observation window into f.
func (r *result) merge(f *schema.Finding, first, last, count uint32) {
	if ft := unixTime(first); !ft.IsZero() && (f.FirstSeen.IsZero() || ft.Before(f.FirstSeen)) {
		f.FirstSeen = ft
	}
	if lt := unixTime(last); lt.After(f.LastSeen) {
		f.LastSeen = lt
	}
	f.Count += int64(count)
	if last >= r.cutoff {
		f.Current = true
	}
}

// addRecord adds the record at position pos.
func (r *result) addRecord(pos uint32) {
	rec := r.ix.recs[pos]
	typ := r.ix.types[rec.Type]
	if !r.q.WantsType(typ) {
		return
	}
	key := [3]uint32{rec.Name, uint32(rec.Type), rec.Value}
	i, ok := r.byID[key]
	if !ok {
		if r.full() {
			return
		}
		i = len(r.out)
		r.byID[key] = i
		r.out = append(r.out, schema.Finding{
			Name:    strings.Clone(r.ix.names.str(rec.Name)),
			Type:    typ,
			Value:   r.value(rec.Value),
			Sources: []string{r.source},
		})
		r.obs, r.state = append(r.obs, record{}), append(r.state, 0)
	}
	if r.repeated(i, rec) {
		return
	}
	r.merge(&r.out[i], rec.First, rec.Last, rec.Count)
}

// value returns value id as a string of its own, sharing the string
// between findings of one value (an ns_reverse answer's thousands of
// findings all have the name server as value).
func (r *result) value(id uint32) string {
	if r.lastValue != id+1 {
		r.lastValue, r.lastValueStr = id+1, strings.Clone(r.ix.values.str(id))
	}
	return r.lastValueStr
}

// reserve makes room for n more findings.
func (r *result) reserve(n int) {
	n = min(n, r.max-len(r.out))
	if n <= 0 {
		return
	}
	r.out = slices.Grow(r.out, n)
	r.obs = slices.Grow(r.obs, n)
	r.state = slices.Grow(r.state, n)
	if len(r.byID) == 0 && n > 64 {
		r.byID = make(map[[3]uint32]int, n)
	}
}

// addOwned adds the records owned by name id.
func (r *result) addOwned(id uint32, onlyType func(string) bool) {
	for pos := r.ix.nameStart[id]; pos < r.ix.nameStart[id+1]; pos++ {
		if onlyType == nil || onlyType(r.ix.types[r.ix.recs[pos].Type]) {
			r.addRecord(pos)
		}
	}
}

// addKeyed adds the records of type typ whose lookup key is value id.
func (r *result) addKeyed(id uint32, typ string) {
	keyed := r.ix.keyRecs[r.ix.keyStart[id]:r.ix.keyStart[id+1]]
	r.reserve(len(keyed))
	for _, pos := range keyed {
		if r.ix.types[r.ix.recs[pos].Type] == typ {
			r.addRecord(pos)
		}
	}
}

// addIP adds the names seen on an IP: A/AAAA records pointing at it and
// PTR records owned by it (reverse DNS dumps).
func (r *result) addIP(ip string) {
	if id, ok := r.ix.lookupValue(ip); ok {
		r.addIPValue(id)
	}
	if id, ok := r.ix.names.lookup([]byte(ip)); ok {
		r.addOwned(id, func(t string) bool { return t == "PTR" })
	}
}

// addIPValue adds the A/AAAA records whose value is id.
func (r *result) addIPValue(id uint32) {
	for _, pos := range r.ix.keyRecs[r.ix.keyStart[id]:r.ix.keyStart[id+1]] {
		if t := r.ix.types[r.ix.recs[pos].Type]; t == "A" || t == "AAAA" {
			r.addRecord(pos)
		}
	}
}

// addHost adds a HOST finding for name id, its window spanning the
// records it owns.
func (r *result) addHost(id uint32) {
	if r.ix.nameFlags[id]&(flagOwner|flagTarget) == 0 {
		return
	}
	key := [3]uint32{id, hostType, 0}
	if _, ok := r.byID[key]; ok || r.full() {
		return
	}
	r.byID[key] = len(r.out)
	f := schema.Finding{Name: strings.Clone(r.ix.names.str(id)), Type: schema.TypeHost, Sources: []string{r.source}}
	merge := func(rec record) { r.merge(&f, rec.First, rec.Last, rec.Count) }
	start, end := r.ix.nameStart[id], r.ix.nameStart[id+1]
	r.ix.eachDistinct(int(end-start), func(k int) uint32 { return start + uint32(k) }, merge)
	if start == end {
		// Known only as a target (an MX host, an NS, a CNAME or PTR
		// value): it existed while the records naming it were seen, so
		// a target of records long gone is not current.
		if v, ok := r.ix.lookupValue(r.ix.names.str(id)); ok {
			keyed := r.ix.keyRecs[r.ix.keyStart[v]:r.ix.keyStart[v+1]]
			r.ix.eachDistinct(len(keyed), func(k int) uint32 { return keyed[k] }, merge)
		}
	}
	r.out = append(r.out, f)
	r.obs, r.state = append(r.obs, record{}), append(r.state, 0)
}

func (r *result) findings() []schema.Finding {
	schema.SortFindings(r.out)
	return r.out
}

// eachDescendant calls fn for every name under id, breadth first, until
// fn returns false.
func (ix *index) eachDescendant(id uint32, fn func(uint32) bool) {
	queue := []uint32{id}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, c := range ix.childIDs[ix.childStart[n]:ix.childStart[n+1]] {
			if !fn(c) {
				return
			}
			queue = append(queue, c)
		}
	}
}

// eachIPIn calls fn for the id of every IP in the tables (ip4, ip6) that
// lies inside prefix, in address order, until fn returns false.
func eachIPIn(ip4, ip6 []uint64, prefix netip.Prefix, fn func(uint32) bool) {
	prefix = prefix.Masked()
	if prefix.Addr().Is4() {
		a := prefix.Addr().As4()
		lo := uint64(binary.BigEndian.Uint32(a[:]))
		hi := lo | (1<<(32-prefix.Bits()) - 1)
		i := sort.Search(len(ip4), func(i int) bool { return ip4[i]>>32 >= lo })
		for ; i < len(ip4) && ip4[i]>>32 <= hi; i++ {
			if !fn(uint32(ip4[i])) {
				return
			}
		}
		return
	}
	a := prefix.Addr().As16()
	loHi, loLo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	hiHi, hiLo := loHi, loLo
	if bits := prefix.Bits(); bits < 64 {
		hiHi |= 1<<(64-bits) - 1
		hiLo = ^uint64(0)
	} else if bits < 128 {
		hiLo |= 1<<(128-bits) - 1
	}
	n := len(ip6) / 3
	less := func(h, l, h2, l2 uint64) bool { return h < h2 || h == h2 && l < l2 }
	i := sort.Search(n, func(i int) bool { return !less(ip6[3*i], ip6[3*i+1], loHi, loLo) })
	for ; i < n && !less(hiHi, hiLo, ip6[3*i], ip6[3*i+1]); i++ {
		if !fn(uint32(ip6[3*i+2])) {
			return
		}
	}
}
