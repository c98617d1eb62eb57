package analysis

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
)

// ASNEntry is one announced range of an iptoasn table.
type ASNEntry struct {
	Start, End  netip.Addr
	ASN         int
	Country     string
	Description string
}

// String is the fact value: "AS64500 EXAMPLE-ORG".
func (e ASNEntry) String() string {
	s := "AS" + strconv.Itoa(e.ASN)
	if e.Description != "" {
		s += " " + e.Description
	}
	return s
}

// ASNTable maps IPs to the AS that announces them.
type ASNTable struct {
	entries []ASNEntry // sorted by Start, IPv4 before IPv6
}

// LoadASNTable reads an iptoasn.com TSV file (ip2asn-combined.tsv,
// ip2asn-v4.tsv, ip2asn-v6.tsv or ip2asn-v4-u32.tsv; plain or gzip):
// range_start, range_end, AS_number, country_code, AS_description.
// Ranges of AS 0 ("Not routed") are left out.
func LoadASNTable(path string) (*ASNTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening ASN table: %w", err)
	}
	defer f.Close()
	t, err := ReadASNTable(f)
	if err != nil {
		return nil, fmt.Errorf("reading ASN table %s: %w", path, err)
	}
	return t, nil
}

// ReadASNTable reads an iptoasn TSV from r, gunzipping it when it starts
// with the gzip magic number.
func ReadASNTable(r io.Reader) (*ASNTable, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	t := &ASNTable{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) < 3 {
			return nil, fmt.Errorf("line %d: want 5 tab-separated fields, got %d", line, len(fields))
		}
		start, err1 := parseASNAddr(fields[0])
		end, err2 := parseASNAddr(fields[1])
		asn, err3 := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(fields[2]), "AS"))
		if err1 != nil || err2 != nil || err3 != nil || start.Is4() != end.Is4() || end.Less(start) {
			if len(text) > 120 {
				text = text[:120] + "..."
			}
			return nil, fmt.Errorf("line %d: malformed range %q", line, text)
		}
		if asn == 0 {
			continue
		}
		e := ASNEntry{Start: start, End: end, ASN: asn}
		if len(fields) > 3 {
			e.Country = strings.TrimSpace(fields[3])
		}
		if len(fields) > 4 {
			e.Description = strings.TrimSpace(fields[4])
		}
		t.entries = append(t.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	sort.SliceStable(t.entries, func(i, j int) bool { return t.entries[i].Start.Less(t.entries[j].Start) })
	return t, nil
}

// parseASNAddr accepts a textual IP or, for the u32 files, an IPv4
// address as a decimal integer.
func parseASNAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), nil
	}
	a, err := netip.ParseAddr(s)
	return a.Unmap(), err
}

// Lookup returns the range holding addr.
func (t *ASNTable) Lookup(addr netip.Addr) (ASNEntry, bool) {
	if t == nil {
		return ASNEntry{}, false
	}
	addr = addr.Unmap()
	// The last range starting at or before addr.
	i := sort.Search(len(t.entries), func(i int) bool { return addr.Less(t.entries[i].Start) }) - 1
	if i < 0 {
		return ASNEntry{}, false
	}
	e := t.entries[i]
	if e.Start.Is4() != addr.Is4() || e.End.Less(addr) {
		return ASNEntry{}, false
	}
	return e, true
}

// Len is the number of routed ranges in the table.
func (t *ASNTable) Len() int { return len(t.entries) }
