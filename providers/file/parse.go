package file

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"

	"github.com/reconform/reconform/providers"
)

// Formats the provider reads.
const (
	FormatCOF  = "cof"  // Passive DNS Common Output Format NDJSON (CIRCL, DNSDB exports, D4)
	FormatFDNS = "fdns" // Rapid7 Project Sonar forward/reverse DNS NDJSON
	FormatCSV  = "csv"  // name,type,value[,first_seen,last_seen[,count]]
)

// emitFunc receives one normalised observation.
type emitFunc func(name []byte, rrtype string, value []byte, first, last, count int64)

// detectFormat looks at the first non-empty, non-comment line of a
// (decompressed) file: JSON lines by their member names, text by its
// shape (a zone file's records, Amass's graph, a list of host names), and
// any other text is CSV.
func detectFormat(head []byte) (string, error) {
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == ';' { // ';': a zone file's comment
			continue
		}
		if line[0] != '{' {
			if f := detectTextTool(line); f != "" {
				return f, nil
			}
			return FormatCSV, nil
		}
		keys := map[string]bool{}
		err := scanObject(line, func(key []byte, _ jsonKind, _ []byte) error {
			keys[string(key)] = true
			return nil
		})
		if err != nil {
			// A truncated first line in the peek buffer: look for the
			// member names as text.
			for _, k := range append([]string{"rrname", "rrtype", "rdata", "timestamp", "name", "value"}, toolKeys...) {
				keys[k] = bytes.Contains(line, []byte(`"`+k+`"`))
			}
		}
		switch {
		case keys["rrname"] || keys["rrtype"] || keys["rdata"] || keys["cond"] || keys["obj"]:
			return FormatCOF, nil // "cond"/"obj": DNSDB's Streaming API Framing around COF
		}
		if f := detectJSONTool(keys); f != "" {
			return f, nil
		}
		if keys["name"] && (keys["value"] || keys["type"] || keys["timestamp"]) {
			return FormatFDNS, nil
		}
		return "", errors.New("the first line is JSON but not a format we read (COF, Sonar FDNS, subfinder, Amass, BBOT, dnsx or massdns); set format")
	}
	return "", errors.New("the file is empty")
}

