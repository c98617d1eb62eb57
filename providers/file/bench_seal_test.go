package file

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/reconform/reconform/internal/fdnsgen"
	"github.com/reconform/reconform/internal/zonegen"
)

// sealTables are the tables of one run of generated data, as the
// interning goroutines leave them for seal: 2M FDNS lines, or the records
// of a 2M-line TLD zone.
func sealTables(b *testing.B, shape string) *runTables {
	b.Helper()
	bl := newRunTables(2_000_000)
	typeIDs := map[string]uint16{}
	for i, t := range []string{"A", "AAAA", "CNAME", "NS", "PTR", "MX", "TXT", "DS", "RRSIG", "SOA"} {
		bl.types = append(bl.types, t)
		typeIDs[t] = uint16(i)
	}
	add := func(name, typ, value []byte, ts uint32) {
		t, ok := typeIDs[string(bytes.ToUpper(typ))]
		if !ok {
			t = typeIDs["TXT"]
		}
		id, _ := bl.names.intern(name)
		bl.recs = append(bl.recs, record{Name: id, First: ts, Last: ts, Count: 1, Type: t})
		bl.addParsed(value, parseValue(value))
	}
	var buf bytes.Buffer
	switch shape {
	case "zone":
		if err := zonegen.Write(&buf, zonegen.Options{TLD: "example", Records: 2_000_000, Providers: 2000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			f := bytes.Fields(sc.Bytes())
			if len(f) >= 5 {
				add(bytes.TrimSuffix(f[0], []byte(".")), f[3], bytes.TrimSuffix(bytes.Join(f[4:], []byte(" ")), []byte(".")), 0)
			}
		}
	case "fdns":
		if err := fdnsgen.Write(&buf, fdnsgen.Options{Lines: 2_000_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			l := sc.Bytes()
			add(jsonField(l, `"name":"`), jsonField(l, `"type":"`), jsonField(l, `"value":"`), 1717200000)
		}
	}
	return bl
}

// BenchmarkSeal sorts one run: owner names, lookup keys, each name's
// records and the reverse entries.
func BenchmarkSeal(b *testing.B) {
	for _, shape := range []string{"zone", "fdns"} {
		rt := sealTables(b, shape)
		b.Run(shape, func(b *testing.B) {
			var sc sealScratch
			for range b.N {
				seal(rt, &sc).sealReverse(&sc)
			}
			b.ReportMetric(float64(len(rt.recs)), "records")
		})
	}
}
