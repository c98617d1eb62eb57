package file

import (
	"bytes"
	"unsafe"
)

// strtab interns strings: every distinct name and value of a file is
// stored once in one byte blob and referred to by a uint32 id. Lookups go
// through an open-addressing hash table with a fixed hash function, so the
// table itself can be persisted and reused without rehashing.
type strtab struct {
	blob   []byte   // all strings, back to back
	offs   []uint64 // string i is blob[offs[i]:offs[i+1]]; len = n+1
	hashes []uint32 // hash of string i, for cheap probing and growth
	slots  []uint32 // id+1, or 0 for an empty slot; len is a power of two
}

func newStrtab(expected int) *strtab {
	size := 1024
	for size < expected*2 {
		size <<= 1
	}
	return &strtab{offs: []uint64{0}, slots: make([]uint32, size)}
}

// hashBytes is 32-bit FNV-1a: fixed across processes (persisted tables
// depend on it) and fast enough for short DNS names.
func hashBytes(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
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

// lookup returns the id of b, or false.
func (t *strtab) lookup(b []byte) (uint32, bool) {
	h := hashBytes(b)
	mask := uint32(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		id := s - 1
		if t.hashes[id] == h && bytes.Equal(t.bytesOf(id), b) {
			return id, true
		}
	}
}

// intern returns the id of b, adding it when new. added reports whether
// it was new.
func (t *strtab) intern(b []byte) (id uint32, added bool) {
	h := hashBytes(b)
	mask := uint32(len(t.slots) - 1)
	i := h & mask
	for ; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			break
		}
		id := s - 1
		if t.hashes[id] == h && bytes.Equal(t.bytesOf(id), b) {
			return id, false
		}
	}
	id = uint32(t.len())
	t.blob = append(t.blob, b...)
	t.offs = append(t.offs, uint64(len(t.blob)))
	t.hashes = append(t.hashes, h)
	t.slots[i] = id + 1
	if uint64(t.len())*2 > uint64(len(t.slots)) {
		t.grow()
	}
	return id, true
}

func (t *strtab) grow() {
	slots := make([]uint32, len(t.slots)*2)
	mask := uint32(len(slots) - 1)
	for id, h := range t.hashes {
		i := h & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = uint32(id) + 1
	}
	t.slots = slots
}
