package fakevendors

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// DNSDB fakes the Farsight/DomainTools DNSDB API v2 under /dnsdb/v2:
// X-API-Key (403), Accept: application/x-ndjson (415), SAF framing
// (begin, obj lines, succeeded | limited | failed), limit and offset
// (416 beyond OffsetMax), X-RateLimit-* headers and 429 past Quota.
// Fixtures: "records.jsonl", one COF object per line as rrset lookups
// return it; rdata lookups answer one object per matching rdata value,
// rdata as a string and no bailiwick, as the service does.
type DNSDB struct {
	recorder
	// Hook, when set, sees every request first (fault injection).
	Hook     Hook
	Fixtures fs.FS
	Key      string
	// ResultsMax caps limit (0: 10000, the service default).
	ResultsMax int
	// OffsetMax is the largest offset allowed; -1 forbids offset ("n/a").
	// 0 means the service default, 3000000.
	OffsetMax int
	// Quota is the number of lookups answered (0: unlimited, -1: none);
	// past it 429 with X-RateLimit-Remaining: 0 and X-RateLimit-Reset:
	// Reset.
	Quota int
	Reset int64
	// Truncate drops the terminating line; FailMsg ends the stream with
	// cond "failed" after the first object.
	Truncate bool
	FailMsg  string

	mu   sync.Mutex
	used int
}

// dnsdbRecord is the part of a COF record the fake matches on.
type dnsdbRecord struct {
	raw    json.RawMessage
	RRName string          `json:"rrname"`
	RRType string          `json:"rrtype"`
	RData  json.RawMessage `json:"rdata"`
	values []string
}

func (d *DNSDB) records() ([]dnsdbRecord, error) {
	data, ok, err := readFixture(d.Fixtures, "records.jsonl")
	if err != nil || !ok {
		return nil, err
	}
	var out []dnsdbRecord
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var r dnsdbRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("records.jsonl: %w", err)
		}
		r.raw = json.RawMessage(line)
		var list []string
		if json.Unmarshal(r.RData, &list) != nil {
			var one string
			json.Unmarshal(r.RData, &one)
			list = []string{one}
		}
		r.values = list
		out = append(out, r)
	}
	return out, nil
}

func (d *DNSDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.begin(w, r, d.Hook) {
		return
	}
	text := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
	}
	if r.Header.Get("X-API-Key") == "" || r.Header.Get("X-API-Key") != d.Key {
		text(http.StatusForbidden, "Error: API key not valid")
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		text(http.StatusUnsupportedMediaType, "Error: Unsupported Accept header")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/dnsdb/v2/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if path == "ping" {
		w.Write([]byte(`{"ping":"ok"}` + "\n"))
		return
	}
	d.mu.Lock()
	d.used++
	used := d.used
	d.mu.Unlock()
	if d.Quota != 0 {
		quota := max(d.Quota, 0)
		remaining := max(quota-used, 0)
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(max(quota, 1000)))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(d.Reset, 10))
		if used > quota {
			w.Header().Set("X-RateLimit-Remaining", "0")
			text(http.StatusTooManyRequests, "Error: Rate limit exceeded")
			return
		}
	} else {
		w.Header().Set("X-RateLimit-Limit", "unlimited")
		w.Header().Set("X-RateLimit-Remaining", "n/a")
		w.Header().Set("X-RateLimit-Reset", "n/a")
	}
	if path == "rate_limit" {
		fmt.Fprintf(w, `{"rate":{"reset":"n/a","limit":"unlimited","remaining":"n/a","offset_max":%d,"results_max":%d}}`+"\n", d.offsetMax(), d.resultsMax())
		return
	}
	recs, err := d.records()
	if err != nil {
		text(http.StatusInternalServerError, err.Error())
		return
	}
	objs, status, msg := d.lookup(recs, strings.Split(path, "/"))
	if status != http.StatusOK {
		text(status, msg)
		return
	}
	q := r.URL.Query()
	limit := d.resultsMax()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			text(http.StatusBadRequest, "Error: Bad limit")
			return
		}
		if n > 0 && n < limit {
			limit = n
		}
	}
	offset := 0
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			text(http.StatusBadRequest, "Error: Bad offset")
			return
		}
		if n > 0 && (d.OffsetMax < 0 || n > d.offsetMax()) {
			text(http.StatusRequestedRangeNotSatisfiable, "Error: Offset value greater than maximum allowed")
			return
		}
		offset = n
	}
	objs = objs[min(offset, len(objs)):]
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintln(w, `{"cond":"begin"}`)
	for i, o := range objs {
		if i == limit {
			if !d.Truncate {
				fmt.Fprintln(w, `{"cond":"limited","msg":"Result limit reached"}`)
			}
			return
		}
		fmt.Fprintf(w, `{"obj":%s}`+"\n", o)
		if d.FailMsg != "" {
			fmt.Fprintf(w, `{"cond":"failed","msg":%q}`+"\n", d.FailMsg)
			return
		}
	}
	switch {
	case d.FailMsg != "":
		fmt.Fprintf(w, `{"cond":"failed","msg":%q}`+"\n", d.FailMsg)
	case !d.Truncate:
		fmt.Fprintln(w, `{"cond":"succeeded"}`)
	}
}

