package schema_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/schema"
)

func TestDiagnosticsRendering(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `engagement "d" {}

provider "securitytrails" {
  api_key = "k"
  rate    = "fast"
}
`)
	cfg, diags := schema.Load(dir, schema.LoadOptions{Providers: testProviders(), DisplayDir: "eng"})
	if len(diags) != 2 {
		t.Fatalf("want an error and a warning, got %v", diags)
	}

	var text bytes.Buffer
	if err := schema.WriteDiagnostics(&text, diags, cfg.Files, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Warning: Secret written in the configuration",
		"Error: Invalid rate",
		`on eng/main.hcl line 5, in provider "securitytrails":`,
		`5:   rate    = "fast"`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Index(text.String(), "Secret written") > strings.Index(text.String(), "Invalid rate") {
		t.Errorf("diagnostics are not in source order:\n%s", text.String())
	}

	var js bytes.Buffer
	if err := schema.WriteDiagnosticsJSON(&js, diags, cfg.Files); err != nil {
		t.Fatal(err)
	}
	var got schema.JSONDiagnostics
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Valid || got.ErrorCount != 1 || got.WarningCount != 1 || len(got.Diagnostics) != 2 {
		t.Fatalf("counts: %+v", got)
	}
	rate := got.Diagnostics[1]
	context := `provider "securitytrails"`
	want := schema.JSONDiagnostic{
		Severity: "error",
		Summary:  "Invalid rate",
		Detail:   rate.Detail,
		Range: &schema.JSONRange{
			Filename: "eng/main.hcl",
			Start:    schema.JSONPos{Line: 5, Column: 13, Byte: 75},
			End:      schema.JSONPos{Line: 5, Column: 19, Byte: 81},
		},
		Snippet: &schema.JSONSnippet{
			Context:              &context,
			Code:                 `  rate    = "fast"`,
			StartLine:            5,
			HighlightStartOffset: 12,
			HighlightEndOffset:   18,
		},
	}
	if diff := cmp.Diff(want, rate); diff != "" {
		t.Errorf("JSON diagnostic (-want +got):\n%s", diff)
	}

	none := schema.NewJSONDiagnostics(nil, nil)
	if !none.Valid || none.Diagnostics == nil {
		t.Errorf("no diagnostics: %+v", none)
	}
	noSubject := schema.NewJSONDiagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "x"}}, nil)
	if noSubject.Valid || noSubject.Diagnostics[0].Range != nil {
		t.Errorf("diagnostic without a range: %+v", noSubject)
	}
}
