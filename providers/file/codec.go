package file

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/klauspost/compress/s2"
)

// A table block is compressed with S2 (Snappy's successor): on these
// front-coded blocks it is three times as fast as zstd's fastest level
// for blocks about a fifth larger, and the build compresses every block
// once. A block ends with a trailer: one byte saying how its body is
// stored and the CRC-32C of its raw bytes, so that a block damaged after
// the index was opened is an error, not wrong answers.
const (
	blockTrailer = 5
	storedRaw    = 0 // the body is the raw block (it did not compress)
	storedS2     = 1 // the body is an S2 block
)

// compressBlock appends raw, compressed, and its trailer to dst.
func compressBlock(dst, raw []byte) []byte {
	body := s2.Encode(dst[len(dst):cap(dst)], raw)
	kind := byte(storedS2)
	// Readers refuse a block that claims to expand over 4096 times (a
	// hostile directory's bound); one that would is stored raw.
	if len(body) >= len(raw) || len(raw) > (len(body)+blockTrailer)<<12 {
		body, kind = append(dst, raw...), storedRaw
	} else {
		body = dst[:len(dst)+len(body)]
	}
	body = append(body, kind)
	return binary.LittleEndian.AppendUint32(body, crc32.Checksum(raw, castagnoli))
}

// decodeBlock reads and decompresses block ref of src into dst, reading
// the compressed bytes into *scratch (grown as needed).
func decodeBlock(src readerAt, ref blockRef, dst []byte, scratch *[]byte) ([]byte, error) {
	if ref.rlen > maxBlockBytes || ref.clen < blockTrailer || ref.clen > ref.rlen+blockTrailer {
		return nil, errBadBlock // no block is stored larger than raw
	}
	if cap(*scratch) < int(ref.clen) {
		*scratch = make([]byte, ref.clen)
	}
	comp := (*scratch)[:ref.clen]
	if _, err := src.ReadAt(comp, ref.off); err != nil {
		return nil, fmt.Errorf("reading index block: %w", err)
	}
	body, kind, sum := comp[:len(comp)-blockTrailer], comp[len(comp)-blockTrailer], binary.LittleEndian.Uint32(comp[len(comp)-4:])
	var out []byte
	switch kind {
	case storedRaw:
		out = append(dst[:0], body...)
	case storedS2:
		n, err := s2.DecodedLen(body)
		if err != nil || n != int(ref.rlen) {
			return nil, errBadBlock
		}
		if cap(dst) < n {
			dst = make([]byte, n)
		}
		if out, err = s2.Decode(dst[:n], body); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadBlock, err)
		}
	default:
		return nil, errBadBlock
	}
	if len(out) != int(ref.rlen) || crc32.Checksum(out, castagnoli) != sum {
		return nil, errBadBlock
	}
	return out, nil
}
