package pg

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// A state's values go into typed columns that SQL can read. PostgreSQL's
// text holds neither NUL nor invalid UTF-8, and timestamptz keeps
// microseconds: so a time's nanoseconds below the microsecond go into a
// *_ns column, and a row with a string text cannot hold keeps its exact
// value in its exact column (gob) beside a readable copy in the typed
// columns. Reading prefers exact. That is what makes the JSON of a state
// read back byte for byte that of the state written.

// storable reports whether PostgreSQL's text holds s as it is. Nearly
// every string is ASCII without NUL, checked eight bytes at a time; a
// million findings' strings otherwise cost a commit half a second.
func storable(s string) bool {
	const high, ones = 0x8080808080808080, 0x0101010101010101
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte at or above 0x80, or a zero byte ((w-ones) &^ w sets
		// the high bit of each byte that was zero).
		if w&high != 0 || (w-ones)&^w&high != 0 {
			return storableSlow(s[i:])
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return storableSlow(s[i:])
		}
	}
	return true
}

func storableSlow(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// findingStorable is allStorable of every string of f, without building
// a list of them.
func findingStorable(f *state.Finding) bool {
	if !storable(f.Name) || !storable(f.Type) || !storable(f.Value) || !storable(string(f.Currency)) ||
		!storable(f.Block) || !storable(f.Query) || !storable(f.Unverified) {
		return false
	}
	return allStorable(f.Sources, f.Instances, f.Blocks)
}

func allStorable(ss ...[]string) bool {
	for _, l := range ss {
		for _, s := range l {
			if !storable(s) {
				return false
			}
		}
	}
	return true
}

// readable is s as text can hold it: invalid bytes and NUL become U+FFFD.
func readable(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func readables(l []string) []string {
	if allStorable(l) {
		return l
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = readable(s)
	}
	return out
}

// ts splits t for a timestamptz column and its *_ns column (nil: zero).
func ts(t time.Time) (any, int16) {
	if t.IsZero() {
		return nil, 0
	}
	t = t.UTC()
	return t, int16(t.Nanosecond() % 1000)
}

// fromTS joins a timestamptz column and its *_ns column.
func fromTS(t *time.Time, ns int16) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond).Add(time.Duration(ns))
}

func gobOf(v any) []byte {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil
	}
	return buf.Bytes()
}

func fromGob(data []byte, v any) error { return gob.NewDecoder(bytes.NewReader(data)).Decode(v) }

// rowID is a row's id: its commit's revision and its place in it.
func rowID(rev int64, i int) int64 { return rev<<32 | int64(i) }

var findingColumns = []string{"id", "engagement_id", "rev", "name", "type", "value", "currency", "first_seen", "first_seen_ns", "last_seen", "last_seen_ns",
	"count", "sources", "instances", "block", "blocks", "query", "depth", "active", "unverified", "unverified_since", "unverified_since_ns", "exact"}

// appendFindingRow appends f as a binary COPY tuple of findingColumns.
func appendFindingRow(b []byte, id, eng, rev int64, f *state.Finding) []byte {
	if !findingStorable(f) {
		return appendOddFindingRow(b, id, eng, rev, f)
	}
	// Every string as it is: the common case, written without copies.
	b = binary.BigEndian.AppendUint16(b, uint16(len(findingColumns)))
	b = appendInt8(b, id)
	b = appendInt8(b, eng)
	b = appendInt8(b, rev)
	b = appendText(b, f.Name)
	b = appendText(b, f.Type)
	b = appendText(b, f.Value)
	b = appendText(b, string(f.Currency))
	b = appendTS(b, f.FirstSeen)
	b = appendTS(b, f.LastSeen)
	b = appendInt8(b, f.Count)
	b = appendTextArray(b, f.Sources)
	b = appendTextArray(b, f.Instances)
	b = appendText(b, f.Block)
	b = appendTextArray(b, extraBlocks(f.Block, f.Blocks))
	b = appendText(b, f.Query)
	b = appendInt8(b, int64(f.Depth))
	b, _ = appendValue(b, f.Active)
	b = appendText(b, f.Unverified)
	b = appendTS(b, f.UnverifiedSince)
	return appendLen(b, -1) // exact: NULL
}

