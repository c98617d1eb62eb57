package schema

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// SortFindings orders findings as a plain sort by name, type and value
// would, for lists long and short, with names that share their first
// eight bytes, are shorter than eight, or hold zero bytes.
func TestSortFindingsMatchesPlainSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"", "a", "a\x00", "a\x00\x00", "abcdefgh", "abcdefgh\x00", "abcdefgha", "abcdefghb", "abcdefg", "www.example.com", "www.example.net", "zz"}
	types := []string{"A", "AAAA", "NS"}
	values := []string{"", "192.0.2.1", "ns1.example.net", "ns1.example.net\x00"}
	for _, n := range []int{0, 1, 2, 5, 31, 32, 33, 200, 255, 256, 5000} {
		fs := make([]Finding, n)
		for i := range fs {
			fs[i] = Finding{Name: names[rng.IntN(len(names))], Type: types[rng.IntN(len(types))], Value: values[rng.IntN(len(values))], Count: int64(i)}
		}
		want := slices.Clone(fs)
		sort.SliceStable(want, func(i, j int) bool {
			a, b := want[i], want[j]
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			if a.Type != b.Type {
				return a.Type < b.Type
			}
			return a.Value < b.Value
		})
		got := slices.Clone(fs)
		SortFindings(got)
		for i := range got {
			if CompareFindings(&got[i], &want[i]) != 0 {
				t.Fatalf("n=%d: finding %d is %q %q %q, want %q %q %q", n, i, got[i].Name, got[i].Type, got[i].Value, want[i].Name, want[i].Type, want[i].Value)
			}
		}
		// Every finding is still there once (equal identities may come in any order).
		counts := map[int64]int{}
		for _, f := range got {
			counts[f.Count]++
		}
		if len(counts) != n {
			t.Fatalf("n=%d: %d distinct findings after the sort", n, len(counts))
		}
		order := FindingsOrder(n, func(i int) *Finding { return &fs[i] })
		for k := 1; k < len(order); k++ {
			if CompareFindings(&fs[order[k-1]], &fs[order[k]]) > 0 {
				t.Fatalf("n=%d: FindingsOrder out of order at %d", n, k)
			}
		}
	}
}
