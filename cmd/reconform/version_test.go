package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/reconform/reconform/internal/isal"
)

// version names the gzip decoder the file provider will use.
func TestVersionNamesTheGzipDecoder(t *testing.T) {
	want, text := "builtin", "gzip: built-in"
	if isal.Available() {
		want, text = "isal", "gzip: ISA-L"
	}
	res := runCLI(t, t.TempDir(), nil, "version", "-json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil || res.Code != exitOK {
		t.Fatalf("version -json: %v, exit %d: %s", err, res.Code, res.Stdout)
	}
	if doc["gzip"] != want {
		t.Errorf(`"gzip" = %v, want %q`, doc["gzip"], want)
	}
	if res := runCLI(t, t.TempDir(), nil, "version"); !strings.Contains(res.Stdout, text) {
		t.Errorf("version: %q, want a line %q", res.Stdout, text)
	}
}
