package fakevendors

import (
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// DNSDumpster fakes api.dnsdumpster.com: GET /domain/{domain}[?page=N]
// with X-API-Key (401 otherwise) and a request counter (429 past Limit).
// Fixtures: "<domain>.json" for page 1, "<domain>.page<N>.json" after; a
// missing page has no records.
type DNSDumpster struct {
	recorder
	// Hook, when set, sees every request first.
	Hook     Hook
	Fixtures fs.FS
	Key      string
	// Limit is the number of requests answered (0: unlimited); past it
	// 429, as the service's 1 request / 2 s limit answers bursts.
	Limit int

	mu   sync.Mutex
	used int
}

func (d *DNSDumpster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.begin(w, r, d.Hook) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if k := r.Header.Get("X-API-Key"); k == "" || k != d.Key {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, `{"error":"Invalid or missing API key"}`)
		return
	}
	d.mu.Lock()
	d.used++
	over := d.Limit > 0 && d.used > d.Limit
	d.mu.Unlock()
	if over {
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintln(w, `{"error":"Rate limit exceeded"}`)
		return
	}
	domain, ok := strings.CutPrefix(r.URL.Path, "/domain/")
	domain = strings.ToLower(domain)
	if !ok || !looksLikeDomain(domain) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, `{"error":"Invalid domain"}`)
		return
	}
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintln(w, `{"error":"Invalid page"}`)
			return
		}
		page = n
	}
	name := domain + ".json"
	if page > 1 {
		name = fmt.Sprintf("%s.page%d.json", domain, page)
	}
	data, found, err := readFixture(d.Fixtures, name)
	switch {
	case err != nil:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
	case !found:
		fmt.Fprintln(w, `{"a":[],"cname":[],"mx":[],"ns":[],"txt":[],"total_a_recs":0}`)
	default:
		w.Write(data)
	}
}
