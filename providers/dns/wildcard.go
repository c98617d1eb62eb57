package dns

import (
	"context"
	"crypto/rand"

	mdns "github.com/miekg/dns"

	"github.com/reconform/reconform/schema"
)

// Wildcard detection (wildcard_check = true). A zone with *.acme.example
// answers for every name under acme.example that does not exist, so
// "old.acme.example still resolves" may prove nothing. To tell, the
// provider asks A for a random label under the name: if the name is a
// real node of the zone, that random child does not exist (NXDOMAIN); if
// the name only matches a wildcard, so does the random child (RFC 4592:
// the closest encloser is the same), and it resolves to the same
// addresses. The answer then carries
//
//	Subject: the name, Kind: dns_wildcard, Value: "true"
//
// The probe stays inside the scope: a name under an in-scope subject is in
// scope too. It asks for a name that does not exist, which makes recon a
// little easier to spot, so it is off by default.

// randomLabel returns a label that no zone plausibly has.
func randomLabel() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "rf-" + string(b)
}

// chainAddresses returns the A values name reaches in findings, directly
// or through CNAMEs, and the IDs of the findings on the way.
func chainAddresses(findings []schema.Finding, name string) (addrs map[string]bool, ids []string) {
	addrs = map[string]bool{}
	next := map[string]bool{name: true}
	seen := map[string]bool{}
	for hop := 0; hop <= maxChain && len(next) > 0; hop++ {
		after := map[string]bool{}
		for _, f := range findings {
			if !next[f.Name] {
				continue
			}
			switch f.Type {
			case "A":
				addrs[f.Value] = true
				ids = append(ids, f.ID())
			case "CNAME":
				if !seen[f.Value] {
					seen[f.Value] = true
					after[f.Value] = true
				}
				ids = append(ids, f.ID())
			}
		}
		next = after
	}
	return addrs, ids
}

// checkWildcard adds a dns_wildcard fact when name only matches a
// wildcard: a random name under it resolves to the same addresses.
func (r *run) checkWildcard(ctx context.Context, name string) error {
	mine, evidence := chainAddresses(r.ans.Findings, name)
	if len(mine) == 0 {
		return nil
	}
	probe := randomLabel() + "." + name
	if schema.ValidateDomain(probe) != nil {
		return nil // too long to have a child
	}
	if !r.p.allows(probe) {
		return nil
	}
	resp, err := r.p.exchange(ctx, probe, mdns.TypeA, &r.ans.Requests)
	if err != nil {
		return err
	}
	if resp.Rcode != mdns.RcodeSuccess {
		return nil
	}
	records, _ := answerRecords(resp, probe, mdns.TypeA)
	var found []schema.Finding
	for _, rr := range records {
		if f, ok := finding(rr); ok {
			found = append(found, f)
		}
	}
	theirs, _ := chainAddresses(found, schema.NormalizeName(probe))
	for a := range mine {
		if !theirs[a] {
			return nil
		}
	}
	r.ans.Facts = append(r.ans.Facts, schema.Fact{Subject: name, Kind: "dns_wildcard", Value: "true", Evidence: evidence})
	return nil
}
