package providertest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/reconform/reconform/providers"
)

// LogBuffer is a concurrency-safe log sink for checking that no secret
// reaches a log line.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// CaptureLog points cfg's logger at a buffer (at trace level, so every
// line a provider or the HTTP client could write is captured) and returns
// the buffer.
func CaptureLog(cfg *providers.Config) *LogBuffer {
	b := &LogBuffer{}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: cfg.Address, Level: hclog.Trace, Output: b})
	return b
}

// CheckNoSecret fails the test if secret appears in the printed form of any
// of things (errors, answers, warnings, log text).
func CheckNoSecret(t testing.TB, secret string, things ...any) {
	t.Helper()
	if secret == "" {
		return
	}
	for i, thing := range things {
		if s := fmt.Sprintf("%+v", thing); strings.Contains(s, secret) {
			t.Errorf("secret leaked in item %d: %s", i, s)
		}
	}
}
