package file

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/internal/zonegen"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

func zoneLines(b *testing.B, records int) ([]byte, [][]byte) {
	var buf bytes.Buffer
	if err := zonegen.Write(&buf, zonegen.Options{TLD: "example", Records: records, Providers: 2000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	return data, bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// BenchmarkZoneTokenizer is the per-line cost of the zone parser alone
// (no index), on CZDS-shaped lines; BenchmarkZoneParserLibrary is
// miekg/dns's ZoneParser on the same zone, the alternative it replaces.
func BenchmarkZoneTokenizer(b *testing.B) {
	_, lines := zoneLines(b, 100000)
	scratch := make([]byte, 0, 256)
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		z := newZoneState(1, false)
		for _, l := range lines {
			scratch = append(scratch[:0], l...) // the parser edits lines in place
			if err := z.parseLine(scratch, func([]byte, string, []byte, int64, int64, int64) { n++ }); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}

func BenchmarkZoneParserLibrary(b *testing.B) {
	data, lines := zoneLines(b, 100000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		zp := dns.NewZoneParser(bytes.NewReader(data), "", "")
		for _, ok := zp.Next(); ok; _, ok = zp.Next() {
		}
		if err := zp.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}

// BenchmarkZoneIndex indexes a 200k-record zone (plain text) end to end.
func BenchmarkZoneIndex(b *testing.B) {
	data, lines := zoneLines(b, 200000)
	path := filepath.Join(b.TempDir(), "example.zone")
	os.WriteFile(path, data, 0o644)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := readIndex(context.Background(), path, FormatZone); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}

// BenchmarkZoneNSReverse answers ns_reverse from a 1M-record zone's
// index: a name server of median popularity, and the most used one
// (zonegen's provider 0, tens of thousands of domains).
func BenchmarkZoneNSReverse(b *testing.B) {
	data, _ := zoneLines(b, 1000000)
	path := filepath.Join(b.TempDir(), "example.zone")
	os.WriteFile(path, data, 0o644)
	p := newBenchProvider(b, path)
	for _, tc := range []struct{ name, host string }{
		{"median", zonegen.Provider(1000)}, {"top10", zonegen.Provider(9)}, {"most-used", zonegen.Provider(0)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := nsReverseQuery(tc.host)
			n := 0
			for i := 0; i < b.N; i++ {
				ans, err := p.Query(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(ans.Findings)
			}
			b.ReportMetric(float64(n), "findings")
		})
	}
}

func newBenchProvider(b *testing.B, path string) *Provider {
	p, err := New(context.Background(), providers.Config{Type: "file", Address: "file", Attrs: map[string]cty.Value{"path": cty.StringVal(path)}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Query(context.Background(), nsReverseQuery("a.nic.example")); err != nil {
		b.Fatal(err)
	}
	return p.(*Provider)
}

func nsReverseQuery(host string) schema.Query {
	return schema.Query{Provider: "file", Op: schema.OpNSReverse, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: host}}
}
