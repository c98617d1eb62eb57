// Package radix sorts 64-bit keys with 32-bit values alongside, for the
// index build's string sorts (providers/file) and the order of findings
// (schema).
package radix

// Sort sorts keys, with vals alongside, by an LSD radix sort a byte at a
// time, equal keys in their order; tk and tv are scratch of len(keys).
// Byte positions that all keys share are skipped.
func Sort(keys []uint64, vals []uint32, tk []uint64, tv []uint32) {
	n := len(keys)
	if n == 0 {
		return
	}
	origK, origV := keys, vals
	var counts [8][256]int
	for _, k := range keys {
		for d := 0; d < 8; d++ {
			counts[d][byte(k>>(8*d))]++
		}
	}
	for d := 0; d < 8; d++ {
		c := &counts[d]
		if c[byte(keys[0]>>(8*d))] == n {
			continue
		}
		sum := 0
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		shift := uint(8 * d)
		for i, k := range keys {
			b := byte(k >> shift)
			tk[c[b]], tv[c[b]] = k, vals[i]
			c[b]++
		}
		keys, tk = tk, keys
		vals, tv = tv, vals
	}
	if &keys[0] != &origK[0] {
		copy(origK, keys)
		copy(origV, vals)
	}
}
