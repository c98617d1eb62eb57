package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/schema"
)

func loadSource(t *testing.T, src string) (*schema.Config, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, diags := load(dir, schema.LoadOptions{})
	if len(diags) == 0 {
		return cfg, ""
	}
	return cfg, diags.Error()
}

// A network written in IPv4-mapped IPv6 form is the IPv4 network it maps:
// IP subjects are IPv4 once normalised, so "::ffff:203.0.113.0/120" left
// as IPv6 would exclude (or include) nothing.
func TestScopeIPv4MappedNetworks(t *testing.T) {
	cfg, diags := loadSource(t, `engagement "e" {}
scope {
  domains = ["acme.example"]
  cidrs   = ["::ffff:198.51.100.0/120", "::FFFF:192.0.2.7"]
  exclude = ["::ffff:203.0.113.0/120", "::ffff:198.51.100.9"]
}
`)
	if cfg == nil || diags != "" {
		t.Fatalf("diagnostics: %s", diags)
	}
	for _, tc := range []struct {
		subject string
		in      bool
	}{
		{"198.51.100.7", true},
		{"::ffff:198.51.100.7", true},
		{"192.0.2.7", true},
		{"198.51.100.9", false},
		{"203.0.113.5", false},
		{"198.51.100.0/25", true},
		{"::ffff:198.51.100.0/121", true},
	} {
		subj, err := schema.ParseSubject(tc.subject)
		if err != nil {
			t.Fatal(err)
		}
		if in, why := cfg.Scope.Contains(subj); in != tc.in {
			t.Errorf("Contains(%s) = %v (%s), want %v", tc.subject, in, why, tc.in)
		}
	}
	// An exclusion of the mapped form holds for a scope CIDR around it.
	cfg, _ = loadSource(t, `engagement "e" {}
scope {
  cidrs   = ["203.0.113.0/24"]
  exclude = ["::ffff:203.0.113.0/120"]
}
`)
	if in, _ := cfg.Scope.Contains(schema.Subject{Kind: schema.SubjectIP, Value: "203.0.113.5"}); in {
		t.Errorf("203.0.113.5 is in scope despite the mapped exclusion")
	}
	if got := strings.Join(cfg.Scope.Exclude, " "); got != "203.0.113.0/24" {
		t.Errorf("exclusion normalised to %q", got)
	}
}

// A mapped prefix shorter than /96 reaches beyond the IPv4-mapped range:
// what was meant cannot be told, so it is an error, at its place.
func TestScopeIPv4MappedTooWide(t *testing.T) {
	_, diags := loadSource(t, `engagement "e" {}
scope {
  domains = ["acme.example"]
  exclude = ["::ffff:0:0/90"]
}
`)
	if !strings.Contains(diags, "main.hcl:4") || !strings.Contains(diags, "IPv4-mapped") {
		t.Errorf("diagnostics: %s", diags)
	}
}
