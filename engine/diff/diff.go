// Package diff compares two states by identity and says what drifted:
// findings added, removed, becoming current or going historical, values
// replaced, findings a run could not verify, and facts that changed. It
// renders the result as human text, Markdown and a stable JSON document.
package diff

import (
	"net/netip"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// Side identifies one of the two compared states.
type Side struct {
	Serial     uint64
	Lineage    string
	Engagement string
	FinishedAt time.Time
	Findings   int
}

// Result is the drift from Old to New. Every list is sorted by identity.
type Result struct {
	// Old is nil when there was no previous state (a first run).
	Old, New *Side

	Added          []*state.Finding // never in the old state
	Removed        []*state.Finding // in the old state, gone: a source no longer reports it
	BecameCurrent  []*state.Finding // historical before, current now
	WentHistorical []*state.Finding // current before, historical now
	// Changed pairs a value that left a (name, type) with one that came:
	// an A record moving, a TXT or SPF record edited.
	Changed []Change

	// Not drift, but shown: findings the new run could not confirm (kept,
	// not removed), confirmed again, or dropped after forget_after.
	Unverified []*state.Finding
	Reverified []*state.Finding
	Forgotten  []*state.Finding

	FactsAdded   []schema.Fact
	FactsRemoved []schema.Fact
	FactsChanged []FactChange

	// Ignored counts drift items the engagement's ignore rules hid.
	Ignored int
}

// How a value left or came in a Change.
const (
	HowAdded          = "added"
	HowRemoved        = "removed"
	HowBecameCurrent  = "became_current"
	HowWentHistorical = "went_historical"
)

// Change is one value of a (name, type) replaced by another.
type Change struct {
	Name, Type string
	Old, New   *state.Finding
	// OldHow is HowRemoved or HowWentHistorical; NewHow is HowAdded or
	// HowBecameCurrent.
	OldHow, NewHow string
	// Text is a character diff of the values for text records (TXT, SPF);
	// nil for others.
	Text []Span
}

// Span is a piece of a character diff.
type Span struct {
	Op   string `json:"op"` // "equal", "delete", "insert"
	Text string `json:"text"`
}

// FactChange is one value of a (subject, kind) fact replaced by another.
type FactChange struct {
	Subject, Kind string
	Old, New      string
	// Weakening is set when the new value is a weaker security posture
	// (DMARC reject -> none, SPF -all -> ~all).
	Weakening bool

	oldEvidence, newEvidence []string
}

// HasDrift reports whether anything not hidden by ignore rules changed in
// the infrastructure. Unverified findings are not drift: a failed provider
// is an error of the run, not a change of the target.
func (r *Result) HasDrift() bool {
	return len(r.Added)+len(r.Removed)+len(r.BecameCurrent)+len(r.WentHistorical)+len(r.Changed)+
		len(r.FactsAdded)+len(r.FactsRemoved)+len(r.FactsChanged) > 0
}

// Weakenings counts fact changes that weaken a security posture.
func (r *Result) Weakenings() int {
	n := 0
	for _, c := range r.FactsChanged {
		if c.Weakening {
			n++
		}
	}
	return n
}

func side(s *state.State) *Side {
	if s == nil {
		return nil
	}
	return &Side{Serial: s.Serial, Lineage: s.Lineage, Engagement: s.Engagement, FinishedAt: s.Run.FinishedAt, Findings: len(s.Findings)}
}

// confirmedGone reports whether every query instance that ever reported
// f ran in the new run and succeeded (ok: new's instances by key): an
// unverified finding such a run does not report was removed from the
// infrastructure (as Merge decides), not forgotten after forget_after.
func confirmedGone(f *state.Finding, ok map[string]bool) bool {
	if len(f.Instances) == 0 {
		return false
	}
	for _, k := range f.Instances {
		if !ok[k] {
			return false
		}
	}
	return true
}

// Compare returns the drift from old to new (old nil: everything in new
// is added). Both states' findings must be sorted by identity, as Decode
// and Merge leave them. Ignore rules hide matching findings from the
// result and are counted in Ignored; they never change the states.
func Compare(old, new *state.State, ignore []schema.IgnoreRule) *Result {
	r := &Result{Old: side(old), New: side(new)}
	var of, nf []state.Finding
	if old != nil {
		of = old.Findings
	}
	if new != nil {
		nf = new.Findings
	}
	ig := ignorer(ignore)
	var okKeys map[string]bool
	succeeded := func() map[string]bool { // new's succeeded instances, built once when needed
		if okKeys == nil {
			okKeys = map[string]bool{}
			if new != nil {
				for _, in := range new.Instances {
					okKeys[in.Key] = in.Status.Succeeded()
				}
			}
		}
		return okKeys
	}

	// A merge join over two sorted lists: the same walk as comm(1).
	i, j := 0, 0
	for i < len(of) || j < len(nf) {
		var c int
		switch {
		case i == len(of):
			c = 1
		case j == len(nf):
			c = -1
		default:
			c = schema.CompareFindings(&of[i].Finding, &nf[j].Finding)
		}
		switch {
		case c < 0:
			o := &of[i]
			if o.Unverified != "" && !confirmedGone(o, succeeded()) {
				r.Forgotten = append(r.Forgotten, o)
			} else {
				r.Removed = append(r.Removed, o)
			}
			i++
		case c > 0:
			r.Added = append(r.Added, &nf[j])
			j++
		default:
			o, n := &of[i], &nf[j]
			switch {
			case o.IsCurrent() && !n.IsCurrent():
				r.WentHistorical = append(r.WentHistorical, n)
			case !o.IsCurrent() && n.IsCurrent():
				r.BecameCurrent = append(r.BecameCurrent, n)
			}
			switch {
			case o.Unverified == "" && n.Unverified != "":
				r.Unverified = append(r.Unverified, n)
			case o.Unverified != "" && n.Unverified == "":
				r.Reverified = append(r.Reverified, n)
			}
			i++
			j++
		}
	}
	r.pairChanges()
	r.applyIgnore(ig)
	if old != nil || new != nil {
		var oldFacts, newFacts []schema.Fact
		if old != nil {
			oldFacts = old.Facts
		}
		if new != nil {
			newFacts = new.Facts
		}
		r.compareFacts(oldFacts, newFacts)
		r.ignoreFacts(ig)
	}
	return r
}

// groupKey is the (name, type) of a finding, plus for text records the
// kind of record ("v=spf1", "google-site-verification"), so that an SPF
// edit pairs with the SPF record and not with a verification token.
func groupKey(f *state.Finding) string {
	k := f.Name + " " + f.Type
	if isText(f.Type) {
		k += " " + textKind(f.Value)
	}
	return k
}

func isText(t string) bool { return t == "TXT" || t == "SPF" }

func textKind(v string) string {
	v = strings.TrimSpace(v)
	lower := strings.ToLower(v)
	if strings.HasPrefix(lower, "v=") {
		if i := strings.IndexAny(lower, " ;"); i > 0 {
			return lower[:i]
		}
		return lower
	}
	if i := strings.IndexAny(lower, "=:"); i > 0 {
		return lower[:i]
	}
	return ""
}

// pairChanges turns a lone value leaving a group and a lone value coming
// into it into one Change.
func (r *Result) pairChanges() {
	type slot struct {
		f   *state.Finding
		how string
		n   int
	}
	outs, ins := map[string]*slot{}, map[string]*slot{}
	note := func(m map[string]*slot, f *state.Finding, how string) {
		k := groupKey(f)
		if s := m[k]; s != nil {
			s.n++
			return
		}
		m[k] = &slot{f: f, how: how, n: 1}
	}
	for _, f := range r.Removed {
		note(outs, f, HowRemoved)
	}
	for _, f := range r.WentHistorical {
		note(outs, f, HowWentHistorical)
	}
	for _, f := range r.Added {
		note(ins, f, HowAdded)
	}
	for _, f := range r.BecameCurrent {
		note(ins, f, HowBecameCurrent)
	}
	paired := map[*state.Finding]bool{}
	for k, o := range outs {
		in := ins[k]
		if in == nil || o.n != 1 || in.n != 1 {
			continue
		}
		c := Change{Name: o.f.Name, Type: o.f.Type, Old: o.f, New: in.f, OldHow: o.how, NewHow: in.how}
		if isText(c.Type) {
			c.Text = textDiff(o.f.Value, in.f.Value)
		}
		r.Changed = append(r.Changed, c)
		paired[o.f], paired[in.f] = true, true
	}
	if len(paired) == 0 {
		return
	}
	drop := func(list []*state.Finding) []*state.Finding {
		out := list[:0]
		for _, f := range list {
			if !paired[f] {
				out = append(out, f)
			}
		}
		return out
	}
	r.Removed, r.WentHistorical = drop(r.Removed), drop(r.WentHistorical)
	r.Added, r.BecameCurrent = drop(r.Added), drop(r.BecameCurrent)
	sort.Slice(r.Changed, func(i, j int) bool {
		return schema.CompareFindings(&r.Changed[i].Old.Finding, &r.Changed[j].Old.Finding) < 0
	})
}

// maxTextDiff bounds the character diff; longer values are shown whole.
const maxTextDiff = 4096

func textDiff(a, b string) []Span {
	if len(a) > maxTextDiff || len(b) > maxTextDiff {
		return []Span{{Op: "delete", Text: a}, {Op: "insert", Text: b}}
	}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // deterministic: never cut short by the clock
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(a, b, false))
	out := make([]Span, 0, len(diffs))
	for _, d := range diffs {
		op := "equal"
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = "delete"
		case diffmatchpatch.DiffInsert:
			op = "insert"
		}
		out = append(out, Span{Op: op, Text: d.Text})
	}
	return out
}

