package file

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"

	"github.com/reconform/reconform/internal/radix"
)

// The sorts of a sealed run: owner names by their bytes reversed, lookup
// keys by their bytes. Both are MSD radix sorts over 7-byte windows of the
// strings. A window is the next 7 bytes at some depth, zero-padded, with
// the count of real bytes in it (at most 7) in the low byte, so that
// comparing two windows as integers is comparing the strings over those
// bytes, a string that ends before a real 0x00 byte included. Ids whose
// windows are equal and full go on to the next 7 bytes; ids whose windows
// are equal and not full have equal strings and are put in order by the
// tie rule.
//
// Bulk data shares long suffixes (every owner in a TLD zone ends with
// ".example"), so a comparison sort on a fixed prefix spends its time
// comparing whole strings fetched from random places in the string table.
// Here a string's window is computed once per 7 bytes of the prefix it
// shares, and while more than an eighth of the ids are still tied, all
// windows of a depth are computed reading the string table in id order.

const (
	winBytes = 7
	// smallGroup is the size at or below which a tie group is sorted by
	// comparing its strings rather than by their next windows, once its
	// strings are fetched one by one: a compare reads the whole rest of
	// both strings at once.
	smallGroup = 4
	// radixMin is the size from which a group's windows are radix sorted
	// rather than insertion or pdq sorted.
	radixMin = 512
)

// window returns s's window at depth d: bytes d..d+6 of s, or of s
// reversed (rev), big-endian in the top 7 bytes and zero-padded, and the
// number of them s has (0 to 7) in the low byte.
func window(s []byte, d int, rev bool) uint64 {
	rem := len(s) - d
	if rem >= 8 {
		if rev {
			return binary.LittleEndian.Uint64(s[rem-8:rem])&^0xff | winBytes
		}
		return binary.BigEndian.Uint64(s[d:])&^0xff | winBytes
	}
	if rem <= 0 {
		return 0
	}
	var p uint64
	for i := 0; i < winBytes; i++ {
		p <<= 8
		if i < rem {
			if rev {
				p |= uint64(s[rem-1-i])
			} else {
				p |= uint64(s[d+i])
			}
		}
	}
	return p<<8 | uint64(min(rem, winBytes))
}

// compareRev compares a and b as their bytes reversed.
func compareRev(a, b []byte) int {
	i, j := len(a)-1, len(b)-1
	for i >= 0 && j >= 0 {
		if a[i] != b[j] {
			return cmp.Compare(a[i], b[j])
		}
		i--
		j--
	}
	return cmp.Compare(len(a), len(b))
}

// stringScratch are a string sort's arrays, made per sort as the 8-byte
// prefix sort's were; tmpW and tmpID only once a size needs them.
type stringScratch struct {
	ids, tmpID []uint32
	win, tmpW  []uint64
}

// stringSort sorts string ids by their strings.
type stringSort struct {
	str func(id uint32) []byte
	rev bool // by the strings' bytes reversed
	// tie orders ids whose strings are equal.
	tie func(a, b uint32) int

	sc *stringScratch // tmpW: radix scratch; between depths, next windows by id
}

// seg is a run of positions [i, j) whose strings are equal before the
// current depth.
type seg struct{ i, j int }

// sortStrings returns the ids 0..n-1 in the order of their strings
// (reversed, rev), ids with equal strings by tie (nil: by id).
//
// The sort goes breadth first, one depth at a time over all tie groups,
// so that while many ids are still tied the next windows are computed in
// id order, reading the string table from start to end, and gathered
// from a dense array; once few are left they are read directly.
func sortStrings(n int, str func(uint32) []byte, rev bool, tie func(a, b uint32) int) []uint32 {
	if tie == nil {
		tie = func(a, b uint32) int { return cmp.Compare(a, b) }
	}
	sc := &stringScratch{}
	s := &stringSort{str: str, rev: rev, tie: tie, sc: sc}
	ids := reuse(&sc.ids, n)
	win := reuse(&sc.win, n)
	for id := range ids {
		ids[id] = uint32(id)
		win[id] = window(str(uint32(id)), 0, rev)
	}
	segs := []seg{{0, n}}
	var next []seg
	for d := 0; len(segs) > 0; d += winBytes {
		next = next[:0]
		active := 0
		for _, sg := range segs {
			ids, win := ids[sg.i:sg.j], win[sg.i:sg.j]
			s.sortWindows(win, ids)
			for i := 0; i < len(ids); {
				j := i + 1
				for j < len(ids) && win[j] == win[i] {
					j++
				}
				switch g := ids[i:j]; {
				case len(g) == 1:
				case win[i]&0xff < winBytes: // the strings end here: equal
					slices.SortFunc(g, s.tie)
				default:
					next = append(next, seg{sg.i + i, sg.i + j})
					active += len(g)
				}
				i = j
			}
		}
		segs, next = next, segs
		if active == 0 {
			break
		}
		nd := d + winBytes
		if active*8 < n {
			// Few left: fetch their strings directly, and sort the
			// smallest groups by comparing the rest of their strings.
			k := 0
			for _, sg := range segs {
				if sg.j-sg.i <= smallGroup {
					s.compareSort(ids[sg.i:sg.j], nd)
					continue
				}
				for p := sg.i; p < sg.j; p++ {
					win[p] = window(str(ids[p]), nd, rev)
				}
				segs[k] = sg
				k++
			}
			segs = segs[:k]
			continue
		}
		byID := reuse(&sc.tmpW, n)
		for id := range byID {
			byID[id] = window(str(uint32(id)), nd, rev)
		}
		for _, sg := range segs {
			for p := sg.i; p < sg.j; p++ {
				win[p] = byID[ids[p]]
			}
		}
	}
	return ids
}

