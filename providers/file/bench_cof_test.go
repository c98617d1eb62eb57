package file

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/schema"
)

// cofBenchData writes n COF lines shaped like the real exports in
// testdata/real (CIRCL and DNSDB records: numbers, string numbers, RFC
// 3339 times, rdata arrays, a repeated line now and then).
func cofBenchData(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "cof.ndjson")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		host := fmt.Sprintf("h%d.d%d.example.com", i%5000, i/5000)
		switch i % 4 {
		case 0:
			fmt.Fprintf(w, `{"count":%d,"origin":"https://www.circl.lu/pdns/","time_first":%d,"rrtype":"A","rrname":"%s","rdata":"198.51.%d.%d","time_last":%d}`+"\n", i%97+1, 1500000000+i, host, i/256%256, i%256, 1600000000+i)
		case 1:
			fmt.Fprintf(w, `{"count":"%d","time_first":"%d","time_last":"%d","rrname":"%s.","rrtype":"CNAME","bailiwick":"example.com.","rdata":["edge%d.example.net."]}`+"\n", i%31+1, 1500000000+i, 1600000000+i, host, i%100)
		case 2:
			fmt.Fprintf(w, `{"count":%d,"zone_time_first":"2019-08-06T21:06:40Z","zone_time_last":"2019-08-12T19:51:57Z","rrname":"%s","rrtype":"NS","rdata":["ns1.example.org.","ns2.example.org."]}`+"\n", i%7+1, host)
		case 3:
			fmt.Fprintf(w, `{"rrname":"%s","rrdata":"10 mx%d.example.net","rrtype":"MX","time_first":%d,"time_last":%d,"count":2}`+"\n", host, i%10, 1500000000+i, 1600000000+i)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

func BenchmarkIndexCOF(b *testing.B) {
	path := cofBenchData(b, 200_000)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		if _, _, err := readIndex(context.Background(), path, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryAllNames measures the merging of observations into
// findings: a HOST finding for every name under a domain, and the records
// of every name, over a generated FDNS file.
func BenchmarkQueryAllNames(b *testing.B) {
	path := benchData(b, 200_000, false)
	ix, _, err := readIndex(context.Background(), path, "")
	if err != nil {
		b.Fatal(err)
	}
	p := &Provider{maxResults: 1 << 20, window: 30 * 24 * 3600 * 1e9}
	q := schema.Query{Op: schema.OpSubdomains, Subject: schema.Subject{Kind: schema.SubjectDomain, Value: "example.com"}}
	b.ResetTimer()
	for range b.N {
		r := ix.newResult(p, q)
		if err := r.subdomains("acme-0.com"); err != nil {
			b.Fatal(err)
		}
		// and the records of each name, as resolutions would merge them
		if err := ix.scanF(nil, func(x *fent) bool {
			r.addRecord(x.rname, x.typ, x.value, x.first, x.last, x.count)
			return true
		}); err != nil {
			b.Fatal(err)
		}
	}
}
