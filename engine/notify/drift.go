package notify

import (
	"encoding/json"
	"path"
	"strings"

	"github.com/reconform/reconform/schema"
)

// DriftDoc is the drift JSON document of docs/drift-json.md, read back:
// the typed fields a filter and a message need, each finding kept as the
// exact JSON it came as, so that a filtered document is still the
// documented schema, field for field.
type DriftDoc struct {
	Facts         DriftFacts      `json:"facts"`
	Findings      DriftFindings   `json:"findings"`
	FormatVersion int             `json:"format_version"`
	HasDrift      bool            `json:"has_drift"`
	Modules       json.RawMessage `json:"modules,omitempty"`
	New           json.RawMessage `json:"new"`
	Old           json.RawMessage `json:"old"`
	Summary       map[string]int  `json:"summary"`
}

// DriftFindings are the finding lists.
type DriftFindings struct {
	Added          []Finding `json:"added"`
	BecameCurrent  []Finding `json:"became_current"`
	Changed        []Change  `json:"changed"`
	Forgotten      []Finding `json:"forgotten"`
	Removed        []Finding `json:"removed"`
	Reverified     []Finding `json:"reverified"`
	Unverified     []Finding `json:"unverified"`
	WentHistorical []Finding `json:"went_historical"`
}

// DriftFacts are the fact lists.
type DriftFacts struct {
	Added   []Fact       `json:"added"`
	Changed []FactChange `json:"changed"`
	Removed []Fact       `json:"removed"`
}

// Finding is one finding of the document: its identity and the fields a
// message shows, with the whole JSON object kept.
type Finding struct {
	Name, Type, Value, Currency, LastSeen, Unverified string
	Sources                                           []string
	raw                                               json.RawMessage
}

type findingFields struct {
	Currency   string   `json:"currency"`
	LastSeen   string   `json:"last_seen"`
	Name       string   `json:"name"`
	Sources    []string `json:"sources"`
	Type       string   `json:"type"`
	Unverified string   `json:"unverified"`
	Value      string   `json:"value"`
}

// UnmarshalJSON reads the fields and keeps the object.
func (f *Finding) UnmarshalJSON(b []byte) error {
	var ff findingFields
	if err := json.Unmarshal(b, &ff); err != nil {
		return err
	}
	*f = Finding{Name: ff.Name, Type: ff.Type, Value: ff.Value, Currency: ff.Currency, LastSeen: ff.LastSeen,
		Unverified: ff.Unverified, Sources: ff.Sources, raw: append(json.RawMessage(nil), b...)}
	return nil
}

// MarshalJSON writes the object as it came.
func (f Finding) MarshalJSON() ([]byte, error) {
	if f.raw != nil {
		return f.raw, nil
	}
	return json.Marshal(findingFields{Currency: f.Currency, LastSeen: f.LastSeen, Name: f.Name, Sources: f.Sources, Type: f.Type, Value: f.Value})
}

// Line is "name TYPE value".
func (f *Finding) Line() string {
	if f.Value == "" {
		return f.Name + " " + f.Type
	}
	return f.Name + " " + f.Type + " " + f.Value
}

// Change is a value of a (name, type) replaced by another.
type Change struct {
	Name     string          `json:"name"`
	New      Finding         `json:"new"`
	NewHow   string          `json:"new_how"`
	Old      Finding         `json:"old"`
	OldHow   string          `json:"old_how"`
	TextDiff json.RawMessage `json:"text_diff,omitempty"`
	Type     string          `json:"type"`
}

// Fact is a derived fact.
type Fact struct {
	Evidence []string `json:"evidence,omitempty"`
	Kind     string   `json:"kind"`
	Subject  string   `json:"subject"`
	Value    string   `json:"value"`
}

// FactChange is a fact's value replaced by another.
type FactChange struct {
	Kind      string `json:"kind"`
	New       string `json:"new"`
	Old       string `json:"old"`
	Subject   string `json:"subject"`
	Weakening bool   `json:"weakening"`
}

// ParseDrift reads a drift document.
func ParseDrift(b []byte) (*DriftDoc, error) {
	var d DriftDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	d.normalize()
	return &d, nil
}

// normalize makes every list present, as the document promises.
func (d *DriftDoc) normalize() {
	for _, l := range []*[]Finding{&d.Findings.Added, &d.Findings.BecameCurrent, &d.Findings.Forgotten, &d.Findings.Removed,
		&d.Findings.Reverified, &d.Findings.Unverified, &d.Findings.WentHistorical} {
		if *l == nil {
			*l = []Finding{}
		}
	}
	if d.Findings.Changed == nil {
		d.Findings.Changed = []Change{}
	}
	if d.Facts.Added == nil {
		d.Facts.Added = []Fact{}
	}
	if d.Facts.Removed == nil {
		d.Facts.Removed = []Fact{}
	}
	if d.Facts.Changed == nil {
		d.Facts.Changed = []FactChange{}
	}
	if d.Summary == nil {
		d.Summary = map[string]int{}
	}
}

