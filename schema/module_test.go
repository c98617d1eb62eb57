package schema_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/schema"
)

func TestAddressesRoundTrip(t *testing.T) {
	fe := schema.ModulePath(nil).Child("footprint", schema.StringKey("acme.example"))
	nested := fe.Child("mail", schema.IntKey(2))
	for _, c := range []struct {
		addr schema.BlockAddr
		want string
	}{
		{schema.BlockAddr{Kind: schema.KindQuery, Name: "history"}, "query.history"},
		{schema.BlockAddr{Kind: schema.KindQuery, Name: "history", Key: schema.IntKey(0)}, "query.history[0]"},
		{schema.BlockAddr{Kind: schema.KindTarget, Type: "domain", Name: "apex", Key: schema.StringKey("a.example")}, `target.domain.apex["a.example"]`},
		{schema.BlockAddr{Module: fe, Kind: schema.KindQuery, Name: "history"}, `module.footprint["acme.example"].query.history`},
		{schema.BlockAddr{Module: nested, Kind: schema.KindPivot, Name: "expand"}, `module.footprint["acme.example"].module.mail[2].pivot.expand`},
		// Keys that need escaping still read back.
		{schema.BlockAddr{Kind: schema.KindQuery, Name: "q", Key: schema.StringKey("a \"b\" ${c} \\ \n")}, `query.q["a \"b\" $${c} \\ \n"]`},
	} {
		if got := c.addr.String(); got != c.want {
			t.Errorf("String() = %s, want %s", got, c.want)
		}
		back, err := schema.ParseBlockAddr(c.want)
		if err != nil {
			t.Errorf("ParseBlockAddr(%s): %v", c.want, err)
			continue
		}
		if back.String() != c.want {
			t.Errorf("ParseBlockAddr(%s).String() = %s", c.want, back.String())
		}
		if m := schema.ModuleOf(c.want); m != c.addr.Module.String() {
			t.Errorf("ModuleOf(%s) = %q, want %q", c.want, m, c.addr.Module.String())
		}
	}
	if (schema.OutputAddr{Module: fe, Name: "hosts"}).String() != `module.footprint["acme.example"].hosts` || (schema.OutputAddr{Name: "hosts"}).String() != "hosts" {
		t.Error("output addresses")
	}
	for _, bad := range []string{"", "query", "query.", "module", "module.x.nope.y", "query.a.b", "target.domain", `query.a["x"]["y"]`, "query.a[true]", "query.a[-1]"} {
		if _, err := schema.ParseBlockAddr(bad); err == nil {
			t.Errorf("ParseBlockAddr(%q) accepted", bad)
		}
	}
}

func TestTargetAddrMatches(t *testing.T) {
	a := schema.ModulePath(nil).Child("footprint", schema.StringKey("a.example"))
	b := schema.ModulePath(nil).Child("footprint", schema.StringKey("b.example"))
	blocks := []schema.BlockAddr{
		{Kind: schema.KindQuery, Name: "seed"},
		{Kind: schema.KindQuery, Name: "per", Key: schema.StringKey("x")},
		{Kind: schema.KindQuery, Name: "per", Key: schema.StringKey("y")},
		{Module: a, Kind: schema.KindQuery, Name: "history"},
		{Module: b, Kind: schema.KindQuery, Name: "history"},
		{Module: a.Child("mail", schema.NoKey), Kind: schema.KindQuery, Name: "mx"},
	}
	for _, c := range []struct {
		target string
		want   []int
	}{
		{"query.seed", []int{0}},
		{"query.per", []int{1, 2}},
		{`query.per["y"]`, []int{2}},
		{"module.footprint", []int{3, 4, 5}},
		{`module.footprint["a.example"]`, []int{3, 5}},
		{`module.footprint["a.example"].query.history`, []int{3}},
		{"module.footprint.query.history", []int{3, 4}},
		{`module.footprint["a.example"].module.mail`, []int{5}},
	} {
		ta, err := schema.ParseTargetAddr(c.target)
		if err != nil {
			t.Errorf("%s: %v", c.target, err)
			continue
		}
		var got []int
		for i, bl := range blocks {
			if ta.Matches(bl) {
				got = append(got, i)
			}
		}
		if !cmp.Equal(got, c.want) {
			t.Errorf("-target=%s matches %v, want %v", c.target, got, c.want)
		}
		if ta.String() != c.target {
			t.Errorf("String() = %s, want %s", ta.String(), c.target)
		}
	}
	for _, bad := range []string{"nope.x", "module", "module[0]", "query", "module.a.b"} {
		if _, err := schema.ParseTargetAddr(bad); err == nil {
			t.Errorf("ParseTargetAddr(%q) accepted", bad)
		}
	}
}

// writeTree writes files (path -> content) under a new folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Dir(p), filepath.Base(p), content)
	}
	return dir
}

const moduleRoot = `engagement "m" {
  max_depth = 1
}
variable "apexes" {
  type    = set(string)
  default = ["a.example", "b.example"]
}
variable "token" {
  type      = string
  default   = "tok-123456"
  sensitive = true
}
scope {
  domains = var.apexes
}
provider "file" "pdns" {
  path = "x"
}
provider "file" "other" {
  path = "y"
}
module "fp" {
  source   = "./mod"
  for_each = var.apexes
  apex     = each.key
  token    = var.token
}
module "alt" {
  source    = "./mod"
  count     = 1
  apex      = "a.example"
  providers = { file.pdns = provider.file.other }
}
query "per" {
  for_each = toset(["a.example", "b.example"])
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = module.fp[each.key].apex_name
}
output "names" {
  value = [for m in module.fp : m.apex_name]
}
`

