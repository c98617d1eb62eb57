package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/atomicfile"
	"github.com/reconform/reconform/schema"
)

// Part is a backend.Part the pg backend can store: WritePG writes its
// rows with the commit's own transaction, after the state's rows and
// before the commit, so they are committed with the state or not at all.
// Tables it needs come from a migration of this package.
type Part interface {
	backend.Part
	WritePG(ctx context.Context, tx pgx.Tx, c CommitRef) error
}

// CommitRef says which commit a Part is written in.
type CommitRef struct {
	// Schema is the quoted schema name, to put in statements.
	Schema       string
	EngagementID int64
	// Rev is the new revision and Serial the new state's serial.
	Rev    int64
	Serial uint64
}

// session is one Open: a connection of its own, which holds the
// engagement's advisory lock, reads the previous state and commits.
type session struct {
	b       *Backend
	conn    *pgx.Conn
	eng     int64
	rev     int64 // the revision prev was read at
	prev    *state.State
	ids     *rowIDs
	lock    *backend.LockInfo
	opts    backend.OpenOptions
	written bool
}

// Open connects, takes the engagement's advisory lock (unless
// opts.Lock is false) and reads the current state.
func (b *Backend) Open(ctx context.Context, opts backend.OpenOptions) (backend.Session, error) {
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{b: b, conn: conn, opts: opts}
	fail := func(err error) (backend.Session, error) {
		s.Close()
		return nil, err
	}
	if err := b.checkVersion(ctx, conn); err != nil {
		return fail(err)
	}
	if s.eng, _, err = b.engagementID(ctx, conn, true); err != nil {
		return fail(err)
	}
	if opts.Lock {
		if err := s.takeLock(ctx); err != nil {
			return fail(err)
		}
	}
	// Read under the lock: the revision may have moved while we waited.
	if err := conn.QueryRow(ctx, b.q(`SELECT rev FROM {{schema}}.engagements WHERE id = $1`), s.eng).Scan(&s.rev); err != nil {
		return fail(b.red.err(err))
	}
	if s.rev > 0 {
		if s.prev, s.ids, err = b.readState(ctx, conn, s.eng, s.rev); err != nil {
			return fail(err)
		}
	}
	if s.ids == nil {
		s.ids = &rowIDs{}
	}
	return s, nil
}

func (s *session) Previous() *state.State  { return s.prev }
func (s *session) Lock() *backend.LockInfo { return s.lock }

// takeLock waits for the advisory lock, then says who holds it.
func (s *session) takeLock(ctx context.Context) error {
	b := s.b
	deadline := time.Now().Add(s.opts.Timeout)
	wait := 50 * time.Millisecond
	for {
		var ok bool
		if err := s.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, b.lockKey()).Scan(&ok); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("waiting for the state lock: %w", ctx.Err())
			}
			return b.red.err(err)
		}
		if ok {
			return s.recordHolder(ctx)
		}
		if s.opts.Timeout <= 0 || time.Now().After(deadline) {
			return b.lockedError(ctx, s.conn)
		}
		t := time.NewTimer(min(wait, time.Until(deadline)+time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the state lock: %w", ctx.Err())
		case <-t.C:
		}
		if wait < time.Second {
			wait *= 2
		}
	}
}

// recordHolder writes the locks row of a lock just taken.
func (s *session) recordHolder(ctx context.Context) error {
	who, host := whoAmI()
	op := s.opts.Operation
	if op == "" {
		op = "run"
	}
	info := &backend.LockInfo{ID: uuid.NewString(), Path: s.b.Location(), Who: who, Operation: op,
		Created: time.Now().UTC().Truncate(time.Second), Host: host, PID: os.Getpid(), Version: s.opts.Version, OSLock: true}
	_, err := s.conn.Exec(ctx, s.b.q(`INSERT INTO {{schema}}.locks (engagement, id, who, host, operation, created, pid, version, backend_pid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, pg_backend_pid())
		ON CONFLICT (engagement) DO UPDATE SET id = EXCLUDED.id, who = EXCLUDED.who, host = EXCLUDED.host, operation = EXCLUDED.operation,
			created = EXCLUDED.created, pid = EXCLUDED.pid, version = EXCLUDED.version, backend_pid = EXCLUDED.backend_pid`),
		s.b.cfg.Engagement, info.ID, info.Who, info.Host, info.Operation, info.Created, info.PID, info.Version)
	if err != nil {
		s.conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, s.b.lockKey())
		return s.b.red.err(err)
	}
	s.lock = info
	return nil
}