// Items counts the drift items (what has_drift is made of).
func (d *DriftDoc) Items() int {
	if d == nil {
		return 0
	}
	f := &d.Findings
	return len(f.Added) + len(f.Removed) + len(f.Changed) + len(f.BecameCurrent) + len(f.WentHistorical) +
		len(d.Facts.Added) + len(d.Facts.Removed) + len(d.Facts.Changed)
}

// Filter returns the document with only what the filter lets through,
// its summary and has_drift recomputed. The per-module counts are kept
// only when nothing was left out (they cannot be recomputed here).
func (d *DriftDoc) Filter(f schema.NotifyFilter) *DriftDoc {
	kinds := f.Changes
	if len(kinds) == 0 {
		kinds = schema.DefaultChangeKinds
	}
	on := func(k string) bool { return contains(kinds, k) }
	name := func(n string) bool { return matchName(f.Names, n) }
	finding := func(x *Finding) bool { return name(x.Name) && (len(f.Types) == 0 || contains(f.Types, x.Type)) }
	fact := func(subject, kind string) bool {
		return name(subject) && (len(f.FactKinds) == 0 || contains(f.FactKinds, kind))
	}
	out := &DriftDoc{FormatVersion: d.FormatVersion, New: d.New, Old: d.Old}
	list := func(kind string, in []Finding) []Finding {
		res := []Finding{}
		if !on(kind) {
			return res
		}
		for i := range in {
			if finding(&in[i]) {
				res = append(res, in[i])
			}
		}
		return res
	}
	out.Findings.Added = list("added", d.Findings.Added)
	out.Findings.Removed = list("removed", d.Findings.Removed)
	out.Findings.BecameCurrent = list("became_current", d.Findings.BecameCurrent)
	out.Findings.WentHistorical = list("went_historical", d.Findings.WentHistorical)
	out.Findings.Unverified = list("unverified", d.Findings.Unverified)
	// Not drift, and never a reason to send: kept as the document had
	// them when they pass the name and type filter.
	out.Findings.Reverified = filterFindings(d.Findings.Reverified, finding)
	out.Findings.Forgotten = filterFindings(d.Findings.Forgotten, finding)
	out.Findings.Changed = []Change{}
	if on("changed") {
		for _, c := range d.Findings.Changed {
			if finding(&c.New) || finding(&c.Old) {
				out.Findings.Changed = append(out.Findings.Changed, c)
			}
		}
	}
	out.Facts.Added, out.Facts.Removed, out.Facts.Changed = []Fact{}, []Fact{}, []FactChange{}
	if on("facts_added") {
		for _, x := range d.Facts.Added {
			if fact(x.Subject, x.Kind) {
				out.Facts.Added = append(out.Facts.Added, x)
			}
		}
	}
	if on("facts_removed") {
		for _, x := range d.Facts.Removed {
			if fact(x.Subject, x.Kind) {
				out.Facts.Removed = append(out.Facts.Removed, x)
			}
		}
	}
	if on("facts_changed") {
		for _, x := range d.Facts.Changed {
			if fact(x.Subject, x.Kind) {
				out.Facts.Changed = append(out.Facts.Changed, x)
			}
		}
	}
	out.summarize(d.Summary["ignored"])
	if out.sameCounts(d) {
		out.Modules = d.Modules
	}
	return out
}

func filterFindings(in []Finding, keep func(*Finding) bool) []Finding {
	res := []Finding{}
	for i := range in {
		if keep(&in[i]) {
			res = append(res, in[i])
		}
	}
	return res
}

// summarize recomputes summary and has_drift from the lists.
func (d *DriftDoc) summarize(ignored int) {
	f := &d.Findings
	weak := 0
	for _, c := range d.Facts.Changed {
		if c.Weakening {
			weak++
		}
	}
	d.Summary = map[string]int{
		"added": len(f.Added), "removed": len(f.Removed), "changed": len(f.Changed),
		"became_current": len(f.BecameCurrent), "went_historical": len(f.WentHistorical),
		"unverified": len(f.Unverified), "reverified": len(f.Reverified), "forgotten": len(f.Forgotten),
		"facts_added": len(d.Facts.Added), "facts_removed": len(d.Facts.Removed), "facts_changed": len(d.Facts.Changed),
		"weakenings": weak, "ignored": ignored,
	}
	d.HasDrift = d.Items() > 0
}

func (d *DriftDoc) sameCounts(o *DriftDoc) bool {
	for k, v := range d.Summary {
		if k != "ignored" && o.Summary[k] != v {
			return false
		}
	}
	return true
}

// matchName reports whether name matches one of the globs; "*.x" also
// matches x itself. No globs match everything.
func matchName(globs []string, name string) bool {
	if len(globs) == 0 {
		return true
	}
	name = strings.ToLower(name)
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
		if rest, ok := strings.CutPrefix(g, "*."); ok && (name == rest || strings.HasSuffix(name, "."+rest)) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
