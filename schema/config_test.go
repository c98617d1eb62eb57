package schema_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

func TestLoadDecodesEverything(t *testing.T) {
	cfg, diags := load(filepath.Join(configTestdata, "valid", "multi_file"), schema.LoadOptions{
		Environ: []string{"SECURITYTRAILS_API_KEY=st-secret"},
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	e := cfg.Engagement
	if e.Name != "acme-quarterly" || !e.PassiveOnly || e.MaxDepth != 2 || e.State != "state/acme.rfstate" ||
		e.CurrentWindow != 14*24*time.Hour || e.ForgetAfter != 52*7*24*time.Hour || e.ASNTable != "data/ip2asn-v4.tsv" {
		t.Errorf("engagement: %+v", e)
	}
	if len(e.Ignore) != 2 || e.Ignore[0].Name != "*.cdn.acme.example" || e.Ignore[1].Type != "A" || e.Ignore[1].Value != "198.51.100.0/24" {
		t.Errorf("ignore rules: %+v", e.Ignore)
	}
	if diff := cmp.Diff([]string{"acme.example", "acme-corp.example", "acme.test", "acme-corp.example"}, cfg.Scope.Domains); diff != "" {
		t.Errorf("scope domains (-want +got):\n%s", diff)
	}
	wantCIDRs := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("198.51.100.7/32")}
	if diff := cmp.Diff(wantCIDRs, cfg.Scope.CIDRs, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("scope cidrs (-want +got):\n%s", diff)
	}

	targets := map[string]string{}
	for addr, tg := range cfg.Targets {
		targets[addr] = string(tg.Subject.Kind) + " " + tg.Subject.Value
	}
	if diff := cmp.Diff(map[string]string{
		"target.domain.apex": "domain acme.example",
		"target.domain.corp": "domain acme-corp.example",
		"target.ip.mx":       "ip 203.0.113.10",
		"target.ip.v6":       "ip 2001:db8::10",
		"target.cidr.office": "cidr 203.0.113.128/25",
	}, targets); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}

	st := cfg.Providers["securitytrails"]
	if st == nil || st.Rate != (schema.Rate{Count: 1, Per: time.Second}) || st.Budget != 100 || st.Timeout != 45*time.Second ||
		st.CacheTTL != 7*24*time.Hour || !st.Sensitive["api_key"] || st.Attrs["api_key"] != cty.StringVal("st-secret") ||
		st.Endpoint != "https://api.securitytrails.com/v1" || st.MaxResponseBytes != schema.DefaultMaxResponseBytes {
		t.Errorf("securitytrails: %+v", st)
	}
	if vt := cfg.Providers["virustotal"]; vt.Rate != (schema.Rate{Count: 4, Per: time.Minute}) || vt.Budget != 400 {
		t.Errorf("virustotal rate %v budget %d", vt.Rate, vt.Budget)
	}
	if rt := cfg.Providers["robtex"]; rt.Rate != (schema.Rate{Count: 1, Per: time.Second}) || rt.Budget != 50 {
		t.Errorf("robtex from optional attribute defaults: rate %v budget %d", rt.Rate, rt.Budget)
	}
	if ct := cfg.Providers["crtsh"]; ct.CacheTTL != -1 {
		t.Errorf("crtsh cache_ttl \"0s\" should disable the cache, got %v", ct.CacheTTL)
	}
	if db := cfg.Providers["dnsdb"]; db.MaxResponseBytes != 32<<20 || !db.Sensitive["api_key"] {
		t.Errorf("dnsdb: %+v", db)
	}
	if ci := cfg.Providers["circl"]; ci.Sensitive["username"] || !ci.Sensitive["password"] {
		t.Errorf("circl sensitivity: %v", ci.Sensitive)
	}
	if s := cfg.Providers["file.sonar"]; s.Type != "file" || s.Name != "sonar" || s.Address != "file.sonar" || s.Attrs["path"] != cty.StringVal("data/fdns-sample.json.gz") {
		t.Errorf("file.sonar: %+v", s)
	}

	h := cfg.Queries["query.history"]
	if diff := cmp.Diff([]string{"securitytrails", "circl", "robtex", "dnsdb", "file.sonar"}, h.Providers); diff != "" {
		t.Errorf("history providers (-want +got):\n%s", diff)
	}
	if h.Op != schema.OpResolutions || strings.Join(h.RRTypes, ",") != "A,AAAA,MX,NS,TXT" ||
		!cmp.Equal(h.Params, map[string]string{"limit": "500", "include_subdomains": "true"}) ||
		!cmp.Equal(h.DependsOn, []string{"query.subdomains"}) {
		t.Errorf("history: %+v", h)
	}
	if n := cfg.Queries["query.neighbours"]; !cmp.Equal(n.DependsOn, []string{"query.history"}) {
		t.Errorf("neighbours depends on %v", n.DependsOn)
	}
	if q := cfg.Queries["query.office_net"]; len(q.DependsOn) != 0 {
		t.Errorf("office_net depends on %v", q.DependsOn)
	}
}

