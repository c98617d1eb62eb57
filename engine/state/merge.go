package state

import (
	"sort"
	"strings"
	"time"

	"github.com/reconform/reconform/engine/analysis"
	"github.com/reconform/reconform/schema"
)

// DefaultCurrentWindow is the current_window when the engagement sets none.
const DefaultCurrentWindow = 30 * 24 * time.Hour

// MergeOptions come from the engagement.
type MergeOptions struct {
	// CurrentWindow: a finding whose last_seen is within this of Now is
	// current (0: DefaultCurrentWindow).
	CurrentWindow time.Duration
	// ForgetAfter: a finding unverified for this long is dropped (0: never).
	ForgetAfter time.Duration
	// Now is the time of the run (zero: the run's finish time).
	Now time.Time
	// ASNTable and Scope (the engagement's own domains) are passed to
	// analysis.Derive, with the run's instances.
	ASNTable string
	Scope    []string
	// Derive computes derived facts (nil: analysis.Derive); tests and
	// tools that want other facts replace it.
	Derive func([]schema.Finding, analysis.Options) []schema.Fact
	// Secrets are values that must never be stored (the sensitive provider
	// attributes); they are redacted from every reason and warning, on top
	// of the providers' own redaction.
	Secrets []string
}

// Merge folds one run into the previous state (nil for the first run) and
// returns the new state; prev is not modified. Serial and lineage are kept
// from prev; Store.Write moves them.
//
//   - A finding the run reported: added, or updated (first/last seen,
//     count, sources, the instances that reported it).
//   - A previous finding the run did not report although every instance
//     that ever reported it succeeded: removed.
//   - Otherwise (one of them failed, was skipped or cancelled, or was not
//     planned): kept, marked unverified with the reason, its currency
//     unchanged, until it is seen again or unverified for ForgetAfter.
//   - A finding seen again that is no longer current keeps its currency
//     while one of the instances that reported it before did not succeed.
//   - Facts: the run's and analysis.Derive's over all merged findings,
//     except that a previous fact resting only on unverified findings
//     is kept, so a provider failure never looks like a fact change.
//   - A partial run (-target: run.Targets is set) says nothing about the
//     blocks it left out: a previous finding that one of the run's
//     instances did not ask about again is kept exactly as it was (not
//     unverified, not removed), and the instances the run did not ask
//     are kept with their last status.
func Merge(prev *State, run *schema.RunResult, opts MergeOptions) *State {
	now := opts.Now
	if now.IsZero() {
		now = run.FinishedAt
	}
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	window := opts.CurrentWindow
	if window <= 0 {
		window = DefaultCurrentWindow
	}
	red := newRedactor(opts.Secrets)

	next := &State{FormatVersion: FormatVersion, Engagement: run.Engagement, ConfigHash: run.ConfigHash}
	if prev != nil {
		next.Serial, next.Lineage = prev.Serial, prev.Lineage
		if next.Engagement == "" {
			next.Engagement = prev.Engagement
		}
	}

	// The run's instances, and which of them reported each finding.
	byKey := make(map[string]*schema.InstanceResult, len(run.Instances))
	reporters := map[string][]string{}
	partial := len(run.Targets) > 0
	next.Run = RunSummary{
		StartedAt: run.StartedAt, FinishedAt: run.FinishedAt, Interrupted: run.Interrupted,
		Instances: map[schema.InstanceStatus]int{}, Requests: map[string]int{},
		Warnings: red.all(append([]string(nil), run.Warnings...)),
		Targets:  append([]string(nil), run.Targets...),
		Plan:     run.Plan,
	}
	// blocksOf are the blocks each finding was attributed to by the
	// instances that reported it this run.
	blocksOf := map[string][]string{}
	for i := range run.Instances {
		in := run.Instances[i]
		in.Reason = red.apply(in.Reason)
		in.FindingIDs = nil
		next.Instances = append(next.Instances, in)
		inst := &run.Instances[i]
		byKey[inst.Key] = inst
		for _, id := range inst.FindingIDs {
			reporters[id] = append(reporters[id], inst.Key)
			blocksOf[id] = append(blocksOf[id], instanceBlocks(inst)...)
		}
		next.Run.Instances[inst.Status]++
		if inst.Requests > 0 {
			next.Run.Requests[inst.Query.Provider] += inst.Requests
		}
	}

	if partial && prev != nil {
		for i := range prev.Instances {
			if _, ran := byKey[prev.Instances[i].Key]; !ran {
				next.Instances = append(next.Instances, prev.Instances[i])
			}
		}
	}

	// Identities are built once: ID() concatenates a new string each call.
	prevByID := map[string]*Finding{}
	var prevIDs []string
	if prev != nil {
		prevIDs = make([]string, len(prev.Findings))
		for i := range prev.Findings {
			prevIDs[i] = prev.Findings[i].ID()
			prevByID[prevIDs[i]] = &prev.Findings[i]
		}
	}

	// Findings the run reported, deduplicated by identity.
	seen := map[string]int{} // id -> index in next.Findings
	var seenIDs []string     // next.Findings[i]'s id, for those the run reported
	for i := range run.Findings {
		rf := run.Findings[i]
		id := rf.ID()
		keys := reporters[id]
		if len(keys) == 0 && rf.Query != "" {
			keys = []string{rf.Query}
		}
		if j, ok := seen[id]; ok {
			absorb(&next.Findings[j], &rf, keys)
			next.Findings[j].Blocks = unionSorted(next.Findings[j].Blocks, blocksOf[id])
			next.Findings[j].Currency = currency(&next.Findings[j].Finding, now, window)
			continue
		}
		var f Finding
		if p := prevByID[id]; p != nil {
			f = cloneFinding(p)
			f.Unverified, f.UnverifiedSince = "", time.Time{}
			f.Current = false
			absorb(&f, &rf, keys)
			if f.Block == "" {
				f.Block = blockOf(&rf, keys, byKey)
			}
			// The blocks that reported it now; a partial run adds to
			// the ones it had, as the others were not asked.
			f.Blocks = unionSorted(nil, blocksOf[id])
			if partial {
				f.Blocks = unionSorted(p.BlocksOf(), blocksOf[id])
			}
		} else {
			f = Finding{Finding: rf}
			f.Sources = unionSorted(nil, rf.Sources)
			f.Instances = unionSorted(nil, keys)
			f.Block = blockOf(&rf, keys, byKey)
			f.Blocks = unionSorted(nil, blocksOf[id])
		}
		if len(f.Blocks) == 0 && f.Block != "" {
			f.Blocks = []string{f.Block}
		}
		f.Currency = currency(&f.Finding, now, window)
		seen[id] = len(next.Findings)
		seenIDs = append(seenIDs, id)
		next.Findings = append(next.Findings, f)
	}
	next.Run.Findings = len(seen)

	// A finding seen again but no longer current keeps its currency when
	// one of the instances that reported it before did not succeed: the
	// source that saw it current may be the one that failed, and a failed
	// provider must not look like a record going historical.
	for i, id := range seenIDs {
		f := &next.Findings[i]
		if p := prevByID[id]; p != nil && p.IsCurrent() && !f.IsCurrent() && unverifiedReason(p.Instances, byKey) != "" {
			f.Currency = Current
		}
	}

	// Previous findings the run did not report.
	if prev != nil {
		for i := range prev.Findings {
			p := &prev.Findings[i]
			if _, ok := seen[prevIDs[i]]; ok {
				continue
			}
			if partial && !allRan(p.Instances, byKey) {
				// A source that reported it was not asked: the run
				// says nothing about it.
				next.Findings = append(next.Findings, cloneFinding(p))
				continue
			}
			reason := unverifiedReason(p.Instances, byKey)
			if reason == "" {
				continue // every instance that reported it succeeded: gone
			}
			f := cloneFinding(p)
			f.Unverified = red.apply(reason)
			if f.UnverifiedSince.IsZero() {
				f.UnverifiedSince = now
			}
			if opts.ForgetAfter > 0 && now.Sub(f.UnverifiedSince) >= opts.ForgetAfter {
				continue // unverified for too long: forgotten
			}
			next.Findings = append(next.Findings, f)
		}
	}
	for i := range next.Findings {
		next.Findings[i].Current = next.Findings[i].IsCurrent()
	}
	SortFindings(next.Findings)

	derive := opts.Derive
	if derive == nil {
		derive = analysis.Derive
	}
	instances := run.Instances
	var touched map[string]bool
	if partial {
		// What the earlier runs asked still counts (a TXT record asked
		// for and absent is a fact), except live answers, which only
		// this run's instances, with their findings, can verify.
		instances = append([]schema.InstanceResult(nil), run.Instances...)
		for _, in := range next.Instances[len(run.Instances):] {
			if in.Query.Op != schema.OpResolve {
				instances = append(instances, in)
			}
		}
		touched = make(map[string]bool, len(seen))
		for id := range seen {
			touched[id] = true
		}
	}
	// The facts providers reported, with those of earlier runs that a
	// failed query could not renew: derived facts (takeover, dangling,
	// CAA) read them, so a failed RDAP or HTTP query keeps them too.
	reported := reportedFacts(run.Facts, mergeFacts(prev, next, run.Facts, nil, run.Instances, touched))
	derived := derive(next.SchemaFindings(), analysis.Options{ASNTable: opts.ASNTable, Scope: opts.Scope, Instances: instances, Facts: reported})
	next.Facts = mergeFacts(prev, next, reported, derived, run.Instances, touched)
	next.Normalize()
	return next
}

