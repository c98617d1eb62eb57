package file

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/reconform/reconform/internal/fdnsgen"
	"github.com/reconform/reconform/internal/zonegen"
)

// sortCase is a set of strings and the rule for equal ones.
type sortCase struct {
	strs  [][]byte
	owner []bool // for the key tie rule
}

func (c sortCase) str(id uint32) []byte { return c.strs[id] }

// keyTie is seal's rule for equal keys.
func (c sortCase) keyTie(a, b uint32) int {
	switch {
	case c.owner[a] == c.owner[b]:
		return cmp.Compare(a, b)
	case c.owner[b]:
		return -1
	}
	return 1
}

// randomStrings makes n strings meant to trip a windowed sort: a few
// shared suffixes and prefixes, a small alphabet with 0x00 and 0xFF,
// lengths around the window sizes, empty strings and repeats.
func randomStrings(rng *rand.Rand, n int) sortCase {
	alpha := []byte{0x00, 0x01, 'a', 'b', '.', 0xfe, 0xff}
	affixes := [][]byte{nil, []byte(".example"), []byte("\x00\x00\x00\x00\x00\x00\x00"), []byte("abcdefgh.abcdefg"), []byte("\xff\xff\xff\xff\xff\xff\xff\xff")}
	c := sortCase{owner: make([]bool, n)}
	for i := range n {
		c.owner[i] = rng.IntN(3) == 0
		if i > 0 && rng.IntN(8) == 0 {
			c.strs = append(c.strs, c.strs[rng.IntN(i)])
			continue
		}
		var l int
		switch rng.IntN(4) {
		case 0:
			l = rng.IntN(3)
		case 1:
			l = 5 + rng.IntN(5) // around 7 and 8
		case 2:
			l = 13 + rng.IntN(5) // around 14 and 16
		default:
			l = rng.IntN(40)
		}
		s := make([]byte, l)
		for k := range s {
			s[k] = alpha[rng.IntN(len(alpha))]
		}
		pre, suf := affixes[rng.IntN(len(affixes))], affixes[rng.IntN(len(affixes))]
		c.strs = append(c.strs, append(append(append([]byte{}, pre...), s...), suf...))
	}
	return c
}

func identity(n int) []uint32 {
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(i)
	}
	return ids
}

// TestSortStringsMatchesComparison checks that the radix sorts give
// exactly the order of a comparison sort with seal's old comparisons.
func TestSortStringsMatchesComparison(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 5, 24, 25, 100, 511, 512, 3000, 40000, 70000} {
		reps := 3
		if n > 3000 {
			reps = 1
		}
		for rep := range reps {
			c := randomStrings(rng, n)
			check := func(name string, rev bool, tie, want func(a, b uint32) int) {
				t.Helper()
				got := sortStrings(n, c.str, rev, tie)
				exp := identity(n)
				slices.SortFunc(exp, want)
				if i := firstDiff(got, exp); i >= 0 {
					t.Fatalf("n=%d rep=%d %s: position %d: got %q, want %q", n, rep, name, i, c.strs[got[i]], c.strs[exp[i]])
				}
			}
			check("names", true, nil, func(a, b uint32) int {
				if d := compareRev(c.strs[a], c.strs[b]); d != 0 {
					return d
				}
				return cmp.Compare(a, b)
			})
			check("keys", false, c.keyTie, func(a, b uint32) int {
				if d := bytes.Compare(c.strs[a], c.strs[b]); d != 0 {
					return d
				}
				return c.keyTie(a, b)
			})
		}
	}
}

// TestSortStringsSharedSuffix is the shape of a TLD zone: one long
// suffix shared by all names, so every tie group is large.
func TestSortStringsSharedSuffix(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var c sortCase
	for i := range 20000 {
		l := 1 + rng.IntN(12)
		if i%7 == 0 {
			l = 0
		}
		s := make([]byte, l)
		for k := range s {
			s[k] = "ab-\x00"[rng.IntN(4)]
		}
		c.strs = append(c.strs, append(s, ".very-long-shared-suffix.example"...))
	}
	got := sortStrings(len(c.strs), c.str, true, nil)
	exp := identity(len(c.strs))
	slices.SortFunc(exp, func(a, b uint32) int {
		if d := compareRev(c.strs[a], c.strs[b]); d != 0 {
			return d
		}
		return cmp.Compare(a, b)
	})
	if i := firstDiff(got, exp); i >= 0 {
		t.Fatalf("position %d: got %q, want %q", i, c.strs[got[i]], c.strs[exp[i]])
	}
}

