package fakevendors

import (
	"io/fs"
	"net/http"
	"net/netip"
	"strings"
	"sync"
)

// HackerTarget fakes api.hackertarget.com: GET /<tool>/?q=<target>
// [&apikey=<key>], always 200 text/plain, errors as body text. Fixtures are
// "<tool>/<q>.txt"; a missing one is the tool's "nothing found" text.
type HackerTarget struct {
	recorder
	// Hook, when set, sees every request first (fault injection).
	Hook     Hook
	Fixtures fs.FS
	// Key is the valid member key; a request with another apikey gets
	// "Error invalid key". Requests without a key are free-tier.
	Key string
	// DailyQuota is the number of answered calls per day (0: unlimited);
	// past it every call gets the "API count exceeded" line.
	DailyQuota int

	mu   sync.Mutex
	used int
}

// HackerTarget sentinel bodies, exactly as the service sends them.
const (
	HTQuotaExceeded = "API count exceeded - Increase Quota with Membership"
	HTBadParam      = "error check your search parameter"
	HTKeyRequired   = "error valid key required"
	HTInvalidKey    = "Error invalid key"
)

func (h *HackerTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.begin(w, r, h.Hook) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	reply := func(body string) { w.WriteHeader(http.StatusOK); w.Write([]byte(body + "\n")) }
	tool := strings.Trim(r.URL.Path, "/")
	q := r.URL.Query().Get("q")
	if key := r.URL.Query().Get("apikey"); key != "" && key != h.Key {
		reply(HTInvalidKey)
		return
	}
	h.mu.Lock()
	h.used++
	over := h.DailyQuota > 0 && h.used > h.DailyQuota
	h.mu.Unlock()
	if over {
		reply(HTQuotaExceeded)
		return
	}
	var empty string
	switch tool {
	case "hostsearch", "dnslookup":
		if !looksLikeDomain(q) {
			reply(HTBadParam)
			return
		}
		empty = "No DNS A records found for " + q
	case "findshareddns":
		if !looksLikeDomain(q) {
			reply(HTBadParam)
			return
		}
		empty = "No results found"
	case "reverseiplookup":
		if a, err := netip.ParseAddr(q); err != nil || !a.Is4() {
			reply(HTBadParam)
			return
		}
		empty = "No records found for " + q
	default:
		http.NotFound(w, r)
		return
	}
	data, ok, err := readFixture(h.Fixtures, tool+"/"+strings.ToLower(q)+".txt")
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case !ok:
		reply(empty)
	default:
		w.WriteHeader(http.StatusOK)
		w.Write(data)
	}
}

func looksLikeDomain(s string) bool {
	if !strings.Contains(s, ".") || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
