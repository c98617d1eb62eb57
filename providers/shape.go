package providers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

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

// WrongShape is the error for a 200 answer without the members a real
// answer has: malformed, and not retried (the same question would get the
// same answer). vendor names the service ("SecurityTrails"), url is the
// redacted request URL; the caller redacts the result of secrets.
func WrongShape(provider, vendor, url string, body []byte, err error) *Error {
	msg := fmt.Sprintf("%s answered %s with something that is not one of its answers (%v)", vendor, url, err)
	if s := BodySnippet(body); s != "" {
		msg += ": " + s
	}
	return &Error{Provider: provider, Kind: KindMalformed, Msg: msg}
}
