package schema_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

const configTestdata = "../testdata/config"

func caseDirs(t *testing.T, kind string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(configTestdata, kind))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s cases", kind)
	}
	return out
}

func load(dir string, opts schema.LoadOptions) (*schema.Config, hcl.Diagnostics) {
	if opts.Providers == nil {
		opts.Providers = testProviders()
	}
	if opts.DisplayDir == "" {
		opts.DisplayDir = "."
	}
	return schema.Load(dir, opts)
}

func TestLoadValid(t *testing.T) {
	for _, name := range caseDirs(t, "valid") {
		t.Run(name, func(t *testing.T) {
			cfg, diags := load(filepath.Join(configTestdata, "valid", name), schema.LoadOptions{Providers: fileCheckingProviders()})
			for _, d := range diags {
				t.Logf("%s", formatDiag(d))
			}
			if diags.HasErrors() {
				t.Fatalf("valid configuration has errors")
			}
			if cfg.Engagement.Name == "" || cfg.Hash == "" {
				t.Errorf("engagement %q, hash %q", cfg.Engagement.Name, cfg.Hash)
			}
		})
	}
}

// TestLoadInvalid checks each invalid case two ways: every error sits on a
// line carrying a "# ERROR: <summary>" comment (and every such comment is
// matched), and the whole diagnostics list, with columns and details,
// equals diagnostics.golden (rewrite with -update).
func TestLoadInvalid(t *testing.T) {
	for _, name := range caseDirs(t, "invalid") {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(configTestdata, "invalid", name)
			_, diags := load(dir, schema.LoadOptions{Providers: fileCheckingProviders()})
			if !diags.HasErrors() {
				t.Fatalf("no errors")
			}
			want := expectedErrors(t, dir)
			var got []string
			for _, d := range diags {
				if d.Severity != hcl.DiagError || d.Subject == nil {
					continue
				}
				got = append(got, fmt.Sprintf("%s:%d: %s", filepath.ToSlash(d.Subject.Filename), d.Subject.Start.Line, d.Summary))
				if d.Detail == "" {
					t.Errorf("%s has no detail", formatDiag(d))
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors differ from the # ERROR comments (-want +got):\n%s", diff)
			}
			var all strings.Builder
			for _, d := range schema.SortDiagnostics(diags) {
				all.WriteString(formatDiag(d) + "\n")
			}
			checkGolden(t, filepath.Join(dir, "diagnostics.golden"), all.String())
		})
	}
}

var errorComment = regexp.MustCompile(`#\s*ERROR:\s*(.+?)\s*$`)

// expectedErrors are the "# ERROR:" comments of every *.hcl file under dir
// (module folders included), as "path/from/dir:line: summary".
func expectedErrors(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			files = append(files, path)
		}
		return nil
	})
	var out []string
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for line := 1; sc.Scan(); line++ {
			if m := errorComment.FindStringSubmatch(sc.Text()); m != nil {
				out = append(out, fmt.Sprintf("%s:%d: %s", filepath.ToSlash(rel), line, m[1]))
			}
		}
		fh.Close()
	}
	sort.Strings(out)
	return out
}

func formatDiag(d *hcl.Diagnostic) string {
	sev := "Error"
	if d.Severity == hcl.DiagWarning {
		sev = "Warning"
	}
	where := "-"
	if d.Subject != nil {
		where = fmt.Sprintf("%s:%d,%d-%d,%d", filepath.ToSlash(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.End.Line, d.Subject.End.Column)
	}
	return fmt.Sprintf("%s: %s: %s; %s", where, sev, d.Summary, d.Detail)
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
