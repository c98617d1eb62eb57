package analysis

import (
	"net/netip"
	"strconv"

	"github.com/reconform/reconform/schema"
)

// addressRecords returns, for every IP that is the value of an A or AAAA
// finding (current or historical: reverse-IP data is history), the
// indexes of those findings.
func addressRecords(ix *index) map[netip.Addr][]int {
	out := map[netip.Addr][]int{}
	for _, t := range []string{"A", "AAAA"} {
		for _, i := range ix.byType[t] {
			a, err := netip.ParseAddr(ix.findings[i].Value)
			if err != nil {
				continue
			}
			a = a.Unmap()
			out[a] = append(out[a], i)
		}
	}
	return out
}

// inScope reports whether name is under one of the scope domains.
func inScope(name string, scope []string) bool {
	for _, d := range scope {
		if UnderDomain(name, schemaName(d)) {
			return true
		}
	}
	return false
}

func schemaName(s string) string { return schema.NormalizeName(s) }

func sharedHostingFacts(ix *index, opts Options) []schema.Fact {
	var facts []schema.Fact
	for addr, idx := range addressRecords(ix) {
		domains := map[string]bool{}
		unrelated := map[string]bool{}
		for _, i := range idx {
			name := ix.findings[i].Name
			d := RegisteredDomain(name)
			domains[d] = true
			if !inScope(name, opts.Scope) && !inScope(d, opts.Scope) {
				unrelated[d] = true
			}
		}
		if len(domains) < 2 {
			continue
		}
		ev := ix.ids(idx)
		facts = append(facts, schema.Fact{Subject: addr.String(), Kind: "shared_hosting", Value: strconv.Itoa(len(domains)), Evidence: ev})
		if len(unrelated) >= opts.SharedHostingThreshold {
			facts = append(facts, schema.Fact{Subject: addr.String(), Kind: "shared_hosting_ip", Value: "true", Evidence: ev})
		}
	}
	return facts
}

// RangeOf returns the /24 (IPv4) or /48 (IPv6) prefix holding addr.
func RangeOf(addr netip.Addr) netip.Prefix {
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, _ := addr.Prefix(bits)
	return p
}

func ipRangeFacts(ix *index) []schema.Fact {
	type group struct {
		ips map[netip.Addr]bool
		ev  []int
	}
	groups := map[netip.Prefix]*group{}
	for addr, idx := range addressRecords(ix) {
		p := RangeOf(addr)
		g := groups[p]
		if g == nil {
			g = &group{ips: map[netip.Addr]bool{}}
			groups[p] = g
		}
		g.ips[addr] = true
		g.ev = append(g.ev, idx...)
	}
	var facts []schema.Fact
	for p, g := range groups {
		facts = append(facts, schema.Fact{Subject: p.String(), Kind: "ip_range", Value: strconv.Itoa(len(g.ips)), Evidence: ix.ids(g.ev)})
	}
	return facts
}

func asnFacts(ix *index, table *ASNTable) []schema.Fact {
	if table == nil {
		return nil
	}
	var facts []schema.Fact
	for addr, idx := range addressRecords(ix) {
		e, ok := table.Lookup(addr)
		if !ok {
			continue
		}
		facts = append(facts, schema.Fact{Subject: addr.String(), Kind: "asn", Value: e.String(), Evidence: ix.ids(idx)})
	}
	return facts
}
