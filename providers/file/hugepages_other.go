//go:build !linux

package file

import "os"

func bigSlots(n int) []uint64 { return make([]uint64, n) }

func freeSlots([]uint64) {}

func mapIndexFile(f *os.File, size int64) ([]byte, error) { return readIndexFile(f, size) }
