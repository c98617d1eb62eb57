package state

import (
	"bytes"
	"testing"
)

// checkString's eight-bytes-at-a-time path agrees with the decoder on
// every byte at every position.
func TestCheckString(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 20; pos++ {
			inner := []byte("abcdefghijklmnopqrstuvwxyz")[:20]
			inner[pos] = byte(c)
			v := append(append([]byte{'"'}, inner...), '"')
			in := append(append([]byte(nil), v...), ",\n  \"more\": 1"...) // as in a file: more follows
			sc := scanner{win: in, end: len(in), r: bytes.NewReader(nil)}
			_, derr := sc.stringBytes()
			want := derr == nil && sc.pos == len(v)
			if got := checkString(v) == nil; got != want {
				t.Errorf("byte %#x at %d: checkString %v, decoder %v", c, pos, got, want)
			}
		}
	}
}