// jsonString returns a string member's bytes, decoding escapes.
func jsonString(kind jsonKind, val []byte) ([]byte, error) {
	switch kind {
	case kindString:
		return val, nil
	case kindEscaped:
		if s, ok := unescapeJSON(val); ok {
			return s, nil
		}
		var s string
		if err := json.Unmarshal(val, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	return nil, errors.New("not a string")
}

// unescapeJSON decodes a quoted JSON string of printable ASCII whose
// escapes are single characters (FDNS's TXT values, `\"v=spf1 ...\"`),
// as json.Unmarshal would, at a fraction of its cost; any other string
// (a \u escape, a byte outside ASCII, a control byte) is left to
// json.Unmarshal, which also replaces invalid UTF-8.
func unescapeJSON(val []byte) ([]byte, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return nil, false
	}
	in := val[1 : len(val)-1]
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case c < 0x20 || c >= 0x80 || c == '"':
			return nil, false
		case c != '\\':
			out = append(out, c)
			continue
		}
		if i++; i == len(in) {
			return nil, false
		}
		switch in[i] {
		case '"', '\\', '/':
			out = append(out, in[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			return nil, false
		}
	}
	return out, true
}

// jsonUint reads a non-negative number given as a JSON number or a numeric
// string (CIRCL's documentation shows "count": "19"). null is 0.
func jsonUint(kind jsonKind, val []byte) (int64, error) {
	switch kind {
	case kindLiteral:
		if string(val) == "null" {
			return 0, nil
		}
	case kindString, kindEscaped, kindNumber:
		s := val
		if kind == kindEscaped {
			var err error
			if s, err = jsonString(kind, val); err != nil {
				return 0, err
			}
		}
		s = bytes.TrimSpace(s)
		if len(s) == 0 {
			return 0, nil
		}
		if n, err := strconv.ParseInt(string(s), 10, 64); err == nil && n >= 0 {
			return n, nil
		}
		f, err := strconv.ParseFloat(string(s), 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, fmt.Errorf("%q is not a non-negative number", s)
		}
		return int64(min(f, math.MaxInt64/2)), nil
	}
	return 0, errors.New("not a number")
}

// parseFDNSLine reads one Sonar FDNS line:
// {"timestamp":"1717200000","name":"www.example.com","type":"a","value":"203.0.113.10"}
func parseFDNSLine(line []byte, emit emitFunc) error {
	var name, typ, value []byte
	var ts int64
	if f, ok := sonarFields(line); ok {
		name, typ, value = f[1], f[2], f[3]
		var err error
		if ts, err = providers.ParseCOFTime(f[0]); err != nil {
			return fmt.Errorf("timestamp: %w", err)
		}
		return emitFDNS(name, typ, value, ts, emit)
	}
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		var err error
		switch string(key) {
		case "name":
			name, err = jsonString(kind, val)
		case "type":
			typ, err = jsonString(kind, val)
		case "value":
			value, err = jsonString(kind, val)
		case "timestamp":
			ts, err = jsonTime(kind, val)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if name == nil || typ == nil || value == nil {
		return errors.New("missing name, type or value")
	}
	return emitFDNS(name, typ, value, ts, emit)
}

// sonarKeys is the exact layout Rapid7 wrote its lines in.
var sonarKeys = [4]string{`{"timestamp":"`, `","name":"`, `","type":"`, `","value":"`}

// sonarFields is the fast path for lines in Rapid7's exact layout with no
// escapes: it finds the four string values with IndexByte instead of
// scanning every byte. Any other line returns false and takes the general
// JSON path.
func sonarFields(line []byte) (f [4][]byte, ok bool) {
	// Each value ends at the next quote, backslash or control character
	// (found a word at a time), which must be a quote; the keys between
	// are compared as constants.
	rest := line
	if len(rest) < len(`{"timestamp":"`) || string(rest[:len(`{"timestamp":"`)]) != `{"timestamp":"` {
		return f, false
	}
	rest = rest[len(`{"timestamp":"`):]
	end := nextSpecial(rest)
	if end == len(rest) || rest[end] != '"' {
		return f, false
	}
	f[0], rest = rest[:end], rest[end:]
	if len(rest) < len(`","name":"`) || string(rest[:len(`","name":"`)]) != `","name":"` {
		return f, false
	}
	rest = rest[len(`","name":"`):]
	if end = nextSpecial(rest); end == len(rest) || rest[end] != '"' {
		return f, false
	}
	f[1], rest = rest[:end], rest[end:]
	if len(rest) < len(`","type":"`) || string(rest[:len(`","type":"`)]) != `","type":"` {
		return f, false
	}
	rest = rest[len(`","type":"`):]
	if end = nextSpecial(rest); end == len(rest) || rest[end] != '"' {
		return f, false
	}
	f[2], rest = rest[:end], rest[end:]
	if len(rest) < len(`","value":"`) || string(rest[:len(`","value":"`)]) != `","value":"` {
		return f, false
	}
	rest = rest[len(`","value":"`):]
	if end = nextSpecial(rest); end == len(rest) || rest[end] != '"' {
		return f, false
	}
	f[3], rest = rest[:end], rest[end:]
	tail := rest[1:] // after the closing quote of value
	if len(tail) == 0 || tail[0] != '}' || len(tail) > 1 && len(bytes.TrimSpace(tail[1:])) != 0 {
		return f, false
	}
	return f, true
}

// nextSpecial returns the index of b's first quote, backslash or control
// character, or len(b), 8 bytes at a time: a byte is below 0x20 when
// subtracting 0x20 from it borrows, and is a quote (a backslash) when its
// XOR with quotes (backslashes) is zero. No borrow reaches a byte before
// the first such byte, so the lowest flag is exact.
func nextSpecial(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ ('"' * ones)
		s := x ^ ('\\' * ones)
		if m := ((x-0x20*ones)&^x | (q-ones)&^q | (s-ones)&^s) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if !plainStringByte[b[i]] {
			return i
		}
	}
	return i
}

func emitFDNS(name, typ, value []byte, ts int64, emit emitFunc) error {
	rrtype, err := typeName(typ)
	if err != nil {
		return err
	}
	n, err := normName(name)
	if err != nil {
		return fmt.Errorf("name: %w", err)
	}
	v, err := normValue(rrtype, value)
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	emit(n, rrtype, v, ts, ts, 0)
	return nil
}

// jsonTime reads a time member with the time parser every COF reader
// shares (providers.ParseCOFTime): unix seconds as a number or a numeric
// string, RFC 3339 (DNSDB humantime exports), and the other forms real
// exports write. null is unknown.
func jsonTime(kind jsonKind, val []byte) (int64, error) {
	switch kind {
	case kindLiteral:
		if string(val) == "null" {
			return 0, nil
		}
	case kindString, kindNumber:
		return providers.ParseCOFTime(val)
	case kindEscaped:
		s, err := jsonString(kind, val)
		if err != nil {
			return 0, err
		}
		return providers.ParseCOFTime(s)
	}
	return 0, errors.New("not a time")
}

// parseTime reads a time given as text (CSV columns, the as_of
// attribute) with the shared COF time parser.
func parseTime(s string) (int64, error) { return providers.ParseCOFTime([]byte(s)) }

// safEnd is a DNSDB Streaming API Framing terminator that says the stream
// is incomplete ("limited", "failed"): not a bad line, but something the
// user must know about the file.
type safEnd struct{ cond, msg string }

func (e *safEnd) Error() string {
	s := fmt.Sprintf("the DNSDB stream saved in this file ends with cond %q", e.cond)
	if e.msg != "" {
		s += " (" + e.msg + ")"
	}
	if e.cond == "limited" {
		return s + ": DNSDB had more records than the file holds"
	}
	return s + ": the query did not complete, so the file may be missing records; the records before it were indexed"
}

// parseCOFLine reads one Passive DNS Common Output Format record, with the
// CIRCL quirks: numbers as strings, rrtype as a number, and A/MX records
// whose rrname and rdata are swapped. Member names are those every COF
// reader shares (providers.LookupCOFField: rdata or rrdata, ...).
func parseCOFLine(line []byte, emit emitFunc) error {
	var rrname, typ, obj []byte
	var framing bool
	var cond, msg []byte
	var rdata [][]byte
	var count int64
	var t providers.COFTimes
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		var err error
		switch f := providers.LookupCOFField(key); f {
		case providers.COFRRName:
			rrname, err = jsonString(kind, val)
		case providers.COFRRType:
			if kind == kindNumber {
				var n int64
				if n, err = jsonUint(kind, val); err == nil {
					typ = []byte(typeNumber(uint64(min(n, math.MaxUint16+1))))
				}
			} else {
				typ, err = jsonString(kind, val)
			}
		case providers.COFRData:
			switch kind {
			case kindArray:
				var vals []string
				if err = json.Unmarshal(val, &vals); err == nil {
					rdata = rdata[:0]
					for _, v := range vals {
						rdata = append(rdata, []byte(v))
					}
				}
			default:
				var v []byte
				if v, err = jsonString(kind, val); err == nil {
					rdata = append(rdata[:0], v)
				}
			}
		case providers.COFCount:
			count, err = jsonUint(kind, val)
		case providers.COFBailiwick:
			// accepted and not kept: a finding has no place for it.
		case providers.COFUnknown:
			switch string(key) {
			case "obj": // DNSDB SAF: {"obj":{...COF...}}
				if kind == kindObject {
					obj = val
				}
				framing = true
			case "cond":
				framing = true
				cond, _ = jsonString(kind, val)
			case "msg":
				framing = true
				msg, _ = jsonString(kind, val)
			}
			// sensor_id, origin and unknown members are accepted and
			// not kept.
		default:
			var v int64
			if v, err = jsonTime(kind, val); err == nil {
				t.Set(f, v)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var end error
	if c := string(cond); c == "limited" || c == "failed" {
		end = &safEnd{cond: c, msg: string(msg)}
	}
	if obj != nil {
		if err := parseCOFLine(obj, emit); err != nil {
			return err
		}
		return end
	}
	if framing && rrname == nil {
		return end // {"cond":"begin"}, {"cond":"succeeded"}: framing, not data
	}
	if rrname == nil || typ == nil || len(rdata) == 0 {
		return errors.New("missing rrname, rrtype or rdata")
	}
	rrtype, err := typeName(typ)
	if err != nil {
		return err
	}
	first, last := t.Window()
	if swapped(rrtype, rrname, rdata) {
		// CIRCL v2 documentation orientation: the value is in rrname and
		// the owner names are in rdata.
		v, err := normValue(rrtype, rrname)
		if err != nil {
			return fmt.Errorf("rrname: %w", err)
		}
		for _, owner := range rdata {
			n, err := normName(owner)
			if err != nil {
				return fmt.Errorf("rdata: %w", err)
			}
			emit(n, rrtype, v, first, last, count)
		}
		return nil
	}
	n, err := normName(rrname)
	if err != nil {
		return fmt.Errorf("rrname: %w", err)
	}
	for _, raw := range rdata {
		v, err := normValue(rrtype, raw)
		if err != nil {
			return fmt.Errorf("rdata: %w", err)
		}
		emit(n, rrtype, v, first, last, count)
	}
	return nil
}

// swapped reports a record whose rrname holds the value: an A/AAAA record
// with an IP as rrname and names as rdata, or an MX record with
// "preference host" as rrname.
func swapped(rrtype string, rrname []byte, rdata [][]byte) bool {
	switch rrtype {
	case "A", "AAAA":
		if !looksLikeIP(rrname) {
			return false
		}
		for _, v := range rdata {
			if looksLikeIP(v) {
				return false
			}
		}
		return true
	case "MX":
		f := bytes.Fields(rrname)
		if len(f) != 2 {
			return false
		}
		_, err := strconv.ParseUint(string(f[0]), 10, 16)
		return err == nil
	}
	return false
}
