package pg

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/schema"
)

// rowIDs are the row ids of a state read, parallel to its Findings,
// Instances and Facts: what a commit ends when they change.
type rowIDs struct {
	findings, instances, facts []int64
}

// live is the condition of a row of table alias a (ends table e, id
// column c) in revision $2 of engagement $1.
func live(a, ends, col string) string {
	return fmt.Sprintf(`%[1]s.engagement_id = $1 AND %[1]s.rev <= $2 AND NOT EXISTS (
		SELECT 1 FROM {{schema}}.%[2]s x WHERE x.engagement_id = $1 AND x.rev <= $2 AND x.%[3]s = %[1]s.id)`, a, ends, col)
}

// readState rebuilds revision rev of engagement eng, in a read-only
// transaction of its own. Its queries are anti-joins of a table with its
// ends table; on tables without statistics yet (a schema just made, a
// first large commit before autovacuum has analysed it) the planner can
// pick a nested loop over a million rows that runs for hours. A hash or
// merge anti-join is right at every size, so nested loops are ruled out
// for the transaction (SET LOCAL).
func (b *Backend) readState(ctx context.Context, q querier, eng, rev int64) (*state.State, *rowIDs, error) {
	tx, err := q.Begin(ctx)
	if err != nil {
		return nil, nil, b.red.err(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SET TRANSACTION READ ONLY`); err != nil {
		return nil, nil, b.red.err(err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return nil, nil, b.red.err(err)
	}
	return b.readStateIn(ctx, tx, eng, rev)
}

func (b *Backend) readStateIn(ctx context.Context, q pgx.Tx, eng, rev int64) (*state.State, *rowIDs, error) {
	s := &state.State{}
	var count int64
	if err := scanRun(q.QueryRow(ctx, b.q(`SELECT `+runSelect+` FROM {{schema}}.runs WHERE engagement_id = $1 AND rev = $2`), eng, rev), s, &count); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", b.Location(), b.red.err(err))
	}
	ids := &rowIDs{}
	s.Findings = make([]state.Finding, 0, count)
	ids.findings = make([]int64, 0, count)
	rows, err := q.Query(ctx, b.q(`SELECT `+findingSelect+` FROM {{schema}}.findings f WHERE `+live("f", "finding_ends", "finding_id")),
		pgx.QueryResultFormats{pgx.BinaryFormatCode}, eng, rev)
	if err != nil {
		return nil, nil, b.red.err(err)
	}
	in := interner()
	for rows.Next() {
		s.Findings = append(s.Findings, state.Finding{})
		id, err := decodeFinding(rows.RawValues(), &s.Findings[len(s.Findings)-1], in)
		if err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("reading a finding of %s: %w", b.Location(), b.red.err(err))
		}
		ids.findings = append(ids.findings, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, b.red.err(err)
	}

	rows, err = q.Query(ctx, b.q(`SELECT `+instanceSelect+` FROM {{schema}}.instances i WHERE `+live("i", "instance_ends", "instance_id")+` ORDER BY i.id`), eng, rev)
	if err != nil {
		return nil, nil, b.red.err(err)
	}
	for rows.Next() {
		var in schema.InstanceResult
		id, err := scanInstance(rows, &in)
		if err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("reading an instance of %s: %w", b.Location(), b.red.err(err))
		}
		s.Instances = append(s.Instances, in)
		ids.instances = append(ids.instances, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, b.red.err(err)
	}

	rows, err = q.Query(ctx, b.q(`SELECT `+factSelect+` FROM {{schema}}.facts f WHERE `+live("f", "fact_ends", "fact_id")+` ORDER BY f.id`), eng, rev)
	if err != nil {
		return nil, nil, b.red.err(err)
	}
	for rows.Next() {
		var f schema.Fact
		id, err := scanFact(rows, &f)
		if err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("reading a fact of %s: %w", b.Location(), b.red.err(err))
		}
		s.Facts = append(s.Facts, f)
		ids.facts = append(ids.facts, id)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, b.red.err(err)
	}
	sortWithIDs(s, ids)
	return s, ids, nil
}

// interner returns a function that makes strings of bytes, sharing one
// string for the values findings repeat (types, currencies, sources,
// blocks, query keys): a state of a million findings holds a few hundred
// of them, not millions of copies.
func interner() func([]byte) string {
	seen := map[string]string{}
	return func(b []byte) string {
		if s, ok := seen[string(b)]; ok {
			return s
		}
		s := string(b)
		if len(seen) < 1<<16 {
			seen[s] = s
		}
		return s
	}
}

// sortWithIDs puts a state read from rows in the state file's order (as
// Normalize would), its ids moving with its rows.
func sortWithIDs(s *state.State, ids *rowIDs) {
	fs := findingsByID{s.Findings, ids.findings}
	if !sort.IsSorted(fs) {
		sort.Sort(fs)
	}
	is := instancesByKey{s.Instances, ids.instances}
	if !sort.IsSorted(is) {
		sort.Stable(is)
	}
	ft := factsByKey{s.Facts, ids.facts}
	if !sort.IsSorted(ft) {
		sort.Stable(ft)
	}
}

type findingsByID struct {
	f  []state.Finding
	id []int64
}

func (x findingsByID) Len() int { return len(x.f) }
func (x findingsByID) Less(i, j int) bool {
	return schema.CompareFindings(&x.f[i].Finding, &x.f[j].Finding) < 0
}
func (x findingsByID) Swap(i, j int) {
	x.f[i], x.f[j] = x.f[j], x.f[i]
	x.id[i], x.id[j] = x.id[j], x.id[i]
}

type instancesByKey struct {
	in []schema.InstanceResult
	id []int64
}

func (x instancesByKey) Len() int           { return len(x.in) }
func (x instancesByKey) Less(i, j int) bool { return x.in[i].Key < x.in[j].Key }
func (x instancesByKey) Swap(i, j int) {
	x.in[i], x.in[j] = x.in[j], x.in[i]
	x.id[i], x.id[j] = x.id[j], x.id[i]
}

// factsByKey sorts as schema.SortFacts does.
type factsByKey struct {
	f  []schema.Fact
	id []int64
}

func (x factsByKey) Len() int { return len(x.f) }
func (x factsByKey) Less(i, j int) bool {
	a, b := &x.f[i], &x.f[j]
	if a.Subject != b.Subject {
		return a.Subject < b.Subject
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Value < b.Value
}
func (x factsByKey) Swap(i, j int) {
	x.f[i], x.f[j] = x.f[j], x.f[i]
	x.id[i], x.id[j] = x.id[j], x.id[i]
}
