// Package state owns an engagement's state file: what every run found,
// merged across runs, written atomically as canonical JSON, kept in
// history, and guarded by a lock so two runs never share one state.
//
// The file is versioned (format_version is read before anything is
// trusted), has a serial that moves only when its content changes and a
// lineage made once for the life of the state, and is byte-identical for
// identical content so that it diffs well in git.
package state

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/reconform/reconform/schema"
)

// FormatVersion is the state file format this build writes and the newest
// it reads.
const FormatVersion = 1

// Currency says whether a finding describes the infrastructure now.
type Currency string

const (
	// Current: a source of current records reported it in the run, or its
	// last_seen lies within the engagement's current_window of the run.
	Current Currency = "current"
	// Historical: passive history remembers it, nothing says it is live.
	Historical Currency = "historical"
)

// State is one engagement's state: the result of every run so far.
type State struct {
	FormatVersion int
	// Serial increments on every write that changes the content.
	Serial uint64
	// Lineage is a UUID made when the state is first written and kept for
	// its life; two states with different lineages are unrelated.
	Lineage    string
	Engagement string
	ConfigHash string
	Run        RunSummary
	// Instances are the query instances of the last run, sorted by key.
	Instances []schema.InstanceResult
	// Findings are sorted by identity (name, type, value); unique.
	Findings []Finding
	// Facts are sorted by subject, kind, value.
	Facts []schema.Fact
	// Outputs are the engagement's output values after the run, by name.
	Outputs []Output
	// Checks are the results of the engagement's check blocks over this
	// state and its drift, sorted by name (engine/check).
	Checks []CheckResult

	// disk is the file this state was read from, as it was then: a write
	// refuses to replace a file that changed since (a run without -lock).
	disk os.FileInfo
}

// RunSummary describes the run that produced the state.
type RunSummary struct {
	StartedAt   time.Time
	FinishedAt  time.Time
	Interrupted bool
	// Instances counts the run's instances by status.
	Instances map[schema.InstanceStatus]int
	// Requests counts the requests sent per provider address.
	Requests map[string]int
	// Findings is how many findings the run itself reported.
	Findings int
	Warnings []string
	// Targets are the -target addresses of a partial run (empty: the
	// whole engagement ran).
	Targets []string
	// Plan is the ID of the saved plan the run applied, so the same plan
	// is never applied twice.
	Plan string
}

// Output is an output value of the engagement as the last run left it.
type Output struct {
	Name        string
	Description string
	// Sensitive outputs are hidden in listings and after apply.
	Sensitive bool
	// Secret is set when the value is derived from a secret (env(), a
	// sensitive variable): Value is then never stored.
	Secret bool
	// Value and Type are the value as JSON and its cty type as JSON
	// (cty's JSON type encoding); empty when not stored or not known.
	Value json.RawMessage
	Type  json.RawMessage
}

// CheckStatus is how a check came out.
type CheckStatus string

const (
	// CheckPass: every assert's condition was true.
	CheckPass CheckStatus = "pass"
	// CheckFail: an assert's condition was false; Messages say why.
	CheckFail CheckStatus = "fail"
	// CheckError: a condition or message could not be evaluated (a
	// function failed on a value, a condition was not a bool);
	// Diagnostics say where. An error check counts as failed.
	CheckError CheckStatus = "error"
)

// CheckResult is one check block's result.
type CheckResult struct {
	Name        string
	Description string
	// Severity is "error" (a failure makes apply and check exit 3) or
	// "warning".
	Severity string
	Status   CheckStatus
	// Messages are the error messages of the asserts that failed, in
	// order, with the offenders interpolated (secrets withheld).
	Messages []string
	// Diagnostics are the problems of a check that errored, as
	// "file:line,col: summary; detail".
	Diagnostics []string
}

// Failed reports whether the check did not pass (failed or errored).
func (c *CheckResult) Failed() bool { return c.Status == CheckFail || c.Status == CheckError }

// CheckByName returns the result of the check called name, or nil.
func (s *State) CheckByName(name string) *CheckResult {
	for i := range s.Checks {
		if s.Checks[i].Name == name {
			return &s.Checks[i]
		}
	}
	return nil
}

// Finding is a finding as the state keeps it: what the sources said plus
// what reconform knows about it across runs.
type Finding struct {
	schema.Finding
	// Instances are the keys of every query instance that ever reported
	// it, sorted; a finding is removed only when all of them ran
	// successfully and none reported it.
	Instances []string
	// Block is the address of the block that first produced it
	// ("query.history"), for plan predictions; Blocks are every block the
	// last run that reported it attributed it to, sorted: a finding two
	// module instances report is one finding with both here.
	Block    string
	Blocks   []string
	Currency Currency
	// Unverified is why the last run could not confirm the finding
	// ("query failed: ...", "skipped: budget", "not planned in this run");
	// empty when the last run confirmed it.
	Unverified string
	// UnverifiedSince is when it first became unverified.
	UnverifiedSince time.Time
}

