package file

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The index is two sorted tables of entries, each cut into blocks of
// about blockRaw bytes that are compressed one by one:
//
//   - the forward table (F): one entry per distinct record, sorted by the
//     owner name's bytes reversed ("moc.elpmaxe.www"), so that a name's
//     records are adjacent and the names under a domain form one range
//     (the subdomains of example.com are the names whose reversed form
//     starts with "moc.elpmaxe.");
//   - the reverse table (R): one entry per record with a lookup key, sorted
//     by key: the IP of A/AAAA records, the host name of CNAME, NS, PTR,
//     DNAME and MX records (its bytes reversed, so targets under a domain
//     are a range too), and the IP of a PTR record's owner when the owner
//     is an address (reverse DNS dumps). Each entry repeats the whole
//     record, so a reverse lookup (reverse_ip, ns_reverse: the posting list
//     of a name server) reads only the blocks of its key.
//
// Within a block, names and keys are front-coded against the previous
// entry's, a forward value against the previous value's suffix
// (appendValue), integers are varints and times deltas, or one 0 byte
// when they are the previous entry's (appendTimes); S2 takes the rest
// (codec.go).
// A block's first key is kept in the table's directory, which is all a
// reader holds in memory.

const blockRaw = 32 << 10

// Key classes: the first byte of a reverse key.
const (
	keyIPv4 = '4' // then 4 bytes, big-endian
	keyIPv6 = '6' // then 16 bytes
	keyName = 'n' // then the host name's bytes reversed
)

// fent is a forward entry.
type fent struct {
	rname              []byte // owner name, bytes reversed
	typ                uint16 // index into the index's types
	value              []byte
	first, last, count uint32
	// addr says what the value is when its source knows: 0 unknown,
	// valueNotIPv4, or valueIPv4|address (value may then be nil: only
	// the block encoder takes such entries).
	addr uint64
}

const (
	valueNotIPv4 = 1 << 32
	valueIPv4    = 1 << 33
)

// rent is a reverse entry.
type rent struct {
	key   []byte
	owned bool   // a PTR record owned by the key's address
	rname []byte // owner name, bytes reversed
	typ   uint16
	value []byte
	// implied: value is the key's own text, not stored (value may be nil).
	implied            bool
	first, last, count uint32
}

// valueOf returns x's value, made from its key when implied.
func (x *rent) valueOf() []byte {
	if x.implied && x.value == nil {
		x.value = keyText(nil, x.key)
	}
	return x.value
}

func reverseInto(dst, s []byte) []byte {
	n := len(dst)
	dst = append(dst, s...)
	r := dst[n:]
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return dst
}

// appendKey appends the reverse key of a record value (or a PTR owner)
// to dst. Canonical IPv4 and IPv6 addresses are keyed by address, other
// text as a name.
func appendKey(dst, v []byte) []byte {
	if a, ok := parseIPv4(v); ok {
		return binary.BigEndian.AppendUint32(append(dst, keyIPv4), a)
	}
	if bytes.IndexByte(v, ':') >= 0 {
		if a, ok := canonicalIPv6(v); ok {
			return append(append(dst, keyIPv6), a[:]...)
		}
		// netip for what canonicalIPv6 leaves to it: IPv4-mapped text.
		var text [64]byte
		if a, err := netip.ParseAddr(string(v)); err == nil && a.Is6() && a.Zone() == "" && bytes.Equal(a.AppendTo(text[:0]), v) {
			b := a.As16()
			return append(append(dst, keyIPv6), b[:]...)
		}
	}
	return reverseInto(append(dst, keyName), v)
}

// keyText appends the text a key stands for.
func keyText(dst, key []byte) []byte {
	switch {
	case len(key) == 5 && key[0] == keyIPv4:
		a := binary.BigEndian.Uint32(key[1:])
		return appendIPv4(dst, a)
	case len(key) == 17 && key[0] == keyIPv6:
		return netip.AddrFrom16([16]byte(key[1:])).AppendTo(dst)
	case len(key) > 0 && key[0] == keyName:
		return reverseInto(dst, key[1:])
	}
	return dst
}