// Close releases the lock (ending the session would too) and the
// connection.
func (s *session) Close() error {
	if s == nil || s.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if s.lock != nil && !s.conn.IsClosed() {
		s.conn.Exec(ctx, s.b.q(`DELETE FROM {{schema}}.locks WHERE engagement = $1 AND id = $2`), s.b.cfg.Engagement, s.lock.ID)
		if _, uerr := s.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, s.b.lockKey()); uerr != nil {
			err = s.b.red.err(uerr)
		}
	}
	s.lock = nil
	s.conn.Close(ctx)
	s.conn = nil
	return err
}

// errChanged: the state moved on since it was read (a run with
// -lock=false, or a lock lost with its session).
var errChanged = errors.New("changed since it was read")

// Commit writes what changed since Previous, in one transaction.
func (s *session) Commit(ctx context.Context, c backend.Commit) (backend.Committed, error) {
	if s.written {
		return backend.Committed{}, errors.New("this session has already committed")
	}
	var parts []Part
	for _, p := range c.Parts {
		pp, ok := p.(Part)
		if !ok {
			return backend.Committed{}, fmt.Errorf("the pg backend cannot store the %s", p.PartName())
		}
		parts = append(parts, pp)
	}
	next := c.State
	next.FormatVersion = state.FormatVersion
	next.Normalize()
	prev := s.prev
	state.TakeIdentity(prev, next, c.Exact)
	ch := s.changes(next)
	if prev != nil && ch.empty() && topOf(prev).key() == topOf(next).key() {
		return backend.Committed{Written: false, Serial: prev.Serial, Lineage: prev.Lineage}, nil
	}
	if prev != nil && !c.Exact {
		next.Serial = prev.Serial + 1
	}
	if err := s.write(ctx, next, ch, parts, c); err != nil {
		if errors.Is(err, errChanged) {
			err = fmt.Errorf("refusing to write %s: it changed since it was read (serial %d), probably by a run started with -lock=false; nothing was written", s.b.Location(), serialOf(prev))
		}
		return backend.Committed{}, s.rescue(next, err)
	}
	s.written = true
	return backend.Committed{Written: true, Serial: next.Serial, Lineage: next.Lineage}, nil
}

func serialOf(s *state.State) uint64 {
	if s == nil {
		return 0
	}
	return s.Serial
}

// changes are the rows a commit adds and ends.
type changes struct {
	addFindings  []int // indexes into next.Findings
	endFindings  []int64
	addInstances []int
	endInstances []int64
	addFacts     []int
	endFacts     []int64
	// changed counts the findings both ended and added (a new version).
	changed int
}

func (c *changes) empty() bool {
	return len(c.addFindings)+len(c.endFindings)+len(c.addInstances)+len(c.endInstances)+len(c.addFacts)+len(c.endFacts) == 0
}

