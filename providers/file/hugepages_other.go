//go:build !linux

package file

func bigSlots(n int) []uint64 { return make([]uint64, n) }

func freeSlots([]uint64) {}
