package file

import (
	"syscall"
	"unsafe"
)

// bigSlots allocates a zeroed hash table of n slots. Tables of tens of
// millions of slots are probed at random, once or twice per line of the
// input, so with 4 KiB pages nearly every probe also misses the TLB.
// Large tables are mapped outside the Go heap and marked for transparent
// huge pages, which roughly halves the cost of a probe. They are never
// unmapped except when a table grows: an index lives as long as the run.
func bigSlots(n int) []uint64 {
	const minBytes = 8 << 20
	size := n * 8
	if size < minBytes {
		return make([]uint64, n)
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, n)
	}
	_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE; ignored where unsupported
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
}

// freeSlots releases a table from bigSlots.
func freeSlots(s []uint64) {
	if len(s)*8 < 8<<20 {
		return
	}
	_ = syscall.Munmap(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*8))
}
