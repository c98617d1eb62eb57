package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// An answer of thousands of findings (kept in chunks while it is read)
// comes back whole, sorted and merged, and max_results still cuts it.
func TestLargeAnswerIsWholeAndSorted(t *testing.T) {
	const domains = 3000
	var zone strings.Builder
	zone.WriteString("$ORIGIN example.\n")
	var want []string
	for i := range domains {
		name := fmt.Sprintf("d%05d", (i*7919)%domains) // not in sorted order
		fmt.Fprintf(&zone, "%s 3600 IN NS ns1.big-host.net.\n%s 3600 IN NS ns2.other.net.\n", name, name)
		want = append(want, name+".example")
	}
	slices.Sort(want)
	path := filepath.Join(t.TempDir(), "big.zone")
	if err := os.WriteFile(path, []byte(zone.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{0, 1500} {
		attrs := map[string]cty.Value{"path": cty.StringVal(path), "format": cty.StringVal("zone")}
		if max > 0 {
			attrs["max_results"] = cty.NumberIntVal(int64(max))
		}
		p, err := New(context.Background(), providers.Config{Type: "file", Address: "file", Attrs: attrs})
		if err != nil {
			t.Fatal(err)
		}
		ans, err := p.Query(context.Background(), nsReverseQuery("ns1.big-host.net"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range ans.Findings {
			if f.Type != "NS" || f.Value != "ns1.big-host.net" {
				t.Fatalf("max %d: finding %+v", max, f)
			}
			got = append(got, f.Name)
		}
		if !slices.IsSortedFunc(ans.Findings, func(a, b schema.Finding) int { return schema.CompareFindings(&a, &b) }) {
			t.Fatalf("max %d: the answer is not sorted", max)
		}
		switch {
		case max == 0 && !slices.Equal(got, want):
			t.Fatalf("got %d findings, want the %d domains", len(got), len(want))
		case max > 0 && (len(got) != max || len(ans.Warnings) == 0):
			t.Fatalf("max %d: got %d findings, warnings %q", max, len(got), ans.Warnings)
		}
	}
}