// changes compares next with the state read: findings by a merge of the
// two sorted lists (identities are unique), instances and facts by key.
func (s *session) changes(next *state.State) *changes {
	ch := &changes{}
	var pf []state.Finding
	if s.prev != nil {
		pf = s.prev.Findings
	}
	i, j := 0, 0
	for i < len(pf) || j < len(next.Findings) {
		switch {
		case j == len(next.Findings):
			ch.endFindings = append(ch.endFindings, s.ids.findings[i])
			i++
		case i == len(pf):
			ch.addFindings = append(ch.addFindings, j)
			j++
		default:
			c := schema.CompareFindings(&pf[i].Finding, &next.Findings[j].Finding)
			switch {
			case c < 0:
				ch.endFindings = append(ch.endFindings, s.ids.findings[i])
				i++
			case c > 0:
				ch.addFindings = append(ch.addFindings, j)
				j++
			default:
				if !sameFinding(&pf[i], &next.Findings[j]) {
					ch.endFindings = append(ch.endFindings, s.ids.findings[i])
					ch.addFindings = append(ch.addFindings, j)
					ch.changed++
				}
				i++
				j++
			}
		}
	}

	old := map[string][]int{}
	if s.prev != nil {
		for i := range s.prev.Instances {
			k := s.prev.Instances[i].Key
			old[k] = append(old[k], i)
		}
	}
	for j := range next.Instances {
		n := &next.Instances[j]
		matched := false
		for x, i := range old[n.Key] {
			if sameInstance(&s.prev.Instances[i], n) {
				old[n.Key] = append(old[n.Key][:x:x], old[n.Key][x+1:]...)
				matched = true
				break
			}
		}
		if !matched {
			ch.addInstances = append(ch.addInstances, j)
		}
	}
	for _, is := range old {
		for _, i := range is {
			ch.endInstances = append(ch.endInstances, s.ids.instances[i])
		}
	}

	oldFacts := map[string][]int{}
	if s.prev != nil {
		for i := range s.prev.Facts {
			k := factKey(&s.prev.Facts[i])
			oldFacts[k] = append(oldFacts[k], i)
		}
	}
	for j := range next.Facts {
		k := factKey(&next.Facts[j])
		if l := oldFacts[k]; len(l) > 0 {
			oldFacts[k] = l[1:]
			continue
		}
		ch.addFacts = append(ch.addFacts, j)
	}
	for _, is := range oldFacts {
		for _, i := range is {
			ch.endFacts = append(ch.endFacts, s.ids.facts[i])
		}
	}
	return ch
}

// alive makes sure the session's connection works, reconnecting (and
// taking the lock again) when the database dropped it during the run.
func (s *session) alive(ctx context.Context) error {
	if s.conn != nil && !s.conn.IsClosed() && s.conn.Ping(ctx) == nil {
		return nil
	}
	if s.conn != nil {
		s.conn.Close(ctx)
	}
	conn, err := s.b.connect(ctx)
	if err != nil {
		return err
	}
	s.conn = conn
	if s.lock != nil {
		// The old session's lock ended with it.
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, s.b.lockKey()).Scan(&ok); err != nil {
			return s.b.red.err(err)
		}
		if !ok {
			s.lock = nil
			return fmt.Errorf("the connection holding the state lock was lost during the run, and another run holds the lock now")
		}
		if err := s.recordHolder(ctx); err != nil {
			return err
		}
	}
	return nil
}

