package fakevendors

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// This file holds fakes of the vendors whose clients live in
// providers/{securitytrails,virustotal,robtex,circl}, written from
// ../shared/provider-apis.md for end-to-end runs. Their fixture layouts
// follow testdata/providers/<vendor>/.

// counter is a request counter with a limit (0: unlimited).
type counter struct {
	mu   sync.Mutex
	used int
}

func (c *counter) over(limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used++
	return limit > 0 && c.used > limit
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

func (c *counter) add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used += n
}

func writeBody(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// SecurityTrails fakes API v1 under /v1: APIKEY header (or ?apikey=),
// 403 on a bad key, 429 past MonthlyLimit; GET /v1/account/usage answers
// the count so far (it costs nothing, as the vendor's does not). Fixtures: domain/<d>.json,
// subdomains/<d>.json, history/<d>_<type>_p<N>.json (a missing page has
// no records), search/<field>_<value>_p<N>.json for POST /domains/list
// (colons in the value written as "_").
type SecurityTrails struct {
	recorder
	Hook         Hook
	Fixtures     fs.FS
	Key          string
	MonthlyLimit int
	count        counter
}

func (s *SecurityTrails) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.begin(w, r, s.Hook) {
		return
	}
	js := func(status int, body string) { writeBody(w, status, "application/json; charset=utf-8", body) }
	key := r.Header.Get("APIKEY")
	if key == "" {
		key = r.URL.Query().Get("apikey")
	}
	if key == "" || key != s.Key {
		js(http.StatusForbidden, `{"message":"Invalid authentication credentials"}`)
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/v1/account/usage" {
		js(http.StatusOK, fmt.Sprintf(`{"current_monthly_usage":%d,"allowed_monthly_usage":%d}`, s.count.get(), s.MonthlyLimit))
		return
	}
	if s.count.over(s.MonthlyLimit) {
		js(http.StatusTooManyRequests, `{"message":"You've exceeded the usage limits for your account."}`)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		js(http.StatusNotFound, `{"message":"no Route matched with those values"}`)
		return
	}
	page := r.URL.Query().Get("page")
	if page == "" {
		page = "1"
	}
	serve := func(name, missing string, missingStatus int) {
		data, found, err := readFixture(s.Fixtures, name)
		switch {
		case err != nil:
			js(http.StatusInternalServerError, `{"message":"fixture error"}`)
		case !found:
			js(missingStatus, missing)
		default:
			js(http.StatusOK, string(data))
		}
	}
	parts := strings.Split(path, "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "domain":
		serve("domain/"+parts[1]+".json", `{"message":"Domain not found"}`, http.StatusNotFound)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "domain" && parts[2] == "subdomains":
		serve("subdomains/"+parts[1]+".json", `{"message":"Domain not found"}`, http.StatusNotFound)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "history" && parts[2] == "dns":
		serve("history/"+parts[1]+"_"+parts[3]+"_p"+page+".json", fmt.Sprintf(`{"endpoint":"/v1/%s","type":%q,"pages":0,"records":[]}`, path, parts[3]), http.StatusOK)
	case r.Method == http.MethodPost && path == "domains/list":
		var body struct {
			Filter map[string]string `json:"filter"`
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Filter) != 1 {
			js(http.StatusBadRequest, `{"message":"Invalid filter"}`)
			return
		}
		var name string
		for field, v := range body.Filter {
			name = field + "_" + strings.ReplaceAll(v, ":", "_")
		}
		serve("search/"+name+"_p"+page+".json", fmt.Sprintf(`{"endpoint":"/v1/domains/list","record_count":0,"meta":{"page":%s,"total_pages":0,"max_page":100},"records":[]}`, page), http.StatusOK)
	default:
		js(http.StatusNotFound, `{"message":"no Route matched with those values"}`)
	}
}

// Counted is how many requests counted against the quota (usage requests
// do not).
func (s *SecurityTrails) Counted() int { return s.count.get() }