func appendIPv4(dst []byte, a uint32) []byte {
	for i := 3; i >= 0; i-- {
		dst = appendUint8(dst, byte(a>>(8*i)))
		if i > 0 {
			dst = append(dst, '.')
		}
	}
	return dst
}

func appendUint8(dst []byte, b byte) []byte {
	switch {
	case b >= 100:
		return append(dst, '0'+b/100, '0'+b/10%10, '0'+b%10)
	case b >= 10:
		return append(dst, '0'+b/10, '0'+b%10)
	}
	return append(dst, '0'+b)
}

// commonPrefix returns the length of the common prefix of a and b,
// comparing a word at a time and finding the first differing byte of a
// word from its XOR; a short tail is compared as one overlapping word.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	if n < 8 {
		if n >= 4 {
			if x := binary.LittleEndian.Uint32(a) ^ binary.LittleEndian.Uint32(b); x != 0 {
				return bits.TrailingZeros32(x) >> 3
			}
			if x := binary.LittleEndian.Uint32(a[n-4:]) ^ binary.LittleEndian.Uint32(b[n-4:]); x != 0 {
				return n - 4 + bits.TrailingZeros32(x)>>3
			}
			return n
		}
		i := 0
		for i < n && a[i] == b[i] {
			i++
		}
		return i
	}
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)>>3
		}
	}
	if i == n {
		return n
	}
	// The bytes before i are equal, so the first difference in the last
	// word, which overlaps them, is at or after i.
	if x := binary.LittleEndian.Uint64(a[n-8:]) ^ binary.LittleEndian.Uint64(b[n-8:]); x != 0 {
		return n - 8 + bits.TrailingZeros64(x)>>3
	}
	return n
}

func appendFront(dst, prev, s []byte) []byte {
	p := commonPrefix(prev, s)
	if p < 0x80 && len(s)-p < 0x80 {
		dst = append(dst, byte(p), byte(len(s)-p)) // both varints one byte long
	} else {
		dst = binary.AppendUvarint(dst, uint64(p))
		dst = binary.AppendUvarint(dst, uint64(len(s)-p))
	}
	return append(dst, s[p:]...)
}

func appendBytes(dst, s []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func zigzag(d int64) uint64   { return uint64(d<<1) ^ uint64(d>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// entryTimes are an entry's first and last times and count.
type entryTimes struct{ first, last, count uint32 }

// appendTimes appends an entry's times: one 0 byte when they are the
// previous entry's (all of a zone's records share one time), else the
// first time as the zigzag delta from the previous entry's, plus one,
// the span to the last time and the count.
func appendTimes(dst []byte, prev *entryTimes, t entryTimes) []byte {
	if t == *prev {
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, zigzag(int64(t.first)-int64(prev.first))+1)
	*prev = t
	dst = binary.AppendUvarint(dst, uint64(t.last-t.first))
	return binary.AppendUvarint(dst, uint64(t.count))
}

// blockEnc encodes the entries of one block.
type blockEnc struct {
	buf       []byte
	prevKey   []byte // F: rname; R: key
	prevName  []byte // R: rname
	prevValue []byte // F: the last value that is not an IPv4 address
	prevTimes entryTimes
	n         int
	first     []byte // the block's first key
	scratch   []byte
	// stable: an entry's bytes stay valid after the next entry is added
	// (a sealed run's tables), so the previous entry's are referred to,
	// not copied.
	stable bool
}

func (e *blockEnc) reset() {
	e.buf, e.prevTimes, e.n, e.first = e.buf[:0], entryTimes{}, 0, e.first[:0]
	if e.stable {
		e.prevKey, e.prevName, e.prevValue = nil, nil, nil
	} else {
		e.prevKey, e.prevName, e.prevValue = e.prevKey[:0], e.prevName[:0], e.prevValue[:0]
	}
}

// keep remembers s as the previous entry's key or name in *dst.
func (e *blockEnc) keep(dst *[]byte, s []byte) {
	if e.stable {
		*dst = s
		return
	}
	*dst = append((*dst)[:0], s...)
}

func (e *blockEnc) addF(x *fent) {
	if e.n == 0 {
		e.first = append(e.first[:0], x.rname...)
	}
	e.n++
	e.buf = appendFront(e.buf, e.prevKey, x.rname)
	e.keep(&e.prevKey, x.rname)
	e.buf = binary.AppendUvarint(e.buf, uint64(x.typ))
	a, ok := uint32(x.addr), x.addr&valueIPv4 != 0
	if x.addr == 0 {
		a, ok = parseIPv4(x.value)
	}
	if ok {
		e.buf = append(e.buf, 1)
		e.buf = binary.BigEndian.AppendUint32(e.buf, a)
	} else {
		e.buf = appendValue(e.buf, e.prevValue, x.value)
		e.keep(&e.prevValue, x.value)
	}
	e.buf = appendTimes(e.buf, &e.prevTimes, entryTimes{x.first, x.last, x.count})
}

// appendValue appends a forward entry's value that is not an IPv4
// address (those are the tag 1 and 4 bytes): the tag len<<1 and the
// bytes; or, when it ends as prev does (a domain's name servers, its MX
// hosts: "ns1.host23-dns.net" after "ns2.host23-dns.net"), the tag
// unique<<2|3, the length of the shared suffix and the unique bytes. On
// a zone's forward table that is a fifth fewer bytes for S2 to compress.
func appendValue(dst, prev, v []byte) []byte {
	if s := commonSuffix(prev, v); s > 1 {
		u := len(v) - s
		dst = binary.AppendUvarint(dst, uint64(u)<<2|3)
		dst = binary.AppendUvarint(dst, uint64(s))
		return append(dst, v[:u]...)
	}
	dst = binary.AppendUvarint(dst, uint64(len(v))<<1)
	return append(dst, v...)
}

// commonSuffix returns the length of the common suffix of a and b, a
// word at a time: in a little-endian word that ends a string, its last
// byte is the most significant, so the leading zeros of the XOR of two
// such words count the equal bytes at the end.
func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[len(a)-i-8:]) ^ binary.LittleEndian.Uint64(b[len(b)-i-8:]); x != 0 {
			return i + bits.LeadingZeros64(x)>>3
		}
	}
	for i < n && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return i
}

