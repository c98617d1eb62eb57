package file

// An index is one or more segments, each a sorted run of the build with
// its own forward and reverse tables. A build writes each run as a
// segment as soon as it is sorted, while the next run is read, so that
// nothing is written twice; readers merge the segments' entries in
// order. Past maxSegments runs a build merges the fewest it must into
// one segment (and copies the others' blocks as they are), so that a
// query never reads more than maxSegments blocks to start.

// segment is one sorted run's two tables.
type segment struct {
	fdir, rdir  []blockRef
	names, keys int64 // distinct, counted by the build (not kept in the file)
}

// maxSegments bounds the segments an index keeps (a variable for tests).
var maxSegments = 32

// mergeSorted calls fn with the entries of the sorted sources in order,
// an entry equal to the previous one (from another source) skipped, until
// fn returns false or the sources end. Each source yields its entries
// strictly increasing; an entry is valid until its source's next call.
func mergeSorted[E any](srcs []func(*E) bool, cmpE func(a, b *E) int, clone func(dst, src *E), fn func(*E) bool) {
	switch len(srcs) {
	case 0:
		return
	case 1:
		var e E
		for srcs[0](&e) {
			if !fn(&e) {
				return
			}
		}
		return
	}
	h := &mergeHeap[E]{cmp: cmpE, cur: make([]E, len(srcs))}
	for i, next := range srcs {
		if next(&h.cur[i]) {
			h.live = append(h.live, i)
		}
	}
	h.init()
	var last E
	have := false
	for len(h.live) > 0 {
		i := h.live[0]
		e := &h.cur[i]
		if !have || cmpE(e, &last) != 0 {
			if !fn(e) {
				return
			}
			clone(&last, e)
			have = true
		}
		if srcs[i](&h.cur[i]) {
			h.down(0)
		} else {
			h.pop()
		}
	}
}

// mergeHeap is a binary min-heap of sources by their current entries.
type mergeHeap[E any] struct {
	cmp  func(a, b *E) int
	cur  []E   // each source's current entry
	live []int // sources with an entry, as a heap
}

func (h *mergeHeap[E]) less(i, j int) bool {
	return h.cmp(&h.cur[h.live[i]], &h.cur[h.live[j]]) < 0
}

func (h *mergeHeap[E]) init() {
	for i := len(h.live)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *mergeHeap[E]) down(i int) {
	n := len(h.live)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.live[i], h.live[m] = h.live[m], h.live[i]
		i = m
	}
}

func (h *mergeHeap[E]) pop() {
	n := len(h.live) - 1
	h.live[0] = h.live[n]
	h.live = h.live[:n]
	if n > 0 {
		h.down(0)
	}
}

func cloneF(dst, src *fent) {
	*dst = fent{rname: append(dst.rname[:0], src.rname...), typ: src.typ, value: append(dst.value[:0], src.value...), first: src.first, last: src.last, count: src.count}
}

func cloneR(dst, src *rent) {
	value := dst.value[:0]
	*dst = rent{key: append(dst.key[:0], src.key...), owned: src.owned, rname: append(dst.rname[:0], src.rname...), typ: src.typ, implied: src.implied, first: src.first, last: src.last, count: src.count}
	if !src.implied {
		dst.value = append(value, src.value...)
	}
}
