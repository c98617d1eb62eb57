package providers

import (
	"strings"
	"testing"
)

func TestNotAnAnswer(t *testing.T) {
	tests := []struct {
		body      string
		kind      ErrorKind
		retryable bool
		msg       string
	}{
		{`{}`, KindMalformed, false, "no COF records: {}"},
		{`null`, KindMalformed, false, "no COF records: null"},
		{``, KindMalformed, false, "an empty JSON value"},
		{`{"error":"internal error"}`, KindMalformed, false, "internal error"},
		{`{"message":"You have exceeded the allowed usage of your API key"}`, KindQuota, false, "quota is spent"},
		{`{"error":{"code":"QuotaExceededError","message":"Quota exceeded"}}`, KindQuota, false, "Quota exceeded"},
		{`{"errors":[{"message":"Daily quota spent"}]}`, KindQuota, false, "Daily quota spent"},
		{`{"status":"ratelimited"}`, KindRateLimited, true, "slow down"},
		{"\n" + `{"detail":"Too many requests"}` + "\n{}\n", KindRateLimited, true, "Too many requests"},
		{`[{"rrname":"x"}]`, KindMalformed, false, `[{"rrname":"x"}]`},
	}
	for _, tt := range tests {
		e := NotAnAnswer("Vendor", "https://api.example/q", []byte(tt.body), "COF records")
		if e.Kind != tt.kind || e.Retryable != tt.retryable || !strings.Contains(e.Msg, tt.msg) || !strings.Contains(e.Msg, "https://api.example/q") {
			t.Errorf("%s: %+v, want kind %s retryable %v mentioning %q", tt.body, e, tt.kind, tt.retryable, tt.msg)
		}
	}
}

func FuzzNotAnAnswer(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `{"error":{"message":"Quota exceeded"}}`, `{"errors":[["x"]]}`, "{\"status\":\"ratelimited\"}\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := NotAnAnswer("V", "u", body, "records")
		if e == nil || e.Kind == "" || e.Msg == "" {
			t.Fatalf("no classified error for %q", body)
		}
	})
}
