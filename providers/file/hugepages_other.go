//go:build !linux

package file

func bigSlots(n int) []uint64 { return make([]uint64, n) }

func freeSlots([]uint64) {}

func mapChunk(n int) []byte { return make([]byte, n) }

func unmapChunk([]byte) {}
