package schema_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconform/reconform/schema"
)

// BenchmarkLoad loads an engagement of 300 targets, 300 queries and 50
// pivots, the size of a large attack-surface inventory.
func BenchmarkLoad(b *testing.B) {
	var src strings.Builder
	src.WriteString("engagement \"big\" {\n  max_depth = 2\n}\nscope {\n  domains = [\"big.example\"]\n}\nprovider \"file\" \"f\" {\n  path = \"x\"\n}\n")
	for i := range 300 {
		fmt.Fprintf(&src, "target \"domain\" \"t%d\" {\n  name = \"h%d.big.example\"\n}\n", i, i)
		fmt.Fprintf(&src, "query \"q%d\" {\n  provider = provider.file.f\n  op = \"resolutions\"\n  subjects = [target.domain.t%d]\n}\n", i, i)
	}
	for i := range 50 {
		fmt.Fprintf(&src, "pivot \"p%d\" {\n  from = [query.q%d]\n  when = finding.type == \"A\"\n  provider = provider.file.f\n  op = \"reverse_ip\"\n  subject = finding.value\n}\n", i, i)
	}
	dir := b.TempDir()
	writeFile(&testing.T{}, dir, "main.hcl", src.String())
	b.ResetTimer()
	for b.Loop() {
		if _, diags := schema.Load(dir, schema.LoadOptions{Providers: testProviders()}); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// fleetModule is one apex's footprint: a target, three queries and a pivot.
const fleetModule = `variable "apex" {
  type = string
}
target "domain" "apex" {
  name = var.apex
}
query "records" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = [target.domain.apex]
}
query "hosts" {
  provider = provider.file.f
  op       = "subdomains"
  subjects = [target.domain.apex]
}
query "host_records" {
  provider = provider.file.f
  op       = "resolutions"
  subjects = [for f in query.hosts.findings : f.name]
}
pivot "expand" {
  from     = [query.records, query.host_records]
  when     = finding.type == "A"
  provider = provider.file.f
  op       = "reverse_ip"
  subject  = finding.value
}
output "hosts" {
  value = [for f in query.hosts.findings : f.name]
}
`

const fleetHead = "engagement \"big\" {\n  max_depth = 2\n}\nprovider \"file\" \"f\" {\n  path = \"x\"\n}\n"

// BenchmarkLoadFleetModule loads 200 apexes as one module called with
// for_each; BenchmarkLoadFleetFlat the same 1,000 blocks written out, the
// baseline: expanding a module should cost about what writing its blocks
// out does.
func BenchmarkLoadFleetModule(b *testing.B) {
	var apexes []string
	for i := range 200 {
		apexes = append(apexes, fmt.Sprintf("%q", fmt.Sprintf("apex%d.example", i)))
	}
	dir := b.TempDir()
	writeFile(&testing.T{}, dir, "main.hcl", fleetHead+"module \"fp\" {\n  source   = \"./mod\"\n  for_each = toset(["+strings.Join(apexes, ", ")+"])\n  apex     = each.key\n}\n")
	os.MkdirAll(filepath.Join(dir, "mod"), 0o755)
	writeFile(&testing.T{}, filepath.Join(dir, "mod"), "main.hcl", fleetModule)
	benchLoad(b, dir, 800)
}

func BenchmarkLoadFleetFlat(b *testing.B) {
	var src strings.Builder
	src.WriteString(fleetHead)
	for i := range 200 {
		body := strings.NewReplacer(
			"variable \"apex\" {\n  type = string\n}\n", "",
			"var.apex", fmt.Sprintf("%q", fmt.Sprintf("apex%d.example", i)),
			"\"apex\"", fmt.Sprintf("\"apex%d\"", i), "target.domain.apex", fmt.Sprintf("target.domain.apex%d", i),
			"\"records\"", fmt.Sprintf("\"records%d\"", i), "query.records", fmt.Sprintf("query.records%d", i),
			"\"hosts\"", fmt.Sprintf("\"hosts%d\"", i), "query.hosts", fmt.Sprintf("query.hosts%d", i),
			"\"host_records\"", fmt.Sprintf("\"host_records%d\"", i), "query.host_records", fmt.Sprintf("query.host_records%d", i),
			"\"expand\"", fmt.Sprintf("\"expand%d\"", i),
		).Replace(fleetModule)
		src.WriteString(body)
	}
	dir := b.TempDir()
	writeFile(&testing.T{}, dir, "main.hcl", src.String())
	benchLoad(b, dir, 800)
}

func benchLoad(b *testing.B, dir string, wantQueries int) {
	b.Helper()
	b.ResetTimer()
	for b.Loop() {
		cfg, diags := schema.Load(dir, schema.LoadOptions{Providers: testProviders()})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		if len(cfg.Queries) != wantQueries*3/4 {
			b.Fatalf("%d queries", len(cfg.Queries))
		}
	}
}
