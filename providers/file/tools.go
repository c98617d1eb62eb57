package file

// Other recon tools' results, read as passive DNS observations. Each tool
// says something different, and the parsers keep to what it says:
//
//   - subfinder -oJ: {"host","input","source"|"sources"[,"ip"]}. A host is a
//     HOST finding; with -active -ip, its address is an A/AAAA record.
//   - Amass v3 -json: {"name","domain","addresses":[{"ip",...}],"tag",
//     "sources"} (the first v3 releases wrote "Timestamp" and "source"):
//     a name with addresses is A/AAAA records, one without is a HOST.
//   - Amass v4 enum -o (the asset graph as text): "a (FQDN) --> a_record -->
//     192.0.2.1 (IPAddress)". a_record, aaaa_record, cname_record,
//     ns_record, mx_record and ptr_record are those records (Amass drops
//     the MX preference, so an MX value is the host alone); every other
//     relation (node, srv_record, contains, managed_by, ...) only says that
//     its FQDNs exist (HOST). ANSI colours, which Amass writes into the
//     file when run from a terminal, are removed.
//   - BBOT output.json events: DNS_NAME and DNS_NAME_UNRESOLVED are HOSTs,
//     with their dns_children A, AAAA, CNAME, NS, MX and PTR records;
//     IP_ADDRESS events give the PTR children of the address; RAW_DNS_RECORD
//     events ({"host","type","answer"}) are whole records. BBOT's TXT, SOA
//     and SRV children are host names it found inside those records, not
//     the records, so they are not read; other event types are skipped.
//   - dnsx -json: the answer of a resolver at its timestamp. The "all" member
//     (every record of the response in presentation format, written unless
//     -omit-raw) is read record by record, each under its own owner name;
//     without it the typed members (a, aaaa, mx, ns, txt, ptr, soa) are
//     records of the host, as dnsx reports them, and its cname list is the
//     chain in answer order (the host's CNAME, then each target's).
//   - massdns -o J: every record of the answer, authority and additional
//     sections under its own owner name, at the reply's rx_ts.
//   - Name lists (subfinder -o, Amass -o and `amass db -names`/`amass subs
//     -names`, with -ip or -src; subfinder's host,ip,source and
//     host,[sources] lines): each name is a HOST, and any addresses given
//     with it are A/AAAA records.
//
// The addresses these tools list for a name (dnsx without "all", subfinder,
// Amass, BBOT) are the ones the name resolved to, through any CNAME chain:
// they are kept as A/AAAA records of the name, as Rapid7 FDNS keeps them.
// PTR records are owned by the address (an in-addr.arpa or ip6.arpa owner is
// turned into it), as in Sonar RDNS, so reverse_ip finds them.
//
// Times: dnsx, massdns and BBOT date every line, and the line's time is
// both first_seen and last_seen. subfinder, Amass's text and JSON v3 output
// and name lists carry no time: their records are taken as seen at the
// file's time, which is as_of when set and else the file's modification
// time (when the tool wrote it).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/reconform/reconform/schema"
)

// Formats of other tools' results.
const (
	FormatSubfinder = "subfinder" // subfinder -oJ JSON lines
	FormatAmass     = "amass"     // Amass v3 -json lines, v4 graph text (enum -o)
	FormatBBOT      = "bbot"      // BBOT output.json / output.ndjson events
	FormatDNSX      = "dnsx"      // dnsx -json
	FormatMassDNS   = "massdns"   // massdns -o J
	FormatNames     = "names"     // host names one a line (subfinder -o, amass -o, amass subs -names)
	FormatZone      = "zone"      // DNS master file (RFC 1035), as ICANN CZDS serves zones
)