// compareSort sorts ids, whose strings are equal before d, by comparing
// the rest of their strings.
func (s *stringSort) compareSort(ids []uint32, d int) {
	slices.SortFunc(ids, func(a, b uint32) int {
		x, y := s.str(a), s.str(b)
		var c int
		if s.rev {
			c = compareRev(x[:len(x)-d], y[:len(y)-d])
		} else {
			c = bytes.Compare(x[d:], y[d:])
		}
		if c != 0 {
			return c
		}
		return s.tie(a, b)
	})
}

// sortWindows sorts win, with ids alongside, by win; the order of equal
// windows is not kept (the caller orders them by their next window or by
// the tie rule).
func (s *stringSort) sortWindows(win []uint64, ids []uint32) {
	n := len(win)
	switch {
	case n < radixMin:
		sortSmallWindows(win, ids)
	default:
		tw, tid := reuse(&s.sc.tmpW, n), reuse(&s.sc.tmpID, n)
		if n >= wideMin {
			radixSortWide(win, ids, tw, tid)
		} else {
			radixSortWith(win, ids, tw, tid)
		}
	}
}

// sortSmallWindows sorts a few windows, with ids alongside.
func sortSmallWindows(win []uint64, ids []uint32) {
	switch n := len(win); {
	case n <= 24:
		for i := 1; i < n; i++ {
			w, id := win[i], ids[i]
			j := i
			for ; j > 0 && win[j-1] > w; j-- {
				win[j], ids[j] = win[j-1], ids[j-1]
			}
			win[j], ids[j] = w, id
		}
	default:
		type kv struct {
			w  uint64
			id uint32
		}
		t := make([]kv, n)
		for i := range t {
			t[i] = kv{win[i], ids[i]}
		}
		slices.SortFunc(t, func(a, b kv) int { return cmp.Compare(a.w, b.w) })
		for i, e := range t {
			win[i], ids[i] = e.w, e.id
		}
	}
}

// radixSortWith is radix.Sort.
func radixSortWith(keys []uint64, vals []uint32, tk []uint64, tv []uint32) {
	radix.Sort(keys, vals, tk, tv)
}

// wideMin is the size from which windows are radix sorted 11 bits at a
// time: 6 passes instead of 8, once the 2048 counters per pass are paid
// for (10-20% faster on 1M names or keys, BenchmarkSortNames).
const wideMin = 1 << 16

// radixSortWide is radixSortWith over 11-bit digits, for all the bytes.
func radixSortWide(keys []uint64, vals []uint32, tk []uint64, tv []uint32) {
	const bits, digits = 11, 6
	n := len(keys)
	origK, origV := keys, vals
	var counts [digits][1 << bits]uint32
	for _, k := range keys {
		for d := 0; d < digits; d++ {
			counts[d][(k>>(bits*d))&(1<<bits-1)]++
		}
	}
	for d := 0; d < digits; d++ {
		c := &counts[d]
		shift := uint(bits * d)
		if c[(keys[0]>>shift)&(1<<bits-1)] == uint32(n) {
			continue
		}
		var sum uint32
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		for i, k := range keys {
			b := (k >> shift) & (1<<bits - 1)
			tk[c[b]], tv[c[b]] = k, vals[i]
			c[b]++
		}
		keys, tk = tk, keys
		vals, tv = tv, vals
	}
	if &keys[0] != &origK[0] {
		copy(origK, keys)
		copy(origV, vals)
	}
}