// SpendElsewhere counts n requests made with the key by someone else.
func (s *SecurityTrails) SpendElsewhere(n int) { s.count.add(n) }

// VirusTotal fakes API v3 under /api/v3: x-apikey (401 otherwise),
// relationship collections paged with an opaque cursor (meta.cursor and
// links.next), limit capped at 40, errors as {"error":{code,message}},
// 429 QuotaExceededError past Quota (a day's), GET
// /api/v3/users/<key>/overall_quotas answering the count (free).
// Fixtures:
// <domains|ip_addresses>/<id>/<relationship>.json holding {"data":[...]}.
type VirusTotal struct {
	recorder
	Hook     Hook
	Fixtures fs.FS
	Key      string
	Quota    int
	count    counter
}

// Counted is how many requests counted against the quota.
func (v *VirusTotal) Counted() int { return v.count.get() }

// SpendElsewhere counts n requests made with the key by someone else.
func (v *VirusTotal) SpendElsewhere(n int) { v.count.add(n) }

// NewDay starts the vendor's next day: its count is back to zero.
func (v *VirusTotal) NewDay() { v.count.add(-v.count.get()) }

func (v *VirusTotal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if v.begin(w, r, v.Hook) {
		return
	}
	vtErr := func(status int, code, msg string) {
		writeBody(w, status, "application/json", fmt.Sprintf(`{"error": {"code": %q, "message": %q}}`, code, msg))
	}
	switch key := r.Header.Get("X-Apikey"); {
	case key == "":
		vtErr(http.StatusUnauthorized, "AuthenticationRequiredError", "X-Apikey header is missing")
		return
	case key != v.Key:
		vtErr(http.StatusUnauthorized, "WrongCredentialsError", "Wrong API key")
		return
	}
	if r.URL.Path == "/api/v3/users/"+v.Key+"/overall_quotas" {
		writeBody(w, http.StatusOK, "application/json", fmt.Sprintf(`{"data": {"api_requests_daily": {"user": {"allowed": %d, "used": %d}}}}`, v.Quota, v.count.get()))
		return
	}
	if v.count.over(v.Quota) {
		vtErr(http.StatusTooManyRequests, "QuotaExceededError", "Quota exceeded")
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, "/api/v3/")
	parts := strings.Split(rel, "/")
	if !ok || len(parts) != 3 || (parts[0] != "domains" && parts[0] != "ip_addresses") {
		vtErr(http.StatusNotFound, "NotFoundError", "Resource not found")
		return
	}
	data, found, err := readFixture(v.Fixtures, parts[0]+"/"+parts[1]+"/"+parts[2]+".json")
	if err != nil || !found {
		vtErr(http.StatusNotFound, "NotFoundError", fmt.Sprintf("Domain %q not found", parts[1]))
		return
	}
	var all struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &all); err != nil {
		vtErr(http.StatusInternalServerError, "InternalError", "fixture")
		return
	}
	q := r.URL.Query()
	limit := 10
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 {
			vtErr(http.StatusBadRequest, "InvalidArgumentError", "Invalid limit")
			return
		}
	}
	limit = min(limit, 40)
	offset := 0
	if c := q.Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		var cur struct{ Offset int }
		if err != nil || json.Unmarshal(raw, &cur) != nil || cur.Offset < 0 || cur.Offset > len(all.Data) {
			vtErr(http.StatusBadRequest, "InvalidArgumentError", "Wrong cursor")
			return
		}
		offset = cur.Offset
	}
	end := min(offset+limit, len(all.Data))
	meta := map[string]any{"count": len(all.Data)}
	links := map[string]string{"self": "https://www.virustotal.com" + r.URL.RequestURI()}
	if end < len(all.Data) {
		cur, _ := json.Marshal(map[string]int{"limit": limit, "offset": end})
		c := base64.RawURLEncoding.EncodeToString(cur)
		meta["cursor"] = c
		links["next"] = "https://www.virustotal.com" + r.URL.Path + "?cursor=" + c + "&limit=" + strconv.Itoa(limit)
	}
	out, _ := json.Marshal(map[string]any{"meta": meta, "data": all.Data[offset:end], "links": links})
	writeBody(w, http.StatusOK, "application/json", string(out))
}

