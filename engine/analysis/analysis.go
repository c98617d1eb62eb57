// Package analysis derives facts from findings: mail, DNS and SaaS
// profiles, SPF and DMARC verdicts, shared hosting, IP ranges and
// timelines. Everything here is a pure function over findings.
package analysis

import "github.com/reconform/reconform/schema"

// Options tune Derive.
type Options struct {
	// ASNTable is an optional iptoasn TSV file for grouping IPs by ASN.
	ASNTable string
}

// Derive computes the facts findings support, sorted.
func Derive(findings []schema.Finding, opts Options) []schema.Fact {
	return nil
}
