package providertest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/reconform/reconform/providers"
)

// Exchange is one recorded answer of a vendor: the request it answers and
// the response as the vendor sent it.
type Exchange struct {
	// Method is the request method; "" means GET.
	Method string
	// Path is the request path with its query, as the provider must send
	// it ("/v1/history/github.com/dns/a?page=2"). Query parameters are
	// compared as a set, whatever their order.
	Path string
	// Status is the response status; 0 means 200.
	Status int
	// Header holds response headers as name, value pairs.
	Header []string
	// File is the body file, relative to the Replay's folder; Body is an
	// inline body used when File is "".
	File string
	Body string
	// Gzip compresses the body when the request accepts gzip, as
	// VirusTotal does for its data (and not for its quota error).
	Gzip bool
}

// Replay is an httptest server answering recorded exchanges (real vendor
// bodies from testdata/real). Every exchange may be asked any number of
// times; a request no exchange answers fails the test and gets a 404.
type Replay struct {
	t         testing.TB
	dir       string
	exchanges []Exchange
	// URL is the server's base URL.
	URL string

	mu   sync.Mutex
	seen []string
}

// NewReplay starts a replay of exchanges whose files live in dir; it stops
// when the test ends.
func NewReplay(t testing.TB, dir string, exchanges ...Exchange) *Replay {
	t.Helper()
	r := &Replay{t: t, dir: dir, exchanges: exchanges}
	for _, ex := range exchanges {
		if ex.File != "" {
			if _, err := os.Stat(filepath.Join(dir, ex.File)); err != nil {
				t.Fatalf("replay: %v", err)
			}
		}
	}
	r.URL = Serve(t, r)
	return r
}

// Requests are the requests served so far, "METHOD /path?query" in order.
func (r *Replay) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func (r *Replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Method+" "+req.URL.RequestURI())
	r.mu.Unlock()
	for _, ex := range r.exchanges {
		if ex.matches(req) {
			r.answer(w, req, ex)
			return
		}
	}
	r.t.Errorf("replay: no recorded answer for %s %s", req.Method, req.URL.RequestURI())
	http.Error(w, "no recorded answer", http.StatusNotFound)
}

func (ex Exchange) matches(req *http.Request) bool {
	method := ex.Method
	if method == "" {
		method = http.MethodGet
	}
	if req.Method != method {
		return false
	}
	path, rawQuery, _ := strings.Cut(ex.Path, "?")
	if req.URL.Path != path {
		return false
	}
	want, err := url.ParseQuery(rawQuery)
	if err != nil {
		return false
	}
	got := req.URL.Query()
	if len(got) != len(want) {
		return false
	}
	for k, vs := range want {
		if strings.Join(got[k], "\x00") != strings.Join(vs, "\x00") {
			return false
		}
	}
	return true
}

func (r *Replay) answer(w http.ResponseWriter, req *http.Request, ex Exchange) {
	body := []byte(ex.Body)
	if ex.File != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join(r.dir, ex.File)); err != nil {
			r.t.Errorf("replay: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	for i := 0; i+1 < len(ex.Header); i += 2 {
		w.Header().Set(ex.Header[i], ex.Header[i+1])
	}
	if ex.Gzip && strings.Contains(req.Header.Get("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
		w.Header().Set("Content-Encoding", "gzip")
	}
	status := ex.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body)
}

// CheckRequests fails the test unless the replay was asked exactly want,
// in order ("METHOD /path?query"), and gate charged one request for each.
func (r *Replay) CheckRequests(t testing.TB, gate *Gate, want []string) {
	t.Helper()
	got := r.Requests()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n  got  %q\n  want %q", got, want)
	}
	if gate != nil && gate.Count() != len(want) {
		t.Errorf("gate charged %d requests, want %d", gate.Count(), len(want))
	}
}

// CheckWarnings fails the test unless the warnings mention want; "" wants
// none at all.
func CheckWarnings(t testing.TB, warnings []string, want string) {
	t.Helper()
	if w := strings.Join(warnings, "\n"); want == "" && w != "" || !strings.Contains(w, want) {
		t.Errorf("warnings %q, want %q", w, want)
	}
}

// CheckEmpty fails the test unless the query succeeded with nothing: no
// finding and no warning (a vendor's real empty answer).
func CheckEmpty(t testing.TB, ans providers.Answer, err error) {
	t.Helper()
	if err != nil || len(ans.Findings) != 0 || len(ans.Warnings) != 0 {
		t.Fatalf("Query = %v, %q, %v; want an empty answer", ans.Findings, ans.Warnings, err)
	}
}
