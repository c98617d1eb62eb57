package providers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// NotAnAnswer is the error for a 200 body that holds none of what a real
// answer of the vendor holds: `{}`, `null`, an error object, or lines of
// another shape where records were expected. It is never "nothing
// there": an empty ok answer would make every previous finding look
// removed. A body that says a quota is spent is KindQuota, one that says
// to slow down is a retryable KindRateLimited, anything else is
// KindMalformed. vendor names the vendor ("CIRCL"), url is the redacted
// request URL, and expected says what a real answer holds, e.g. "COF
// records (rrname, rrtype, rdata)".
func NotAnAnswer(vendor, url string, body []byte, expected string) *Error {
	said := vendorMessage(body)
	shown := said
	if shown == "" {
		shown = BodySnippet(body)
	}
	switch SpentOrSlow(said) {
	case KindQuota:
		return &Error{Kind: KindQuota, Msg: fmt.Sprintf("%s says the account's quota is spent (HTTP 200 from %s: %s)", vendor, url, shown)}
	case KindRateLimited:
		return &Error{Kind: KindRateLimited, Retryable: true, Msg: fmt.Sprintf("%s asks to slow down (HTTP 200 from %s: %s)", vendor, url, shown)}
	}
	if shown == "" {
		shown = "an empty JSON value"
	}
	return &Error{Kind: KindMalformed, Msg: fmt.Sprintf("%s answered %s with HTTP 200 but no %s: %s", vendor, url, expected, shown)}
}

// SpentOrSlow reads a vendor's error text: KindQuota when it says a quota
// or usage limit is spent, KindRateLimited when it says to slow down, ""
// otherwise.
func SpentOrSlow(text string) ErrorKind {
	lower := strings.ToLower(text)
	switch {
	case containsAny(lower, "quota", "usage limit", "exceeded the allowed", "exceeded the usage", "limit exceeded", "credits"):
		return KindQuota
	case containsAny(lower, "rate limit", "ratelimit", "too many requests", "slow down", "throttl"):
		return KindRateLimited
	}
	return ""
}

// vendorMessage is the text of an error object ({"error": "..."},
// {"message": ...}, {"error": {"message": ...}}, {"status": ...}), or of
// the first such line of an NDJSON body; "" when there is none.
func vendorMessage(body []byte) string {
	for _, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(line, &obj) != nil {
			return ""
		}
		for _, key := range []string{"error", "message", "msg", "detail", "reason", "status", "errors"} {
			if s := textOf(obj[key], 3); s != "" {
				return s
			}
		}
		return ""
	}
	return ""
}

// textOf is the text in a JSON string, or in the message of an object or
// the first element of an array holding one, looking depth levels down.
func textOf(raw json.RawMessage, depth int) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || depth < 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return BodySnippet([]byte(s))
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, key := range []string{"message", "msg", "detail", "code"} {
			if t := textOf(obj[key], depth-1); t != "" {
				return t
			}
		}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return textOf(list[0], depth-1)
	}
	return ""
}

func containsAny(s string, words ...string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
