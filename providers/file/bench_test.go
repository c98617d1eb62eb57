package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/internal/fdnsgen"
)

// benchData writes a generated FDNS file of n lines once per benchmark.
func benchData(b *testing.B, n int, gz bool) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "fdns.json")
	if gz {
		path += ".gz"
	}
	if err := fdnsgen.WriteFile(path, fdnsgen.Options{Lines: n, Seed: 1}, gz); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchmarkIndex(b *testing.B, n int, gz bool) {
	path := benchData(b, n, gz)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		if _, _, err := readIndex(context.Background(), path, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndexFDNS(b *testing.B)     { benchmarkIndex(b, 200_000, false) }
func BenchmarkIndexFDNSGzip(b *testing.B) { benchmarkIndex(b, 200_000, true) }

func BenchmarkPersistedIndexLoad(b *testing.B) {
	path := benchData(b, 200_000, true)
	store := newIndexStore(b.TempDir(), path, "")
	if _, _, err := readIndexAt(context.Background(), path, "", 0, buildOptions{store: store}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := store.load(); err != nil {
			b.Fatal(err)
		}
	}
}