// impliedValue reports whether an entry's value is its key's text.
func impliedValue(x *rent, scratch []byte) bool {
	if x.owned {
		return false
	}
	switch x.key[0] {
	case keyIPv4:
		// appendKey keys only canonical text by address.
		return true
	case keyName:
		if len(x.value) != len(x.key)-1 {
			return false
		}
		k := x.key[1:]
		for i, c := range x.value {
			if k[len(k)-1-i] != c {
				return false
			}
		}
		return true
	}
	return string(keyText(scratch[:0], x.key)) == string(x.value)
}

func (e *blockEnc) addR(x *rent) {
	if e.n == 0 {
		e.first = append(e.first[:0], x.key...)
	}
	e.n++
	e.buf = appendFront(e.buf, e.prevKey, x.key)
	e.keep(&e.prevKey, x.key)
	e.buf = appendFront(e.buf, e.prevName, x.rname)
	e.keep(&e.prevName, x.rname)
	t := uint64(x.typ) << 1
	if x.owned {
		t |= 1
	}
	e.buf = binary.AppendUvarint(e.buf, t)
	if x.implied || impliedValue(x, e.scratch) {
		e.buf = append(e.buf, 0)
	} else {
		e.buf = binary.AppendUvarint(e.buf, uint64(len(x.value))+1)
		e.buf = append(e.buf, x.value...)
	}
	e.buf = appendTimes(e.buf, &e.prevTimes, entryTimes{x.first, x.last, x.count})
}

// blockDec decodes the entries of one block in order.
type blockDec struct {
	b         []byte
	off       int
	key, name []byte // the current entry's front-coded fields
	value     []byte
	prevValue []byte // F: the last value that is not an IPv4 address
	prevTimes entryTimes
	err       error
}

var errBadBlock = errors.New("index block is corrupt")

func (d *blockDec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = errBadBlock
		return 0
	}
	d.off += n
	return v
}

func (d *blockDec) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.err = errBadBlock
		return nil
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *blockDec) front(prev []byte) []byte {
	p := d.uvarint()
	s := d.uvarint()
	if d.err != nil || p > uint64(len(prev)) {
		d.err = errBadBlock
		return prev[:0]
	}
	return append(prev[:p], d.take(s)...)
}

