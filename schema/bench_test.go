package schema_test

import (
	"fmt"
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
