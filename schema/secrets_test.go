package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/schema"
)

// A bad value set from env() is reported without the value: it is a
// secret like any env() value.
func TestDiagnosticsDoNotPrintSensitiveValues(t *testing.T) {
	const secret = "tok3n-SECRET-77"
	dir := t.TempDir()
	src := `engagement "e" {}
scope { domains = ["acme.example"] }
provider "securitytrails" {
  api_key  = env("ST_KEY")
  endpoint = env("ST_ENDPOINT")
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, diags := load(dir, schema.LoadOptions{Environ: []string{"ST_KEY=" + secret, "ST_ENDPOINT=ftp://" + secret}})
	if !diags.HasErrors() {
		t.Fatal("an ftp endpoint should be an error")
	}
	if text := diags.Error(); strings.Contains(text, secret) {
		t.Errorf("the secret is in the diagnostics: %s", text)
	}
}

// A sensitive variable's value that does not fit its type is reported
// without the value, whether it came from -var or the environment.
func TestBadSensitiveVariableValueIsNotQuoted(t *testing.T) {
	const secret = "pin-SECRET-991"
	dir := t.TempDir()
	src := `engagement "e" {}
scope { domains = ["acme.example"] }
variable "pin" {
  type      = number
  sensitive = true
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []schema.LoadOptions{
		{Vars: []string{"pin=" + secret}},
		{Environ: []string{schema.EnvVarPrefix + "pin=" + secret}},
	} {
		_, diags := load(dir, opts)
		if !diags.HasErrors() {
			t.Fatal("a non-number should be an error")
		}
		if text := diags.Error(); strings.Contains(text, secret) {
			t.Errorf("the secret is in the diagnostics: %s", text)
		}
	}
}

// A sensitive endpoint is redacted part by part: a server echoing only its
// path ("Cannot GET /hook/T0KEN/x") or a query value must not print them.
// Words of the path that are no token (and the provider's own name) are
// left alone, or every message naming the provider would be shredded.
func TestSecretsOfASensitiveEndpoint(t *testing.T) {
	dir := t.TempDir()
	src := `engagement "e" {}
scope { domains = ["acme.example"] }
provider "crtsh" {
  endpoint = env("CRT_ENDPOINT")
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	endpoint := "https://mirror.example:8443/crtsh/relay/T0kEn-4a9c%2Bx/longsecretwordpath?sig=ab12cd34&v=1"
	cfg, diags := load(dir, schema.LoadOptions{Environ: []string{"CRT_ENDPOINT=" + endpoint}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	got := map[string]bool{}
	for _, s := range cfg.Secrets() {
		got[s] = true
	}
	for _, want := range []string{
		endpoint,
		"/crtsh/relay/T0kEn-4a9c%2Bx/longsecretwordpath",
		"/crtsh/relay/T0kEn-4a9c+x/longsecretwordpath",
		"T0kEn-4a9c%2Bx", "T0kEn-4a9c+x", "longsecretwordpath",
		"ab12cd34",
	} {
		if !got[want] {
			t.Errorf("Secrets() lacks %q: %q", want, cfg.Secrets())
		}
	}
	for _, word := range []string{"crtsh", "relay", "mirror.example", "https", "8443"} {
		if got[word] {
			t.Errorf("Secrets() holds the plain word %q", word)
		}
	}
}