func (d *blockDec) times() (first, last, count uint32) {
	v := d.uvarint()
	if v == 0 {
		t := d.prevTimes
		return t.first, t.last, t.count
	}
	f := int64(d.prevTimes.first) + unzigzag(v-1)
	span := d.uvarint()
	c := d.uvarint()
	if f < 0 || f > 1<<32-1 || span > 1<<32-1-uint64(f) || c > 1<<32-1 {
		d.err = errBadBlock
		return 0, 0, 0
	}
	d.prevTimes = entryTimes{uint32(f), uint32(f) + uint32(span), uint32(c)}
	return uint32(f), uint32(f) + uint32(span), uint32(c)
}

func (d *blockDec) more() bool { return d.err == nil && d.off < len(d.b) }

func (d *blockDec) nextF(x *fent, ntypes int) bool {
	d.key = d.front(d.key)
	t := d.uvarint()
	if t >= uint64(ntypes) {
		d.err = errBadBlock
	}
	d.readValue()
	x.first, x.last, x.count = d.times()
	x.rname, x.typ, x.value, x.addr = d.key, uint16(t), d.value, 0
	return d.err == nil
}

// readValue decodes a forward entry's value (appendValue's coding, or
// the tag 1 and an IPv4 address) into d.value.
func (d *blockDec) readValue() {
	vl := d.uvarint()
	if vl == 1 {
		ip := d.take(4)
		if ip != nil {
			d.value = appendIPv4(d.value[:0], binary.BigEndian.Uint32(ip))
		}
	} else if vl&1 == 0 {
		d.value = append(d.value[:0], d.take(vl>>1)...)
		d.prevValue = append(d.prevValue[:0], d.value...)
	} else if vl&3 == 3 {
		s := d.uvarint()
		unique := d.take(vl >> 2)
		if s > uint64(len(d.prevValue)) {
			d.err = errBadBlock
		}
		if d.err == nil {
			d.value = append(append(d.value[:0], unique...), d.prevValue[len(d.prevValue)-int(s):]...)
			d.prevValue = append(d.prevValue[:0], d.value...)
		}
	} else {
		d.err = errBadBlock
	}
}

func (d *blockDec) nextR(x *rent, ntypes int) bool {
	d.key = d.front(d.key)
	d.name = d.front(d.name)
	t := d.uvarint()
	if t>>1 >= uint64(ntypes) || len(d.key) == 0 {
		d.err = errBadBlock
		return false
	}
	vl := d.uvarint()
	if vl == 0 {
		d.value = keyText(d.value[:0], d.key)
	} else {
		d.value = append(d.value[:0], d.take(vl-1)...)
	}
	x.implied = vl == 0
	x.first, x.last, x.count = d.times()
	x.key, x.rname, x.typ, x.owned, x.value = d.key, d.name, uint16(t>>1), t&1 == 1, d.value
	return d.err == nil
}

// The meta section is compressed with zstd (blocks are S2: codec.go).
// Writers and readers share pooled coders.
var (
	encOnce sync.Once
	zenc    *zstd.Encoder
)

func metaEncoder() *zstd.Encoder {
	encOnce.Do(func() {
		zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(true), zstd.WithLowerEncoderMem(true), zstd.WithEncoderConcurrency(4))
	})
	return zenc
}

// maxBlockBytes bounds a block's decoded size: a block holds entries up
// to blockRaw and one more, and an entry holds a line's worth of data.
const maxBlockBytes = 64 << 20

var (
	metaOnce sync.Once
	zmeta    *zstd.Decoder
)

func metaDecoder() *zstd.Decoder {
	metaOnce.Do(func() {
		zmeta, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxMetaBytes), zstd.WithDecoderMaxWindow(maxMetaBytes))
	})
	return zmeta
}

// blockRef is a table directory entry.
type blockRef struct {
	first      []byte // the block's first key
	off        int64  // offset of the compressed block in the index file
	clen, rlen uint32 // compressed and raw length
}

type readerAt interface {
	ReadAt(p []byte, off int64) (int, error)
}