// Robtex fakes the pDNS API: /pdns/{forward,reverse}/<value> as NDJSON
// with CRLF line ends (fixtures <direction>/<value>.ndjson, served as
// recorded, duplicates included); unknown values are an empty 200. With
// Key set it is the Pro API and requires ?key=. Past RateLimit requests
// it answers 200 {"status":"ratelimited"}.
type Robtex struct {
	recorder
	Hook      Hook
	Fixtures  fs.FS
	Key       string
	RateLimit int
	count     counter
}

func (x *Robtex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if x.begin(w, r, x.Hook) {
		return
	}
	if x.Key != "" && r.URL.Query().Get("key") != x.Key {
		writeBody(w, http.StatusUnauthorized, "application/json", `{"status":"error","error":"invalid key"}`)
		return
	}
	if x.count.over(x.RateLimit) {
		writeBody(w, http.StatusOK, "application/json", `{"status":"ratelimited"}`)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "pdns" || (parts[1] != "forward" && parts[1] != "reverse") {
		writeBody(w, http.StatusNotFound, "text/html", "<html><body>404 Not Found</body></html>")
		return
	}
	w.Header().Set("Cache-Control", "max-age=60, public")
	data, _, err := readFixture(x.Fixtures, parts[1]+"/"+parts[2]+".ndjson")
	if err != nil {
		writeBody(w, http.StatusInternalServerError, "text/plain", "fixture error")
		return
	}
	writeBody(w, http.StatusOK, "application/x-ndjson", string(data))
}

// CIRCL fakes CIRCL Passive DNS: GET <base>/<value> with HTTP Basic auth
// (401 otherwise), COF NDJSON from <value>.ndjson (unknown values: empty
// 200), and the v2 dribble headers: dribble-paginate-count pages with a
// stateless cursor (the offset), x-dribble-cursor only while more remain,
// dribble-filter-rrtype filters. Past Quota it answers 429.
type CIRCL struct {
	recorder
	Hook               Hook
	Fixtures           fs.FS
	Username, Password string
	Quota              int
	count              counter
}

func (c *CIRCL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.begin(w, r, c.Hook) {
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != c.Username || p != c.Password {
		w.Header().Set("WWW-Authenticate", `Basic realm="pdns"`)
		writeBody(w, http.StatusUnauthorized, "text/plain", "Not authenticated")
		return
	}
	if c.count.over(c.Quota) {
		writeBody(w, http.StatusTooManyRequests, "text/plain", "Quota exhausted")
		return
	}
	i := strings.LastIndex(r.URL.Path, "/")
	value := strings.ToLower(r.URL.Path[i+1:])
	data, _, err := readFixture(c.Fixtures, value+".ndjson")
	if err != nil {
		writeBody(w, http.StatusInternalServerError, "text/plain", "fixture error")
		return
	}
	var lines [][]byte
	filter := r.Header.Get("dribble-filter-rrtype")
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if filter != "" {
			var rec struct {
				RRType json.RawMessage `json:"rrtype"`
			}
			json.Unmarshal(l, &rec)
			if strings.Trim(string(rec.RRType), `"`) != strings.ToUpper(filter) {
				continue
			}
		}
		lines = append(lines, l)
	}
	if n, err := strconv.Atoi(r.Header.Get("dribble-paginate-count")); err == nil && n > 0 {
		offset, _ := strconv.Atoi(r.Header.Get("dribble-paginate-cursor"))
		offset = min(max(offset, 0), len(lines))
		end := min(offset+n, len(lines))
		if end < len(lines) {
			w.Header().Set("x-dribble-cursor", strconv.Itoa(end))
		}
		lines = lines[offset:end]
	}
	var out bytes.Buffer
	for _, l := range lines {
		out.Write(l)
		out.WriteByte('\n')
	}
	writeBody(w, http.StatusOK, "application/x-ndjson", out.String())
}
