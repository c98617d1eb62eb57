package schema_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/schema"
)

// FuzzLoad: the loader never panics on any file, and every diagnostic it
// reports about the file points into it.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(configTestdata, "*", "*", "*.hcl"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b, "apex=x.example")
		}
	}
	f.Add([]byte(`engagement "e" {}
variable "v" { type = list(string) }
query "q" {
  provider = provider.crtsh
  op = "subdomains"
  subjects = var.v
}
provider "crtsh" {}`), `v=["a.example", 1]`)
	f.Fuzz(func(t *testing.T, src []byte, varArg string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := schema.Load(dir, schema.LoadOptions{
			Providers:  testProviders(),
			DisplayDir: ".",
			Vars:       []string{varArg},
			Environ:    []string{"RECONFORM_VAR_v=[\"b.example\"]"},
		})
		if cfg == nil {
			t.Fatal("nil config")
		}
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Filename == "main.hcl" && d.Subject.Start.Byte > len(src) {
				t.Fatalf("diagnostic outside the file: %v", d)
			}
		}
		if !diags.HasErrors() {
			// A config that loads is usable: subjects evaluate without panics.
			for _, q := range cfg.Queries {
				cfg.EvalSubjects(q, nil)
			}
			for _, p := range cfg.Pivots {
				cfg.EvalPivot(p, schema.NewFinding("a.example", "A", "192.0.2.1"))
			}
		}
	})
}