// blockOf is the block of the instance that produced rf: its first
// instance, else any that reported it.
func blockOf(rf *schema.Finding, keys []string, byKey map[string]*schema.InstanceResult) string {
	if inst := byKey[rf.Query]; inst != nil {
		return inst.Block
	}
	for _, k := range keys {
		if inst := byKey[k]; inst != nil {
			return inst.Block
		}
	}
	return ""
}

// instanceBlocks are the blocks an instance served.
func instanceBlocks(in *schema.InstanceResult) []string {
	if len(in.Blocks) > 0 {
		return in.Blocks
	}
	if in.Block != "" {
		return []string{in.Block}
	}
	return nil
}

// allRan reports whether every one of keys is an instance of the run.
func allRan(keys []string, byKey map[string]*schema.InstanceResult) bool {
	for _, k := range keys {
		if byKey[k] == nil {
			return false
		}
	}
	return len(keys) > 0
}

// absorb updates f with another report rf of the same finding.
func absorb(f *Finding, rf *schema.Finding, keys []string) {
	if !rf.FirstSeen.IsZero() && (f.FirstSeen.IsZero() || rf.FirstSeen.Before(f.FirstSeen)) {
		f.FirstSeen = rf.FirstSeen
	}
	if rf.LastSeen.After(f.LastSeen) {
		f.LastSeen = rf.LastSeen
	}
	if rf.Count > f.Count {
		f.Count = rf.Count
	}
	f.Sources = unionSorted(f.Sources, rf.Sources)
	f.Instances = unionSorted(f.Instances, keys)
	f.Current = f.Current || rf.Current
	f.Active = f.Active || rf.Active
	if f.Query == "" {
		f.Query, f.Depth = rf.Query, rf.Depth
	}
}

