package analysis

import (
	"strings"

	"github.com/reconform/reconform/schema"
)

// KindStillResolves is the kind of the verification facts Verify makes.
const KindStillResolves = "still_resolves"

// verifiableTypes are the record types a live resolve of a name can
// confirm or refute: those the dns provider asks, less SOA, whose serial
// moves with every zone edit, so that old SOA values would all read "no"
// and say nothing. A resolve of an IP verifies its PTR records.
var verifiableTypes = []string{"A", "AAAA", "CNAME", "MX", "NS", "TXT", "CAA"}

// maxVerifyChain bounds the CNAME hops followed when matching a record.
const maxVerifyChain = 16

// Verify answers "which known records still resolve?" from this run's live
// DNS: for every finding whose name was the subject of a successful
// resolve instance (op resolve, status ok) asking the finding's type (PTR
// for an IP subject), one fact
//
//	Subject: the finding's identity, "name TYPE value" ("name" for a HOST finding)
//	Kind:    still_resolves
//	Value:   "yes" or "no"
//	Evidence: [the finding's ID]
//
// A record still resolves when a resolve instance reported it, directly
// or at the end of the name's CNAME chain (passive sources often record
// "www A 192.0.2.1" where the zone has www CNAME web, web A 192.0.2.1).
// A HOST finding (a name known to exist) still resolves when the name has
// any record of the asked types now. A name that is NXDOMAIN or has no
// record of the type gives "no". TXT at _dmarc.<name> counts as asked
// whenever TXT was asked for <name>, as the dns provider asks it too.
//
// Findings that only live DNS reported, and did report this run, are not
// judged: they are the live answer itself, with no history to verify. SOA
// findings are never judged. instances must be this run's: FindingIDs are
// not kept in the state file.
func Verify(findings []schema.Finding, instances []schema.InstanceResult) []schema.Fact {
	asked := map[string]map[string]bool{} // name -> types asked of it
	ask := func(name string, types []string) {
		if asked[name] == nil {
			asked[name] = map[string]bool{}
		}
		for _, t := range types {
			asked[name][t] = true
		}
	}
	reported := map[string]bool{}    // finding IDs live DNS reported
	hasRecords := map[string]bool{}  // names with a reported record
	cnames := map[string][]string{}  // name -> reported CNAME targets
	liveSources := map[string]bool{} // provider instances that answered resolve
	for _, in := range instances {
		q := in.Query
		if q.Op != schema.OpResolve || !in.Status.Succeeded() {
			continue
		}
		name := q.Subject.Value
		switch q.Subject.Kind {
		case schema.SubjectDomain:
			var types []string
			for _, t := range verifiableTypes {
				if q.WantsType(t) {
					types = append(types, t)
				}
			}
			ask(name, append(types, schema.TypeHost))
			if q.WantsType("TXT") && !strings.HasPrefix(name, "_") {
				ask("_dmarc."+name, []string{"TXT"})
			}
		case schema.SubjectIP:
			if q.WantsType("PTR") {
				ask(name, []string{"PTR"})
			}
		default:
			continue
		}
		liveSources[q.Provider] = true
		for _, id := range in.FindingIDs {
			reported[id] = true
			fields := strings.SplitN(id, " ", 3)
			if len(fields) < 3 {
				continue
			}
			hasRecords[fields[0]] = true
			if fields[1] == "CNAME" {
				cnames[fields[0]] = append(cnames[fields[0]], fields[2])
			}
		}
	}
	if len(asked) == 0 {
		return nil
	}

	// resolves reports whether name, or a name its CNAME chain reaches,
	// has the record (t, v) live.
	resolves := func(name, t, v string) bool {
		seen := map[string]bool{}
		next := []string{name}
		for hop := 0; hop <= maxVerifyChain && len(next) > 0; hop++ {
			var after []string
			for _, n := range next {
				if seen[n] {
					continue
				}
				seen[n] = true
				if reported[n+" "+t+" "+v] {
					return true
				}
				after = append(after, cnames[n]...)
			}
			next = after
		}
		return false
	}

	var facts []schema.Fact
	for _, f := range findings {
		if f.Type == "SOA" || !asked[f.Name][f.Type] {
			continue
		}
		id := f.ID()
		if reported[id] && onlyFrom(f.Sources, liveSources) {
			continue
		}
		var yes bool
		subject := id
		if f.Type == schema.TypeHost {
			subject, yes = f.Name, hasRecords[f.Name]
		} else {
			yes = resolves(f.Name, f.Type, f.Value)
		}
		value := "no"
		if yes {
			value = "yes"
		}
		facts = append(facts, schema.Fact{Subject: subject, Kind: KindStillResolves, Value: value, Evidence: []string{id}})
	}
	schema.SortFacts(facts)
	return facts
}

// onlyFrom reports whether every source is one of set (and there is one).
func onlyFrom(sources []string, set map[string]bool) bool {
	for _, s := range sources {
		if !set[s] {
			return false
		}
	}
	return len(sources) > 0
}