// appendOddFindingRow is appendFindingRow for a finding with a string
// text cannot hold: readable copies in the typed columns, the finding
// exactly in exact.
func appendOddFindingRow(b []byte, id, eng, rev int64, f *state.Finding) []byte {
	exact := gobOf(f)
	b = binary.BigEndian.AppendUint16(b, uint16(len(findingColumns)))
	b = appendInt8(b, id)
	b = appendInt8(b, eng)
	b = appendInt8(b, rev)
	b = appendText(b, readable(f.Name))
	b = appendText(b, readable(f.Type))
	b = appendText(b, readable(f.Value))
	b = appendText(b, readable(string(f.Currency)))
	b = appendTS(b, f.FirstSeen)
	b = appendTS(b, f.LastSeen)
	b = appendInt8(b, f.Count)
	b = appendTextArray(b, readables(f.Sources))
	b = appendTextArray(b, readables(f.Instances))
	b = appendText(b, readable(f.Block))
	b = appendTextArray(b, readables(extraBlocks(f.Block, f.Blocks)))
	b = appendText(b, readable(f.Query))
	b = appendInt8(b, int64(f.Depth))
	b, _ = appendValue(b, f.Active)
	b = appendText(b, readable(f.Unverified))
	b = appendTS(b, f.UnverifiedSince)
	b, _ = appendValue(b, exact)
	return b
}

const findingSelect = `f.id, f.name, f.type, f.value, f.currency, f.first_seen, f.first_seen_ns, f.last_seen, f.last_seen_ns,
	f.count, f.sources, f.instances, f.block, f.blocks, f.query, f.depth, f.active, f.unverified, f.unverified_since, f.unverified_since_ns, f.exact`

// decodeFinding decodes a findingSelect row read in binary; in interns
// the strings findings share (types, sources, blocks).
func decodeFinding(v [][]byte, f *state.Finding, in func([]byte) string) (int64, error) {
	if len(v) != 21 {
		return 0, fmt.Errorf("%d columns", len(v))
	}
	id := decInt8(v[0])
	if v[20] != nil {
		*f = state.Finding{}
		return id, fromGob(v[20], f)
	}
	var err error
	f.Name, f.Type, f.Value, f.Currency = string(v[1]), in(v[2]), string(v[3]), state.Currency(in(v[4]))
	f.FirstSeen, f.LastSeen = decTS(v[5], v[6]), decTS(v[7], v[8])
	f.Count = decInt8(v[9])
	if f.Sources, err = decTextArray(v[10], in); err != nil {
		return 0, err
	}
	if f.Instances, err = decTextArray(v[11], in); err != nil {
		return 0, err
	}
	f.Block = in(v[12])
	if f.Blocks, err = decTextArray(v[13], in); err != nil {
		return 0, err
	}
	f.Query, f.Depth = in(v[14]), int(decInt8(v[15]))
	f.Active = len(v[16]) == 1 && v[16][0] == 1
	f.Unverified = in(v[17])
	f.UnverifiedSince = decTS(v[18], v[19])
	f.Current = f.Currency == state.Current
	return id, nil
}

// sameFinding compares everything the state file keeps of a finding.
func sameFinding(a, b *state.Finding) bool {
	return a.Name == b.Name && a.Type == b.Type && a.Value == b.Value && a.Currency == b.Currency &&
		a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen) && a.Count == b.Count &&
		slices.Equal(a.Sources, b.Sources) && slices.Equal(a.Instances, b.Instances) && a.Block == b.Block &&
		a.Query == b.Query && a.Depth == b.Depth && a.Active == b.Active && a.Unverified == b.Unverified &&
		a.UnverifiedSince.Equal(b.UnverifiedSince) && slices.Equal(extraBlocks(a.Block, a.Blocks), extraBlocks(b.Block, b.Blocks))
}

// extraBlocks is what the state file keeps of a block list: nothing when
// it is just the one block (engine/state writes it so).
func extraBlocks(block string, blocks []string) []string {
	if len(blocks) == 0 || len(blocks) == 1 && blocks[0] == block {
		return nil
	}
	return blocks
}

var factColumns = []string{"id", "engagement_id", "rev", "subject", "kind", "value", "evidence", "exact"}

func factRow(id, eng, rev int64, f *schema.Fact) []any {
	var exact []byte
	if !allStorable([]string{f.Subject, f.Kind, f.Value}, f.Evidence) {
		exact = gobOf(f)
	}
	return []any{id, eng, rev, readable(f.Subject), readable(f.Kind), readable(f.Value), readables(f.Evidence), exact}
}