// toolParser returns the line parser of a tool format. t is the time of
// records the line does not date (the file's time).
func toolParser(format string, t int64) (func([]byte, emitFunc) error, bool) {
	switch format {
	case FormatSubfinder:
		return func(line []byte, emit emitFunc) error { return parseSubfinderLine(line, t, emit) }, true
	case FormatAmass:
		return func(line []byte, emit emitFunc) error { return parseAmassLine(line, t, emit) }, true
	case FormatNames:
		return func(line []byte, emit emitFunc) error { return parseNamesLine(line, t, emit) }, true
	case FormatBBOT:
		return func(line []byte, emit emitFunc) error { return parseBBOTLine(line, t, emit) }, true
	case FormatDNSX:
		return func(line []byte, emit emitFunc) error { return parseDNSXLine(line, t, emit) }, true
	case FormatMassDNS:
		return func(line []byte, emit emitFunc) error { return parseMassDNSLine(line, t, emit) }, true
	}
	return nil, false
}

// detectJSONTool names the tool whose JSON lines have these members, or "".
func detectJSONTool(keys map[string]bool) string {
	switch {
	case keys["type"] && keys["data"] && (keys["scan"] || keys["id"] || keys["scope_distance"] || keys["module"] || keys["uuid"]):
		return FormatBBOT
	case keys["name"] && keys["type"] && !keys["value"] && (keys["class"] || keys["status"] || keys["rx_ts"] || keys["resolver"] || keys["error"]):
		return FormatMassDNS
	case keys["name"] && (keys["domain"] || keys["addresses"] || keys["tag"] || keys["sources"]):
		return FormatAmass
	case keys["host"] && keys["input"] && (keys["source"] || keys["sources"] || keys["ip"]):
		return FormatSubfinder
	case keys["host"] && (keys["resolver"] || keys["status_code"] || keys["all"] || keys["a"] || keys["aaaa"] || keys["cname"] || keys["ns"] || keys["mx"] || keys["ptr"] || keys["txt"] || keys["soa"]):
		return FormatDNSX
	}
	return ""
}

// toolKeys are the member names detectJSONTool looks at, for a first line
// too long to parse in the peek buffer.
var toolKeys = []string{"type", "data", "scan", "id", "scope_distance", "module", "uuid", "class", "status", "rx_ts",
	"resolver", "error", "domain", "addresses", "tag", "sources", "source", "host", "input", "ip", "status_code", "all",
	"a", "aaaa", "cname", "ns", "mx", "ptr", "txt", "soa"}

// detectTextTool recognises the text outputs: zone files, Amass's graph
// and name lists. line is the first line that is not blank.
func detectTextTool(line []byte) string {
	if looksLikeZoneLine(line) {
		return FormatZone
	}
	line = stripANSI(line)
	if _, _, _, ok := splitAmassGraph(line); ok {
		return FormatAmass
	}
	if looksLikeNamesLine(line) {
		return FormatNames
	}
	return ""
}

// errSkip: a line that holds no observation (a banner, a scan event) and
// is not malformed either.
var errSkip = errors.New("no observation")

