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
