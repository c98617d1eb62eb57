package file

// DNS zone files: RFC 1035 master files, plain or gzip, such as the TLD
// zones ICANN's CZDS serves (<tld>.zone.gz: one record a line, fields
// separated by one tab, absolute lower-case names, the SOA first and
// again last) and IANA's root.zone.
//
// Every line goes through a hand-written tokenizer that handles the CZDS
// shape and the common master-file forms ($ORIGIN, $TTL, @, relative and
// blank owner names, TTL and class in either order) for A, AAAA, NS,
// CNAME, DNAME, PTR, MX, SOA and DS records; anything else (other types,
// quoted strings, escapes, records continued over lines in parentheses,
// $GENERATE) is handed to miekg/dns's ZoneParser with the current origin
// and owner, record by record. ZoneParser takes about 5x the tokenizer's
// time per CZDS line (BenchmarkZoneTokenizer, BenchmarkZoneParserLibrary),
// and on a 10M-record zone parsing alone takes more CPU than the whole
// index build with the tokenizer (go run ./internal/benchzone). $INCLUDE
// is refused: a data file does not get to read other files.
//
// What is kept: every record but DNSSEC signatures and denial-of-existence
// chains (RRSIG, NSEC, NSEC3, NSEC3PARAM), which say nothing about names and
// hosts and are most of a signed zone; records of the root name itself,
// which a finding cannot name. So a TLD zone answers resolutions (the
// delegation NS and DS of a domain, glue addresses), ns_reverse (every
// domain of the TLD delegated to a name server), reverse_ip (the glue
// names on an address) and subdomains.
//
// Time: a zone is a snapshot, and all its records are seen at one time:
// as_of when set; else the zone's SOA serial read as a date (YYYYMMDDnn,
// the start of that day in UTC) or as unix seconds (serials such as .com's
// are), when the SOA is the file's first record and the serial is a time
// no later than a day after the file was written; else the file's
// modification time (the day it was downloaded). The records' currency
// follows: all current as of that time.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// zoneState is the tokenizer's state across the lines of one zone.
type zoneState struct {
	origin   []byte // absolute, with the trailing dot
	owner    []byte // the previous record's owner, absolute
	t        int64  // time of the records
	adoptSOA bool   // take t from the first record if it is an SOA
	fileTime int64  // bound for serials read as times
	first    bool   // no record seen yet
	pending  []byte // a record continued over lines, until its parentheses close
	depth    int
	single   bool // each line is a whole record (dnsx "all"): no state kept
	fields   [][]byte
	// class[k]: the byte classes (zoneUnsafe, zoneUpper) of fields[k]
	class [16]uint8
	// ownerLower: owner is a safe name in lower case (see lowerField), and
	// so is originLower for origin: such a name's normal form is itself
	// without its trailing dot, and normName need not read it.
	ownerLower, originLower bool
	nameBuf                 []byte
	valBuf                  []byte
	// The last owner normalised and its normal form: a zone gives each
	// owner's records on consecutive lines (2-4 for a delegation).
	lastOwner, lastOwnerNorm []byte
}

// newZoneState starts a zone whose records are seen at t.
func newZoneState(t int64, single bool) *zoneState {
	return &zoneState{origin: []byte("."), originLower: true, t: t, first: true, single: single}
}

// zoneParser returns the line parser of a zone file. t is the file's
// time; when adoptSOA, a first SOA's serial that reads as a time no later
// than a day after it replaces it.
func zoneParser(t int64, adoptSOA bool) func([]byte, emitFunc) error {
	z := newZoneState(t, false)
	z.adoptSOA, z.fileTime = adoptSOA, t
	return z.parseLine
}

