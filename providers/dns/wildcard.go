package dns

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"

	mdns "github.com/miekg/dns"

	"github.com/reconform/reconform/schema"
)

// Wildcard detection (wildcard_check = true). A zone with *.acme.example
// answers for every name under acme.example, so "old.acme.example still
// resolves" proves nothing there. Before judging a name, the provider asks
// A for a random label beside it (once per parent per run); when the
// name's A answer is no more than what the random name gets, the name is
// only matched by the wildcard and the answer carries
//
//	Subject: the name, Kind: dns_wildcard, Value: "*.<parent>"
//
// The probe is a query for a name that does not exist: it is off by
// default, as it makes recon a little easier to spot.

// wildcardSet is what a random name under one parent resolves to: the A
// values and CNAME targets of its answer ("A 192.0.2.1", "CNAME x.example").
type wildcardSet struct {
	mu     sync.Mutex
	probed bool
	values map[string]bool // empty: no wildcard
}

// wildcards caches the probes of one provider instance (one run).
type wildcards struct {
	mu      sync.Mutex
	parents map[string]*wildcardSet
}

func (w *wildcards) get(parent string) *wildcardSet {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.parents == nil {
		w.parents = map[string]*wildcardSet{}
	}
	s, ok := w.parents[parent]
	if !ok {
		s = &wildcardSet{}
		w.parents[parent] = s
	}
	return s
}

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

// answerValues is what the answer to (name, A) resolves to: the chain's
// CNAME targets and the A values at its end.
func answerValues(resp *mdns.Msg, name string) map[string]bool {
	records, _ := answerRecords(resp, name, mdns.TypeA)
	out := map[string]bool{}
	for _, rr := range records {
		if f, ok := finding(rr); ok && (f.Type == "A" || f.Type == "CNAME") {
			out[f.Type+" "+f.Value] = true
		}
	}
	return out
}

// checkWildcard adds a dns_wildcard fact when name's A answer is covered
// by its parent's wildcard. It asks the probe the first time a parent is
// seen in this run.
func (r *run) checkWildcard(ctx context.Context, name string) error {
	i := strings.IndexByte(name, '.')
	if i < 0 || strings.HasPrefix(name, "_") {
		return nil
	}
	parent := name[i+1:]
	if !strings.Contains(parent, ".") {
		return nil // a TLD-level parent: nothing to learn, and not ours to probe
	}
	// What the name resolves to: the A values at the end of its chain.
	mine := map[string]bool{}
	var evidence []string
	next := map[string]bool{name: true}
	for hop := 0; hop <= maxChain && len(next) > 0; hop++ {
		after := map[string]bool{}
		for _, f := range r.ans.Findings {
			if !next[f.Name] {
				continue
			}
			switch f.Type {
			case "A":
				mine["A "+f.Value] = true
				evidence = append(evidence, f.ID())
			case "CNAME":
				after[f.Value] = true
				evidence = append(evidence, f.ID())
			}
		}
		next = after
	}
	if len(mine) == 0 {
		return nil
	}
	set := r.p.wildcards.get(parent)
	set.mu.Lock()
	defer set.mu.Unlock()
	if !set.probed {
		probe := randomLabel() + "." + parent
		resp, err := r.p.exchange(ctx, probe, mdns.TypeA, &r.ans.Requests)
		if err != nil {
			return err
		}
		set.values = map[string]bool{}
		if resp.Rcode == mdns.RcodeSuccess {
			set.values = answerValues(resp, probe)
		}
		set.probed = true
	}
	if len(set.values) == 0 {
		return nil
	}
	// Compare what both finally resolve to: a name may reach the
	// wildcard's addresses through a CNAME of its own, or be the CNAME
	// the wildcard synthesises.
	for v := range mine {
		if !set.values[v] {
			return nil
		}
	}
	r.ans.Facts = append(r.ans.Facts, schema.Fact{Subject: name, Kind: "dns_wildcard", Value: "*." + parent, Evidence: evidence})
	return nil
}
