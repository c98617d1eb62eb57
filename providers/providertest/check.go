package providertest

import (
	"errors"
	"strings"
	"testing"

	"github.com/reconform/reconform/providers"
)

// CheckAnswer fails the test unless a query succeeded with the given
// number of findings and warnings containing warning ("" wants none).
func CheckAnswer(t testing.TB, ans providers.Answer, err error, findings int, warning string) {
	t.Helper()
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	if len(ans.Findings) != findings {
		t.Errorf("got %d findings, want %d", len(ans.Findings), findings)
	}
	if w := strings.Join(ans.Warnings, "\n"); !strings.Contains(w, warning) || warning == "" && w != "" {
		t.Errorf("warnings %q, want %q", w, warning)
	}
}

// CheckError fails the test unless err is a *providers.Error of kind
// whose text mentions every one of msgs.
func CheckError(t testing.TB, err error, kind providers.ErrorKind, msgs ...string) {
	t.Helper()
	var pe *providers.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want *providers.Error of kind %s", err, err, kind)
	}
	if pe.Kind != kind {
		t.Errorf("kind %s, want %s (%v)", pe.Kind, kind, err)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// CheckFinalError fails the test unless err is a *providers.Error of kind
// that is not retryable (the engine must not ask again) and mentions every
// one of msgs.
func CheckFinalError(t testing.TB, err error, kind providers.ErrorKind, msgs ...string) {
	t.Helper()
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != kind {
		t.Fatalf("err = %v, want kind %s", err, kind)
	}
	if pe.Retryable {
		t.Errorf("final error is retryable: %v", err)
	}
	for _, m := range msgs {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("err = %v, want it to mention %q", err, m)
		}
	}
}