// parseLine reads one line of the zone. It keeps state between lines
// ($ORIGIN, the previous owner, an open parenthesis), so the lines of a
// file must come to one zoneState in order.
func (z *zoneState) parseLine(line []byte, emit emitFunc) error {
	if len(z.pending) > 0 {
		z.pending = append(append(z.pending, '\n'), line...)
		d, err := parenDepth(line)
		if err != nil {
			z.pending, z.depth = z.pending[:0], 0
			return err
		}
		if z.depth += d; z.depth > 0 {
			if len(z.pending) > maxLineBytes {
				z.pending, z.depth = z.pending[:0], 0
				return errors.New("a record in parentheses runs on too long")
			}
			return nil
		}
		text, depth := z.pending, z.depth
		z.pending, z.depth = z.pending[:0], 0
		if depth < 0 {
			return errors.New("')' without '('")
		}
		return z.slow(text, emit)
	}
	if err := z.fast(line, emit); err != errNotFast {
		return err
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	d, err := parenDepth(line)
	if err != nil {
		return err
	}
	switch {
	case d > 0 && !z.single:
		z.pending, z.depth = append(z.pending[:0], line...), d
		return nil
	case d != 0:
		return errors.New("unbalanced parentheses")
	}
	trimmed := bytes.TrimSpace(line)
	if trimmed[0] == ';' {
		return nil // a comment line
	}
	return z.slow(line, emit)
}

// parenDepth counts '(' less ')' outside quotes and comments.
func parenDepth(line []byte) (int, error) {
	d, quoted := 0, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ';':
			return d, nil
		case c == '(':
			d++
		case c == ')':
			d--
		}
	}
	if quoted {
		return 0, errors.New("unterminated quoted string")
	}
	return d, nil
}

// errNotFast: the line has quotes, a comment, parentheses or escapes,
// which the tokenizer leaves to parseLine's other paths.
var errNotFast = errors.New("not the tokenizer's")

// splitFields splits on runs of spaces and tabs into z.fields; special
// reports a quote, ';', a parenthesis or a backslash in the line.
func (z *zoneState) splitFields(line []byte) (f [][]byte, special bool) {
	f = z.fields[:0]
	i, n := 0, len(line)
	for i < n {
		for i < n && zoneByte[line[i]] == zoneSpace {
			i++
		}
		start := i
		var u uint8 // safeName's test and the case, made on the way
		i = skipLowerName(line, i)
		for {
			for i < n && zoneByte[line[i]]&^(zoneUnsafe|zoneUpper) == zonePlain {
				u |= zoneByte[line[i]]
				i++
			}
			if i < n && zoneByte[line[i]] == zoneSpecial {
				special, u = true, u|zoneUnsafe
				i++
				continue
			}
			break
		}
		if i > start {
			if len(f) < len(z.class) {
				z.class[len(f)] = u
			}
			f = append(f, line[start:i])
		}
	}
	z.fields = f
	return f, special
}

// skipLowerName returns the index of the first byte from i on that is
// not a lower-case letter, a digit, '-', '.' or '/' (bytes that are
// zonePlain with no class bits: most of a CZDS line), eight bytes at a
// time. For bytes under 0x80, adding 0x80-lo sets a byte's high bit
// exactly when it is lo or more, without a carry into the next byte; the
// high bits are cleared first and a byte that had one is not taken.
func skipLowerName(line []byte, i int) int {
	const ones, highs, low7 = 0x0101010101010101, 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	for i+8 <= len(line) {
		x := binary.LittleEndian.Uint64(line[i:])
		y := x & low7
		digits := (y + (0x80-'-')*ones) &^ (y + (0x80-'9'-1)*ones) // '-' '.' '/' 0-9
		letters := (y + (0x80-'a')*ones) &^ (y + (0x80-'z'-1)*ones)
		other := ^(digits | letters) & highs
		other |= x & highs
		if other != 0 {
			return i + bits.TrailingZeros64(other)>>3
		}
		i += 8
	}
	return i
}

// Lines commonLine takes.
const (
	lineOther  = iota // for splitFields and the rest of fast
	lineNS            // a delegation: its five fields are in z.fields
	lineDNSSEC        // RRSIG, NSEC, NSEC3 or NSEC3PARAM: nothing to emit
)

