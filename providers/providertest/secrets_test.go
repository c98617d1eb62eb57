package providertest

import (
	"errors"
	"strings"
	"testing"
)

// recorder catches Errorf calls so that a failing check can be tested.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Errorf(format string, args ...any) { r.failed = append(r.failed, format) }
func (r *recorder) Helper()                           {}

func TestCaptureLogAndCheckNoSecret(t *testing.T) {
	cfg, _ := Config(t, "vendor", "http://127.0.0.1:1", nil)
	logs := CaptureLog(&cfg)
	cfg.Logger.Trace("request", "url", "http://127.0.0.1:1/x?key=REDACTED")
	if !strings.Contains(logs.String(), "key=REDACTED") {
		t.Fatalf("log not captured: %q", logs.String())
	}

	rec := &recorder{TB: t}
	CheckNoSecret(rec, "s3cr3t", errors.New("clean"), []string{"fine"}, logs.String())
	if len(rec.failed) != 0 {
		t.Errorf("clean values reported: %v", rec.failed)
	}
	CheckNoSecret(rec, "s3cr3t", struct{ Msg string }{"has s3cr3t inside"})
	if len(rec.failed) != 1 {
		t.Errorf("a leak was not reported: %v", rec.failed)
	}
}
