package providers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// COFField names a member of a Passive DNS Common Output Format record
// (draft-dulaunoy-dnsop-passive-dns-cof) as the readers of COF bodies
// understand it, including the spellings real servers use besides the
// draft's.
type COFField uint8

// COF members.
const (
	COFUnknown       COFField = iota // a member no reader keeps (origin, sensor_id, futureField)
	COFRRName                        // rrname
	COFRRType                        // rrtype
	COFRData                         // rdata; also rrdata (CIRCL's first pdns-qof draft, Robtex)
	COFCount                         // count
	COFBailiwick                     // bailiwick
	COFTimeFirst                     // time_first
	COFTimeLast                      // time_last
	COFZoneTimeFirst                 // zone_time_first
	COFZoneTimeLast                  // zone_time_last
	COFTimeFirstMS                   // time_first_ms
	COFTimeLastMS                    // time_last_ms
	COFTimeFirstText                 // time_first_rfc3339 (CIRCL, PyPDNS)
	COFTimeLastText                  // time_last_rfc3339
)

// LookupCOFField maps a member name to the field it carries. It does not
// allocate, so that the file provider's scanner can call it per member.
func LookupCOFField(name []byte) COFField {
	switch string(name) {
	case "rrname":
		return COFRRName
	case "rrtype":
		return COFRRType
	case "rdata", "rrdata":
		return COFRData
	case "count":
		return COFCount
	case "bailiwick":
		return COFBailiwick
	case "time_first":
		return COFTimeFirst
	case "time_last":
		return COFTimeLast
	case "zone_time_first":
		return COFZoneTimeFirst
	case "zone_time_last":
		return COFZoneTimeLast
	case "time_first_ms":
		return COFTimeFirstMS
	case "time_last_ms":
		return COFTimeLastMS
	case "time_first_rfc3339":
		return COFTimeFirstText
	case "time_last_rfc3339":
		return COFTimeLastText
	}
	return COFUnknown
}

// COFTimes are the time members of one record, each as ParseCOFTime read
// it: unix seconds, 0 when absent. (ParseCOFTime reads the milliseconds of
// time_first_ms and time_last_ms as seconds already: they are above 1e11.)
type COFTimes struct {
	First, Last, ZoneFirst, ZoneLast, FirstMS, LastMS, FirstText, LastText int64
}

// Set stores the time of field f; it reports false for a field that is
// not a time.
func (t *COFTimes) Set(f COFField, v int64) bool {
	switch f {
	case COFTimeFirst:
		t.First = v
	case COFTimeLast:
		t.Last = v
	case COFZoneTimeFirst:
		t.ZoneFirst = v
	case COFZoneTimeLast:
		t.ZoneLast = v
	case COFTimeFirstMS:
		t.FirstMS = v
	case COFTimeLastMS:
		t.LastMS = v
	case COFTimeFirstText:
		t.FirstText = v
	case COFTimeLastText:
		t.LastText = v
	default:
		return false
	}
	return true
}

// Window is the record's observation window in unix seconds: the union
// of the sensor window (time_first/time_last, else their _ms or _rfc3339
// forms) and the zone-file window (zone_time_*). COF allows either or
// both; each is an observation of the same tuple.
func (t COFTimes) Window() (first, last int64) {
	pick := func(secs, ms, text int64) int64 {
		switch {
		case secs > 0:
			return secs
		case ms > 0:
			return ms
		}
		return max(text, 0)
	}
	first, last = pick(t.First, t.FirstMS, t.FirstText), pick(t.Last, t.LastMS, t.LastText)
	if t.ZoneFirst > 0 && (first == 0 || t.ZoneFirst < first) {
		first = t.ZoneFirst
	}
	if t.ZoneLast > last {
		last = t.ZoneLast
	}
	return first, last
}

// COFRecord is one COF record as the HTTP providers (CIRCL, DNSDB,
// Robtex) decode it. It accepts what real servers send: rdata or rrdata,
// as a string or an array; rrtype as a mnemonic or an RFC 3597 number;
// numbers as strings; times in any form ParseCOFTime reads.
type COFRecord struct {
	RRName    string
	RRType    string // as sent; Type() is the mnemonic
	RData     []string
	Count     int64
	Bailiwick string
	Times     COFTimes
	// HasData reports that an rdata (or rrdata) member was present, even
	// if empty.
	HasData bool
}

// cofWire is the member layout of a COF record for the fast decoding
// path. Its tags are the names LookupCOFField knows (a test keeps the two
// in step).
type cofWire struct {
	RRName        FlexString   `json:"rrname"`
	RRType        FlexString   `json:"rrtype"`
	RData         *FlexStrings `json:"rdata"`
	RRData        *FlexStrings `json:"rrdata"`
	Count         FlexInt      `json:"count"`
	Bailiwick     FlexString   `json:"bailiwick"`
	TimeFirst     COFTime      `json:"time_first"`
	TimeLast      COFTime      `json:"time_last"`
	ZoneTimeFirst COFTime      `json:"zone_time_first"`
	ZoneTimeLast  COFTime      `json:"zone_time_last"`
	TimeFirstMS   COFTime      `json:"time_first_ms"`
	TimeLastMS    COFTime      `json:"time_last_ms"`
	TimeFirstText COFTime      `json:"time_first_rfc3339"`
	TimeLastText  COFTime      `json:"time_last_rfc3339"`
}

