package file

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"time"
	"unsafe"

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
// concatenating answers or pages repeat records. The index keeps each
// distinct record once, so a query never meets a repeat.
type result struct {
	ix     *index
	q      schema.Query
	source string
	cutoff uint32 // last_seen at or after this is current
	max    int
	byID   map[ident]int
	// The findings so far, in chunks of chunkFindings (the first grown
	// up to that size): an answer of tens of thousands of findings is then
	// never copied while it grows (a copy of findings, which hold
	// pointers, runs the collector's write barriers), and findings()
	// moves each once, into its place in the answer.
	chunks    [][]schema.Finding
	n         int
	truncated bool
	// lastValue is the value lastValueStr holds.
	lastValue    []byte
	lastValueStr string
	names        []byte // the arena of name(): bytes of strings given out
	// the last record finding's identity
	lastRname []byte
	lastTyp   uint16
	srcs      []string
}

// ident is a finding's identity; typ "" marks a subdomain's HOST finding.
type ident struct{ name, typ, value string }

func (ix *index) newResult(p *Provider, q schema.Query) *result {
	asOf := int64(ix.asOf)
	if p.asOf > 0 {
		asOf = p.asOf
	}
	cutoff := asOf - int64(p.window/time.Second)
	return &result{
		ix: ix, q: q, source: p.cfg.Address, cutoff: clampTime(max(cutoff, 1)),
		max: p.maxResults, byID: map[ident]int{},
	}
}

const chunkFindings = 1024

// at returns the i-th finding, valid until the next add.
func (r *result) at(i int) *schema.Finding {
	return &r.chunks[i/chunkFindings][i%chunkFindings]
}

// add appends f and returns its index.
func (r *result) add(f schema.Finding) int {
	if r.n%chunkFindings == 0 { // every chunk but the last is full
		size := 0
		if len(r.chunks) > 0 {
			size = chunkFindings
		}
		r.chunks = append(r.chunks, make([]schema.Finding, 0, size))
	}
	c := &r.chunks[len(r.chunks)-1]
	*c = append(*c, f)
	r.n++
	return r.n - 1
}

