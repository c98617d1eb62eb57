// Command quickstartgen writes the quickstart's offline dataset: two
// monthly snapshots of passive DNS for the fictional Northwind Traders
// (COF NDJSON history and a Rapid7 Sonar style FDNS gzip scan), with an IP
// move in the history, shared-hosting neighbours, name-server and mail
// correlation, SPF, DMARC and SaaS tokens, and real drift between the two
// snapshots. The output depends on nothing but this file:
//
//	go run ./internal/quickstartgen -out examples/quickstart/data
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/reconform/reconform/internal/pdnsgen"
)

func main() {
	out := flag.String("out", "examples/quickstart/data", "folder to write the dataset to")
	flag.Parse()
	files, err := Files()
	if err == nil {
		err = pdnsgen.WriteAll(*out, files)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstartgen:", err)
		os.Exit(1)
	}
}

// Files returns the dataset, file name to content.
func Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	for snap := 1; snap <= 2; snap++ {
		hist, scan := snapshot(snap)
		files[fmt.Sprintf("pdns-%d.ndjson", snap)] = pdnsgen.COF(hist, "nw-sensor-1", "https://pdns.northwind-soc.example/", bailiwick)
		gz, err := fdnsGzip(scan)
		if err != nil {
			return nil, err
		}
		files[fmt.Sprintf("sonar-fdns-%d.json.gz", snap)] = gz
	}
	return files, nil
}

// history is what the organisation's passive DNS shows at snapshot snap.
func history(snap int) []pdnsgen.Rec {
	h := pdnsgen.Snapshot(snap)
	add, until := h.Add, h.Until
	const nw, corp, labs = "northwind.example", "northwind-corp.example", "northwind-labs.example"

	// The apex and www: moved from the old hosting (192.0.2.10) to the
	// company's own range in November 2024, and again within that range
	// in March 2025.
	for _, n := range []string{nw, "www." + nw} {
		add(n, "A", "2021-06-01", "2024-11-14", 40, "192.0.2.10")
		add(n, "A", "2024-11-12", until("2025-03-12"), 60, "203.0.113.10")
		add(n, "A", "2025-03-11", "", 60, "203.0.113.40")
	}
	add("www."+nw, "AAAA", "2024-11-12", "", 20, "2001:db8:4e57::10")
	add(nw, "NS", "2020-02-01", "", 30, "ns1.northwind.example.", "ns2.northwind.example.")
	add("ns1."+nw, "A", "2020-02-01", "", 30, "203.0.113.2")
	add("ns2."+nw, "A", "2020-02-01", "", 30, "203.0.113.3")

	// Mail: Google Workspace, then Microsoft 365 from 9 March 2025.
	add(nw, "MX", "2020-02-01", until("2025-03-10"), 50, "1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com.", "5 alt2.aspmx.l.google.com.")
	add(nw, "MX", "2025-03-09", "", 50, "0 northwind-example.mail.protection.outlook.com.")
	add(nw, "TXT", "2020-02-01", until("2025-03-10"), 25, `"v=spf1 include:_spf.google.com ip4:203.0.113.0/24 -all"`)
	add(nw, "TXT", "2025-03-09", "", 25, `"v=spf1 include:spf.protection.outlook.com ip4:203.0.113.0/24 -all"`)
	add(nw, "TXT", "2020-02-03", "", 10, `"google-site-verification=Nw4p1Xq0cT7yRb2LmK9sVd6HgE3jZu8fAo5iWtYnQ0"`)
	add(nw, "TXT", "2023-09-14", "", 10, `"atlassian-domain-verification=nW7kQ2pLx9VbR4tYc1MzJ6dHs3FgA8uE0oIiTeNyKr5"`)
	add(nw, "TXT", "2025-03-08", "", 10, `"MS=ms84523197"`)
	add(nw, "TXT", "2025-03-18", "", 10, `"docusign=5e3f1c2a-9b7d-4e60-8a14-2c9f7b3d1e08"`)
	// DMARC: reject, weakened to none while mail moved.
	add("_dmarc."+nw, "TXT", "2021-01-10", until("2025-03-10"), 20, `"v=DMARC1; p=reject; rua=mailto:dmarc-reports@northwind.example; pct=100"`)
	add("_dmarc."+nw, "TXT", "2025-03-11", "", 20, `"v=DMARC1; p=none; rua=mailto:dmarc-reports@northwind.example"`)

	// Hosts.
	add("mail."+nw, "A", "2019-05-01", "", 40, "203.0.113.25")
	add("vpn."+nw, "A", "2020-08-01", "", 35, "203.0.113.20")
	add("portal."+nw, "A", "2022-03-01", "", 35, "203.0.113.21")
	add("api."+nw, "A", "2023-01-15", "", 80, "203.0.113.22")
	add("sso."+nw, "A", "2025-03-15", "", 30, "203.0.113.23")   // new in April's snapshot
	add("shop."+nw, "A", "2022-06-01", "", 25, "198.51.100.25") // shared hosting
	add("blog."+nw, "CNAME", "2021-04-01", "", 15, "northwind.ghost-blogs.example.")
	add("dev."+nw, "CNAME", "2023-05-01", "", 12, "northwind-dev.paas-apps.example.")
	add("legacy."+nw, "A", "2017-03-01", "2025-03-05", 20, "192.0.2.50") // decommissioned in March
	add("crm."+nw, "A", "2018-01-10", "2022-09-30", 15, "192.0.2.60")    // long gone

	// The corporate domain: same name servers, mail through Northwind's
	// own relay (MX correlation).
	add(corp, "A", "2021-02-01", "", 30, "203.0.113.30")
	add("www."+corp, "A", "2021-02-01", "", 30, "203.0.113.30")
	add(corp, "NS", "2021-02-01", "", 20, "ns1.northwind.example.", "ns2.northwind.example.")
	add(corp, "MX", "2021-02-01", "", 20, "10 mail.northwind.example.")
	add(corp, "TXT", "2021-02-01", "", 10, `"v=spf1 mx -all"`)
	add("_dmarc."+corp, "TXT", "2021-02-01", "", 10, `"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@northwind.example"`)
	add("intranet."+corp, "A", "2022-11-01", "", 15, "203.0.113.31")

	// A sibling the scope does not name: found through the shared name
	// servers and mail relay, reported, never pivoted from.
	add(labs, "A", "2023-07-01", "", 10, "198.51.100.77")
	add(labs, "NS", "2023-07-01", "", 10, "ns1.northwind.example.", "ns2.northwind.example.")
	add(labs, "MX", "2023-07-01", "", 10, "10 mail.northwind.example.")

	// Shared-hosting neighbours of shop.northwind.example.
	for i, n := range neighbours() {
		add(n, "A", fmt.Sprintf("202%d-%02d-01", 1+i%3, 1+i%12), "", 5+i%7, "198.51.100.25")
	}
	return h.Recs
}

