// Package fdnsgen writes synthetic Rapid7 Sonar FDNS NDJSON with a
// realistic mix of record types, name shapes and shared IPs, for the file
// provider's benchmarks. Output depends only on the line count and seed.
package fdnsgen

import (
	"bufio"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
)

var (
	tlds       = []string{"com", "net", "org", "io", "de", "co.uk", "example"}
	words      = []string{"acme", "north", "blue", "river", "cloud", "pixel", "stone", "delta", "lumen", "orbit", "maple", "quartz", "ember", "harbor", "summit", "vector"}
	prefixes   = []string{"www", "mail", "api", "dev", "staging", "vpn", "cdn", "shop", "blog", "app", "portal", "m", "static", "auth", "git", "ftp"}
	mailHosts  = []string{"aspmx.l.google.com", "alt1.aspmx.l.google.com", "mx1.mail.protection.outlook.com", "mx.zoho.eu", "mx01.mail.example.net"}
	dnsHosts   = []string{"ns1.dnsprovider.net", "ns2.dnsprovider.net", "ns-101.awsdns-12.com", "dns1.registrar.example", "kim.ns.cloudflare.com"}
	txtRecords = []string{`\"v=spf1 include:_spf.google.com ~all\"`, `\"v=spf1 include:spf.protection.outlook.com -all\"`, `\"MS=ms12345678\"`, `\"v=DMARC1; p=none\"`}
)

// Options shape the generated data.
type Options struct {
	Lines   int
	Seed    uint64
	Domains int // distinct registered domains; default Lines/20
	IPs     int // distinct IPv4 addresses; default Lines/5
}

// Write writes opts.Lines lines of FDNS NDJSON to w.
func Write(w io.Writer, opts Options) error {
	if opts.Domains <= 0 {
		opts.Domains = max(opts.Lines/20, 1)
	}
	if opts.IPs <= 0 {
		opts.IPs = max(opts.Lines/5, 1)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriterSize(w, 1<<20)
	line := make([]byte, 0, 256)
	var name []byte
	var d, run int
	for i := 0; i < opts.Lines; i++ {
		kind := rng.IntN(100)
		// A name's answers come on consecutive lines, as in Sonar dumps.
		if run == 0 {
			run = 1 + rng.IntN(3)
			d = rng.IntN(opts.Domains)
			name = name[:0]
			if kind < 80 || kind >= 95 { // MX, NS, TXT mostly at the apex
				name = append(name, prefixes[rng.IntN(len(prefixes))]...)
				if rng.IntN(4) == 0 {
					name = strconv.AppendInt(name, int64(rng.IntN(100)), 10)
				}
				name = append(name, '.')
			}
			name = appendDomain(name, d)
		}
		run--
		line = append(line[:0], `{"timestamp":"`...)
		line = strconv.AppendInt(line, 1717200000+int64(rng.IntN(86400*7)), 10)
		line = append(line, `","name":"`...)
		line = append(line, name...)
		line = append(line, `","type":"`...)
		switch {
		case kind < 62:
			line = append(line, `a","value":"`...)
			line = appendIPv4(line, rng, opts.IPs)
		case kind < 70:
			line = append(line, `aaaa","value":"2001:db8:`...)
			line = strconv.AppendInt(line, int64(rng.IntN(0xffff)), 16)
			line = append(line, "::"...)
			line = strconv.AppendInt(line, int64(rng.IntN(0xffff)+1), 16)
		case kind < 80:
			line = append(line, `cname","value":"`...)
			if rng.IntN(2) == 0 {
				line = append(line, "edge-"...)
				line = strconv.AppendInt(line, int64(rng.IntN(5000)), 10)
				line = append(line, ".cdn-provider.net"...)
			} else {
				line = append(line, "www."...)
				line = appendDomain(line, d)
			}
		case kind < 87:
			line = append(line, `mx","value":"10 `...)
			line = append(line, mailHosts[rng.IntN(len(mailHosts))]...)
		case kind < 94:
			line = append(line, `ns","value":"`...)
			line = append(line, dnsHosts[rng.IntN(len(dnsHosts))]...)
		default:
			line = append(line, `txt","value":"`...)
			if rng.IntN(2) == 0 {
				line = append(line, `\"google-site-verification=`...)
				line = strconv.AppendUint(line, rng.Uint64(), 36)
				line = append(line, `\"`...)
			} else {
				line = append(line, txtRecords[rng.IntN(len(txtRecords))]...)
			}
		}
		line = append(line, "\"}\n"...)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func appendDomain(b []byte, d int) []byte {
	b = append(b, words[d%len(words)]...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(d), 36)
	b = append(b, '.')
	return append(b, tlds[d%len(tlds)]...)
}

// appendIPv4 picks from a pool of n addresses; a tenth of the lines land
// on a small set of shared-hosting IPs.
func appendIPv4(b []byte, rng *rand.Rand, n int) []byte {
	k := uint32(rng.IntN(n))
	if rng.IntN(10) == 0 {
		k = uint32(rng.IntN(64))
	}
	ip := k*2654435761 | 0x01000000 // spread over the space, never 0.x.x.x
	if ip>>24 >= 224 {
		ip &^= 0x80000000
	}
	for i := 3; i >= 0; i-- {
		b = strconv.AppendUint(b, uint64(ip>>(8*i)&0xff), 10)
		if i > 0 {
			b = append(b, '.')
		}
	}
	return b
}

// WriteFile writes a generated file, gzip-compressed when gz is set.
func WriteFile(path string, opts Options, gz bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
		w = zw
	}
	err = Write(w, opts)
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
