package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/schema"
)

// Deep nesting is refused with a diagnostic at its place before the parser
// or the evaluator recurse into it (100,000 "[" once exhausted the stack:
// a crash, not an error).
func TestDeepNestingIsAnError(t *testing.T) {
	const n = 100000
	engagement := "engagement \"e\" {}\nscope { domains = [\"acme.example\"] }\n"
	deepList := strings.Repeat("[", n) + strings.Repeat("]", n)
	for _, tc := range []struct {
		name    string
		files   map[string]string
		opts    func(dir string) schema.LoadOptions
		wantPos string
	}{
		{"config", map[string]string{"main.hcl": engagement + "locals {\n  x = " + deepList + "\n}\n"}, nil, "main.hcl:4,"},
		{"config braces", map[string]string{"main.hcl": engagement + "locals {\n  x = " + strings.Repeat("{a=", n) + strings.Repeat("}", n) + "\n}\n"}, nil, "main.hcl:4,"},
		{"templates", map[string]string{"main.hcl": engagement + "locals {\n  x = " + strings.Repeat(`"${`, n) + "1" + strings.Repeat(`}"`, n) + "\n}\n"}, nil, "main.hcl:4,"},
		{"var file", map[string]string{"main.hcl": engagement + "variable \"v\" {}\n", "vars.hcl": "v = " + strings.Repeat("(", 60000) + "1" + strings.Repeat(")", 60000) + "\n"},
			func(dir string) schema.LoadOptions {
				return schema.LoadOptions{VarFiles: []string{filepath.Join(dir, "vars.hcl")}, VarFileNames: []string{"vars.hcl"}}
			}, "vars.hcl:1,"},
		{"json var file", map[string]string{"main.hcl": engagement + "variable \"v\" {}\n", "vars.json": `{"v": ` + deepList + `}`},
			func(dir string) schema.LoadOptions {
				return schema.LoadOptions{VarFiles: []string{filepath.Join(dir, "vars.json")}, VarFileNames: []string{"vars.json"}}
			}, "vars.json:1,"},
		{"-var", map[string]string{"main.hcl": engagement + "variable \"v\" { type = list(any) }\n"},
			func(string) schema.LoadOptions { return schema.LoadOptions{Vars: []string{"v=" + deepList}} }, "Too deeply nested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			opts := schema.LoadOptions{}
			if tc.opts != nil {
				opts = tc.opts(dir)
			}
			_, diags := load(dir, opts)
			text := diags.Error()
			if !diags.HasErrors() || !strings.Contains(text, "nest") || !strings.Contains(text, tc.wantPos) {
				t.Errorf("diagnostics %.300s, want a nesting error at %s", text, tc.wantPos)
			}
		})
	}
	// Formatting is bounded too.
	if _, diags := schema.Format([]byte("x = "+deepList+"\n"), "f.hcl"); !strings.Contains(diags.Error(), "Too deeply nested") {
		t.Errorf("Format: %.200s", diags.Error())
	}
	// Ordinary nesting is fine.
	src := "x = " + strings.Repeat("[", schema.MaxNesting-1) + strings.Repeat("]", schema.MaxNesting-1) + "\n"
	if _, diags := schema.ParseHCL([]byte(src), "ok.hcl"); diags.HasErrors() {
		t.Errorf("%d levels refused: %s", schema.MaxNesting-1, diags.Error())
	}
}

// FuzzJSONTooDeep: the depth scan never fails on any input, and agrees
// with a plain count on input without strings.
func FuzzJSONTooDeep(f *testing.F) {
	f.Add([]byte(`{"a": [[["x]"]]], "b": "\"{"}`), 2)
	f.Fuzz(func(t *testing.T, src []byte, limit int) {
		limit = limit%100 + 1
		if limit < 1 {
			limit = 1
		}
		off, deep := schema.JSONTooDeep(src, limit)
		if deep && (off < 0 || off >= len(src) || (src[off] != '[' && src[off] != '{')) {
			t.Fatalf("offset %d does not point at an opening bracket", off)
		}
	})
}
