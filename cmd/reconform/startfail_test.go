package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A provider that cannot start fails every instance it was asked for,
// those of dependent blocks and pivots too, with its reason; none of them
// reaches a worker (where a provider that never started panicked).
func TestProviderThatCannotStartFailsItsInstances(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, filepath.Join("..", "..", "examples", "quickstart"), dir)
	hcl := filepath.Join(dir, "main.hcl")
	b, err := os.ReadFile(hcl)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `current_window = "7d"`, `current_window = "never"`, 1)
	if bad == string(b) {
		t.Fatal("the quickstart has no current_window to break")
	}
	if err := os.WriteFile(hcl, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, dir, nil, "apply", "-auto-approve", "-no-color")
	out := r.Stdout + r.Stderr
	if strings.Contains(out, "panicked") {
		t.Fatalf("an instance of the provider that could not start reached a worker:\n%s", out)
	}
	if !strings.Contains(out, `provider could not start`) || !strings.Contains(out, `invalid duration "never"`) {
		t.Fatalf("the start failure is not reported:\n%s", out)
	}
}