func TestEvalSubjectsAndPivot(t *testing.T) {
	cfg, diags := load(filepath.Join(configTestdata, "valid", "design"), schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	subs, known, diags := cfg.EvalSubjects(cfg.Queries["query.history"], nil)
	if !known || diags.HasErrors() || len(subs) != 1 || subs[0] != (schema.Subject{Kind: schema.SubjectDomain, Value: "acme.example"}) {
		t.Errorf("history subjects %v known %v %v", subs, known, diags)
	}
	_, known, diags = cfg.EvalSubjects(cfg.Queries["query.neighbours"], nil)
	if known || diags.HasErrors() {
		t.Errorf("neighbours should be known after apply: known %v %v", known, diags)
	}
	findings := map[string][]schema.Finding{"query.history": {
		schema.NewFinding("acme.example", "A", "203.0.113.10"),
		schema.NewFinding("www.acme.example", "A", "203.0.113.10"),
		schema.NewFinding("acme.example", "MX", "10 mx.acme.example"),
	}}
	subs, known, diags = cfg.EvalSubjects(cfg.Queries["query.neighbours"], findings)
	if !known || diags.HasErrors() || len(subs) != 1 || subs[0].Value != "203.0.113.10" {
		t.Errorf("neighbours subjects %v known %v %v", subs, known, diags)
	}
	p := cfg.Pivots["pivot.expand"]
	subj, ok, diags := cfg.EvalPivot(p, schema.NewFinding("x.acme.example", "A", "203.0.113.99"))
	if !ok || diags.HasErrors() || subj.Value != "203.0.113.99" {
		t.Errorf("in-scope pivot: %v %v %v", subj, ok, diags)
	}
	if _, ok, _ := cfg.EvalPivot(p, schema.NewFinding("x.acme.example", "A", "192.0.2.1")); ok {
		t.Errorf("out-of-scope IP pivoted")
	}
}

func TestVariables(t *testing.T) {
	const decl = `
engagement "v" {}
variable "apex" {
  type    = string
  default = "acme.example"
}
variable "extra" {
  type    = list(string)
  default = []
}
variable "limit" {
  type    = number
  default = 10
}
variable "on" {
  type    = bool
  default = false
}
variable "anything" {
  default = "x"
}
variable "token" {
  type      = string
  default   = ""
  sensitive = true
}
`
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", decl)
	writeFile(t, dir, "prod.hcl", "apex = \"prod.example\"\nlimit = 20\n")
	writeFile(t, dir, "later.hcl", "apex = \"later.example\"\n")
	writeFile(t, dir, "bad.hcl", "limit = \"many\"\n")
	writeFile(t, dir, "unknown.hcl", "apexx = \"x\"\n")
	writeFile(t, dir, "vars.json", `{"apex": "json.example", "extra": ["j.example"]}`)
	tests := []struct {
		name     string
		opts     schema.LoadOptions
		want     map[string]cty.Value
		errs     []string // diagnostic summaries expected
		warnings []string
	}{
		{name: "defaults", want: map[string]cty.Value{
			"apex": cty.StringVal("acme.example"), "extra": cty.ListValEmpty(cty.String), "limit": cty.NumberIntVal(10), "on": cty.False,
		}},
		{name: "var flags", opts: schema.LoadOptions{Vars: []string{
			"apex=b.example", `extra=["a.example", "c.example"]`, "limit=5", "on=true", "anything=[1]",
		}}, want: map[string]cty.Value{
			"apex": cty.StringVal("b.example"), "extra": cty.ListVal([]cty.Value{cty.StringVal("a.example"), cty.StringVal("c.example")}),
			"limit": cty.NumberIntVal(5), "on": cty.True, "anything": cty.StringVal("[1]"),
		}},
		{name: "later var wins", opts: schema.LoadOptions{Vars: []string{"apex=a.example", "apex=z.example"}},
			want: map[string]cty.Value{"apex": cty.StringVal("z.example")}},
		{name: "environment", opts: schema.LoadOptions{Environ: []string{"RECONFORM_VAR_apex=env.example", "RECONFORM_VAR_extra=[\"e.example\"]", "RECONFORM_VAR_nope=1"}},
			want: map[string]cty.Value{"apex": cty.StringVal("env.example"), "extra": cty.ListVal([]cty.Value{cty.StringVal("e.example")})}},
		{name: "var file over environment", opts: schema.LoadOptions{
			Environ:  []string{"RECONFORM_VAR_apex=env.example", "RECONFORM_VAR_limit=3"},
			VarFiles: []string{filepath.Join(dir, "prod.hcl")},
		}, want: map[string]cty.Value{"apex": cty.StringVal("prod.example"), "limit": cty.NumberIntVal(20)}},
		{name: "later var file wins, var over files", opts: schema.LoadOptions{
			VarFiles: []string{filepath.Join(dir, "prod.hcl"), filepath.Join(dir, "later.hcl")},
			Vars:     []string{"limit=7"},
		}, want: map[string]cty.Value{"apex": cty.StringVal("later.example"), "limit": cty.NumberIntVal(7)}},
		{name: "json var file", opts: schema.LoadOptions{VarFiles: []string{filepath.Join(dir, "vars.json")}},
			want: map[string]cty.Value{"apex": cty.StringVal("json.example"), "extra": cty.ListVal([]cty.Value{cty.StringVal("j.example")})}},
		{name: "wrong type on command line", opts: schema.LoadOptions{Vars: []string{"limit=many"}}, errs: []string{"Invalid value for variable"}},
		{name: "bad list expression", opts: schema.LoadOptions{Vars: []string{`extra=["a"`}}, errs: []string{"Invalid value for variable"}},
		{name: "wrong type in environment", opts: schema.LoadOptions{Environ: []string{"RECONFORM_VAR_on=maybe"}}, errs: []string{"Invalid value for variable"}},
		{name: "wrong type in file", opts: schema.LoadOptions{VarFiles: []string{filepath.Join(dir, "bad.hcl")}}, errs: []string{"Invalid value for variable"}},
		{name: "undeclared on command line", opts: schema.LoadOptions{Vars: []string{"apx=x"}}, errs: []string{"Value for undeclared variable"}},
		{name: "malformed -var", opts: schema.LoadOptions{Vars: []string{"apex"}}, errs: []string{"Invalid -var option"}},
		{name: "undeclared in file warns", opts: schema.LoadOptions{VarFiles: []string{filepath.Join(dir, "unknown.hcl")}}, warnings: []string{"Value for undeclared variable"}},
		{name: "missing file", opts: schema.LoadOptions{VarFiles: []string{filepath.Join(dir, "nope.hcl")}}, errs: []string{"Cannot read variables file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The fixture folder holds the var files too; load main.hcl alone.
			cfgDir := t.TempDir()
			writeFile(t, cfgDir, "main.hcl", decl)
			cfg, diags := load(cfgDir, tc.opts)
			var errs, warnings []string
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					errs = append(errs, d.Summary)
				} else {
					warnings = append(warnings, d.Summary)
				}
			}
			if diff := cmp.Diff(tc.errs, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s\n%v", diff, diags)
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			for name, want := range tc.want {
				got := cfg.Variables[name].Value
				if !got.RawEquals(want) {
					t.Errorf("%s = %#v, want %#v", name, got, want)
				}
			}
		})
	}
}