func (r *result) full() bool {
	if r.n >= r.max {
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

// name returns the owner name of reversed bytes rname.
func (r *result) name(rname []byte) string {
	// Reversed into the arena: one allocation for many names, where a
	// string each made an answer of 50,000 findings spend a fifth of its
	// time allocating and collecting.
	if len(rname) == 0 {
		return ""
	}
	if cap(r.names)-len(r.names) < len(rname) {
		// Blocks double from 512 bytes, so that a small answer, whose
		// findings a state may keep for long, holds little unused.
		r.names = make([]byte, 0, max(len(rname), min(2*cap(r.names), maxNameArena), 512))
	}
	start := len(r.names)
	r.names = reverseInto(r.names, rname)
	return unsafe.String(&r.names[start], len(rname))
}

// maxNameArena bounds a result's blocks of name bytes. Bytes once given
// out as a string are never written again: names are only appended.
const maxNameArena = 64 << 10

// addRecord adds one record. Every scan meets the records of one
// identity one after another (the tables are sorted by name, type and
// value under a key), so a record merges into the last finding or starts
// a new one; no finding of another identity can come between.
func (r *result) addRecord(rname []byte, typ uint16, value []byte, first, last, count uint32) {
	t := r.ix.types[typ]
	if !r.q.WantsType(t) {
		return
	}
	if r.n > 0 && r.lastTyp == typ && bytes.Equal(r.lastRname, rname) && bytes.Equal(r.lastValue, value) {
		r.merge(r.at(r.n-1), first, last, count)
		return
	}
	if r.full() {
		return
	}
	r.lastRname, r.lastTyp = append(r.lastRname[:0], rname...), typ
	i := r.add(schema.Finding{Name: r.name(rname), Type: t, Value: r.value(value), Sources: r.sources()})
	r.merge(r.at(i), first, last, count)
}

// sources returns a finding's source list, the findings of one answer
// sharing one backing array in slices of their own.
func (r *result) sources() []string {
	if len(r.srcs) == 0 {
		r.srcs = make([]string, 256)
		for i := range r.srcs {
			r.srcs[i] = r.source
		}
	}
	s := r.srcs[:1:1]
	r.srcs = r.srcs[1:]
	return s
}

// value returns value as a string of its own, sharing the string between
// findings of one value (an ns_reverse answer's thousands of findings all
// have the name server as value).
func (r *result) value(v []byte) string {
	if r.lastValue == nil || !bytes.Equal(r.lastValue, v) {
		r.lastValue, r.lastValueStr = append(r.lastValue[:0], v...), string(v)
	}
	return r.lastValueStr
}

// host adds (or widens) the HOST finding of a name.
func (r *result) host(name string, first, last, count uint32) bool {
	key := ident{name: name}
	i, ok := r.byID[key]
	if !ok {
		if r.full() {
			return false
		}
		i = r.add(schema.Finding{Name: name, Type: schema.TypeHost, Sources: []string{r.source}})
		r.byID[key] = i
	}
	r.merge(r.at(i), first, last, count)
	return true
}

func (r *result) findings() []schema.Finding {
	if r.n == 0 {
		return nil
	}
	if len(r.chunks) == 1 {
		out := r.chunks[0]
		schema.SortFindings(out)
		return out
	}
	out := make([]schema.Finding, r.n)
	for k, i := range schema.FindingsOrder(r.n, r.at) {
		out[k] = *r.at(int(i))
	}
	return out
}

// resolutions adds the records owned by name; onlyType filters by type.
func (r *result) resolutions(name string, onlyType func(string) bool) error {
	rn := reverseInto(nil, []byte(name))
	return r.ix.scanF(rn, func(x *fent) bool {
		if !bytes.Equal(x.rname, rn) {
			return false
		}
		if onlyType == nil || onlyType(r.ix.types[x.typ]) {
			r.addRecord(x.rname, x.typ, x.value, x.first, x.last, x.count)
		}
		return true
	})
}

func (r *result) isType(typ uint16, names ...string) bool {
	t := r.ix.types[typ]
	for _, n := range names {
		if t == n {
			return true
		}
	}
	return false
}

// reverseIP adds the names seen on the addresses with keys from lo to hi:
// A/AAAA records pointing at them and PTR records owned by them (reverse
// DNS dumps).
func (r *result) reverseIP(lo, hi []byte) error {
	var lastKey, lastName []byte
	return r.ix.scanR(lo, func(x *rent) bool {
		if bytes.Compare(x.key, hi) > 0 {
			return false
		}
		if !x.owned && !r.isType(x.typ, "A", "AAAA") {
			return true
		}
		// Entries are in key and name order, so once the answer is
		// full no later entry can merge into a finding it holds.
		if r.full() && (!bytes.Equal(x.key, lastKey) || !bytes.Equal(x.rname, lastName)) {
			return false
		}
		r.addRecord(x.rname, x.typ, x.value, x.first, x.last, x.count)
		lastKey, lastName = append(lastKey[:0], x.key...), append(lastName[:0], x.rname...)
		return true
	})
}

// keyed adds the records of type typ whose lookup key is host: the
// posting list of a name server (ns_reverse) or a mail host (mx_reverse).
func (r *result) keyed(host, typ string) error {
	key := appendKey(nil, []byte(host))
	var last []byte
	return r.ix.scanR(key, func(x *rent) bool {
		if !bytes.Equal(x.key, key) {
			return false
		}
		if x.owned || r.ix.types[x.typ] != typ {
			return true
		}
		// Entries are in name order, so once the answer is full no
		// later entry can merge into a finding it holds.
		if r.full() && !bytes.Equal(x.rname, last) {
			return false
		}
		r.addRecord(x.rname, x.typ, x.value, x.first, x.last, x.count)
		last = append(last[:0], x.rname...)
		return true
	})
}

// subdomains adds a HOST finding for every name under domain: owner names,
// their window spanning the records they own, and names known only as
// targets (an MX host, an NS, a CNAME or PTR value), which existed while
// the records naming them were seen.
func (r *result) subdomains(domain string) error {
	if !strings.Contains(domain, ".") {
		return nil // names under a top-level domain are not linked to it
	}
	prefix := append(reverseInto(nil, []byte(domain)), '.')
	var cur []byte
	var curName string
	err := r.ix.scanF(prefix, func(x *fent) bool {
		if !bytes.HasPrefix(x.rname, prefix) {
			return false
		}
		if cur == nil || !bytes.Equal(x.rname, cur) {
			if r.full() {
				return false
			}
			cur = append(cur[:0], x.rname...)
			curName = r.name(x.rname)
			if looksLikeIP([]byte(curName)) {
				curName = ""
			}
		}
		if curName != "" {
			r.host(curName, x.first, x.last, x.count)
		}
		return true
	})
	if err != nil {
		return err
	}
	kp := append([]byte{keyName}, prefix...)
	cur = nil
	return r.ix.scanR(kp, func(x *rent) bool {
		if !bytes.HasPrefix(x.key, kp) {
			return false
		}
		if cur == nil || !bytes.Equal(x.key, cur) {
			cur = append(cur[:0], x.key...)
			curName = r.name(x.key[1:])
			if _, owner := r.byID[ident{name: curName}]; owner || looksLikeIP([]byte(curName)) {
				curName = ""
			} else if r.full() {
				return false
			}
		}
		if curName != "" && !x.owned {
			r.host(curName, x.first, x.last, x.count)
		}
		return true
	})
}

// ipRange returns the first and last key of the addresses in prefix.
func ipRange(prefix netip.Prefix) (lo, hi []byte) {
	prefix = prefix.Masked()
	if prefix.Addr().Is4() {
		a := prefix.Addr().As4()
		l := binary.BigEndian.Uint32(a[:])
		h := l | uint32(uint64(1)<<(32-prefix.Bits())-1)
		return binary.BigEndian.AppendUint32([]byte{keyIPv4}, l), binary.BigEndian.AppendUint32([]byte{keyIPv4}, h)
	}
	a := prefix.Addr().As16()
	lh, ll := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	hh, hl := lh, ll
	if bits := prefix.Bits(); bits < 64 {
		hh |= 1<<(64-bits) - 1
		hl = ^uint64(0)
	} else if bits < 128 {
		hl |= 1<<(128-bits) - 1
	}
	lo = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte{keyIPv6}, lh), ll)
	hi = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte{keyIPv6}, hh), hl)
	return lo, hi
}
