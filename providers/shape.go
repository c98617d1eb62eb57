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
	// "API rate limit exceeded" (SecurityTrails' Kong gateway, DNSDumpster)
	// is the per-second limit: rate words win over a bare "limit exceeded".
	switch {
	case containsAny(lower, "quota", "usage limit", "exceeded the allowed", "exceeded the usage", "credits"):
		return KindQuota
	case containsAny(lower, "rate limit", "ratelimit", "too many requests", "slow down", "throttl"):
		return KindRateLimited
	case strings.Contains(lower, "limit exceeded"):
		return KindQuota
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

// JSONType is the kind of a JSON value a Shape asks for.
type JSONType int

const (
	JSONAny    JSONType = iota // any value but null
	JSONObject                 // {...}
	JSONArray                  // [...]
	JSONString                 // "..."
	JSONNumber                 // a number
)

func (t JSONType) String() string {
	switch t {
	case JSONObject:
		return "an object"
	case JSONArray:
		return "an array"
	case JSONString:
		return "a string"
	case JSONNumber:
		return "a number"
	case jsonNull:
		return "null"
	case jsonOther:
		return "a boolean"
	}
	return "a value"
}

// Field is a top-level member of a vendor's answer and the type its value
// has in real answers.
type Field struct {
	Name string
	Type JSONType
}

// Shape is the top level of a vendor's real answer: the members every real
// answer carries, read from recorded bodies (testdata/real). A 200 whose
// body lacks them ({}, null, [] where an object belongs, {"subdomains":
// null}, a bare {"message": ...}) is not "nothing found": the vendor or
// something in between answered something else, and taking it for an empty
// answer would mark every earlier finding of the subject as gone.
//
// A real empty answer keeps its members ({"subdomains": []}) and passes.
type Shape struct {
	// Array says the answer is a JSON array (crt.sh); otherwise it is an
	// object.
	Array bool
	// Required members must all be present with a value of their type
	// (null is no value).
	Required []Field
	// AnyOf, when set, needs at least one of its members present with a
	// value of its type (vendors that leave out empty record types).
	AnyOf []Field
}

// ShapeError says how a body differs from its Shape.
type ShapeError struct {
	Reason string
}

func (e *ShapeError) Error() string { return e.Reason }

// Check reports whether body has the shape; the error is a *ShapeError.
func (s Shape) Check(body []byte) error {
	body = bytes.TrimSpace(body)
	got := jsonType(body)
	if s.Array {
		if got != JSONArray {
			return &ShapeError{Reason: "the answer is " + describe(body, got) + ", not an array"}
		}
		return nil
	}
	if got != JSONObject {
		return &ShapeError{Reason: "the answer is " + describe(body, got) + ", not an object"}
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return &ShapeError{Reason: "the answer is not valid JSON: " + err.Error()}
	}
	var problems []string
	for _, f := range s.Required {
		if p := member(members, f); p != "" {
			problems = append(problems, p)
		}
	}
	if len(s.AnyOf) > 0 {
		ok := false
		names := make([]string, len(s.AnyOf))
		for i, f := range s.AnyOf {
			names[i] = fmt.Sprintf("%q", f.Name)
			if member(members, f) == "" {
				ok = true
			}
		}
		if !ok {
			problems = append(problems, "none of "+strings.Join(names, ", ")+" is there")
		}
	}
	if len(problems) > 0 {
		return &ShapeError{Reason: strings.Join(problems, "; ")}
	}
	return nil
}

// member says what is wrong with one member, "" when nothing.
func member(members map[string]json.RawMessage, f Field) string {
	raw, ok := members[f.Name]
	if !ok {
		return fmt.Sprintf("%q is missing", f.Name)
	}
	raw = bytes.TrimSpace(raw)
	got := jsonType(raw)
	switch {
	case got == jsonNull:
		return fmt.Sprintf("%q is null, not %s", f.Name, f.Type)
	case f.Type == JSONAny:
		return ""
	case got != f.Type:
		return fmt.Sprintf("%q is %s, not %s", f.Name, got, f.Type)
	}
	return ""
}

// jsonNull and jsonOther extend JSONType for what Check can meet.
const (
	jsonNull JSONType = -1 - iota
	jsonOther
	jsonEmpty
)

func jsonType(b []byte) JSONType {
	if len(b) == 0 {
		return jsonEmpty
	}
	switch c := b[0]; {
	case c == '{':
		return JSONObject
	case c == '[':
		return JSONArray
	case c == '"':
		return JSONString
	case c == '-' || c >= '0' && c <= '9':
		return JSONNumber
	case bytes.Equal(b, []byte("null")):
		return jsonNull
	}
	return jsonOther
}

func describe(body []byte, t JSONType) string {
	switch t {
	case jsonEmpty:
		return "empty"
	case jsonNull:
		return "null"
	case jsonOther:
		switch {
		case LooksLikeHTML(body):
			return "an HTML page"
		case json.Valid(body):
			return "a bare JSON value"
		}
		return "not JSON"
	}
	return t.String()
}

// WrongShape is the error for a 2xx answer without the members a real
// answer has (err from Shape.Check): malformed, and not retried (the same
// question would get the same answer), unless the body's message says a
// quota is spent (KindQuota) or to slow down (retryable KindRateLimited),
// read as NotAnAnswer reads it. vendor names the service
// ("SecurityTrails"), url is the redacted request URL; the caller redacts
// the result of secrets.
func WrongShape(provider, vendor, url string, body []byte, err error) *Error {
	msg := fmt.Sprintf("%s answered %s with something that is not one of its answers (%v)", vendor, url, err)
	if s := BodySnippet(body); s != "" {
		msg += ": " + s
	}
	e := &Error{Provider: provider, Kind: KindMalformed, Msg: msg}
	switch SpentOrSlow(vendorMessage(body)) {
	case KindQuota:
		e.Kind = KindQuota
		e.Msg = vendor + " says the account's quota is spent; " + msg
	case KindRateLimited:
		e.Kind, e.Retryable = KindRateLimited, true
		e.Msg = vendor + " asks to slow down; " + msg
	}
	return e
}