func TestHash(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", "engagement \"h\" {}\nvariable \"apex\" { default = \"a.example\" }\nvariable \"key\" {\n  default = \"\"\n  sensitive = true\n}\n")
	hash := func(opts schema.LoadOptions) string {
		cfg, diags := load(dir, opts)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return cfg.Hash
	}
	base := hash(schema.LoadOptions{})
	if base != hash(schema.LoadOptions{Environ: []string{"SOME_KEY=1"}}) {
		t.Error("the environment changed the hash")
	}
	if base != hash(schema.LoadOptions{Vars: []string{"key=secret"}}) {
		t.Error("a sensitive variable changed the hash")
	}
	if base == hash(schema.LoadOptions{Vars: []string{"apex=b.example"}}) {
		t.Error("a variable value did not change the hash")
	}
	if base != hash(schema.LoadOptions{DisplayDir: "elsewhere"}) {
		t.Error("the display folder changed the hash")
	}
	writeFile(t, dir, "more.hcl", "# a comment\n")
	if base == hash(schema.LoadOptions{}) {
		t.Error("a new file did not change the hash")
	}
}

func TestEnvIsSensitive(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `engagement "s" {}
locals {
  key = "k-${env("ST_KEY")}"
}
provider "file" "x" {
  path = local.key
}
provider "securitytrails" {
  api_key = "literal-key"
}
variable "secret_path" {
  default   = "p"
  sensitive = true
}
provider "file" "y" {
  path = var.secret_path
}
`)
	cfg, diags := load(dir, schema.LoadOptions{Environ: []string{"ST_KEY=abc"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p := cfg.Providers["file.x"]
	if !p.Sensitive["path"] || p.Attrs["path"] != cty.StringVal("k-abc") {
		t.Errorf("a value from env() must be sensitive: %v %v", p.Sensitive, p.Attrs)
	}
	if !cfg.Providers["file.y"].Sensitive["path"] {
		t.Errorf("a value from a sensitive variable must be sensitive")
	}
	if len(diags) != 1 || diags[0].Summary != "Secret written in the configuration" {
		t.Errorf("want one warning about the literal key, got %v", diags)
	}
}

func TestDisplayNames(t *testing.T) {
	cfg, diags := schema.Load(filepath.Join(configTestdata, "invalid", "missing_variable"), schema.LoadOptions{
		DisplayDir: "engagements/acme", Providers: testProviders(),
	})
	if len(diags) == 0 || diags[0].Subject == nil || diags[0].Subject.Filename != filepath.Join("engagements/acme", "main.hcl") {
		t.Fatalf("diagnostics should name the file as the user named the folder: %v", diags)
	}
	if cfg.Files[filepath.Join("engagements/acme", "main.hcl")] == nil {
		t.Errorf("Files keys: %v", cfg.Files)
	}
}

func TestLoadFolderProblems(t *testing.T) {
	_, diags := load(filepath.Join(t.TempDir(), "nope"), schema.LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Cannot read the engagement folder" {
		t.Errorf("missing folder: %v", diags)
	}
	_, diags = load(t.TempDir(), schema.LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "No configuration files" {
		t.Errorf("empty folder: %v", diags)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSubjectKindWarnings(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "main.hcl", `engagement "k" {}
provider "file" "f" {
  path = "x"
}
target "ip" "mx" {
  address = "192.0.2.1"
}
query "rev" {
  provider = provider.file.f
  op       = "reverse_ip"
  subjects = ["acme.example", target.ip.mx, "192.0.2.0/24"]
}
query "subs" {
  provider = provider.file.f
  op       = "subdomains"
  subjects = [target.ip.mx, "acme.example"]
}
`)
	_, diags := load(dir, schema.LoadOptions{})
	var got []string
	for _, d := range diags {
		got = append(got, fmt.Sprintf("%d: %s: %s", d.Subject.Start.Line, d.Summary, d.Detail))
	}
	want := []string{
		`11: Subject does not fit the operation: reverse_ip asks about IP addresses and CIDRs; acme.example is a domain name, so it will find nothing. For the records of a name use op = "resolutions".`,
		`16: Subject does not fit the operation: subdomains asks about domain names; 192.0.2.1 is an IP address, so it will find nothing. For the names seen on an address use op = "reverse_ip".`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
