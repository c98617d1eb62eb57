// Package fakevendors holds httptest fakes of the passive-DNS vendors' HTTP
// APIs. Each fake speaks its vendor's documented wire format
// (../shared/provider-apis.md), quirks included, serving fixtures recorded
// in that format from testdata/providers/<vendor>/. Provider tests and the
// CLI end-to-end tests share them.
package fakevendors

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// Start serves h on a new httptest server closed when the test ends.
func Start(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// Hook lets a test take over the n-th request (1-based) a fake receives,
// to inject a failure. It returns true when it wrote the response.
type Hook func(n int, w http.ResponseWriter, r *http.Request) bool

// Seen is one request a fake received.
type Seen struct {
	Method string
	Path   string // unescaped path
	// RawPath is the path as sent (escapes kept).
	RawPath string
	Query   url.Values
	Header  http.Header
}

// recorder counts and records requests and runs the hook; every fake
// embeds one.
type recorder struct {
	mu   sync.Mutex
	seen []Seen
}

// begin records r and runs the hook; it returns true when the hook
// answered.
func (rc *recorder) begin(w http.ResponseWriter, r *http.Request, hook Hook) bool {
	rc.mu.Lock()
	rc.seen = append(rc.seen, Seen{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone()})
	n := len(rc.seen)
	rc.mu.Unlock()
	return hook != nil && hook(n, w, r)
}

// Requests returns the requests received so far.
func (rc *recorder) Requests() []Seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Seen(nil), rc.seen...)
}

// readFixture reads name from fsys; ok is false when it does not exist.
func readFixture(fsys fs.FS, name string) (data []byte, ok bool, err error) {
	if fsys == nil || !fs.ValidPath(name) {
		return nil, false, nil
	}
	data, err = fs.ReadFile(fsys, name)
	if err != nil {
		if _, statErr := fs.Stat(fsys, name); statErr != nil {
			return nil, false, nil
		}
		return nil, false, err
	}
	return data, true, nil
}

// Status returns a hook answering the first n requests with status (and
// the given headers and body), then letting the fake answer.
func Status(n, status int, header map[string]string, body string) Hook {
	return func(i int, w http.ResponseWriter, r *http.Request) bool {
		if n >= 0 && i > n {
			return false
		}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
		return true
	}
}

// Always answers every request with status.
func Always(status int, body string) Hook { return Status(-1, status, nil, body) }

// HTMLPage is a vendor's HTML error page, served with status 200 by some.
const HTMLPage = `<!DOCTYPE html>
<html><head><title>Service temporarily unavailable</title></head>
<body><h1>Sorry, something went wrong</h1><p>Please try again later.</p></body></html>
`

// LogTo returns a trace-level logger writing to buf, to check afterwards
// that nothing secret was logged.
func LogTo(buf *bytes.Buffer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Trace, Output: &lockedWriter{w: buf}})
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// NoSecret fails the test when secret appears in the printed form of any
// of things (errors, answers, logs).
func NoSecret(t testing.TB, secret string, things ...any) {
	t.Helper()
	for _, th := range things {
		var s string
		switch v := th.(type) {
		case nil:
			continue
		case error:
			s = v.Error()
		case *bytes.Buffer:
			s = v.String()
		default:
			s = fmt.Sprintf("%+v", v)
		}
		if strings.Contains(s, secret) || strings.Contains(s, url.QueryEscape(secret)) {
			t.Errorf("secret leaked: %.300s", s)
		}
	}
}
