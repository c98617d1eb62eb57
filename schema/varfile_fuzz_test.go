package schema_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/schema"
)

// FuzzLoadVarFile: a -var-file (HCL or JSON) of any content never panics
// the loader, and its diagnostics point into it.
func FuzzLoadVarFile(f *testing.F) {
	f.Add([]byte(`apex = "a.example"
extra = ["b.example", "c.example"]`), false)
	f.Add([]byte(`{"apex": "a.example", "extra": ["b.example"], "n": 3}`), true)
	f.Add([]byte(`apex = upper("x")
extra = var.apex`), false)
	f.Add([]byte(`{"extra": [{"a": null}], "apex": "${var.x}"}`), true)
	main := []byte(`engagement "e" {}
variable "apex" { type = string }
variable "extra" {
  type    = list(string)
  default = []
}
variable "n" {
  type    = number
  default = 1
}
provider "crtsh" {}
query "q" {
  provider = provider.crtsh
  op       = "subdomains"
  subjects = concat([var.apex], var.extra)
}
`)
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), main, 0o644); err != nil {
			t.Fatal(err)
		}
		name := "vars.hcl"
		if isJSON {
			name = "vars.json"
		}
		varFile := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(varFile, src, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := schema.Load(dir, schema.LoadOptions{
			Providers:    testProviders(),
			DisplayDir:   ".",
			VarFiles:     []string{varFile},
			VarFileNames: []string{name},
		})
		if cfg == nil {
			t.Fatal("nil config")
		}
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Filename == name && d.Subject.Start.Byte > len(src) {
				t.Fatalf("diagnostic outside the file: %v", d)
			}
		}
		if !diags.HasErrors() {
			for _, q := range cfg.Queries {
				cfg.EvalSubjects(q, nil)
			}
		}
	})
}