func TestWindowOrder(t *testing.T) {
	// Equal windows for strings that differ only in a trailing 0x00 would
	// put "a" and "a\x00" together; the count of real bytes keeps them apart.
	for _, rev := range []bool{false, true} {
		a, b := window([]byte("a"), 0, rev), window([]byte("a\x00"), 0, rev)
		if rev {
			b = window([]byte("\x00a"), 0, rev)
		}
		if a >= b {
			t.Errorf("rev=%v: window of the shorter string %#x not below %#x", rev, a, b)
		}
	}
}

func firstDiff(a, b []uint32) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// The sort seal used before, kept as the benchmarks' baseline: a radix
// sort of 8-byte prefixes, then comparison sorts of equal prefixes.
func oldRevPrefix(s []byte) uint64 {
	var p uint64
	n := len(s)
	for i := 0; i < 8; i++ {
		p <<= 8
		if i < n {
			p |= uint64(s[n-1-i])
		}
	}
	return p
}

func oldKeyPrefix(s []byte) uint64 {
	if len(s) >= 8 {
		return binary.BigEndian.Uint64(s)
	}
	var p uint64
	for i := 0; i < 8; i++ {
		p <<= 8
		if i < len(s) {
			p |= uint64(s[i])
		}
	}
	return p
}

// radixSortInPlace sorts keys, with vals (if not nil) alongside, by an
// LSD radix sort; equal keys keep their order.
func radixSortInPlace(keys []uint64, vals []uint32) {
	n := len(keys)
	if n < 256 {
		if vals == nil {
			slices.Sort(keys)
			return
		}
		type kv struct {
			k uint64
			v uint32
		}
		t := make([]kv, n)
		for i := range t {
			t[i] = kv{keys[i], vals[i]}
		}
		slices.SortStableFunc(t, func(a, b kv) int { return cmp.Compare(a.k, b.k) })
		for i, e := range t {
			keys[i], vals[i] = e.k, e.v
		}
		return
	}
	var tv []uint32
	if vals != nil {
		tv = make([]uint32, n)
	}
	radixSortWith(keys, vals, make([]uint64, n), tv)
}

func oldSortByPrefix(pre []uint64, ids []uint32, compare func(a, b uint32) int) {
	radixSortInPlace(pre, ids)
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && pre[j] == pre[i] {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(ids[i:j], compare)
		}
		i = j
	}
}