// commonLine recognises most of a TLD zone's lines by their shape,
// "owner<tab>TTL<tab>in<tab>type<tab>...", with an owner of zonePlain
// bytes with no class bits (a lower-case name), and sets the owner (and
// for a delegation the fields and their classes) as splitFields and fast
// would: a delegation, "... ns<tab>target" with a lower-case target; a
// DNSSEC record with no quote, comment, parenthesis or escape, which the
// general path would cut into fields only to drop. Any other line is left
// to the general path. It spares these lines its field loop and the tests
// of each field for a TTL, a class and a type.
func (z *zoneState) commonLine(line []byte) int {
	owner := lowerNameEnd(line, 0)
	if owner == 0 || owner >= len(line) || line[owner] != '\t' {
		return lineOther
	}
	ttl := owner + 1
	for ttl < len(line) && line[ttl]-'0' < 10 {
		ttl++
	}
	rest := line[ttl:]
	if ttl == owner+1 || !bytes.HasPrefix(rest, []byte("\tin\t")) {
		return lineOther
	}
	kind := lineOther
	switch typ := rest[4:]; {
	case bytes.HasPrefix(typ, []byte("ns\t")):
		start := ttl + 7
		if start == len(line) || lowerNameEnd(line, start) != len(line) {
			return lineOther
		}
		z.fields = append(z.fields[:0], line[:owner], line[owner+1:ttl], line[ttl+1:ttl+3], line[ttl+4:ttl+6], line[start:])
		kind = lineNS
	case bytes.HasPrefix(typ, []byte("rrsig\t")), bytes.HasPrefix(typ, []byte("nsec3\t")), bytes.HasPrefix(typ, []byte("nsec\t")), bytes.HasPrefix(typ, []byte("nsec3param\t")):
		if bytes.IndexAny(typ, "\";()\\") >= 0 {
			return lineOther
		}
		z.fields = append(z.fields[:0], line[:owner])
		kind = lineDNSSEC
	default:
		return lineOther
	}
	z.class = [len(z.class)]uint8{}
	z.owner, z.ownerLower = z.abs(z.owner, z.fields[0]), z.lowerAbs(0)
	return kind
}

// lowerNameEnd returns the index of the first byte from i on that is not
// zonePlain with no class bits.
func lowerNameEnd(line []byte, i int) int {
	i = skipLowerName(line, i)
	for i < len(line) && zoneByte[line[i]] == zonePlain {
		i++
	}
	return i
}

// safeField is safeName(z.fields[k]), from what splitFields saw.
func (z *zoneState) safeField(k int) bool {
	if k >= len(z.class) {
		return safeName(z.fields[k])
	}
	f := z.fields[k]
	return z.class[k]&zoneUnsafe == 0 || len(f) == 1 && f[0] == '@'
}

// safeFields reports that the fields from k on are safe (safeField):
// no control byte, say, which the library reads as a blank.
func (z *zoneState) safeFields(k int) bool {
	for ; k < len(z.fields); k++ {
		if !z.safeField(k) {
			return false
		}
	}
	return true
}

// lowerField reports that z.fields[k] is a safe name already in normal
// form but for its trailing dot: no byte normName would change, from
// what splitFields saw.
func (z *zoneState) lowerField(k int) bool {
	return k < len(z.class) && z.class[k] == 0
}

// Classes of a zone line's bytes, for splitFields.
const (
	zonePlain   = 0
	zoneSpace   = 1 // a field separator
	zoneSpecial = 2 // the tokenizer leaves the line to the other paths
	zoneUnsafe  = 4 // with zonePlain: a byte safeName refuses
	zoneUpper   = 8 // with zonePlain: A-Z, which normName lower-cases
)

