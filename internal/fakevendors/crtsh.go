package fakevendors

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// CrtSh fakes crt.sh's JSON search: GET /?q=%25.<domain>&output=json
// answers the fixture "<domain>.json" (a JSON array as crt.sh sends it) or
// [] when there is none; exclude=expired filters on not_after. Without
// output=json it serves an HTML page, as crt.sh does.
type CrtSh struct {
	recorder
	// Hook, when set, sees every request first (502s, HTML with 200).
	Hook     Hook
	Fixtures fs.FS
	// Now is the clock for exclude=expired; zero means time.Now.
	Now time.Time
}

func (c *CrtSh) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.begin(w, r, c.Hook) {
		return
	}
	q := r.URL.Query()
	if r.URL.Path != "/" || q.Get("output") != "json" {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.Write([]byte(HTMLPage))
		return
	}
	domain, ok := strings.CutPrefix(strings.ToLower(q.Get("q")), "%.")
	if !ok || !looksLikeDomain(domain) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.Write([]byte(HTMLPage))
		return
	}
	data, found, err := readFixture(c.Fixtures, domain+".json")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !found {
		data = []byte("[]")
	}
	if q.Get("exclude") == "expired" {
		now := c.Now
		if now.IsZero() {
			now = time.Now()
		}
		var rows []map[string]any
		if err := json.Unmarshal(data, &rows); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		kept := []map[string]any{}
		for _, row := range rows {
			s, _ := row["not_after"].(string)
			if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil && t.After(now) {
				kept = append(kept, row)
			}
		}
		data, _ = json.Marshal(kept)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(data)
}