// IsCurrent reports whether the finding is current.
func (f *Finding) IsCurrent() bool { return f.Currency == Current }

// New returns an empty state for an engagement, not yet written (serial 0,
// no lineage).
func New(engagement string) *State {
	return &State{FormatVersion: FormatVersion, Engagement: engagement}
}

// FindingByID returns the finding with the given identity ("name TYPE
// value"), or nil.
func (s *State) FindingByID(id string) *Finding {
	i, ok := s.search(id)
	if !ok {
		return nil
	}
	return &s.Findings[i]
}

// search finds id in the sorted findings.
func (s *State) search(id string) (int, bool) {
	parts := strings.SplitN(id, " ", 3)
	if len(parts) < 2 {
		return 0, false
	}
	key := schema.Finding{Name: parts[0], Type: parts[1]}
	if len(parts) == 3 {
		key.Value = parts[2]
	}
	i := sort.Search(len(s.Findings), func(i int) bool { return schema.CompareFindings(&s.Findings[i].Finding, &key) >= 0 })
	return i, i < len(s.Findings) && schema.CompareFindings(&s.Findings[i].Finding, &key) == 0
}

// Remove deletes the finding with the given identity and reports whether
// it was there. Facts whose evidence named it keep their value until the
// next run derives them again.
func (s *State) Remove(id string) bool {
	i, ok := s.search(id)
	if !ok {
		return false
	}
	s.Findings = append(s.Findings[:i], s.Findings[i+1:]...)
	return true
}

// CountCurrency returns how many findings are current and historical.
func (s *State) CountCurrency() (current, historical int) {
	for i := range s.Findings {
		if s.Findings[i].IsCurrent() {
			current++
		} else {
			historical++
		}
	}
	return current, historical
}

// UnverifiedCount returns how many findings the last run could not confirm.
func (s *State) UnverifiedCount() int {
	n := 0
	for i := range s.Findings {
		if s.Findings[i].Unverified != "" {
			n++
		}
	}
	return n
}

// Normalize sorts everything the file keeps sorted, so equal content
// encodes to equal bytes.
func (s *State) Normalize() {
	SortFindings(s.Findings)
	for i := range s.Findings {
		f := &s.Findings[i]
		sort.Strings(f.Instances)
		sort.Strings(f.Sources)
		sort.Strings(f.Blocks)
		f.Current = f.Currency == Current
	}
	sort.Slice(s.Outputs, func(i, j int) bool { return s.Outputs[i].Name < s.Outputs[j].Name })
	sort.Slice(s.Checks, func(i, j int) bool { return s.Checks[i].Name < s.Checks[j].Name })
	sort.Slice(s.Instances, func(i, j int) bool { return s.Instances[i].Key < s.Instances[j].Key })
	for i := range s.Instances {
		sort.Strings(s.Instances[i].Query.RRTypes)
	}
	for i := range s.Facts {
		sort.Strings(s.Facts[i].Evidence)
	}
	schema.SortFacts(s.Facts)
}

// SortFindings orders state findings by identity: name, type, value.
func SortFindings(fs []Finding) {
	schema.SortByFinding(fs, func(f *Finding) *schema.Finding { return &f.Finding })
}

// BlocksOf are the blocks a finding belongs to: Blocks, or Block in a
// state written before Blocks existed.
func (f *Finding) BlocksOf() []string {
	if len(f.Blocks) > 0 {
		return f.Blocks
	}
	if f.Block != "" {
		return []string{f.Block}
	}
	return nil
}

// FindingsByBlock are the findings of every block by address, with
// Current set from the currency: what query.NAME.findings means for
// plan predictions, outputs and the console.
func (s *State) FindingsByBlock() map[string][]schema.Finding {
	out := map[string][]schema.Finding{}
	for i := range s.Findings {
		f := &s.Findings[i]
		sf := f.Finding
		sf.Current = f.IsCurrent()
		for _, b := range f.BlocksOf() {
			out[b] = append(out[b], sf)
		}
	}
	return out
}

// OutputByName returns the output called name, or nil.
func (s *State) OutputByName(name string) *Output {
	for i := range s.Outputs {
		if s.Outputs[i].Name == name {
			return &s.Outputs[i]
		}
	}
	return nil
}

// SchemaFindings returns the findings as schema findings, with Current set
// from the currency: what expressions and analysis see.
func (s *State) SchemaFindings() []schema.Finding {
	out := make([]schema.Finding, len(s.Findings))
	for i := range s.Findings {
		out[i] = s.Findings[i].Finding
		out[i].Current = s.Findings[i].IsCurrent()
	}
	return out
}