// currency: current when a current-records source reported it this run,
// when its last_seen is within the window, or when the source gave no
// dates at all (it was reported now, and nothing says it is old).
func currency(f *schema.Finding, now time.Time, window time.Duration) Currency {
	switch {
	case f.Current:
		return Current
	case f.LastSeen.IsZero() && f.FirstSeen.IsZero():
		return Current
	case !f.LastSeen.IsZero() && now.Sub(f.LastSeen) <= window:
		return Current
	}
	return Historical
}

// unverifiedReason says why the run could not confirm a finding reported
// by the instances keys, or "" when all of them succeeded.
func unverifiedReason(keys []string, byKey map[string]*schema.InstanceResult) string {
	if len(keys) == 0 {
		return "no query instance recorded for it"
	}
	for _, k := range keys {
		in := byKey[k]
		if in == nil {
			return "not planned in this run"
		}
		if in.Status.Succeeded() && !in.Truncated {
			continue
		}
		if in.Truncated {
			return withDetail("answer truncated", in.Reason)
		}
		switch in.Status {
		case schema.StatusFailed:
			return withDetail("query failed", in.Reason)
		case schema.StatusSkipped:
			if strings.HasPrefix(in.Reason, "deferred: ") {
				// A query deferred for a vendor's quota says so itself,
				// with the time the next window opens.
				return in.Reason
			}
			return withDetail("skipped", in.Reason)
		case schema.StatusCancelled:
			return withDetail("cancelled", in.Reason)
		default:
			return withDetail("not run", in.Reason)
		}
	}
	return ""
}

func withDetail(what, reason string) string {
	if reason == "" {
		return what
	}
	return what + ": " + reason
}

// reportedFacts are the run's facts, and those of merged (the run's with
// the previous facts kept) that are of kinds analysis.Derive does not
// make: a derived fact kept from before is derived again, not reported.
func reportedFacts(run, merged []schema.Fact) []schema.Fact {
	out := append([]schema.Fact(nil), run...)
	have := map[string]bool{}
	for _, f := range run {
		have[f.ID()] = true
	}
	for _, f := range merged {
		if !have[f.ID()] && !analysis.IsDerivedKind(f.Kind) && f.Kind != analysis.KindStillResolves {
			out = append(out, f)
		}
	}
	return out
}

