package schema_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/reconform/reconform/schema"
)

func loadBackendSource(t *testing.T, src string, environ []string) (*schema.Config, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return load(dir, schema.LoadOptions{Environ: environ})
}

func TestBackendBlock(t *testing.T) {
	conn := "postgres://rf:pw-1234@127.0.0.1:5432/recon"
	cfg, diags := loadBackendSource(t, `engagement "acme" {
  backend "pg" {
    schema_name = "fleet_a"
  }
}`, []string{"RECONFORM_PG_CONN=" + conn})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b := cfg.Engagement.Backend
	if b == nil || b.Type != "pg" || b.String("schema_name") != "fleet_a" || b.String("conn_str") != conn || !b.Sensitive["conn_str"] {
		t.Fatalf("backend %+v", b)
	}
	secrets := cfg.Secrets()
	if !slices.Contains(secrets, conn) || !slices.Contains(secrets, "pw-1234") {
		t.Errorf("secrets %q lack the connection string or its password", secrets)
	}

	for src, want := range map[string]string{
		`backend "s3" {}`: `There is no backend type "s3"`,
		`backend "pg" { schema_name = "Bad-Name" }`:        "Invalid schema name",
		`backend "pg" { conn_string = "x" }`:               "The arguments of a pg backend block are conn_str, schema_name",
		"backend \"pg\" {}\n  backend \"local\" {}":        "Duplicate backend block",
		`backend "pg" { conn_str = "postgres://u:p@h/d" }`: "Secret written in the configuration",
	} {
		_, diags := loadBackendSource(t, "engagement \"acme\" {\n  "+src+"\n}\n", nil)
		if !strings.Contains(diags.Error(), want) {
			t.Errorf("%s: diagnostics %q, want %q", src, diags.Error(), want)
		}
	}
}
