package virustotal

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/providers"
)

// FuzzErrorBody feeds error bodies, with the statuses VirusTotal uses, to
// the classifier and the message reader: no panic, a quota code is always
// a quota, every error has a kind, and no message spans lines.
func FuzzErrorBody(f *testing.F) {
	for _, name := range []string{"error_429_quota_exceeded.json", "error_404_not_found.json", "error_401_authentication_required.json"} {
		if data, err := os.ReadFile(filepath.Join(realDir, name)); err == nil {
			f.Add(429, data)
			f.Add(200, data)
		}
	}
	f.Add(429, []byte(`{"error": {"code": "TooManyRequestsError"}}`))
	f.Add(200, []byte(`{"error": {"code": "QuotaExceededError", "message": "a\nb\u0007"}}`))
	f.Add(503, []byte(`{"error": "not an object"}`))
	f.Add(200, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		statuses := []int{200, 204, 400, 401, 403, 404, 409, 424, 429, 500, 503, 504}
		if status < 0 {
			status = -status
		}
		status = statuses[status%len(statuses)]
		resp := &providers.Response{StatusCode: status, Header: http.Header{"Retry-After": {"7"}}, Body: body, URL: "https://www.virustotal.com/api/v3/x"}
		e := classify(resp)
		code, _ := parseError(body)
		if code == "QuotaExceededError" && (e == nil || e.Kind != providers.KindQuota || e.Retryable) {
			t.Fatalf("QuotaExceededError with %d classified as %+v", status, e)
		}
		if e != nil && e.Kind == "" {
			t.Fatalf("error without a kind: %+v", e)
		}
		for _, s := range []string{errorMessage(body), msgOf(e)} {
			if strings.ContainsAny(s, "\n\r") {
				t.Fatalf("message spans lines: %q", s)
			}
		}
		_ = collectionShape.Check(body)
	})
}

func msgOf(e *providers.Error) string {
	if e == nil {
		return ""
	}
	return e.Msg
}