// write is the commit's transaction.
func (s *session) write(ctx context.Context, next *state.State, ch *changes, parts []Part, c backend.Commit) error {
	b := s.b
	if err := s.alive(ctx); err != nil {
		return err
	}
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return b.red.err(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var cur int64
	if err := tx.QueryRow(ctx, b.q(`SELECT rev FROM {{schema}}.engagements WHERE id = $1 FOR UPDATE`), s.eng).Scan(&cur); err != nil {
		return b.red.err(err)
	}
	if cur != s.rev {
		return errChanged
	}
	rev := cur + 1
	var written int64 // bytes of the rows sent, for the history's sizes
	if err := s.dropUnpublished(ctx, tx, cur); err != nil {
		return err
	}
	copyAny := func(table string, cols []string, n int, row func(int) []any) error {
		if n == 0 {
			return nil
		}
		_, err := copyBinary(ctx, tx, pgx.Identifier{b.cfg.Schema, table}, cols, n, &written, row)
		if err != nil {
			return fmt.Errorf("writing %s: %w", table, b.red.err(err))
		}
		return nil
	}
	ends := func(table, col string, ids []int64) error {
		return copyAny(table, []string{"engagement_id", "rev", col}, len(ids), func(i int) []any { return []any{s.eng, rev, ids[i]} })
	}
	steps := []func() error{
		func() error { return s.writeFindings(ctx, tx, rev, next, ch.addFindings, &written) },
		func() error { return ends("finding_ends", "finding_id", ch.endFindings) },
		func() error {
			return copyAny("instances", instanceColumns, len(ch.addInstances), func(i int) []any {
				return instanceRow(rowID(rev, i), s.eng, rev, &next.Instances[ch.addInstances[i]])
			})
		},
		func() error { return ends("instance_ends", "instance_id", ch.endInstances) },
		func() error {
			return copyAny("facts", factColumns, len(ch.addFacts), func(i int) []any { return factRow(rowID(rev, i), s.eng, rev, &next.Facts[ch.addFacts[i]]) })
		},
		func() error { return ends("fact_ends", "fact_id", ch.endFacts) },
		func() error {
			who, _ := whoAmI()
			return copyAny("runs", runColumns, 1, func(int) []any { return runRow(s.eng, rev, topOf(next), len(next.Findings), who) })
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, b.q(`UPDATE {{schema}}.engagements SET rev = $2 WHERE id = $1`), s.eng, rev); err != nil {
		return b.red.err(err)
	}
	// What the history lists of the revision (migration 5).
	var at any
	if !c.Now.IsZero() {
		at = c.Now.UTC()
	}
	if _, err := tx.Exec(ctx, b.q(`UPDATE {{schema}}.runs SET findings_added = $3, findings_changed = $4, findings_removed = $5,
		rows_bytes = $6, committed_at = COALESCE($7, committed_at) WHERE engagement_id = $1 AND rev = $2`),
		s.eng, rev, len(ch.addFindings)-ch.changed, ch.changed, len(ch.endFindings)-ch.changed, written, at); err != nil {
		return b.red.err(err)
	}
	if err := s.prune(ctx, tx, rev, c); err != nil {
		return err
	}
	ref := CommitRef{Schema: b.schema, EngagementID: s.eng, Rev: rev, Serial: next.Serial}
	for _, p := range parts {
		if err := p.WritePG(ctx, tx, ref); err != nil {
			return fmt.Errorf("writing the %s: %w", p.PartName(), b.red.err(err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return b.red.err(err)
	}
	s.rev = rev
	return nil
}

// parallelFindings is the number of new findings from which a commit
// writes them over two connections: one backend inserts a million rows
// in about 3 s of its CPU, and on a server with a core to spare two
// backends take half as long. Below it the second connection's setup
// and commit cost more than they save.
var parallelFindings = 100_000

// writeFindings COPYs the commit's new findings. A large batch is split:
// the first half goes in the commit's transaction, the second over a
// connection of its own in a transaction that commits just before the
// commit's, under the revision that is not published yet (rows with rev
// above engagements.rev are in no state) and an unpublished row that the
// commit deletes as it publishes. If the runner dies between the two
// commits, the rows are invisible and the next commit drops them
// (dropUnpublished); if the second connection fails, so does the commit.
//
// written counts the bytes of the rows sent, both halves.
func (s *session) writeFindings(ctx context.Context, tx pgx.Tx, rev int64, next *state.State, add []int, written *int64) error {
	b := s.b
	if len(add) == 0 {
		return nil
	}
	table := pgx.Identifier{b.cfg.Schema, "findings"}
	rows := func(from int) func(buf []byte, i int) ([]byte, error) {
		return func(buf []byte, i int) ([]byte, error) {
			j := from + i
			return appendFindingRow(buf, rowID(rev, j), s.eng, rev, &next.Findings[add[j]]), nil
		}
	}
	split := len(add)
	var side *pgx.Conn
	if len(add) >= parallelFindings {
		// Without a second connection (max_connections reached), one
		// writes everything.
		if c, err := b.connect(ctx); err == nil {
			side, split = c, len(add)/2
			defer side.Close(context.WithoutCancel(ctx))
		}
	}
	sideDone := make(chan error, 1)
	var sideWritten int64 // the second half's bytes, read once it is done
	var sideTx pgx.Tx
	var mainXID int64
	if side != nil {
		if err := tx.QueryRow(ctx, `SELECT txid_current()`).Scan(&mainXID); err != nil {
			return fmt.Errorf("writing findings: %w", b.red.err(err))
		}
		var err error
		if sideTx, err = side.Begin(ctx); err != nil {
			return fmt.Errorf("writing findings: %w", b.red.err(err))
		}
		defer sideTx.Rollback(context.WithoutCancel(ctx))
		// Its commit need not wait for the WAL to reach the disk: the
		// publishing commit's flush, later, covers it, and until then
		// the rows are unpublished either way.
		if _, err := sideTx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("writing findings: %w", b.red.err(err))
		}
		if _, err := sideTx.Exec(ctx, b.q(`INSERT INTO {{schema}}.unpublished (engagement_id, rev) VALUES ($1, $2)`), s.eng, rev); err != nil {
			return fmt.Errorf("writing findings: %w", b.red.err(err))
		}
		sideCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			_, err := copyRows(sideCtx, sideTx, table, findingColumns, len(add)-split, &sideWritten, rows(split))
			sideDone <- err
		}()
		defer func() {
			if sideDone != nil {
				cancel()
				<-sideDone
			}
		}()
	}
	_, err := copyRows(ctx, tx, table, findingColumns, split, written, rows(0))
	if side != nil {
		if err != nil {
			return fmt.Errorf("writing findings: %w", b.red.err(err))
		}
		serr := <-sideDone
		sideDone = nil
		*written += sideWritten
		if err == nil {
			err = serr
		}
		if err == nil {
			err = commitSide(ctx, sideTx, mainXID)
		}
		if err == nil {
			// Published with this transaction, or dropped by the next.
			_, err = tx.Exec(ctx, b.q(`DELETE FROM {{schema}}.unpublished WHERE engagement_id = $1 AND rev = $2`), s.eng, rev)
		}
	}
	if err != nil {
		return fmt.Errorf("writing findings: %w", b.red.err(err))
	}
	return nil
}

// commitSide commits the second connection's half of the findings if
// the commit's own transaction is still running: had the server ended it
// (idle_in_transaction_session_timeout while it waited for this half, an
// administrator), the lock is gone, another runner may be publishing
// the same revision, and these rows must not join it.
func commitSide(ctx context.Context, sideTx pgx.Tx, mainXID int64) error {
	var status string
	if err := sideTx.QueryRow(ctx, `SELECT txid_status($1)`, mainXID).Scan(&status); err != nil {
		return err
	}
	if status != "in progress" {
		return fmt.Errorf("the commit's transaction ended (%s) while its findings were written", status)
	}
	return sideTx.Commit(ctx)
}

// dropUnpublished deletes the findings of commits that wrote their
// second half and never published (writeFindings): rows above the
// current revision cur, which the commit under way is about to reuse.
func (s *session) dropUnpublished(ctx context.Context, tx pgx.Tx, cur int64) error {
	b := s.b
	tag, err := tx.Exec(ctx, b.q(`DELETE FROM {{schema}}.unpublished WHERE engagement_id = $1`), s.eng)
	if err != nil {
		return b.red.err(err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, b.q(`DELETE FROM {{schema}}.findings WHERE engagement_id = $1 AND rev > $2`), s.eng, cur); err != nil {
		return fmt.Errorf("dropping the findings of a commit that never published: %w", b.red.err(err))
	}
	return nil
}

// rescue saves a state the commit could not write to a local file, so
// nothing the run found is lost.
func (s *session) rescue(next *state.State, cause error) error {
	dir := s.b.cfg.RescueDir
	if dir == "" {
		return cause
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w (and the rescue folder %s could not be made: %v)", cause, dir, err)
	}
	name := fmt.Sprintf("%s-serial%d-%s.rfstate", safeName(s.b.cfg.Engagement), next.Serial, time.Now().UTC().Format("20060102T150405.000Z"))
	path := filepath.Join(dir, name)
	err := atomicfile.Write(path, atomicfile.Options{Perm: 0o644}, func(w io.Writer) error {
		return state.Encode(w, next)
	})
	if err != nil {
		return fmt.Errorf("%w (and the rescue file %s could not be written: %v)", cause, path, err)
	}
	return &backend.RescueError{Path: path, Err: cause}
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