var zoneByte = func() (t [256]uint8) {
	for c := range 256 {
		if !safeNameByte[c] {
			t[c] = zoneUnsafe
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = zoneUpper
	}
	t[' '], t['\t'] = zoneSpace, zoneSpace
	for _, c := range []byte("\";()\\") {
		t[c] = zoneSpecial
	}
	return t
}()

// abs makes name absolute under the origin, into buf.
func (z *zoneState) abs(buf, name []byte) []byte {
	buf = buf[:0]
	switch {
	case len(name) == 1 && name[0] == '@':
		return append(buf, z.origin...)
	case len(name) > 0 && name[len(name)-1] == '.':
		return append(buf, name...)
	}
	buf = append(append(buf, name...), '.')
	if len(z.origin) > 1 {
		buf = append(buf, z.origin...)
	}
	return buf
}

// fast reads a line without quotes, comments, parentheses or escapes,
// and returns errNotFast for any other.
func (z *zoneState) fast(line []byte, emit emitFunc) error {
	switch z.commonLine(line) {
	case lineNS:
		return z.emitName(emit, "NS", z.fields[4], 4)
	case lineDNSSEC:
		z.noteRecord()
		return nil
	}
	f, special := z.splitFields(line)
	if special {
		return errNotFast
	}
	if len(f) == 0 {
		return nil
	}
	if line[0] == '$' {
		return z.directive(f, line, emit)
	}
	i := 0
	if line[0] == ' ' || line[0] == '\t' {
		if len(z.owner) == 0 || z.single {
			return errors.New("a record without an owner name")
		}
	} else {
		if !z.safeField(0) {
			return z.slow(line, emit)
		}
		z.owner, z.ownerLower = z.abs(z.owner, f[0]), z.lowerAbs(0)
		i = 1
	}
	for k := 0; k < 2 && i < len(f) && (isTTL(f[i]) || isClass(f[i])); k++ {
		i++
	}
	if i >= len(f) {
		return errors.New("a record without a type")
	}
	typ, rdata := f[i], f[i+1:]
	r0 := i + 1 // rdata[j] is field r0+j
	switch c := typ[0] | 0x20; {
	case c != 'a' && c != 'n' && c != 'd' && c != 'r' && c != 'c' && c != 'p' && c != 'm' && c != 's':
	case eqFold(typ, "a"):
		if len(rdata) == 1 {
			return z.emitValue(emit, "A", rdata[0])
		}
	case eqFold(typ, "ns"):
		if len(rdata) == 1 && z.safeField(r0) {
			return z.emitName(emit, "NS", rdata[0], r0)
		}
	case eqFold(typ, "aaaa"):
		if len(rdata) == 1 {
			return z.emitValue(emit, "AAAA", rdata[0])
		}
	case eqFold(typ, "ds"):
		if len(rdata) >= 4 && canonUint(rdata[0], 16) && canonUint(rdata[1], 8) && canonUint(rdata[2], 8) && z.safeFields(r0+3) {
			v := append(z.valBuf[:0], rdata[0]...)
			for _, p := range rdata[1:3] {
				v = append(append(v, ' '), p...)
			}
			v = append(v, ' ')
			for _, p := range rdata[3:] {
				v = appendUpper(v, p)
			}
			z.valBuf = v
			return z.emitValue(emit, "DS", v)
		}
	case eqFold(typ, "rrsig"), eqFold(typ, "nsec"), eqFold(typ, "nsec3"), eqFold(typ, "nsec3param"):
		z.noteRecord()
		return nil
	case eqFold(typ, "cname"):
		if len(rdata) == 1 && z.safeField(r0) {
			return z.emitName(emit, "CNAME", rdata[0], r0)
		}
	case eqFold(typ, "ptr"):
		if len(rdata) == 1 && z.safeField(r0) {
			return z.emitName(emit, "PTR", rdata[0], r0)
		}
	case eqFold(typ, "dname"):
		if len(rdata) == 1 && z.safeField(r0) {
			return z.emitName(emit, "DNAME", rdata[0], r0)
		}
	case eqFold(typ, "mx"):
		if len(rdata) == 2 && z.safeField(r0+1) {
			if canonUint(rdata[0], 16) {
				host := z.abs(z.nameBuf, rdata[1])
				z.nameBuf = host
				v := append(append(z.valBuf[:0], rdata[0]...), ' ')
				v = append(v, host...)
				z.valBuf = v
				return z.emitValue(emit, "MX", v)
			}
		}
	case eqFold(typ, "soa"):
		if len(rdata) == 7 && z.safeField(r0) && z.safeField(r0+1) && canonUints(rdata[2:]) { // timers as "1h" are the library's
			mname := z.abs(nil, rdata[0])
			rname := z.abs(nil, rdata[1])
			v := fmt.Sprintf("%s %s %s %s %s %s %s", mname, rname, rdata[2], rdata[3], rdata[4], rdata[5], rdata[6])
			if serial, err := strconv.ParseUint(string(rdata[2]), 10, 32); err == nil {
				z.soa(uint32(serial))
			}
			return z.emitValue(emit, "SOA", []byte(v))
		}
	}
	// Another type, or a form the tokenizer does not take apart: the
	// library reads the line.
	return z.slow(line, emit)
}

// noteRecord marks that the zone has had a record: an SOA after this one
// does not set the zone's time.
func (z *zoneState) noteRecord() { z.first = false }

// soa takes the zone's time from the first record's serial.
func (z *zoneState) soa(serial uint32) {
	if z.first && z.adoptSOA {
		if t := serialTime(serial, z.fileTime); t > 0 {
			z.t = t
		}
	}
}

// serialTime reads an SOA serial as a time: YYYYMMDDnn (RFC 1912's
// advice) as the start of that day, else unix seconds; 0 when it is
// neither, or is later than a day after bound (a file time), or before
// 2000.
func serialTime(serial uint32, bound int64) int64 {
	limit := bound + 86400
	if bound <= 0 {
		limit = time.Now().Unix() + 86400
	}
	if d := serial / 100; d >= 19900101 && d <= 21001231 {
		if t, err := time.Parse("20060102", strconv.FormatUint(uint64(d), 10)); err == nil && t.Unix() <= limit {
			return t.Unix()
		}
	}
	if t := int64(serial); t >= 946684800 && t <= limit {
		return t
	}
	return 0
}

// emitValue emits a record of the current owner.
func (z *zoneState) emitValue(emit emitFunc, rrtype string, value []byte) error {
	z.noteRecord()
	owner := z.owner
	if rrtype == "PTR" {
		owner = arpaToIP(owner)
	}
	if len(owner) == 1 && owner[0] == '.' {
		return nil // the root itself: no name for a finding
	}
	v, err := normValue(rrtype, value)
	if err != nil {
		return fmt.Errorf("%s %q: %w", rrtype, truncate(value), err)
	}
	return z.emitNormal(emit, rrtype, owner, v)
}

// emitNormal emits a record of owner (the current one, or its address
// for a PTR) whose value v is normalised.
func (z *zoneState) emitNormal(emit emitFunc, rrtype string, owner, v []byte) error {
	n := z.lastOwnerNorm
	if z.lastOwner == nil || !bytes.Equal(owner, z.lastOwner) {
		var err error
		if n = trimName(owner); len(n) == 0 || !z.ownerLower || rrtype == "PTR" {
			if n, err = normName(owner); err != nil {
				return fmt.Errorf("owner %q: %w", truncate(owner), err)
			}
		}
		z.lastOwner = append(z.lastOwner[:0], owner...)
		z.lastOwnerNorm = append(z.lastOwnerNorm[:0], n...)
		n = z.lastOwnerNorm
	}
	emit(n, rrtype, v, z.t, z.t, 0)
	return nil
}

// emitName emits a record whose value is a (possibly relative) name,
// fields[k].
func (z *zoneState) emitName(emit emitFunc, rrtype string, target []byte, k int) error {
	z.nameBuf = z.abs(z.nameBuf, target)
	if v := trimName(z.nameBuf); len(v) > 0 && z.lowerAbs(k) && rrtype != "PTR" {
		// normValue of a name is normName, which would keep v as it is.
		z.noteRecord()
		if len(z.owner) == 1 && z.owner[0] == '.' {
			return nil // as emitValue
		}
		return z.emitNormal(emit, rrtype, z.owner, v)
	}
	return z.emitValue(emit, rrtype, z.nameBuf)
}

// lowerAbs reports that z.abs of fields[k] is a safe name in lower case.
func (z *zoneState) lowerAbs(k int) bool {
	f := z.fields[k]
	return z.lowerField(k) && len(f) > 0 && (f[len(f)-1] == '.' || z.originLower)
}

// directive handles $ORIGIN and $TTL; $GENERATE goes to the library.
func (z *zoneState) directive(f [][]byte, line []byte, emit emitFunc) error {
	switch {
	case eqFold(f[0], "$origin") && len(f) == 2:
		z.origin, z.originLower = append([]byte(nil), z.abs(nil, f[1])...), z.lowerAbs(1)
		return nil
	case eqFold(f[0], "$ttl") && len(f) == 2:
		return nil // TTLs are not kept
	case eqFold(f[0], "$include"):
		return errors.New("$INCLUDE is not followed: a data file does not read other files")
	case eqFold(f[0], "$generate"):
		return z.slow(line, emit)
	}
	return fmt.Errorf("unknown directive %q", truncate(f[0]))
}

// slow reads one record (or $GENERATE) with miekg/dns, under the current
// origin and owner.
func (z *zoneState) slow(text []byte, emit emitFunc) error {
	var src strings.Builder
	if t := bytes.TrimLeft(text, " \t"); len(t) < len(text) && len(t) > 0 && t[0] != ';' {
		if len(z.owner) == 0 || z.single {
			return errors.New("a record without an owner name")
		}
		src.Write(z.owner) // a blank owner is the previous record's
		src.WriteByte(' ')
		text = t
	}
	src.Write(text)
	src.WriteByte('\n')
	zp := dns.NewZoneParser(strings.NewReader(src.String()), string(z.origin), "")
	zp.SetDefaultTTL(3600)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if err := z.emitRR(rr, emit); err != nil {
			return err
		}
	}
	if err := zp.Err(); err != nil {
		return zoneError(err)
	}
	return nil
}

