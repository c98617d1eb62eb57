package providers

import (
	"errors"
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

func TestShapeCheck(t *testing.T) {
	subdomains := Shape{Required: []Field{{"subdomains", JSONArray}}}
	records := Shape{AnyOf: []Field{{"a", JSONArray}, {"mx", JSONArray}}}
	rows := Shape{Array: true}
	for _, tt := range []struct {
		name  string
		shape Shape
		body  string
		want  string // "" = passes; else a part of the reason
	}{
		{"real empty list", subdomains, `{"subdomains": [], "endpoint": "/v1/domain/x/subdomains"}`, ""},
		{"real list", subdomains, ` {"subdomains":["www"]}` + "\n", ""},
		{"empty object", subdomains, `{}`, `"subdomains" is missing`},
		{"null", subdomains, `null`, "the answer is null, not an object"},
		{"array for an object", subdomains, `[]`, "the answer is an array, not an object"},
		{"null member", subdomains, `{"subdomains":null}`, `"subdomains" is null, not an array`},
		{"wrong member type", subdomains, `{"subdomains":"www"}`, `"subdomains" is a string, not an array`},
		{"boolean member", subdomains, `{"subdomains":true}`, `"subdomains" is a boolean`},
		{"message only", subdomains, `{"message":"You have exceeded the allowed usage of your API key"}`, `"subdomains" is missing`},
		{"empty body", subdomains, ``, "the answer is empty"},
		{"html", subdomains, `<!DOCTYPE html><html></html>`, "an HTML page"},
		{"bare value", subdomains, `true`, "a bare JSON value"},
		{"not json", subdomains, `error check your api query`, "not JSON"},
		{"broken object", subdomains, `{"subdomains":[`, "not valid JSON"},
		{"any of: one there", records, `{"mx":[]}`, ""},
		{"any of: none there", records, `{"total_a_recs":0}`, `none of "a", "mx" is there`},
		{"any of: only null", records, `{"a":null}`, `none of "a", "mx"`},
		{"array answer", rows, `[]`, ""},
		{"array answer, object sent", rows, `{}`, "the answer is an object, not an array"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.shape.Check([]byte(tt.body))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var se *ShapeError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want a ShapeError with %q", err, tt.want)
			}
		})
	}
}

func TestWrongShape(t *testing.T) {
	e := WrongShape("securitytrails", "SecurityTrails", "https://api.example/v1/x", []byte(`{}`), &ShapeError{Reason: `"subdomains" is missing`})
	if e.Kind != KindMalformed || e.Retryable || e.Provider != "securitytrails" {
		t.Fatalf("WrongShape = %+v", e)
	}
	for _, want := range []string{"SecurityTrails answered https://api.example/v1/x", `"subdomains" is missing`, ": {}"} {
		if !strings.Contains(e.Error(), want) {
			t.Errorf("%q lacks %q", e.Error(), want)
		}
	}
}

func FuzzShapeCheck(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `[]`, `{"a":[1]}`, `{"a":null,"b":{}}`, `"x"`, ``, `{"a":`} {
		f.Add([]byte(s))
	}
	shape := Shape{Required: []Field{{"a", JSONArray}, {"b", JSONAny}}, AnyOf: []Field{{"c", JSONNumber}, {"d", JSONString}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := shape.Check(body)
		var se *ShapeError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("error is not a ShapeError: %v", err)
		}
		_ = (Shape{Array: true}).Check(body)
	})
}

func TestWrongShapeReadsTheMessage(t *testing.T) {
	for _, tt := range []struct {
		body      string
		kind      ErrorKind
		retryable bool
	}{
		{`{"message":"You have exceeded the allowed usage of your API key"}`, KindQuota, false},
		{`{"message":"API rate limit exceeded"}`, KindRateLimited, true},
		{`{"error":"Daily limit exceeded"}`, KindQuota, false},
		{`{"error":"Too many requests"}`, KindRateLimited, true},
		{`{"message":"Domain not found"}`, KindMalformed, false},
	} {
		e := WrongShape("p", "Vendor", "u", []byte(tt.body), &ShapeError{Reason: "x"})
		if e.Kind != tt.kind || e.Retryable != tt.retryable {
			t.Errorf("%s: %+v, want %s retryable %v", tt.body, e, tt.kind, tt.retryable)
		}
	}
}