func (d *DNSDB) resultsMax() int {
	if d.ResultsMax > 0 {
		return d.ResultsMax
	}
	return 10000
}

func (d *DNSDB) offsetMax() int {
	if d.OffsetMax == 0 {
		return 3000000
	}
	return max(d.OffsetMax, 0)
}

// lookup answers lookup/rrset/name/... and lookup/rdata/{name,ip}/...
func (d *DNSDB) lookup(recs []dnsdbRecord, parts []string) ([]string, int, string) {
	if len(parts) < 4 || parts[0] != "lookup" || parts[3] == "" {
		return nil, http.StatusNotFound, "Error: Not Found"
	}
	kind, value := parts[1]+"/"+parts[2], strings.ToLower(parts[3])
	rrtype := "ANY"
	if len(parts) > 4 && parts[4] != "" {
		rrtype = strings.ToUpper(parts[4])
	}
	typeOK := func(t string) bool { return rrtype == "ANY" || strings.EqualFold(t, rrtype) }
	var out []string
	switch kind {
	case "rrset/name":
		for _, r := range recs {
			if typeOK(r.RRType) && ownerMatches(value, r.RRName) {
				out = append(out, string(r.raw))
			}
		}
	case "rdata/name":
		want := strings.TrimSuffix(value, ".")
		for _, r := range recs {
			if !typeOK(r.RRType) {
				continue
			}
			for _, v := range r.values {
				target := v
				if f := strings.Fields(v); len(f) == 2 && strings.EqualFold(r.RRType, "MX") {
					target = f[1]
				}
				if strings.EqualFold(strings.TrimSuffix(target, "."), want) {
					out = append(out, rdataObj(r, v))
				}
			}
		}
	case "rdata/ip":
		if rrtype != "ANY" && rrtype != "A" && rrtype != "AAAA" {
			return nil, http.StatusBadRequest, "Error: Bad rrtype for ip lookup"
		}
		match, ok := ipMatcher(value)
		if !ok {
			return nil, http.StatusBadRequest, "Error: Bad IP address"
		}
		for _, r := range recs {
			if !typeOK(r.RRType) || (r.RRType != "A" && r.RRType != "AAAA") {
				continue
			}
			for _, v := range r.values {
				if a, err := netip.ParseAddr(v); err == nil && match(a) {
					out = append(out, rdataObj(r, v))
				}
			}
		}
	default:
		return nil, http.StatusNotFound, "Error: Not Found"
	}
	return out, http.StatusOK, ""
}

// ownerMatches applies DNSDB's owner wildcards: "*.example.com" (left) and
// "www.example.*" (right).
func ownerMatches(pattern, rrname string) bool {
	name := strings.ToLower(strings.TrimSuffix(rrname, "."))
	pattern = strings.TrimSuffix(pattern, ".")
	switch {
	case strings.HasPrefix(pattern, "*."):
		return strings.HasSuffix(name, pattern[1:])
	case strings.HasSuffix(pattern, ".*"):
		return strings.HasPrefix(name, pattern[:len(pattern)-1])
	}
	return name == pattern
}

// rdataObj is one rdata-lookup result: a single rdata string, no bailiwick.
func rdataObj(r dnsdbRecord, value string) string {
	var m map[string]any
	json.Unmarshal(r.raw, &m)
	delete(m, "bailiwick")
	m["rdata"] = value
	b, _ := json.Marshal(m)
	return string(b)
}

// ipMatcher reads an address, a prefix written "addr,len", or a range
// "a-b".
func ipMatcher(v string) (func(netip.Addr) bool, bool) {
	if addr, bits, ok := strings.Cut(v, ","); ok {
		n, err := strconv.Atoi(bits)
		if err != nil {
			return nil, false
		}
		p, err := netip.ParseAddr(addr)
		if err != nil {
			return nil, false
		}
		prefix, err := p.Prefix(n)
		if err != nil {
			return nil, false
		}
		return prefix.Contains, true
	}
	if lo, hi, ok := strings.Cut(v, "-"); ok {
		a, err1 := netip.ParseAddr(lo)
		b, err2 := netip.ParseAddr(hi)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		return func(x netip.Addr) bool { return a.Compare(x) <= 0 && x.Compare(b) <= 0 }, true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return nil, false
	}
	return func(x netip.Addr) bool { return x == a }, true
}