// zoneError shortens a ZoneParser error: its position is that of the
// one-record text it was given, not of the file.
func zoneError(err error) error {
	var pe *dns.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s", strings.TrimPrefix(pe.Error(), "dns: "))
	}
	return err
}

// emitRR emits one parsed record.
func (z *zoneState) emitRR(rr dns.RR, emit emitFunc) error {
	h := rr.Header()
	rrtype, ok := dns.TypeToString[h.Rrtype]
	if !ok {
		rrtype = typeNumber(uint64(h.Rrtype))
	}
	z.owner, z.ownerLower = append(z.owner[:0], h.Name...), false
	if skipType(rrtype) {
		z.noteRecord()
		return nil
	}
	if soa, ok := rr.(*dns.SOA); ok {
		z.soa(soa.Serial)
	}
	value := strings.TrimPrefix(rr.String(), h.String())
	if rrtype == "TXT" || rrtype == "SPF" {
		if txt, ok := rr.(*dns.TXT); ok {
			value = strings.Join(txt.Txt, "")
			if value == "" {
				z.noteRecord()
				return nil
			}
			value = `"` + strings.ReplaceAll(strings.ReplaceAll(value, `\`, `\\`), `"`, `\"`) + `"`
		}
	}
	return z.emitValue(emit, rrtype, []byte(value))
}

// safeName reports a name of the characters the library writes as they
// are (letters, digits, '-', '_', '*', '/', '.', '@'); others it escapes,
// so it reads them.
func safeName(b []byte) bool {
	if len(b) == 1 && b[0] == '@' {
		return true
	}
	for _, c := range b {
		if !safeNameByte[c] {
			return false
		}
	}
	return len(b) > 0
}

var safeNameByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*' || c == '/'
	}
	return t
}()

// appendUpper appends p upper-cased as bytes.ToUpper does it, without
// allocating when p is ASCII (a DS digest), 8 bytes at a time: a byte's
// high bit is set by adding 0x80-'a' when it is 'a' or more, and by adding
// 0x80-'z'-1 when it is more than 'z'; no ASCII byte carries into the
// next.
func appendUpper(dst, p []byte) []byte {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	n := len(dst)
	dst = append(dst, p...)
	d := dst[n:]
	i := 0
	for ; i+8 <= len(d); i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		if x&highs != 0 {
			return append(dst[:n], bytes.ToUpper(p)...)
		}
		lower := (x + (0x80-'a')*ones) &^ (x + (0x80-'z'-1)*ones) & highs
		binary.LittleEndian.PutUint64(d[i:], x-lower>>2)
	}
	for ; i < len(d); i++ {
		switch c := d[i]; {
		case c-'a' < 26:
			d[i] = c - ('a' - 'A')
		case c >= 0x80:
			return append(dst[:n], bytes.ToUpper(p)...)
		}
	}
	return dst
}

// canonUint reports a number of at most bits bits written as the library
// writes it back (no sign, no leading zeros): what strconv.ParseUint
// reads and strconv.FormatUint gives back, without the allocation.
func canonUint(b []byte, bits int) bool {
	if len(b) == 0 || len(b) > 20 || b[0] == '0' && len(b) > 1 {
		return false
	}
	var n uint64
	for _, c := range b {
		d := uint64(c - '0')
		if d > 9 || n > (math.MaxUint64-d)/10 {
			return false
		}
		n = n*10 + d
	}
	return bits >= 64 || n < 1<<bits
}

// canonUints reports 32-bit numbers (an SOA's serial and timers).
func canonUints(fields [][]byte) bool {
	for _, f := range fields {
		if !canonUint(f, 32) {
			return false
		}
	}
	return true
}

// isTTL reports a TTL field: digits, or BIND's units (1h30m, 2d).
func isTTL(b []byte) bool {
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return false
	}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
		case strings.IndexByte("smhdwSMHDW", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isClass reports a class field.
func isClass(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch b[0] | 0x20 {
	case 'i', 'c', 'h', 'n', 'a':
	default:
		return false
	}
	switch {
	case eqFold(b, "in"), eqFold(b, "ch"), eqFold(b, "hs"), eqFold(b, "cs"), eqFold(b, "none"), eqFold(b, "any"):
		return true
	case len(b) > 5 && eqFold(b[:5], "class"):
		_, err := strconv.ParseUint(string(b[5:]), 10, 16)
		return err == nil
	}
	return false
}

// eqFold compares b with a lower-case ASCII word, ignoring case.
func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// looksLikeZoneLine is the detection test for a master file: a
// directive, or a record with a class or a TTL before a known type.
func looksLikeZoneLine(line []byte) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return false
	}
	for _, d := range []string{"$origin", "$ttl", "$generate", "$include"} {
		if len(line) > len(d) && eqFold(line[:len(d)], d) && (line[len(d)] == ' ' || line[len(d)] == '\t') {
			return true
		}
	}
	if bytes.IndexByte(line, ',') >= 0 && bytes.IndexAny(line, "\t") < 0 {
		return false // CSV, not a zone
	}
	f := bytes.Fields(line)
	if len(f) < 3 {
		return false
	}
	i, sawClass, sawTTL := 1, false, false
	for ; i < len(f) && i < 3; i++ {
		if isClass(f[i]) {
			sawClass = true
		} else if isTTL(f[i]) {
			sawTTL = true
		} else {
			break
		}
	}
	if !sawClass && !sawTTL || i >= len(f)-1 {
		return false
	}
	_, known := dns.StringToType[strings.ToUpper(string(f[i]))]
	return known
}
