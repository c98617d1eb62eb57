// Package zonegen writes synthetic TLD zone files in the shape ICANN's
// CZDS serves (<tld>.zone.gz): the SOA first and last, one record a line,
// one tab between fields, lower-case absolute names, delegations sorted by
// name. Its mix follows a signed gTLD: two or three NS per domain, name
// servers shared by many domains with a long-tailed popularity (a few
// hosting providers serve most domains), in-bailiwick name servers with A
// and AAAA glue, DS records with their RRSIGs for a tenth of the domains,
// and NSEC3 records. Benchmarks and tests use it; it holds no real data.
package zonegen

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
)

// Options shape a zone.
type Options struct {
	TLD       string // without dots, e.g. "example"
	Records   int    // about this many records (lines) in all
	Providers int    // hosting providers, each with ns1 and ns2 (default 20000)
	Serial    uint32 // SOA serial (default 1717200000, unix time)
	Seed      uint64
}

// Provider returns the name of provider i's first name server, as the
// zone writes it (without the trailing dot). Provider 0 is the most used.
func Provider(i int) string { return fmt.Sprintf("ns1.host%d-dns.net", i) }

// Write writes the zone to w.
func Write(w io.Writer, o Options) error {
	if o.TLD == "" {
		o.TLD = "example"
	}
	if o.Providers <= 0 {
		o.Providers = 20000
	}
	if o.Serial == 0 {
		o.Serial = 1717200000
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x5a6e))
	bw := bufio.NewWriterSize(w, 1<<20)
	soa := fmt.Sprintf("%s.\t900\tin\tsoa\ta.nic.%s. hostmaster.nic.%s. %d 1800 900 604800 86400\n", o.TLD, o.TLD, o.TLD, o.Serial)
	bw.WriteString(soa)
	fmt.Fprintf(bw, "%s.\t172800\tin\tns\ta.nic.%s.\n%s.\t172800\tin\tns\tb.nic.%s.\n", o.TLD, o.TLD, o.TLD, o.TLD)

	// About 2.45 records per domain: 2.1 NS, 0.1 DS + 0.1 RRSIG, 0.1
	// NSEC3, 0.05 glue.
	domains := max(1, int(float64(o.Records-4)/2.45))
	names := make([]string, 0, domains)
	seen := make(map[string]struct{}, domains)
	const letters = "abcdefghijklmnopqrstuvwxyz"
	buf := make([]byte, 0, 24)
	for len(names) < domains {
		buf = buf[:0]
		n := 4 + r.IntN(11)
		for i := 0; i < n; i++ {
			buf = append(buf, letters[r.IntN(len(letters))])
		}
		if r.IntN(5) == 0 {
			buf = append(buf, '-')
			buf = fmt.Appendf(buf, "%d", r.IntN(1000))
		}
		s := string(buf)
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			names = append(names, s)
		}
	}
	seen = nil
	slices.Sort(names)
	// Provider popularity: Zipf-like, rank k weighted 1/(k+1)^1.1.
	zipf := rand.NewZipf(rand.New(rand.NewPCG(o.Seed, 7)), 1.1, 1, uint64(o.Providers-1))
	written := 3
	hex := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789abcdef"[r.IntN(16)]
		}
		return string(b)
	}
	for _, d := range names {
		fqdn := d + "." + o.TLD + "."
		if r.IntN(20) == 0 {
			// In-bailiwick name servers with glue.
			fmt.Fprintf(bw, "%s\t172800\tin\tns\tns1.%s\n%s\t172800\tin\tns\tns2.%s\n", fqdn, fqdn, fqdn, fqdn)
			fmt.Fprintf(bw, "ns1.%s\t172800\tin\ta\t%d.%d.%d.%d\n", fqdn, 1+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
			written += 3
		} else {
			p := int(zipf.Uint64())
			fmt.Fprintf(bw, "%s\t172800\tin\tns\tns1.host%d-dns.net.\n%s\t172800\tin\tns\tns2.host%d-dns.net.\n", fqdn, p, fqdn, p)
			written += 2
			if r.IntN(10) == 0 {
				fmt.Fprintf(bw, "%s\t172800\tin\tns\tns3.host%d-dns.net.\n", fqdn, p)
				written++
			}
		}
		if r.IntN(10) == 0 {
			fmt.Fprintf(bw, "%s\t86400\tin\tds\t%d 13 2 %s\n", fqdn, r.IntN(65536), hex(64))
			fmt.Fprintf(bw, "%s\t86400\tin\trrsig\tds 8 2 86400 20240615000000 20240601000000 %d %s. %s\n", fqdn, r.IntN(65536), o.TLD, hex(86))
			written += 2
		}
		if r.IntN(10) == 0 {
			fmt.Fprintf(bw, "%s.%s.\t86400\tin\tnsec3\t1 1 0 - %s ns ds rrsig\n", hex(32), o.TLD, hex(32))
			written++
		}
	}
	bw.WriteString(soa)
	_ = written
	return bw.Flush()
}

// WriteFile writes the zone to path, gzip-compressed when gz.
func WriteFile(path string, o Options, gz bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(f, gzip.DefaultCompression)
		w = zw
	}
	if err := Write(w, o); err != nil {
		f.Close()
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
