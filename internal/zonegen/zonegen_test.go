package zonegen

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestShape: the zone has about the asked number of records, the SOA
// first and last, and every line in CZDS's shape.
func TestShape(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Options{TLD: "test", Records: 20000, Providers: 200, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if n := len(lines); n < 18000 || n > 22000 {
		t.Errorf("%d records, want about 20000", n)
	}
	if !strings.Contains(lines[0], "\tsoa\t") || lines[0] != lines[len(lines)-1] {
		t.Errorf("SOA first and last: %q, %q", lines[0], lines[len(lines)-1])
	}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 5 || !strings.HasSuffix(f[0], ".") || f[2] != "in" || l != strings.ToLower(l) {
			t.Fatalf("not CZDS's shape: %q", l)
		}
	}
}
