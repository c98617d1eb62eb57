// Command fleetgen writes the offline dataset of examples/fleet: two
// monthly snapshots of passive DNS (COF NDJSON) for three fictional
// companies a team watches with one module. They share name servers and a
// web host (so one finding is reported by two module instances), and each
// drifts differently between the snapshots: a new host, a web site that
// moves, a mail migration. The output depends on nothing but this file:
//
//	go run ./internal/fleetgen -out examples/fleet/data
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/reconform/reconform/internal/pdnsgen"
)

func main() {
	out := flag.String("out", "examples/fleet/data", "folder to write the dataset to")
	flag.Parse()
	if err := pdnsgen.WriteAll(*out, Files()); err != nil {
		fmt.Fprintln(os.Stderr, "fleetgen:", err)
		os.Exit(1)
	}
}

// Files returns the dataset, file name to content.
func Files() map[string][]byte {
	files := map[string][]byte{}
	for snap := 1; snap <= 2; snap++ {
		files[fmt.Sprintf("pdns-%d.ndjson", snap)] = pdnsgen.COF(history(snap), "fleet-sensor-1", "", nil)
	}
	return files
}

// history is what the team's passive DNS shows at snapshot snap.
func history(snap int) []pdnsgen.Rec {
	h := pdnsgen.Snapshot(snap)
	add, until := h.Add, h.Until
	const fab, tail, wing = "fabrikam.example", "tailspin.example", "wingtip.example"
	ns := []string{"ns1.fleetdns.example.", "ns2.fleetdns.example."}

	// Fabrikam: a new VPN host in March; a legacy host the team lists by
	// hand (extra_hosts), still answering.
	add(fab, "A", "2021-04-01", "", 40, "203.0.113.10")
	add(fab, "NS", "2020-01-10", "", 30, ns...)
	add(fab, "MX", "2020-01-10", "", 30, "10 mail.fabrikam.example.")
	add(fab, "TXT", "2020-01-10", "", 10, `"v=spf1 mx -all"`)
	add("mail."+fab, "A", "2020-01-10", "", 30, "203.0.113.11")
	add("www."+fab, "A", "2022-02-01", "", 50, "203.0.113.50") // the shared web host
	add("vpn."+fab, "A", "2025-03-12", "", 20, "203.0.113.12")
	add("legacy."+fab, "A", "2016-05-01", "", 5, "203.0.113.13")

	// Tailspin: its web site leaves the shared host in March.
	add(tail, "A", "2021-09-01", "", 40, "203.0.113.20")
	add(tail, "NS", "2021-09-01", "", 30, ns...)
	add(tail, "MX", "2021-09-01", "", 20, "10 mx.tailspin.example.")
	add("mx."+tail, "A", "2021-09-01", "", 20, "203.0.113.21")
	add("www."+tail, "A", "2022-02-01", until("2025-03-20"), 45, "203.0.113.50")
	add("www."+tail, "A", "2025-03-19", "", 45, "203.0.113.60")
	add("shop."+tail, "CNAME", "2023-06-01", "", 15, "tailspin.shops.example.")

	// Wingtip: mail moves from Google Workspace to Microsoft 365.
	add(wing, "A", "2022-11-01", "", 25, "203.0.113.30")
	add(wing, "NS", "2022-11-01", "", 20, ns...)
	add(wing, "MX", "2022-11-01", until("2025-03-15"), 25, "1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com.")
	add(wing, "MX", "2025-03-14", "", 25, "0 wingtip-example.mail.protection.outlook.com.")
	add(wing, "TXT", "2022-11-01", until("2025-03-15"), 10, `"v=spf1 include:_spf.google.com -all"`)
	add(wing, "TXT", "2025-03-14", "", 10, `"v=spf1 include:spf.protection.outlook.com -all"`)
	add("www."+wing, "CNAME", "2022-11-01", "", 20, "wingtip.example.")
	add("api."+wing, "A", "2023-03-01", "", 30, "203.0.113.31")

	// The shared web host's other tenants, outside the fleet.
	add("www.northwind-partner.example", "A", "2023-01-01", "", 8, "203.0.113.50")
	return h.Recs
}
