package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
)

// The pg backend's history is its rows: a revision is the rows its
// commit added and ended (the changes from the revision before), the
// oldest kept revision its base. Log lists them; prune keeps
// history_keep of them.

// Log lists every kept revision, the current one included.
func (b *Backend) Log(ctx context.Context) ([]backend.HistoryEntry, error) {
	pool, err := b.readers(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.checkVersion(ctx, pool); err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, b.q(`SELECT r.rev, r.serial, r.lineage, r.committed_at, r.state_findings,
			r.findings_added, r.findings_changed, r.findings_removed, r.rows_bytes, r.rev = e.rev, r.rev = min(r.rev) OVER ()
		FROM {{schema}}.runs r JOIN {{schema}}.engagements e ON e.id = r.engagement_id
		WHERE e.name = $1 AND r.rev <= e.rev ORDER BY r.rev`), b.cfg.Engagement)
	if err != nil {
		return nil, b.red.err(err)
	}
	defer rows.Close()
	var out []backend.HistoryEntry
	for rows.Next() {
		var e backend.HistoryEntry
		var serial, findings int64
		var added, changed, removed, size *int64
		var first bool
		if err := rows.Scan(&e.Rev, &serial, &e.Lineage, &e.Time, &findings, &added, &changed, &removed, &size, &e.Current, &first); err != nil {
			return nil, b.red.err(err)
		}
		e.Serial, e.Findings, e.Time = uint64(serial), int(findings), e.Time.UTC()
		e.Kind = state.HistoryDelta
		if first {
			e.Kind = state.HistorySnapshot
		}
		if added != nil && changed != nil && removed != nil {
			e.Changes = &state.ChangeCounts{Added: int(*added), Changed: int(*changed), Removed: int(*removed)}
		}
		if size != nil {
			e.Bytes = *size
		}
		out = append(out, e)
	}
	return out, b.red.err(rows.Err())
}

// prune removes, in the commit's transaction, the revisions c.Keep does
// not keep (the one just written, rev, always stays) and every row no
// kept revision holds. A row belongs to the revisions from the one that
// added it until the one that ended it, so the rows of the oldest kept
// revision are all there: nothing needs rewriting for it to be rebuilt.
func (s *session) prune(ctx context.Context, tx pgx.Tx, rev int64, c backend.Commit) error {
	if c.Keep.KeepsAll() {
		return nil
	}
	b := s.b
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	rows, err := tx.Query(ctx, b.q(`SELECT rev, committed_at FROM {{schema}}.runs WHERE engagement_id = $1 AND rev < $2 ORDER BY rev`), s.eng, rev)
	if err != nil {
		return b.red.err(err)
	}
	type run struct {
		rev int64
		at  time.Time
	}
	var past []run
	for rows.Next() {
		var r run
		if err := rows.Scan(&r.rev, &r.at); err != nil {
			rows.Close()
			return b.red.err(err)
		}
		past = append(past, r)
	}
	if err := rows.Err(); err != nil {
		return b.red.err(err)
	}
	oldest := rev
	for i := len(past) - 1; i >= 0; i-- {
		keep := false
		switch {
		case c.Keep.Count > 0:
			keep = i >= len(past)-c.Keep.Count
		case c.Keep.Age > 0:
			replaced := now
			if i+1 < len(past) {
				replaced = past[i+1].at
			}
			keep = !replaced.Before(now.Add(-c.Keep.Age))
		}
		if !keep {
			break
		}
		oldest = past[i].rev
	}
	if len(past) == 0 || oldest <= past[0].rev {
		return nil
	}
	for _, t := range []struct{ rows, ends, col string }{
		{"findings", "finding_ends", "finding_id"},
		{"facts", "fact_ends", "fact_id"},
		{"instances", "instance_ends", "instance_id"},
	} {
		stmts := []string{
			fmt.Sprintf(`DELETE FROM {{schema}}.%s f USING {{schema}}.%s x
				WHERE f.engagement_id = $1 AND x.engagement_id = $1 AND x.%s = f.id AND x.rev <= $2`, t.rows, t.ends, t.col),
			fmt.Sprintf(`DELETE FROM {{schema}}.%s WHERE engagement_id = $1 AND rev <= $2`, t.ends),
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, b.q(q), s.eng, oldest); err != nil {
				return fmt.Errorf("pruning the history: %w", b.red.err(err))
			}
		}
	}
	if _, err := tx.Exec(ctx, b.q(`DELETE FROM {{schema}}.runs WHERE engagement_id = $1 AND rev < $2`), s.eng, oldest); err != nil {
		return fmt.Errorf("pruning the history: %w", b.red.err(err))
	}
	return nil
}