const factSelect = `f.id, f.subject, f.kind, f.value, f.evidence, f.exact`

func scanFact(row interface{ Scan(...any) error }, f *schema.Fact) (int64, error) {
	var id int64
	var exact []byte
	if err := row.Scan(&id, &f.Subject, &f.Kind, &f.Value, &f.Evidence, &exact); err != nil {
		return 0, err
	}
	if exact != nil {
		*f = schema.Fact{}
		return id, fromGob(exact, f)
	}
	return id, nil
}

// factKey identifies a fact with its evidence: facts are matched whole.
func factKey(f *schema.Fact) string {
	return f.Subject + "\x00" + f.Kind + "\x00" + f.Value + "\x00" + strings.Join(f.Evidence, "\x00")
}

var instanceColumns = []string{"id", "engagement_id", "rev", "key", "block", "blocks", "depth", "active", "status", "reason", "requests", "findings", "truncated",
	"provider", "op", "subject_kind", "subject_value", "rrtypes", "params", "verified_at", "verified_at_ns", "exact"}

func instanceRow(id, eng, rev int64, in *schema.InstanceResult) []any {
	q := &in.Query
	var params []string
	for k, v := range q.Params {
		params = append(params, k, v)
	}
	var exact []byte
	if !allStorable([]string{in.Key, in.Block, string(in.Status), in.Reason, q.Provider, string(q.Op), string(q.Subject.Kind), q.Subject.Value}, q.RRTypes, params, in.Blocks) {
		c := *in
		c.FindingIDs = nil
		exact = gobOf(&c)
	}
	var pj jsonb
	if q.Params != nil {
		p := make(map[string]string, len(q.Params))
		for k, v := range q.Params {
			p[readable(k)] = readable(v)
		}
		pj, _ = json.Marshal(p)
	}
	return []any{id, eng, rev, readable(in.Key), readable(in.Block), readables(extraBlocks(in.Block, in.Blocks)), int64(in.Depth), in.Active, readable(string(in.Status)), readable(in.Reason),
		int64(in.Requests), int64(in.Findings), in.Truncated, readable(q.Provider), readable(string(q.Op)), readable(string(q.Subject.Kind)), readable(q.Subject.Value),
		readables(q.RRTypes), pj, tsOrNil(in.VerifiedAt), int16(in.VerifiedAt.Nanosecond() % 1000), exact}
}

// tsOrNil is t, or NULL for the zero time.
func tsOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

const instanceSelect = `i.id, i.key, i.block, i.blocks, i.depth, i.active, i.status, i.reason, i.requests, i.findings, i.truncated,
	i.provider, i.op, i.subject_kind, i.subject_value, i.rrtypes, i.params, i.verified_at, i.verified_at_ns, i.exact`

