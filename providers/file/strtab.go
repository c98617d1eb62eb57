package file

import (
	"bytes"
	"encoding/binary"
	"unsafe"
)

// strtab interns strings: every distinct name and value of a file is
// stored once in one byte blob and referred to by a uint32 id, given in
// the order strings are first seen. Lookups go through an open-addressing
// hash table that lives only while a run is built.
type strtab struct {
	blob []byte   // all strings, back to back
	offs []uint64 // string i is blob[offs[i]:offs[i+1]]; len = n+1
	// slots hold hash<<32 | id+1, or 0 when empty; len is a power of two.
	// Keeping the hash in the slot means a probe touches one cache line
	// and compares string bytes only on a full hash match.
	slots []uint64
}

func newStrtab(expected int) *strtab {
	size := 1024
	for size < expected*2 {
		size <<= 1
	}
	return &strtab{offs: []uint64{0}, slots: bigSlots(size)}
}

// hashBytes hashes a string for the table, 8 bytes at a time (FNV-1a,
// a multiply per byte, took most of an intern's time on long names). The
// table is never persisted, and ids are given in insertion order, so the
// hash decides nothing but where a string's slot is.
func hashBytes(b []byte) uint32 {
	const m = 0x9e3779b97f4a7c15
	h := uint64(len(b)) * m
	for len(b) > 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * m
		h ^= h >> 29
		b = b[8:]
	}
	// The last 1 to 8 bytes: overlapping loads cover them all.
	var t uint64
	switch n := len(b); {
	case n >= 4:
		t = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	case n > 0:
		t = uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16
	}
	h = (h ^ t) * m
	h ^= h >> 32
	h *= m
	return uint32(h >> 32)
}

func (t *strtab) len() int { return len(t.offs) - 1 }

// bytesOf returns string id's bytes, aliasing the blob.
func (t *strtab) bytesOf(id uint32) []byte { return t.blob[t.offs[id]:t.offs[id+1]] }

// str returns string id without copying. The blob is never modified in
// place after a string is added, and a grown blob leaves the old backing
// array alive for as long as strings point into it.
func (t *strtab) str(id uint32) string {
	b := t.bytesOf(id)
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// find returns the slot holding b, or the empty slot where it belongs.
func (t *strtab) find(b []byte, h uint32) (slot int, found bool) {
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return int(i), false
		}
		if uint32(s>>32) == h && bytes.Equal(t.bytesOf(uint32(s)-1), b) {
			return int(i), true
		}
	}
}

// touch reads the first slots of the strings hashed to hs, in one loop
// of independent loads, so that their cache misses overlap; the result
// only keeps the loads.
func (t *strtab) touch(hs []uint32) uint64 {
	mask := uint32(len(t.slots) - 1)
	var s uint64
	for _, h := range hs {
		s += t.slots[h&mask]
	}
	return s
}

// lookup returns the id of b, or false.
func (t *strtab) lookup(b []byte) (uint32, bool) {
	i, ok := t.find(b, hashBytes(b))
	if !ok {
		return 0, false
	}
	return uint32(t.slots[i]) - 1, true
}

// intern returns the id of b, adding it when new. added reports whether
// it was new.
func (t *strtab) intern(b []byte) (id uint32, added bool) {
	return t.internHashed(b, hashBytes(b))
}

// internHashed is intern of b whose hashBytes is h.
func (t *strtab) internHashed(b []byte, h uint32) (id uint32, added bool) {
	i, ok := t.find(b, h)
	if ok {
		return uint32(t.slots[i]) - 1, false
	}
	id = uint32(t.len())
	t.blob = append(t.blob, b...)
	t.offs = append(t.offs, uint64(len(t.blob)))
	t.slots[i] = uint64(h)<<32 | uint64(id+1)
	if uint64(t.len())*2 > uint64(len(t.slots)) {
		t.grow()
	}
	return id, true
}

func (t *strtab) grow() {
	slots := bigSlots(len(t.slots) * 2)
	mask := uint32(len(slots) - 1)
	for _, s := range t.slots {
		if s == 0 {
			continue
		}
		i := uint32(s>>32) & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = s
	}
	freeSlots(t.slots)
	t.slots = slots
}

// reset empties the table for the next run, keeping its memory.
func (t *strtab) reset() {
	t.blob, t.offs = t.blob[:0], t.offs[:1]
	clear(t.slots)
}

// free releases the table's memory.
func (t *strtab) free() {
	if t.slots != nil {
		freeSlots(t.slots)
	}
	*t = strtab{offs: []uint64{0}}
}
