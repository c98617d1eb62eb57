package backend_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/backend/quotatest"
)

func TestLocalQuotaLedgerContract(t *testing.T) {
	dirs := map[*testing.T]string{}
	quotatest.Run(t, func(t *testing.T) backend.QuotaBook {
		if dirs[t] == "" {
			dirs[t] = t.TempDir()
		}
		return &backend.LocalQuotaLedger{Dir: dirs[t]}
	})
}

func TestLocalQuotaLedgerFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "reconform")
	l := &backend.LocalQuotaLedger{Dir: dir}
	salt, err := l.Salt(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"quota-salt": 0o600, "quota-ledger.lock": 0o600} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v", name, err, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", st.Mode().Perm())
	}
	if len(salt) != 32 {
		t.Errorf("salt of %d bytes", len(salt))
	}
	// A damaged ledger is an error that says what to do, not a fresh count.
	if err := os.WriteFile(filepath.Join(dir, "quota-ledger.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Report(t.Context()); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged ledger: %v", err)
	}
}

func TestDefaultQuotaDir(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"}, "/x/state/reconform"},
		{map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/u"}, "/home/u/.local/state/reconform"},
		{map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/reconform"},
		{map[string]string{}, ""},
	} {
		if got := backend.DefaultQuotaDir(env(c.kv)); got != c.want {
			t.Errorf("%v: %q, want %q", c.kv, got, c.want)
		}
	}
}

// BenchmarkLocalQuotaReserve is one reservation in the local ledger (an
// OS lock, a read, an atomic replace with fsync): what each query, and
// each request beyond a query's fewest, costs before it is sent.
func BenchmarkLocalQuotaReserve(b *testing.B) {
	l := &backend.LocalQuotaLedger{Dir: b.TempDir()}
	key := backend.QuotaKey{ProviderType: "virustotal", KeyHash: "k"}
	w := []backend.QuotaWindow{{Start: time.Now().UTC().Truncate(24 * time.Hour), Length: 24 * time.Hour, Limit: 1 << 30}}
	for b.Loop() {
		if _, err := l.Reserve(b.Context(), key, w, 1); err != nil {
			b.Fatal(err)
		}
	}
}