const moduleChild = `variable "apex" {
  type = string
}
variable "token" {
  type    = string
  default = ""
}
target "domain" "apex" {
  name = var.apex
}
query "history" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = [target.domain.apex]
}
output "apex_name" {
  value = target.domain.apex.value
}
output "hosts" {
  value = [for f in query.history.findings : f.name]
}
`

func TestModulesExpandAtLoad(t *testing.T) {
	dir := writeTree(t, map[string]string{"main.hcl": moduleRoot, "mod/main.hcl": moduleChild})
	cfg, diags := load(dir, schema.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var queries []string
	for addr, q := range cfg.Queries {
		queries = append(queries, addr+" via "+strings.Join(q.Providers, ","))
	}
	sort.Strings(queries)
	if diff := cmp.Diff([]string{
		`module.alt[0].query.history via file.other`,
		`module.fp["a.example"].query.history via file.pdns`,
		`module.fp["b.example"].query.history via file.pdns`,
		`query.per["a.example"] via file.pdns`,
		`query.per["b.example"] via file.pdns`,
	}, queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
	// An output known at load time (a target's value) feeds for_each'd
	// queries, which need no findings.
	q := cfg.Queries[`query.per["b.example"]`]
	subjects, known, d := cfg.EvalSubjects(q, nil)
	if d.HasErrors() || !known || len(subjects) != 1 || subjects[0].Value != "b.example" {
		t.Errorf("subjects of %s: %v %v %v", q.Address(), subjects, known, d)
	}
	if len(q.DependsOn) != 0 {
		t.Errorf("%s depends on %v; its module output reads no findings", q.Address(), q.DependsOn)
	}
	// The module's query sees its own instance's target.
	h := cfg.Queries[`module.fp["a.example"].query.history`]
	subjects, _, _ = cfg.EvalSubjects(h, nil)
	if len(subjects) != 1 || subjects[0].Value != "a.example" || h.Module.Address() != `module.fp["a.example"]` {
		t.Errorf("module query: %v in %s", subjects, h.Module.Address())
	}
	// A module variable fed from a sensitive value is a secret too.
	if v := cfg.Modules[`module.fp["a.example"]`].Variables["token"]; !v.Sensitive {
		t.Error("a module variable given a sensitive value is not sensitive")
	}
	if secrets := cfg.Secrets(); len(secrets) != 1 || secrets[0] != "tok-123456" {
		t.Errorf("secrets: %v", secrets)
	}
	// Outputs over findings: given findings by address.
	outs, d := cfg.EvalOutputs(map[string][]schema.Finding{}, nil)
	if d.HasErrors() || len(outs) != 1 || !outs[0].Value.Equals(cty.TupleVal([]cty.Value{cty.StringVal("a.example"), cty.StringVal("b.example")})).True() {
		t.Errorf("outputs: %#v %v", outs, d)
	}
	// The module files are part of the configuration hash.
	writeFile(t, filepath.Join(dir, "mod"), "main.hcl", moduleChild+"\n# edited\n")
	again, _ := load(dir, schema.LoadOptions{})
	if again.Hash == cfg.Hash {
		t.Error("editing a module file does not change the configuration hash")
	}
}

// A module block whose for_each is empty still has its module checked, so
// a mistake shows before the first instance appears.
func TestUnusedModuleIsValidated(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"main.hcl": `engagement "m" {}
provider "file" "pdns" {
  path = "x"
}
module "later" {
  source   = "./mod"
  for_each = {}
  apex     = each.key
}
`,
		"mod/main.hcl": `variable "apex" {
  type = string
}
query "q" {
  provider = provider.file.pdns
  op       = "resolutionz"
  subjects = [var.apex]
}
`,
	})
	cfg, diags := load(dir, schema.LoadOptions{})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Unsupported operation") {
		t.Errorf("diagnostics: %v", diags)
	}
	if len(cfg.Queries) != 0 {
		t.Errorf("a module with no instances added queries: %v", cfg.Queries)
	}
}

// The same mistake in every instance of a module is reported once and
// names the instances; diagnostics point into the module's own file.
func TestModuleDiagnosticsOnce(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"main.hcl": `engagement "m" {}
provider "file" "pdns" {
  path = "x"
}
module "fp" {
  source   = "./mod"
  for_each = toset(["a", "b", "c", "d", "e"])
}
`,
		"mod/main.hcl": `query "q" {
  provider = provider.file.pdns
  op       = "resolutions"
  subjects = [var.nope]
}
`,
	})
	_, diags := load(dir, schema.LoadOptions{})
	if len(diags) != 1 {
		t.Fatalf("%d diagnostics, want 1: %v", len(diags), diags)
	}
	d := diags[0]
	if d.Subject == nil || filepath.ToSlash(d.Subject.Filename) != "mod/main.hcl" || d.Subject.Start.Line != 4 ||
		!strings.HasSuffix(d.Detail, `In module.fp["a"], module.fp["b"], module.fp["c"] and 2 more.`) {
		t.Errorf("diagnostic: %s at %v", d.Detail, d.Subject)
	}
}

func TestModuleCycleAndSelfCall(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"main.hcl": `engagement "m" {}
module "a" {
  source = "./mod"
  x      = module.b.out
}
module "b" {
  source = "./mod"
  x      = module.a.out
}
module "c" {
  source = "./mod"
}
`,
		"mod/main.hcl": `variable "x" {
  default = ""
}
module "again" {
  source = "./"
}
output "out" {
  value = var.x
}
`,
	})
	_, diags := load(dir, schema.LoadOptions{})
	var text string
	for _, d := range diags {
		text += d.Summary + "\n"
	}
	for _, want := range []string{"Cycle between module blocks", "Module calls itself"} {
		if !strings.Contains(text, want) {
			t.Errorf("diagnostics lack %q: %s", want, text)
		}
	}
}
