package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/schema"
)

// TestFormatGolden formats each testdata/config/fmt/*.in and compares
// with the .out beside it (rewrite with -update); formatting the output
// again must change nothing.
func TestFormatGolden(t *testing.T) {
	ins, _ := filepath.Glob(filepath.Join(configTestdata, "fmt", "*.in"))
	if len(ins) == 0 {
		t.Fatal("no fmt cases")
	}
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, diags := schema.Format(src, filepath.Base(in))
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			checkGolden(t, strings.TrimSuffix(in, ".in")+".out", string(out))
			again, diags := schema.Format(out, "again")
			if diags.HasErrors() || string(again) != string(out) {
				t.Errorf("formatting is not idempotent:\n%s\n---\n%s", out, again)
			}
		})
	}
}

func TestFormatRefusesSyntaxErrors(t *testing.T) {
	out, diags := schema.Format([]byte("engagement \"a\" {\n  x = \n"), "broken.hcl")
	if out != nil || !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Filename != "broken.hcl" {
		t.Errorf("out %q, diags %v", out, diags)
	}
}

func TestFormatValidFixturesIsIdempotent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(configTestdata, "valid", "*", "*.hcl"))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		once, diags := schema.Format(src, f)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		twice, _ := schema.Format(once, f)
		if string(once) != string(twice) {
			t.Errorf("%s: not idempotent", f)
		}
	}
}

// FuzzFormat: Format never panics, and what it returns is a fixed point.
func FuzzFormat(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(configTestdata, "fmt", "*.in"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a = {\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		out, diags := schema.Format(src, "fuzz.hcl")
		if diags.HasErrors() {
			return
		}
		again, diags := schema.Format(out, "fuzz.hcl")
		if diags.HasErrors() {
			t.Fatalf("formatted output does not parse: %v\n%s", diags, out)
		}
		if string(again) != string(out) {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
	})
}