// UnmarshalJSON implements json.Unmarshaler. A member of the wrong type is
// an error naming the member and what it held.
func (r *COFRecord) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		if string(t) == "null" {
			return errors.New("null is not a record")
		}
		return fmt.Errorf("cannot unmarshal %s into a COF record", BodySnippet(t))
	}
	var w cofWire
	if err := json.Unmarshal(b, &w); err != nil {
		// The slow path, member by member, to say which one is wrong.
		return r.decodeMembers(b)
	}
	*r = COFRecord{
		RRName: string(w.RRName), RRType: string(w.RRType), Count: max(int64(w.Count), 0), Bailiwick: string(w.Bailiwick),
		Times: COFTimes{
			First: int64(w.TimeFirst), Last: int64(w.TimeLast), ZoneFirst: int64(w.ZoneTimeFirst), ZoneLast: int64(w.ZoneTimeLast),
			FirstMS: int64(w.TimeFirstMS), LastMS: int64(w.TimeLastMS), FirstText: int64(w.TimeFirstText), LastText: int64(w.TimeLastText),
		},
	}
	// rdata wins over rrdata when a body has both.
	switch {
	case w.RData != nil:
		r.RData, r.HasData = *w.RData, true
	case w.RRData != nil:
		r.RData, r.HasData = *w.RRData, true
	}
	return nil
}

// decodeMembers decodes a record member by member and names the first
// one that does not decode.
func (r *COFRecord) decodeMembers(b []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return err
	}
	*r = COFRecord{}
	if _, ok := members["rdata"]; ok {
		delete(members, "rrdata")
	}
	for name, raw := range members {
		f := LookupCOFField([]byte(name))
		var err error
		switch f {
		case COFRRName:
			var s FlexString
			err = json.Unmarshal(raw, &s)
			r.RRName = string(s)
		case COFRRType:
			var s FlexString
			err = json.Unmarshal(raw, &s)
			r.RRType = string(s)
		case COFRData:
			var s FlexStrings
			err = json.Unmarshal(raw, &s)
			r.RData, r.HasData = s, true
		case COFCount:
			var n FlexInt
			err = json.Unmarshal(raw, &n)
			r.Count = max(int64(n), 0)
		case COFBailiwick:
			var s FlexString
			err = json.Unmarshal(raw, &s)
			r.Bailiwick = string(s)
		case COFUnknown:
		default:
			var t COFTime
			if err = json.Unmarshal(raw, &t); err == nil {
				r.Times.Set(f, int64(t))
			}
		}
		if err != nil {
			if shown := BodySnippet(raw); !strings.Contains(err.Error(), strings.Trim(shown, `"`)) {
				return fmt.Errorf("%s: %v (%s)", name, err, shown)
			}
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	// The record as a whole decoded member by member: the fast path
	// failed on something else (a duplicate member of another type).
	return nil
}

// Type is the record type's mnemonic, upper case; RFC 3597 numbers become
// the mnemonic where one exists ("1" is "A", "TYPE1" too), "TYPEn"
// otherwise.
func (r COFRecord) Type() string { return COFTypeName(r.RRType) }

// COFTypeName is the mnemonic of a record type as COF writes it.
func COFTypeName(rrtype string) string {
	t := strings.ToUpper(strings.TrimSpace(rrtype))
	num, isGeneric := strings.CutPrefix(t, "TYPE")
	if !isGeneric {
		num = t
	}
	if n, err := strconv.ParseUint(num, 10, 16); err == nil {
		if name, ok := dns.TypeToString[uint16(n)]; ok && n > 0 {
			return name
		}
		return "TYPE" + strconv.FormatUint(n, 10)
	}
	return t
}

// Window is the observation window, in UTC; zero times when unknown.
func (r COFRecord) Window() (first, last time.Time) {
	f, l := r.Times.Window()
	if f > 0 && l > 0 && l < f {
		f, l = l, f
	}
	return UnixTime(f), UnixTime(l)
}

// Missing names the mandatory COF members the record lacks (rrname,
// rrtype, rdata), or "" when it has them all.
func (r COFRecord) Missing() string {
	var missing []string
	if strings.TrimSpace(r.RRName) == "" {
		missing = append(missing, "rrname")
	}
	if r.Type() == "" {
		missing = append(missing, "rrtype")
	}
	empty := true
	for _, v := range r.RData {
		if strings.TrimSpace(v) != "" {
			empty = false
		}
	}
	if empty {
		missing = append(missing, "rdata")
	}
	return strings.Join(missing, ", ")
}

// IsCOFRecord reports whether raw JSON is an object with at least one
// member a COF record has: a body of such lines is COF, perhaps broken,
// while `{}`, `null` or an error object is not an answer at all.
func IsCOFRecord(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return false
	}
	for name := range members {
		switch LookupCOFField([]byte(name)) {
		case COFRRName, COFRRType, COFRData:
			return true
		}
	}
	return false
}