// mergeFacts replaces the facts by this run's (reported and derived),
// keeping a previous fact whose evidence is only unverified findings (or,
// in a partial run, findings the run did not report: touched is what it
// did), unless the new facts already restate it: a fact of the same
// subject and kind resting on some of the same evidence. A previous fact
// without evidence (a registry's or a web server's answer, an NXDOMAIN)
// is kept when a query of this run (instances) about its subject did not
// succeed, or, in a partial run, when none asked about it; in both cases
// only while no new fact of its subject and kind replaces it.
func mergeFacts(prev, next *State, runFacts, derived []schema.Fact, instances []schema.InstanceResult, touched map[string]bool) []schema.Fact {
	facts := append(append([]schema.Fact(nil), runFacts...), derived...)
	have := map[string]bool{}
	evidence := map[string]map[string]bool{} // subject+kind -> evidence of new facts
	out := facts[:0]
	for _, f := range facts {
		if have[f.ID()] {
			continue
		}
		have[f.ID()] = true
		out = append(out, f)
		k := f.Subject + " " + f.Kind
		if evidence[k] == nil {
			evidence[k] = map[string]bool{}
		}
		for _, e := range f.Evidence {
			evidence[k][e] = true
		}
	}
	if prev != nil {
		unverified := map[string]bool{}
		for i := range next.Findings {
			if next.Findings[i].Unverified != "" {
				unverified[next.Findings[i].ID()] = true
			}
		}
		failed, answered := map[string]bool{}, map[string]bool{} // subjects of this run's queries
		for _, in := range instances {
			subjects := []string{in.Query.Subject.Value}
			if d := schema.RegisteredDomain(in.Query.Subject.Value); in.Query.Op == schema.OpRegistration && d != "" {
				subjects = append(subjects, d) // rdap answers for the registrable domain
			}
			for _, subj := range subjects {
				if in.Status.Succeeded() {
					answered[subj] = true
				} else {
					failed[subj] = true
				}
			}
		}
		for _, f := range prev.Facts {
			if have[f.ID()] {
				continue
			}
			if len(f.Evidence) == 0 {
				unrenewed := failed[f.Subject] || (touched != nil && !answered[f.Subject])
				if unrenewed && evidence[f.Subject+" "+f.Kind] == nil && !analysis.IsDerivedKind(f.Kind) {
					have[f.ID()] = true
					out = append(out, f)
				}
				continue
			}
			onlyUnverified, restated := true, false
			for _, e := range f.Evidence {
				if !unverified[e] && (touched == nil || touched[e]) {
					onlyUnverified = false
				}
				if evidence[f.Subject+" "+f.Kind][e] {
					restated = true
				}
			}
			if onlyUnverified && !restated {
				have[f.ID()] = true
				out = append(out, f)
			}
		}
	}
	schema.SortFacts(out)
	return out
}

func cloneFinding(p *Finding) Finding {
	f := *p
	f.Sources = append([]string(nil), p.Sources...)
	f.Instances = append([]string(nil), p.Instances...)
	f.Blocks = append([]string(nil), p.Blocks...)
	return f
}

// unionSorted returns the sorted union of a and b without duplicates.
func unionSorted(a, b []string) []string {
	if len(b) == 0 && sort.StringsAreSorted(a) {
		return a
	}
	set := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, list := range [][]string{a, b} {
		for _, s := range list {
			if s != "" && !set[s] {
				set[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// redactor replaces secret values in text.
type redactor struct{ r *strings.Replacer }

func newRedactor(secrets []string) redactor {
	var pairs []string
	// Longest first, so a secret containing another is replaced whole.
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, s := range sorted {
		if len(s) >= 4 { // shorter values would shred ordinary text
			pairs = append(pairs, s, "[redacted]")
		}
	}
	if len(pairs) == 0 {
		return redactor{}
	}
	return redactor{strings.NewReplacer(pairs...)}
}

func (r redactor) apply(s string) string {
	if r.r == nil || s == "" {
		return s
	}
	return r.r.Replace(s)
}

func (r redactor) all(ss []string) []string {
	for i := range ss {
		ss[i] = r.apply(ss[i])
	}
	return ss
}

// Redact removes secrets from every free-text field of s (reasons and
// warnings); used before writing a state edited outside Merge.
func (s *State) Redact(secrets []string) {
	r := newRedactor(secrets)
	for i := range s.Instances {
		s.Instances[i].Reason = r.apply(s.Instances[i].Reason)
	}
	for i := range s.Findings {
		s.Findings[i].Unverified = r.apply(s.Findings[i].Unverified)
	}
	s.Run.Warnings = r.all(s.Run.Warnings)
}
