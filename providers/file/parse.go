package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
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
// (decompressed) file.
func detectFormat(head []byte) (string, error) {
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' {
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
			for _, k := range []string{"rrname", "rrtype", "rdata", "timestamp", "name", "type", "value"} {
				keys[k] = bytes.Contains(line, []byte(`"`+k+`"`))
			}
		}
		switch {
		case keys["rrname"] || keys["rrtype"] || keys["rdata"] || keys["cond"] || keys["obj"]:
			return FormatCOF, nil // "cond"/"obj": DNSDB's Streaming API Framing around COF
		case keys["name"] && (keys["value"] || keys["type"] || keys["timestamp"]):
			return FormatFDNS, nil
		}
		return "", errors.New("the first line is JSON but neither COF (rrname, rrtype, rdata) nor Sonar FDNS (timestamp, name, type, value); set format")
	}
	return "", errors.New("the file is empty")
}

// jsonString returns a string member's bytes, decoding escapes.
func jsonString(kind jsonKind, val []byte) ([]byte, error) {
	switch kind {
	case kindString:
		return val, nil
	case kindEscaped:
		var s string
		if err := json.Unmarshal(val, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	return nil, errors.New("not a string")
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
		if ts, err = jsonUint(kindString, f[0]); err != nil {
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
			ts, err = jsonUint(kind, val)
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
	rest := line
	for i, key := range sonarKeys {
		if len(rest) < len(key) || string(rest[:len(key)]) != key {
			return f, false
		}
		rest = rest[len(key):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			return f, false
		}
		f[i] = rest[:end]
		if bytes.IndexByte(f[i], '\\') >= 0 {
			return f, false
		}
		for _, c := range f[i] {
			if c < 0x20 {
				return f, false
			}
		}
		rest = rest[end:]
	}
	tail := rest[1:] // after the closing quote of value
	if len(tail) == 0 || tail[0] != '}' || len(bytes.TrimSpace(tail[1:])) != 0 {
		return f, false
	}
	return f, true
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

// cofTimes gathers the COF time members; the observation window is the
// union of the resolver and zone-file windows.
type cofTimes struct {
	first, last, firstMS, lastMS, zoneFirst, zoneLast int64
	firstText, lastText                               []byte
}

func (t cofTimes) window() (first, last int64, err error) {
	// Some exporters write milliseconds into the seconds fields; read
	// them as parseTime does, so one such line does not date the whole
	// file (and every finding's currency) to the year 2106.
	first, last = unixSeconds(t.first), unixSeconds(t.last)
	t.zoneFirst, t.zoneLast = unixSeconds(t.zoneFirst), unixSeconds(t.zoneLast)
	if first == 0 && t.firstMS > 0 {
		first = t.firstMS / 1000
	}
	if last == 0 && t.lastMS > 0 {
		last = t.lastMS / 1000
	}
	if first == 0 && len(t.firstText) > 0 {
		if first, err = parseTime(string(t.firstText)); err != nil {
			return 0, 0, fmt.Errorf("time_first_rfc3339: %w", err)
		}
	}
	if last == 0 && len(t.lastText) > 0 {
		if last, err = parseTime(string(t.lastText)); err != nil {
			return 0, 0, fmt.Errorf("time_last_rfc3339: %w", err)
		}
	}
	if t.zoneFirst > 0 && (first == 0 || t.zoneFirst < first) {
		first = t.zoneFirst
	}
	if t.zoneLast > last {
		last = t.zoneLast
	}
	return first, last, nil
}

// parseCOFLine reads one Passive DNS Common Output Format record, with the
// CIRCL quirks: numbers as strings, rrtype as a number, and A/MX records
// whose rrname and rdata are swapped.
func parseCOFLine(line []byte, emit emitFunc) error {
	var rrname, typ, obj []byte
	var framing bool
	var rdata [][]byte
	var count int64
	var t cofTimes
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		var err error
		switch string(key) {
		case "rrname":
			rrname, err = jsonString(kind, val)
		case "rrtype":
			if kind == kindNumber {
				var n int64
				if n, err = jsonUint(kind, val); err == nil {
					typ = []byte(typeNumber(uint64(min(n, math.MaxUint16+1))))
				}
			} else {
				typ, err = jsonString(kind, val)
			}
		case "rdata", "rrdata": // rrdata: Robtex's spelling
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
		case "count":
			count, err = jsonUint(kind, val)
		case "time_first":
			t.first, err = jsonUint(kind, val)
		case "time_last":
			t.last, err = jsonUint(kind, val)
		case "time_first_ms":
			t.firstMS, err = jsonUint(kind, val)
		case "time_last_ms":
			t.lastMS, err = jsonUint(kind, val)
		case "zone_time_first":
			t.zoneFirst, err = jsonUint(kind, val)
		case "zone_time_last":
			t.zoneLast, err = jsonUint(kind, val)
		case "time_first_rfc3339":
			t.firstText, err = jsonString(kind, val)
		case "time_last_rfc3339":
			t.lastText, err = jsonString(kind, val)
		case "obj": // DNSDB SAF: {"obj":{...COF...}}
			if kind == kindObject {
				obj = val
			}
			framing = true
		case "cond", "msg":
			framing = true
		}
		// bailiwick, sensor_id, origin and unknown members are
		// accepted and not kept: a finding has no place for them.
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if obj != nil {
		return parseCOFLine(obj, emit)
	}
	if framing && rrname == nil {
		return nil // {"cond":"begin"}, {"cond":"succeeded"}: framing, not data
	}
	if rrname == nil || typ == nil || len(rdata) == 0 {
		return errors.New("missing rrname, rrtype or rdata")
	}
	rrtype, err := typeName(typ)
	if err != nil {
		return err
	}
	first, last, err := t.window()
	if err != nil {
		return err
	}
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

// unixSeconds reads a unix time that may be in milliseconds: no seconds
// value of interest is above 1e11 (the year 5138).
func unixSeconds(n int64) int64 {
	if n > 1e11 {
		return n / 1000
	}
	return n
}

// parseTime reads a time as RFC 3339, unix seconds, or YYYY-MM-DD (also
// "YYYY-MM-DD hh:mm:ss" in UTC). Empty is zero.
func parseTime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative time %q", s)
		}
		return unixSeconds(n), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return max(t.Unix(), 0), nil
		}
	}
	return 0, fmt.Errorf("unrecognised time %q: use RFC 3339, unix seconds or YYYY-MM-DD", s)
}