// benchStrings interns the owner names (and, for FDNS, the lookup keys
// of the values) of generated data, as a run's tables hold them.
func benchStrings(b *testing.B, shape string) (names, keys *strtab) {
	b.Helper()
	var buf bytes.Buffer
	switch shape {
	case "zone":
		if err := zonegen.Write(&buf, zonegen.Options{TLD: "example", Records: 2_000_000, Providers: 2000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	case "fdns":
		if err := fdnsgen.Write(&buf, fdnsgen.Options{Lines: 2_000_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	names, keys = newStrtab(1<<20), newStrtab(1<<20)
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		l := sc.Bytes()
		if shape == "zone" {
			if i := bytes.IndexAny(l, " \t"); i > 0 && l[0] != ';' {
				names.intern(bytes.ToLower(bytes.TrimSuffix(l[:i], []byte("."))))
			}
			continue
		}
		names.intern(jsonField(l, `"name":"`))
		keys.intern(appendKey(nil, jsonField(l, `"value":"`)))
	}
	return names, keys
}

func jsonField(l []byte, f string) []byte {
	i := bytes.Index(l, []byte(f))
	if i < 0 {
		return nil
	}
	v := l[i+len(f):]
	return v[:bytes.IndexByte(v, '"')]
}

// BenchmarkSortNames sorts a run's owner names into reversed-bytes order
// (2M zone records or FDNS lines): new is seal's sort, old the one it
// replaced.
func BenchmarkSortNames(b *testing.B) {
	for _, shape := range []string{"zone", "fdns"} {
		names, _ := benchStrings(b, shape)
		n := names.len()
		b.Run(shape+"/old", func(b *testing.B) {
			for range b.N {
				pre := make([]uint64, n)
				ids := make([]uint32, n)
				for id := range n {
					pre[id], ids[id] = oldRevPrefix(names.bytesOf(uint32(id))), uint32(id)
				}
				oldSortByPrefix(pre, ids, func(a, c uint32) int { return compareRev(names.bytesOf(a), names.bytesOf(c)) })
			}
			b.ReportMetric(float64(n), "names")
		})
		b.Run(shape+"/new", func(b *testing.B) {
			for range b.N {
				sortStrings(n, names.bytesOf, true, nil)
			}
			b.ReportMetric(float64(n), "names")
		})
	}
}

// BenchmarkSortKeys sorts the lookup keys of 2M FDNS lines' values.
func BenchmarkSortKeys(b *testing.B) {
	_, keys := benchStrings(b, "fdns")
	n := keys.len()
	b.Run("old", func(b *testing.B) {
		for range b.N {
			pre := make([]uint64, n)
			ids := make([]uint32, n)
			for k := range n {
				pre[k], ids[k] = oldKeyPrefix(keys.bytesOf(uint32(k))), uint32(k)
			}
			oldSortByPrefix(pre, ids, func(a, c uint32) int {
				if d := bytes.Compare(keys.bytesOf(a), keys.bytesOf(c)); d != 0 {
					return d
				}
				return cmp.Compare(a, c)
			})
		}
		b.ReportMetric(float64(n), "keys")
	})
	b.Run("new", func(b *testing.B) {
		for range b.N {
			sortStrings(n, keys.bytesOf, false, nil)
		}
		b.ReportMetric(float64(n), "keys")
	})
}

// FuzzSortStrings checks the string sort against the comparison order on
// any strings: each is a length byte (mod 24) and that many bytes.
func FuzzSortStrings(f *testing.F) {
	f.Add([]byte("\x03abc\x03abc\x00\x01\x00\x08exampleX\x09.example."))
	f.Add([]byte("\x01\x00\x00\x02\x00\x00\x01\xff\x02\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c sortCase
		for len(data) > 0 {
			l := min(int(data[0])%24, len(data)-1)
			c.strs = append(c.strs, data[1:1+l])
			data = data[1+l:]
		}
		c.owner = make([]bool, len(c.strs))
		for i := range c.owner {
			c.owner[i] = len(c.strs[i])%2 == 1
		}
		n := len(c.strs)
		for _, rev := range []bool{false, true} {
			got := sortStrings(n, c.str, rev, c.keyTie)
			exp := identity(n)
			slices.SortFunc(exp, func(a, b uint32) int {
				d := bytes.Compare(c.strs[a], c.strs[b])
				if rev {
					d = compareRev(c.strs[a], c.strs[b])
				}
				if d != 0 {
					return d
				}
				return c.keyTie(a, b)
			})
			if i := firstDiff(got, exp); i >= 0 {
				t.Fatalf("rev=%v position %d: got %q, want %q", rev, i, c.strs[got[i]], c.strs[exp[i]])
			}
		}
	})
}

// The seal orders two addresses by ipv4TextOrder; readers merge and check
// forward entries by their text.
func TestIPv4TextOrder(t *testing.T) {
	edge := []uint32{0, 1, 9, 10, 99, 100, 199, 200, 255, 256, 0x01000000, 0x0a000000, 0x02000000, 0x14000000, 0xffffffff, 0x0a0a0a0a, 0x01010101, 0x64646464}
	rng := rand.New(rand.NewPCG(1, 2))
	addrs := slices.Clone(edge)
	for range 20000 {
		addrs = append(addrs, rng.Uint32())
	}
	for i, a := range addrs {
		for _, b := range []uint32{addrs[(i+1)%len(addrs)], edge[i%len(edge)], a ^ 1, a + 1} {
			want := bytes.Compare(appendIPv4(nil, a), appendIPv4(nil, b))
			if got := cmp.Compare(ipv4TextOrder(a), ipv4TextOrder(b)); got != want {
				t.Fatalf("%s vs %s: %d, want %d", appendIPv4(nil, a), appendIPv4(nil, b), got, want)
			}
		}
	}
}

func TestSortByHigh32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 100, 5000} {
		a := make([]uint64, n)
		for i := range a {
			hi := rng.Uint64() >> 32
			if i%3 == 0 {
				hi &= 0xff // some sharing their high bytes
			}
			a[i] = hi<<32 | uint64(i)
		}
		want := slices.Clone(a)
		slices.SortStableFunc(want, func(x, y uint64) int { return cmp.Compare(x>>32, y>>32) })
		sortByHigh32(a, make([]uint64, n))
		if !slices.Equal(a, want) {
			t.Fatalf("n=%d: not sorted stably by the high 32 bits", n)
		}
	}
}