// compareFacts diffs the fact sets; a (subject, kind) whose single value
// was replaced by another single value is a change.
func (r *Result) compareFacts(oldFacts, newFacts []schema.Fact) {
	oldIDs, newIDs := map[string]bool{}, map[string]bool{}
	for _, f := range oldFacts {
		oldIDs[f.ID()] = true
	}
	for _, f := range newFacts {
		newIDs[f.ID()] = true
	}
	var added, removed []schema.Fact
	for _, f := range newFacts {
		if !oldIDs[f.ID()] {
			added = append(added, f)
		}
	}
	for _, f := range oldFacts {
		if !newIDs[f.ID()] {
			removed = append(removed, f)
		}
	}
	group := func(fs []schema.Fact) map[string][]int {
		m := map[string][]int{}
		for i, f := range fs {
			k := f.Subject + " " + f.Kind
			m[k] = append(m[k], i)
		}
		return m
	}
	ga, gr := group(added), group(removed)
	usedA, usedR := map[int]bool{}, map[int]bool{}
	for k, ri := range gr {
		ai := ga[k]
		if len(ri) != 1 || len(ai) != 1 {
			continue
		}
		o, n := removed[ri[0]], added[ai[0]]
		r.FactsChanged = append(r.FactsChanged, FactChange{Subject: o.Subject, Kind: o.Kind, Old: o.Value, New: n.Value,
			Weakening: weakens(o.Kind, o.Value, n.Value), oldEvidence: o.Evidence, newEvidence: n.Evidence})
		usedR[ri[0]], usedA[ai[0]] = true, true
	}
	for i, f := range added {
		if !usedA[i] {
			r.FactsAdded = append(r.FactsAdded, f)
		}
	}
	for i, f := range removed {
		if !usedR[i] {
			r.FactsRemoved = append(r.FactsRemoved, f)
		}
	}
	schema.SortFacts(r.FactsAdded)
	schema.SortFacts(r.FactsRemoved)
	sort.Slice(r.FactsChanged, func(i, j int) bool {
		a, b := r.FactsChanged[i], r.FactsChanged[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Kind < b.Kind
	})
}

// Posture ranks: higher is stronger. A change to a lower rank weakens.
var (
	dmarcRank = map[string]int{"reject": 3, "quarantine": 2, "none": 1, "missing": 0, "absent": 0}
	spfRank   = map[string]int{
		"-all": 4, "fail": 4, "hardfail": 4,
		"~all": 3, "softfail": 3,
		"?all": 2, "neutral": 2, "no-all": 2, // no all term: the result is neutral (RFC 7208 4.7)
		"+all": 1, "pass": 1, "all": 1,
		"missing": 0, "none": 0, "absent": 0,
	}
)

func weakens(kind, old, new string) bool {
	kind = strings.ToLower(kind)
	var ranks map[string]int
	switch {
	case strings.Contains(kind, "dmarc"):
		ranks = dmarcRank
	case strings.Contains(kind, "spf"):
		ranks = spfRank
	default:
		return false
	}
	o, ok1 := ranks[strings.ToLower(strings.TrimSpace(old))]
	n, ok2 := ranks[strings.ToLower(strings.TrimSpace(new))]
	return ok1 && ok2 && n < o
}

// ignoreRules matches findings against the engagement's ignore rules,
// prepared once (normalised name pattern, value prefix) rather than for
// every finding they are tried on.
type ignoreRules []ignoreRule

type ignoreRule struct {
	name     string // glob over the normalised name; "" matches any
	typ      string // "" matches any; compared without case
	value    string // glob over the value, tried as written and lower-cased
	lower    string
	prefix   netip.Prefix // set when the value is a CIDR
	isPrefix bool
	hasValue bool
}

func ignorer(rules []schema.IgnoreRule) ignoreRules {
	out := make(ignoreRules, 0, len(rules))
	for _, r := range rules {
		if r.Name == "" && r.Type == "" && r.Value == "" {
			continue // an empty rule would hide everything: surely a mistake
		}
		ir := ignoreRule{typ: r.Type, hasValue: r.Value != ""}
		if r.Name != "" {
			ir.name = globPattern(schema.NormalizeNamePattern(r.Name))
		}
		if ir.hasValue {
			if p, err := schema.ParseCIDR(r.Value); err == nil {
				ir.prefix, ir.isPrefix = p, true
			} else {
				ir.value, ir.lower = globPattern(r.Value), globPattern(strings.ToLower(r.Value))
			}
		}
		out = append(out, ir)
	}
	return out
}

// Match reports whether any rule hides f.
func (rules ignoreRules) Match(f *schema.Finding) bool {
	for i := range rules {
		if rules[i].matches(f) {
			return true
		}
	}
	return false
}

// MatchesIgnore reports whether an ignore rule hides the finding.
func MatchesIgnore(rules []schema.IgnoreRule, f *schema.Finding) bool {
	return ignorer(rules).Match(f)
}

func (r *ignoreRule) matches(f *schema.Finding) bool {
	if r.name != "" && !glob(r.name, f.Name) {
		return false
	}
	if r.typ != "" && !strings.EqualFold(r.typ, f.Type) {
		return false
	}
	if r.hasValue {
		if r.isPrefix {
			a, err := netip.ParseAddr(f.Value)
			return err == nil && r.prefix.Contains(a.Unmap())
		}
		return glob(r.value, f.Value) || glob(r.lower, strings.ToLower(f.Value))
	}
	return true
}

// globPattern prepares a shell-style pattern for glob: * spans any
// characters, including the / of a TXT value.
func globPattern(p string) string { return strings.ReplaceAll(p, "/", "\x00") }

// glob matches s against a pattern prepared by globPattern.
func glob(pattern, s string) bool {
	ok, err := path.Match(pattern, strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}

// evidenceIgnored reports whether a fact rests only on findings the rules
// hide: the facts derived from a CDN's churn are churn too.
func (rules ignoreRules) evidenceIgnored(evidence []string) bool {
	if len(rules) == 0 || len(evidence) == 0 {
		return false
	}
	for _, id := range evidence {
		parts := strings.SplitN(id, " ", 3)
		if len(parts) < 2 {
			return false
		}
		f := schema.Finding{Name: parts[0], Type: parts[1]}
		if len(parts) == 3 {
			f.Value = parts[2]
		}
		if !rules.Match(&f) {
			return false
		}
	}
	return true
}

// ignoreFacts drops fact drift that rests only on ignored findings.
func (r *Result) ignoreFacts(rules ignoreRules) {
	if len(rules) == 0 {
		return
	}
	filter := func(list []schema.Fact) []schema.Fact {
		out := list[:0]
		for _, f := range list {
			if rules.evidenceIgnored(f.Evidence) {
				r.Ignored++
				continue
			}
			out = append(out, f)
		}
		return out
	}
	r.FactsAdded, r.FactsRemoved = filter(r.FactsAdded), filter(r.FactsRemoved)
	changed := r.FactsChanged[:0]
	for _, c := range r.FactsChanged {
		if rules.evidenceIgnored(c.oldEvidence) && rules.evidenceIgnored(c.newEvidence) {
			r.Ignored++
			continue
		}
		changed = append(changed, c)
	}
	r.FactsChanged = changed
}

// applyIgnore drops ignored items and counts them.
func (r *Result) applyIgnore(rules ignoreRules) {
	if len(rules) == 0 {
		return
	}
	filter := func(list []*state.Finding) []*state.Finding {
		out := list[:0]
		for _, f := range list {
			if rules.Match(&f.Finding) {
				r.Ignored++
				continue
			}
			out = append(out, f)
		}
		return out
	}
	r.Added, r.Removed = filter(r.Added), filter(r.Removed)
	r.BecameCurrent, r.WentHistorical = filter(r.BecameCurrent), filter(r.WentHistorical)
	r.Unverified, r.Reverified, r.Forgotten = filter(r.Unverified), filter(r.Reverified), filter(r.Forgotten)
	// A change is churn only when both values match: a CDN address moving
	// to an address outside the CDN is exactly what must be seen.
	changed := r.Changed[:0]
	for _, c := range r.Changed {
		if rules.Match(&c.Old.Finding) && rules.Match(&c.New.Finding) {
			r.Ignored++
			continue
		}
		changed = append(changed, c)
	}
	r.Changed = changed
}

// ModuleDrift counts the drift of one module instance: the findings its
// blocks reported that drifted. A finding several instances report counts
// in each of them.
type ModuleDrift struct {
	Module                                                             string
	Added, Removed, Changed, BecameCurrent, WentHistorical, Unverified int
}

// ByModule is the drift per module instance, sorted by address; the
// root module's own blocks come first as "". Nil when no finding belongs
// to a module instance: an engagement without modules has nothing to
// break down.
func (r *Result) ByModule() []ModuleDrift {
	by := map[string]*ModuleDrift{}
	inModule := false
	count := func(f *state.Finding, field func(*ModuleDrift) *int) {
		if f == nil {
			return
		}
		seen := map[string]bool{}
		for _, b := range f.BlocksOf() {
			m := schema.ModuleOf(b)
			if seen[m] {
				continue
			}
			seen[m] = true
			inModule = inModule || m != ""
			md := by[m]
			if md == nil {
				md = &ModuleDrift{Module: m}
				by[m] = md
			}
			*field(md)++
		}
	}
	each := func(fs []*state.Finding, field func(*ModuleDrift) *int) {
		for _, f := range fs {
			count(f, field)
		}
	}
	each(r.Added, func(m *ModuleDrift) *int { return &m.Added })
	each(r.Removed, func(m *ModuleDrift) *int { return &m.Removed })
	each(r.BecameCurrent, func(m *ModuleDrift) *int { return &m.BecameCurrent })
	each(r.WentHistorical, func(m *ModuleDrift) *int { return &m.WentHistorical })
	each(r.Unverified, func(m *ModuleDrift) *int { return &m.Unverified })
	for _, c := range r.Changed {
		f := c.New
		if f == nil {
			f = c.Old
		}
		count(f, func(m *ModuleDrift) *int { return &m.Changed })
	}
	if !inModule {
		return nil
	}
	out := make([]ModuleDrift, 0, len(by))
	for _, m := range by {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Module < out[j].Module })
	return out
}

// ComparePair is Compare over a pair read for the comparison
// (state.ReadPairFiles): the findings the pair left out are the same in
// both and counted in the sides, not listed.
func ComparePair(p *state.Pair, ignore []schema.IgnoreRule) *Result {
	r := Compare(p.Old, p.New, ignore)
	if r.Old != nil {
		r.Old.Findings += p.Same
	}
	if r.New != nil {
		r.New.Findings += p.Same
	}
	return r
}