var neighbourWords = []string{"bakery", "florist", "dental", "law-office", "yoga", "garage", "bookshop", "cafe", "tailor", "plumbing", "vet-clinic", "photo-studio", "brewery", "gallery"}

func neighbours() []string {
	var out []string
	for i := 0; i < 28; i++ {
		out = append(out, fmt.Sprintf("%s-%d.example", neighbourWords[i%len(neighbourWords)], 10+i*7))
	}
	return out
}

// scan is the bulk scan at the snapshot's time: every record still seen,
// plus a few thousand lines about other customers of the same hosters.
func scan(snap int, hist []pdnsgen.Rec) []pdnsgen.Rec {
	at := pdnsgen.SnapshotTime(snap).Add(-6 * time.Hour)
	var rs []pdnsgen.Rec
	for _, r := range hist {
		if at.Sub(r.Last) > 48*time.Hour {
			continue
		}
		for _, v := range r.RData {
			rs = append(rs, pdnsgen.Rec{Name: r.Name, Type: r.Type, RData: []string{v}, First: at, Last: at})
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 1400; i++ {
		name := fmt.Sprintf("%s-%d.hosting-customers.example", neighbourWords[i%len(neighbourWords)], i)
		ip := fmt.Sprintf("198.51.100.%d", 100+rng.IntN(150))
		if rng.IntN(3) == 0 {
			ip = fmt.Sprintf("192.0.2.%d", 100+rng.IntN(150))
		}
		// A few customers churn between the snapshots.
		if snap == 2 && i%97 == 0 {
			ip = fmt.Sprintf("198.51.100.%d", 100+(i%150))
		}
		ts := at.Add(-time.Duration(rng.IntN(3600)) * time.Second)
		rs = append(rs, pdnsgen.Rec{Name: name, Type: "A", RData: []string{ip}, First: ts, Last: ts})
		if i%2 == 0 {
			rs = append(rs, pdnsgen.Rec{Name: "www." + name, Type: "CNAME", RData: []string{name}, First: ts, Last: ts})
		}
		if i%5 == 0 {
			rs = append(rs, pdnsgen.Rec{Name: name, Type: "MX", RData: []string{"10 mx.hosting-customers.example"}, First: ts, Last: ts})
		}
		if i%7 == 0 {
			rs = append(rs, pdnsgen.Rec{Name: name, Type: "TXT", RData: []string{`"v=spf1 a mx ~all"`}, First: ts, Last: ts})
		}
	}
	return rs
}

func snapshot(snap int) (hist, bulk []pdnsgen.Rec) {
	hist = history(snap)
	return hist, scan(snap, hist)
}

func bailiwick(name string) string {
	for _, d := range []string{"northwind-corp.example", "northwind-labs.example", "northwind.example"} {
		if name == d || len(name) > len(d) && name[len(name)-len(d)-1:] == "."+d {
			return d
		}
	}
	return name
}

// fdnsGzip renders records as Sonar FDNS NDJSON, gzip-compressed with a
// fixed header so the output is byte-for-byte reproducible.
func fdnsGzip(rs []pdnsgen.Rec) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		for _, v := range r.RData {
			line, _ := json.Marshal(map[string]string{
				"timestamp": fmt.Sprint(r.Last.Unix()),
				"name":      r.Name,
				"type":      lower(r.Type),
				"value":     trimDot(v),
			})
			zw.Write(line)
			zw.Write([]byte("\n"))
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func lower(s string) string { return string(bytes.ToLower([]byte(s))) }

func trimDot(s string) string {
	if n := len(s); n > 0 && s[n-1] == '.' {
		return s[:n-1]
	}
	return s
}