func scanInstance(row interface{ Scan(...any) error }, in *schema.InstanceResult) (int64, error) {
	var (
		id                        int64
		depth, requests, findings int64
		status, op, kind          string
		params                    []byte
		exact                     []byte
		verified                  *time.Time
		verifiedNS                int16
	)
	if err := row.Scan(&id, &in.Key, &in.Block, &in.Blocks, &depth, &in.Active, &status, &in.Reason, &requests, &findings, &in.Truncated,
		&in.Query.Provider, &op, &kind, &in.Query.Subject.Value, &in.Query.RRTypes, &params, &verified, &verifiedNS, &exact); err != nil {
		return 0, err
	}
	if verified != nil {
		in.VerifiedAt = verified.UTC().Add(time.Duration(verifiedNS))
	}
	if exact != nil {
		*in = schema.InstanceResult{}
		return id, fromGob(exact, in)
	}
	in.Depth, in.Requests, in.Findings = int(depth), int(requests), int(findings)
	in.Status, in.Query.Op, in.Query.Subject.Kind = schema.InstanceStatus(status), schema.Op(op), schema.SubjectKind(kind)
	if params != nil {
		if err := json.Unmarshal(params, &in.Query.Params); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// sameInstance compares everything the state file keeps of an instance.
func sameInstance(a, b *schema.InstanceResult) bool {
	qa, qb := &a.Query, &b.Query
	if a.Key != b.Key || a.Block != b.Block || !slices.Equal(extraBlocks(a.Block, a.Blocks), extraBlocks(b.Block, b.Blocks)) || a.Depth != b.Depth || a.Active != b.Active || a.Status != b.Status ||
		a.Reason != b.Reason || a.Requests != b.Requests || a.Findings != b.Findings || a.Truncated != b.Truncated || !a.VerifiedAt.Equal(b.VerifiedAt) || qa.Provider != qb.Provider ||
		qa.Op != qb.Op || qa.Subject != qb.Subject || !slices.Equal(qa.RRTypes, qb.RRTypes) || len(qa.Params) != len(qb.Params) {
		return false
	}
	for k, v := range qa.Params {
		if w, ok := qb.Params[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// top is a state's top-level fields and run: one runs row.
type top struct {
	Serial        uint64
	Lineage       string
	FormatVersion int
	Engagement    string
	ConfigHash    string
	Run           state.RunSummary
	Outputs       []state.Output
	Checks        []state.CheckResult
}

func topOf(s *state.State) top {
	return top{Serial: s.Serial, Lineage: s.Lineage, FormatVersion: s.FormatVersion, Engagement: s.Engagement, ConfigHash: s.ConfigHash, Run: s.Run, Outputs: s.Outputs, Checks: s.Checks}
}

// checksJSON is the runs row's checks column: the results of the check
// blocks (migration 2), in the state file's form.
func checksJSON(cs []state.CheckResult) jsonText {
	if len(cs) == 0 {
		return nil
	}
	l := make([]any, len(cs))
	for i := range cs {
		l[i] = state.CheckJSON(&cs[i])
	}
	b, _ := json.Marshal(l)
	return b
}

func fromChecksJSON(b []byte) ([]state.CheckResult, error) {
	if b == nil {
		return nil, nil
	}
	var l []struct {
		Description string            `json:"description"`
		Diagnostics []string          `json:"diagnostics"`
		Messages    []string          `json:"messages"`
		Name        string            `json:"name"`
		Severity    string            `json:"severity"`
		Status      state.CheckStatus `json:"status"`
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	out := make([]state.CheckResult, len(l))
	for i, c := range l {
		out[i] = state.CheckResult{Name: c.Name, Description: c.Description, Severity: c.Severity, Status: c.Status, Messages: c.Messages, Diagnostics: c.Diagnostics}
	}
	return out, nil
}

// checkStrings are the texts of the check results, for allStorable.
func checkStrings(cs []state.CheckResult) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name, c.Description, c.Severity, string(c.Status))
		out = append(out, c.Messages...)
		out = append(out, c.Diagnostics...)
	}
	return out
}

// outputJSON is an output in the runs row's outputs column (json, which
// keeps the text as it was given: the values come back byte for byte).
type outputJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Sensitive   bool            `json:"sensitive,omitempty"`
	Secret      bool            `json:"secret,omitempty"`
	Type        json.RawMessage `json:"type,omitempty"`
	Value       json.RawMessage `json:"value,omitempty"`
}

func outputsJSON(outs []state.Output) jsonText {
	if len(outs) == 0 {
		return nil
	}
	l := make([]outputJSON, len(outs))
	for i, o := range outs {
		l[i] = outputJSON{Name: o.Name, Description: o.Description, Sensitive: o.Sensitive, Secret: o.Secret, Type: o.Type, Value: o.Value}
	}
	b, _ := json.Marshal(l)
	return b
}

func fromOutputsJSON(b []byte) ([]state.Output, error) {
	if b == nil {
		return nil, nil
	}
	var l []outputJSON
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	out := make([]state.Output, len(l))
	for i, o := range l {
		out[i] = state.Output{Name: o.Name, Description: o.Description, Sensitive: o.Sensitive, Secret: o.Secret, Type: o.Type, Value: o.Value}
	}
	return out, nil
}

// key is what the state file writes of the top (for "unchanged").
func (t top) key() string {
	r := t.Run
	norm := func(m map[string]int) map[string]int {
		if m == nil {
			return map[string]int{}
		}
		return m
	}
	inst := map[string]int{}
	for k, v := range r.Instances {
		inst[string(k)] = v
	}
	b, _ := json.Marshal(struct {
		S       uint64
		L, E, C string
		V       int
		St, Fi  string
		Int     bool
		In, Rq  map[string]int
		F       int
		W       []string
		Ch      string
	}{t.Serial, t.Lineage, t.Engagement, t.ConfigHash, t.FormatVersion, tsKey(r.StartedAt), tsKey(r.FinishedAt), r.Interrupted,
		norm(inst), norm(r.Requests), r.Findings, r.Warnings, string(checksJSON(t.Checks))})
	return string(b)
}

func tsKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

var runColumns = []string{"engagement_id", "rev", "serial", "lineage", "format_version", "engagement", "config_hash", "started_at", "started_at_ns",
	"finished_at", "finished_at_ns", "interrupted", "instances_by_status", "requests", "findings_reported", "state_findings", "warnings", "targets", "plan", "outputs", "exact", "committed_by", "checks"}

func runRow(eng, rev int64, t top, findings int, by string) []any {
	r := t.Run
	keys := []string{t.Lineage, t.Engagement, t.ConfigHash}
	for k := range r.Instances {
		keys = append(keys, string(k))
	}
	for k := range r.Requests {
		keys = append(keys, k)
	}
	for _, o := range t.Outputs {
		keys = append(keys, o.Name, o.Description, string(o.Type), string(o.Value))
	}
	var exact []byte
	if !allStorable(keys, r.Warnings, r.Targets, []string{r.Plan}, checkStrings(t.Checks)) {
		exact = gobOf(&t)
	}
	outs, checks := outputsJSON(t.Outputs), checksJSON(t.Checks)
	if exact != nil {
		outs, checks = nil, nil // the exact copy has them; json text may not hold them
	}
	inst := map[string]int{}
	for k, v := range r.Instances {
		inst[readable(string(k))] = v
	}
	req := map[string]int{}
	for k, v := range r.Requests {
		req[readable(k)] = v
	}
	ij, _ := json.Marshal(inst)
	rj, _ := json.Marshal(req)
	started, startedNS := ts(r.StartedAt)
	finished, finishedNS := ts(r.FinishedAt)
	return []any{eng, rev, int64(t.Serial), readable(t.Lineage), t.FormatVersion, readable(t.Engagement), readable(t.ConfigHash), started, startedNS,
		finished, finishedNS, r.Interrupted, jsonb(ij), jsonb(rj), int64(r.Findings), int64(findings), readables(r.Warnings), readables(r.Targets), readable(r.Plan), outs, exact, readable(by), checks}
}

const runSelect = `serial, lineage, format_version, engagement, config_hash, started_at, started_at_ns, finished_at, finished_at_ns,
	interrupted, instances_by_status, requests, findings_reported, warnings, exact, state_findings, targets, plan, outputs, checks`

func scanRun(row interface{ Scan(...any) error }, s *state.State, stateFindings *int64) error {
	var (
		serial, findings  int64
		started, finished *time.Time
		sNS, fNS          int16
		inst, req, outs   []byte
		exact, checks     []byte
	)
	if err := row.Scan(&serial, &s.Lineage, &s.FormatVersion, &s.Engagement, &s.ConfigHash, &started, &sNS, &finished, &fNS,
		&s.Run.Interrupted, &inst, &req, &findings, &s.Run.Warnings, &exact, stateFindings, &s.Run.Targets, &s.Run.Plan, &outs, &checks); err != nil {
		return err
	}
	if exact != nil {
		var t top
		if err := fromGob(exact, &t); err != nil {
			return err
		}
		s.Serial, s.Lineage, s.FormatVersion, s.Engagement, s.ConfigHash, s.Run = t.Serial, t.Lineage, t.FormatVersion, t.Engagement, t.ConfigHash, t.Run
		s.Outputs, s.Checks = t.Outputs, t.Checks
		return nil
	}
	var err error
	if s.Outputs, err = fromOutputsJSON(outs); err != nil {
		return err
	}
	if s.Checks, err = fromChecksJSON(checks); err != nil {
		return err
	}
	s.Serial = uint64(serial)
	s.Run.StartedAt, s.Run.FinishedAt = fromTS(started, sNS), fromTS(finished, fNS)
	s.Run.Findings = int(findings)
	if err := json.Unmarshal(inst, &s.Run.Instances); err != nil {
		return err
	}
	return json.Unmarshal(req, &s.Run.Requests)
}