// skipped turns errSkip into success: the line counts as read, not bad.
func skipped(err error) error {
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// emitter normalises and emits the observations of one line.
type emitter struct {
	emit  emitFunc
	t     int64
	count int
}

func (e *emitter) record(name []byte, rrtype string, value []byte) error {
	if rrtype == "PTR" {
		name = arpaToIP(name)
	}
	n, err := normName(name)
	if err != nil {
		return fmt.Errorf("name %q: %w", truncate(name), err)
	}
	v, err := normValue(rrtype, value)
	if err != nil {
		return fmt.Errorf("%s value %q: %w", rrtype, truncate(value), err)
	}
	e.emit(n, rrtype, v, e.t, e.t, 0)
	e.count++
	return nil
}

// address emits an A or AAAA record, by the address's family.
func (e *emitter) address(name, ip []byte) error {
	a, err := netip.ParseAddr(string(bytes.TrimSpace(ip)))
	if err != nil {
		return fmt.Errorf("address %q: not an IP", truncate(ip))
	}
	typ := "A"
	if !a.Unmap().Is4() {
		typ = "AAAA"
	}
	return e.record(name, typ, ip)
}

// host emits a HOST observation: the name exists.
func (e *emitter) host(name []byte) error {
	if looksLikeIP(name) {
		return nil // an address is not a host name
	}
	n, err := normName(name)
	if err != nil {
		return fmt.Errorf("name %q: %w", truncate(name), err)
	}
	if !hostLike(n) {
		return fmt.Errorf("%q is not a host name", truncate(n))
	}
	e.emit(n, schema.TypeHost, nil, e.t, e.t, 0)
	e.count++
	return nil
}

// hostLike reports a normalised DNS name: labels of letters, digits,
// hyphens and underscores (IDNs in U-label form are let through).
func hostLike(n []byte) bool {
	if len(n) == 0 || len(n) > 253 || n[0] == '.' || bytes.Contains(n, []byte("..")) {
		return false
	}
	for _, c := range n {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '*', c >= 0x80:
		default:
			return false
		}
	}
	return true
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// arpaToIP returns the address an in-addr.arpa or ip6.arpa name stands
// for, or name itself.
func arpaToIP(name []byte) []byte {
	s := strings.TrimSuffix(strings.ToLower(string(bytes.TrimSpace(name))), ".")
	if rest, ok := strings.CutSuffix(s, ".in-addr.arpa"); ok {
		p := strings.Split(rest, ".")
		if len(p) != 4 {
			return name
		}
		ip := p[3] + "." + p[2] + "." + p[1] + "." + p[0]
		if _, err := netip.ParseAddr(ip); err != nil {
			return name
		}
		return []byte(ip)
	}
	if rest, ok := strings.CutSuffix(s, ".ip6.arpa"); ok {
		p := strings.Split(rest, ".")
		if len(p) != 32 {
			return name
		}
		var b strings.Builder
		for i := 31; i >= 0; i-- {
			if len(p[i]) != 1 {
				return name
			}
			b.WriteString(p[i])
			if i%4 == 0 && i > 0 {
				b.WriteByte(':')
			}
		}
		a, err := netip.ParseAddr(b.String())
		if err != nil {
			return name
		}
		return []byte(a.String())
	}
	return name
}

// jsonStrings reads a member that is a string or an array of strings.
func jsonStrings(kind jsonKind, val []byte) ([][]byte, error) {
	switch kind {
	case kindString, kindEscaped:
		s, err := jsonString(kind, val)
		if err != nil {
			return nil, err
		}
		return [][]byte{s}, nil
	case kindArray:
		var out [][]byte
		err := eachElement(val, func(kind jsonKind, v []byte) error {
			if kind == kindLiteral && string(v) == "null" {
				return nil
			}
			s, err := jsonString(kind, v)
			if err != nil {
				return err
			}
			out = append(out, s)
			return nil
		})
		return out, err
	case kindLiteral:
		if string(val) == "null" {
			return nil, nil
		}
	}
	return nil, errors.New("not a string or a list of strings")
}

// eachElement splits a JSON array (already validated by scanObject) into
// its elements.
func eachElement(arr []byte, fn func(kind jsonKind, v []byte) error) error {
	var elems []json.RawMessage
	if err := json.Unmarshal(arr, &elems); err != nil {
		return err
	}
	for _, e := range elems {
		e = bytes.TrimSpace(e)
		if len(e) == 0 {
			continue
		}
		var kind jsonKind
		v := []byte(e)
		switch e[0] {
		case '"':
			kind = kindString
			v = v[1 : len(v)-1]
			if bytes.IndexByte(v, '\\') >= 0 {
				kind, v = kindEscaped, []byte(e)
			}
		case '{':
			kind = kindObject
		case '[':
			kind = kindArray
		case 't', 'f', 'n':
			kind = kindLiteral
		default:
			kind = kindNumber
		}
		if err := fn(kind, v); err != nil {
			return err
		}
	}
	return nil
}

// parseSubfinderLine reads one subfinder -oJ line.
func parseSubfinderLine(line []byte, t int64, emit emitFunc) error {
	var host, ip []byte
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		var err error
		switch string(key) {
		case "host":
			host, err = jsonString(kind, val)
		case "ip":
			ip, err = jsonString(kind, val)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(host)) == 0 {
		return errors.New("no host")
	}
	e := &emitter{emit: emit, t: t}
	if len(bytes.TrimSpace(ip)) > 0 {
		return e.address(host, ip)
	}
	return e.host(host)
}

// parseAmassLine reads one line of Amass output: v3 JSON, the v4 graph
// text, or a name list line (v3 -o, `amass db -names`).
func parseAmassLine(line []byte, t int64, emit emitFunc) error {
	line = bytes.TrimSpace(stripANSI(line))
	if len(line) > 0 && line[0] == '{' {
		return parseAmassJSON(line, t, emit)
	}
	if amassChatter(line) {
		return nil
	}
	if from, rel, to, ok := splitAmassGraph(line); ok {
		return amassRelation(from, rel, to, t, emit)
	}
	return parseNamesLine(line, t, emit)
}

// parseAmassJSON reads one Amass v3 -json line.
func parseAmassJSON(line []byte, t int64, emit emitFunc) error {
	var name []byte
	var addrs [][]byte
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		var err error
		switch string(key) {
		case "name":
			name, err = jsonString(kind, val)
		case "Timestamp", "timestamp":
			var ts int64
			if ts, err = jsonTime(kind, val); err == nil && ts > 0 {
				t = ts
			}
		case "addresses":
			if kind == kindLiteral && string(val) == "null" {
				return nil
			}
			if kind != kindArray {
				return errors.New("not a list")
			}
			err = eachElement(val, func(kind jsonKind, v []byte) error {
				if kind != kindObject {
					return errors.New("an address is not an object")
				}
				return scanObject(v, func(key []byte, kind jsonKind, val []byte) error {
					if string(key) == "ip" {
						ip, err := jsonString(kind, val)
						if err != nil {
							return fmt.Errorf("ip: %w", err)
						}
						addrs = append(addrs, ip)
					}
					return nil
				})
			})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(name)) == 0 {
		return errors.New("no name")
	}
	e := &emitter{emit: emit, t: t}
	for _, a := range addrs {
		if err := e.address(name, a); err != nil {
			return err
		}
	}
	if e.count == 0 {
		return e.host(name)
	}
	return nil
}

// amassAsset is one side of a graph line: "www.example.com (FQDN)".
type amassAsset struct{ value, kind []byte }

// splitAmassGraph splits "A (T) --> rel --> B (T)".
func splitAmassGraph(line []byte) (from amassAsset, rel []byte, to amassAsset, ok bool) {
	parts := bytes.Split(line, []byte(" --> "))
	if len(parts) != 3 {
		return from, nil, to, false
	}
	asset := func(s []byte) (amassAsset, bool) {
		s = bytes.TrimSpace(s)
		open := bytes.LastIndex(s, []byte(" ("))
		if open <= 0 || s[len(s)-1] != ')' {
			return amassAsset{}, false
		}
		return amassAsset{value: bytes.TrimSpace(s[:open]), kind: s[open+2 : len(s)-1]}, true
	}
	if from, ok = asset(parts[0]); !ok {
		return
	}
	if to, ok = asset(parts[2]); !ok {
		return
	}
	rel = bytes.TrimSpace(parts[1])
	return from, rel, to, len(rel) > 0 && bytes.IndexByte(rel, ' ') < 0
}

// amassRelation emits what one graph line says.
func amassRelation(from amassAsset, rel []byte, to amassAsset, t int64, emit emitFunc) error {
	e := &emitter{emit: emit, t: t}
	fqdn := func(a amassAsset) bool { return string(a.kind) == "FQDN" }
	var rrtype string
	switch string(rel) {
	case "a_record", "aaaa_record":
		if fqdn(from) && string(to.kind) == "IPAddress" {
			return e.address(from.value, to.value)
		}
	case "cname_record":
		rrtype = "CNAME"
	case "ns_record":
		rrtype = "NS"
	case "mx_record":
		rrtype = "MX"
	case "ptr_record":
		rrtype = "PTR"
	}
	if rrtype != "" && fqdn(from) && fqdn(to) {
		return e.record(from.value, rrtype, to.value)
	}
	// Other relations (node, srv_record, contains, managed_by, announces,
	// ...) only say that their FQDNs exist.
	for _, a := range []amassAsset{from, to} {
		if fqdn(a) && !bytes.HasSuffix(bytes.ToLower(a.value), []byte(".arpa")) {
			if err := e.host(a.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// amassChatter reports the lines Amass writes around its results in the
// same file or terminal: banners, the ASN summary table, the final note.
func amassChatter(line []byte) bool {
	s := string(line)
	switch {
	case s == "", s == "The enumeration has finished", s == "No names were discovered",
		strings.HasPrefix(s, "OWASP Amass"), strings.HasPrefix(s, "ASN:"), strings.HasPrefix(s, "Querying "),
		strings.HasPrefix(s, "Average DNS queries"), strings.Contains(s, "Subdomain Name(s)"),
		strings.Contains(s, "names discovered"), strings.Trim(s, "-") == "":
		return true
	}
	return false
}

// stripANSI removes terminal colour sequences (ESC [ ... letter).
func stripANSI(b []byte) []byte {
	if bytes.IndexByte(b, 0x1b) < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '[' {
			j := i + 2
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';') {
				j++
			}
			if j < len(b) {
				i = j
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

// namesLine is one name list line split into its parts.
type namesLine struct {
	name  []byte
	addrs [][]byte
}

// splitNamesLine reads the name list forms:
//
//	www.example.com
//	www.example.com 192.0.2.1,2001:db8::1     (amass -ip; "N/A": none)
//	[crtsh]           www.example.com [addrs]  (amass v3 -src)
//	www.example.com,192.0.2.1,crtsh            (subfinder -active -ip)
//	www.example.com,[crtsh,alienvault]         (subfinder -cs)
func splitNamesLine(line []byte) (namesLine, bool) {
	line = bytes.TrimSpace(line)
	if len(line) > 0 && line[0] == '[' {
		end := bytes.IndexByte(line, ']')
		if end < 0 {
			return namesLine{}, false
		}
		line = bytes.TrimSpace(line[end+1:])
	}
	if c := bytes.IndexByte(line, ','); c > 0 && bytes.IndexAny(line[:c], " \t") < 0 {
		name, rest := line[:c], line[c+1:]
		if len(rest) > 0 && rest[0] == '[' && rest[len(rest)-1] == ']' {
			return namesLine{name: name}, true
		}
		f := bytes.Split(rest, []byte(","))
		if len(f) == 2 && looksLikeIP(f[0]) {
			return namesLine{name: name, addrs: [][]byte{f[0]}}, true
		}
		return namesLine{}, false
	}
	f := bytes.Fields(line)
	switch len(f) {
	case 1:
		return namesLine{name: f[0]}, true
	case 2:
		if string(f[1]) == "N/A" {
			return namesLine{name: f[0]}, true
		}
		var addrs [][]byte
		for _, a := range bytes.Split(f[1], []byte(",")) {
			if !looksLikeIP(a) {
				return namesLine{}, false
			}
			addrs = append(addrs, a)
		}
		return namesLine{name: f[0], addrs: addrs}, true
	}
	return namesLine{}, false
}

// looksLikeNamesLine is the detection test: a name list line whose name
// is a dotted host name.
func looksLikeNamesLine(line []byte) bool {
	nl, ok := splitNamesLine(line)
	if !ok || bytes.IndexByte(nl.name, '.') < 0 || looksLikeIP(nl.name) {
		return false
	}
	n, err := normName(bytes.Clone(nl.name))
	return err == nil && hostLike(n)
}

// parseNamesLine reads one name list line.
func parseNamesLine(line []byte, t int64, emit emitFunc) error {
	line = bytes.TrimSpace(stripANSI(line))
	if len(line) == 0 || line[0] == '#' {
		return nil
	}
	nl, ok := splitNamesLine(line)
	if !ok {
		return fmt.Errorf("not a host name, or a name and its addresses: %q", truncate(line))
	}
	e := &emitter{emit: emit, t: t}
	for _, a := range nl.addrs {
		if err := e.address(nl.name, a); err != nil {
			return err
		}
	}
	if e.count == 0 {
		return e.host(nl.name)
	}
	return nil
}

// bbotChildTypes are the dns_children BBOT fills with the records' own
// values; its TXT, SOA and SRV children are hosts found inside records.
var bbotChildTypes = map[string]bool{"A": true, "AAAA": true, "CNAME": true, "NS": true, "MX": true, "PTR": true}

// parseBBOTLine reads one BBOT event.
func parseBBOTLine(line []byte, t int64, emit emitFunc) error {
	var typ, host, data []byte
	var dataKind jsonKind
	var children []byte
	var ts int64
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		var err error
		switch string(key) {
		case "type":
			typ, err = jsonString(kind, val)
		case "host":
			host, err = jsonString(kind, val)
		case "data":
			data, dataKind = val, kind
		case "dns_children":
			if kind == kindObject {
				children = val
			}
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
	if typ == nil {
		return errors.New("an event without a type")
	}
	if ts > 0 {
		t = ts
	}
	e := &emitter{emit: emit, t: t}
	// data: the event's value, or {"TYPE": value} with siem_friendly.
	value := func() ([]byte, error) {
		if dataKind == kindObject {
			var inner []byte
			err := scanObject(data, func(key []byte, kind jsonKind, val []byte) error {
				if string(key) == string(typ) && (kind == kindString || kind == kindEscaped) {
					inner, _ = jsonString(kind, val)
				}
				return nil
			})
			return inner, err
		}
		return jsonString(dataKind, data)
	}
	switch string(typ) {
	case "DNS_NAME", "DNS_NAME_UNRESOLVED", "IP_ADDRESS":
		owner := host
		if len(owner) == 0 {
			v, err := value()
			if err != nil {
				return fmt.Errorf("data: %w", err)
			}
			owner = v
		}
		if len(owner) == 0 {
			return errors.New("an event without a host")
		}
		if children != nil {
			err := scanObject(children, func(key []byte, kind jsonKind, val []byte) error {
				rrtype := strings.ToUpper(string(key))
				if !bbotChildTypes[rrtype] {
					return nil
				}
				vals, err := jsonStrings(kind, val)
				if err != nil {
					return fmt.Errorf("dns_children %s: %w", key, err)
				}
				for _, v := range vals {
					var err error
					switch {
					case rrtype == "A" || rrtype == "AAAA":
						err = e.address(owner, v)
					case rrtype == "PTR" && !looksLikeIP(owner):
						continue // the PTR children of a name are not its records
					default:
						err = e.record(owner, rrtype, v)
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if e.count == 0 && string(typ) != "IP_ADDRESS" {
			return e.host(owner)
		}
		return nil
	case "RAW_DNS_RECORD":
		if dataKind != kindObject {
			return errors.New("RAW_DNS_RECORD data is not an object")
		}
		var rhost, rtype, answer []byte
		err := scanObject(data, func(key []byte, kind jsonKind, val []byte) error {
			var err error
			switch string(key) {
			case "host":
				rhost, err = jsonString(kind, val)
			case "type":
				rtype, err = jsonString(kind, val)
			case "answer":
				answer, err = jsonString(kind, val)
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("data: %w", err)
		}
		if rhost == nil || rtype == nil || len(answer) == 0 {
			return errors.New("RAW_DNS_RECORD without host, type or answer")
		}
		rrtype, err := typeName(rtype)
		if err != nil {
			return err
		}
		if skipType(rrtype) {
			return nil
		}
		return e.record(rhost, rrtype, answer)
	}
	return nil // SCAN, URL, OPEN_TCP_PORT, ...: not DNS observations
}

// skipType reports the record types bulk readers leave out: DNSSEC
// signatures and denial-of-existence chains say nothing about names and
// hosts, and EDNS's OPT is not a record.
func skipType(rrtype string) bool {
	switch rrtype {
	case "RRSIG", "NSEC", "NSEC3", "NSEC3PARAM", "OPT":
		return true
	}
	return false
}

// parseDNSXLine reads one dnsx -json line.
func parseDNSXLine(line []byte, t int64, emit emitFunc) error {
	var host, status []byte
	var all [][]byte
	typed := map[string][][]byte{}
	var soa []byte
	var soaKind jsonKind
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		var err error
		switch k := string(key); k {
		case "host":
			host, err = jsonString(kind, val)
		case "timestamp":
			var ts int64
			if ts, err = jsonTime(kind, val); err == nil && ts > 0 {
				t = ts
			}
		case "status_code":
			status, err = jsonString(kind, val)
		case "all":
			all, err = jsonStrings(kind, val)
		case "a", "aaaa", "cname", "mx", "ns", "txt", "ptr":
			typed[strings.ToUpper(k)], err = jsonStrings(kind, val)
		case "soa":
			soa, soaKind = val, kind
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(host) == 0 {
		return errors.New("no host")
	}
	e := &emitter{emit: emit, t: t}
	if len(all) > 0 {
		// The whole response, record by record under each owner name.
		z := newZoneState(t, true)
		for _, rr := range all {
			rr = bytes.TrimSpace(rr)
			if len(rr) == 0 || rr[0] == ';' {
				continue // ";; OPT PSEUDOSECTION" and other comments
			}
			if err := z.parseLine(rr, e.countingEmit()); err != nil {
				return fmt.Errorf("all: %w", err)
			}
		}
	} else {
		// The CNAMEs are the chain in answer order: the host's, then
		// each target's.
		owner := host
		for _, v := range typed["CNAME"] {
			if err := e.record(owner, "CNAME", v); err != nil {
				return err
			}
			owner = v
		}
		for _, rrtype := range []string{"A", "AAAA", "MX", "NS", "TXT", "PTR"} {
			for _, v := range typed[rrtype] {
				var err error
				switch rrtype {
				case "A", "AAAA":
					err = e.address(host, v)
				default:
					err = e.record(host, rrtype, v)
				}
				if err != nil {
					return err
				}
			}
		}
		if err := dnsxSOA(e, soa, soaKind); err != nil {
			return fmt.Errorf("soa: %w", err)
		}
	}
	if e.count == 0 && (len(status) == 0 || string(status) == "NOERROR") {
		return e.host(host)
	}
	return nil
}

func (e *emitter) countingEmit() emitFunc {
	return func(name []byte, rrtype string, value []byte, first, last, count int64) {
		e.count++
		e.emit(name, rrtype, value, first, last, count)
	}
}

// dnsxSOA reads dnsx's soa member: a list of {name, ns, mailbox, serial,
// refresh, retry, expire, minttl} (since 2023), one such object (before),
// or older releases' [ns, mailbox] strings, which are no whole SOA and are
// not kept.
func dnsxSOA(e *emitter, val []byte, kind jsonKind) error {
	one := func(obj []byte) error {
		f := map[string][]byte{}
		err := scanObject(obj, func(key []byte, kind jsonKind, val []byte) error {
			switch kind {
			case kindString, kindEscaped:
				s, err := jsonString(kind, val)
				f[string(key)] = s
				return err
			case kindNumber:
				f[string(key)] = val
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(f["name"]) == 0 || len(f["ns"]) == 0 || len(f["mailbox"]) == 0 || len(f["serial"]) == 0 {
			return nil
		}
		num := func(k string) string {
			if v := f[k]; len(v) > 0 {
				return string(v)
			}
			return "0"
		}
		v := fmt.Sprintf("%s %s %s %s %s %s %s", f["ns"], f["mailbox"], num("serial"), num("refresh"), num("retry"), num("expire"), num("minttl"))
		return e.record(f["name"], "SOA", []byte(v))
	}
	switch kind {
	case kindObject:
		return one(val)
	case kindArray:
		return eachElement(val, func(kind jsonKind, v []byte) error {
			if kind == kindObject {
				return one(v)
			}
			return nil
		})
	}
	return nil
}

// massdnsSections are the sections of a massdns reply, all of which hold
// real records under their own owner names.
var massdnsSections = map[string]bool{"answers": true, "authorities": true, "additionals": true}

// parseMassDNSLine reads one massdns -o J line.
func parseMassDNSLine(line []byte, t int64, emit emitFunc) error {
	var data []byte
	err := scanObject(line, func(key []byte, kind jsonKind, val []byte) error {
		switch string(key) {
		case "rx_ts":
			// Nanoseconds since 1970 (seconds and %09lu nanoseconds).
			n, err := jsonUint(kind, val)
			if err != nil {
				return fmt.Errorf("rx_ts: %w", err)
			}
			if ts := unixFromFine(n); ts > 0 {
				t = ts
			}
		case "data":
			if kind == kindObject {
				data = val
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if data == nil {
		return nil // {"name",...,"error"} lines (-o Je) and empty replies
	}
	e := &emitter{emit: emit, t: t}
	return scanObject(data, func(key []byte, kind jsonKind, val []byte) error {
		if !massdnsSections[string(key)] || kind != kindArray {
			return nil
		}
		return eachElement(val, func(kind jsonKind, v []byte) error {
			if kind != kindObject {
				return fmt.Errorf("%s: a record is not an object", key)
			}
			var name, typ, rdata []byte
			err := scanObject(v, func(key []byte, kind jsonKind, val []byte) error {
				var err error
				switch string(key) {
				case "name":
					name, err = jsonString(kind, val)
				case "type":
					typ, err = jsonString(kind, val)
				case "data":
					rdata, err = jsonString(kind, val)
				}
				return err
			})
			if err != nil {
				return err
			}
			if name == nil || typ == nil || len(rdata) == 0 {
				return fmt.Errorf("%s: a record without name, type or data", key)
			}
			rrtype, err := typeName(typ)
			if err != nil {
				return err
			}
			if skipType(rrtype) {
				return nil
			}
			return e.record(name, rrtype, rdata)
		})
	})
}

// unixFromFine reads a unix time in seconds, milliseconds, microseconds
// or nanoseconds, by its size.
func unixFromFine(n int64) int64 {
	switch {
	case n > 1e17:
		return n / 1e9
	case n > 1e14:
		return n / 1e6
	case n > 1e11:
		return n / 1e3
	}
	return n
}

// formatList names the formats for messages.
const formatList = "cof, fdns, csv, zone, subfinder, amass, bbot, dnsx, massdns or names"

// fileTime is the time of a file's undated records: as_of when set, else
// the file's modification time.
func fileTime(st os.FileInfo, asOf int64) int64 {
	if asOf > 0 {
		return asOf
	}
	return st.ModTime().Unix()
}

// formatParser returns the line parser of a format other than COF, FDNS
// and CSV.
func formatParser(format string, st os.FileInfo, asOf int64) (func([]byte, emitFunc) error, bool) {
	t := fileTime(st, asOf)
	if format == FormatZone {
		return zoneParser(t, asOf <= 0), true
	}
	return toolParser(format, t)
}
