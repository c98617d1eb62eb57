// Package pg is the PostgreSQL backend: an engagement's state, history,
// lock and response cache as rows in one schema of a PostgreSQL database,
// shared by every runner that connects to it (pgx).
//
//   - The state is rows: findings, facts and instances kept as versions
//     (a row belongs to every revision from the one that added it until an
//     *_ends row ends it), one runs row per revision. A commit writes only
//     what changed, with COPY, in one transaction, so a runner killed at
//     any moment leaves the previous serial or the new one; any serial of
//     the history can be rebuilt. The JSON state it gives back is byte for
//     byte that of a local state file of the same content.
//   - The lock is a session advisory lock per engagement: it ends with the
//     holder's database session, so a holder that dies never leaves a
//     stale lock. Who holds it (host, user, operation, since) is in the
//     locks table for the others' errors.
//   - A commit that cannot reach the database saves the state to a local
//     rescue file and says how to push it (backend.RescueError).
//   - Migrations (migrations/*.sql) are versioned in schema_migrations and
//     applied by Init (reconform init).
//
// The connection string and its password never appear in an error of
// this package (redact.go).
package pg

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/state"
)

// Config says which database, schema and engagement.
type Config struct {
	// ConnString is a PostgreSQL URL or keyword/value string; sensitive.
	ConnString string
	// Schema is the schema that holds the tables (schema_name).
	Schema string
	// Engagement is the engagement's name, its key in the schema.
	Engagement string
	// RescueDir is where a commit that cannot reach the database saves the
	// state it could not write.
	RescueDir string
	// Secrets are redacted from every error besides the connection
	// string's own parts (the engagement's other secrets).
	Secrets []string
}

// Backend is an engagement in a PostgreSQL schema.
type Backend struct {
	cfg    Config
	schema string // quoted identifier
	red    *redactor

	mu   sync.Mutex
	pool *pgxpool.Pool
	eng  int64 // engagement id, 0 until known
}

var _ backend.Backend = (*Backend)(nil)

// New checks cfg and returns the backend; nothing is connected yet.
func New(cfg Config) (*Backend, error) {
	red := newRedactor(cfg.ConnString, cfg.Secrets)
	if cfg.ConnString == "" {
		return nil, errors.New("the pg backend has no connection string: set conn_str in the backend block, or RECONFORM_PG_CONN")
	}
	if _, err := pgx.ParseConfig(cfg.ConnString); err != nil {
		return nil, fmt.Errorf("the pg backend's conn_str is not a PostgreSQL connection string: %w", red.err(err))
	}
	if !validSchema(cfg.Schema) {
		return nil, fmt.Errorf("the pg backend's schema_name %q is not a lower-case identifier", cfg.Schema)
	}
	if cfg.Engagement == "" {
		return nil, errors.New("the pg backend needs the engagement's name")
	}
	return &Backend{cfg: cfg, schema: pgx.Identifier{cfg.Schema}.Sanitize(), red: red}, nil
}

func validSchema(s string) bool {
	if s == "" || len(s) > 63 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] == '_') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Location names the schema and engagement (never the server).
func (b *Backend) Location() string {
	return fmt.Sprintf("pg schema %s, engagement %s", b.cfg.Schema, b.cfg.Engagement)
}

// q replaces {{schema}} in a statement with the quoted schema name.
func (b *Backend) q(sql string) string { return expandSchema(sql, b.schema) }

// connect opens a single connection (for a session: its lock and commit).
func (b *Backend) connect(ctx context.Context) (*pgx.Conn, error) {
	cc, err := pgx.ParseConfig(b.cfg.ConnString)
	if err != nil {
		return nil, b.red.err(err)
	}
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["application_name"] = "reconform"
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = 15 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, b.connectErr(err)
	}
	return conn, nil
}

func (b *Backend) connectErr(err error) error {
	return fmt.Errorf("connecting to the pg backend (%s): %w", b.Location(), b.red.err(err))
}

// readers is the pool for reads and the cache, opened on first use.
func (b *Backend) readers(ctx context.Context) (*pgxpool.Pool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pool != nil {
		return b.pool, nil
	}
	pc, err := pgxpool.ParseConfig(b.cfg.ConnString)
	if err != nil {
		return nil, b.red.err(err)
	}
	pc.MaxConns = 4
	pc.ConnConfig.RuntimeParams["application_name"] = "reconform"
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = 15 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, b.connectErr(err)
	}
	b.pool = pool
	return pool, nil
}

// Close closes the pool.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pool != nil {
		b.pool.Close()
		b.pool = nil
	}
	return nil
}

// querier is what pgx.Conn, pgx.Tx and pgxpool.Pool share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// engagementID finds the engagement's row; create makes it when missing.
// 0 without error: no such engagement (and create false).
func (b *Backend) engagementID(ctx context.Context, q querier, create bool) (id, rev int64, err error) {
	if create {
		if _, err := q.Exec(ctx, b.q(`INSERT INTO {{schema}}.engagements (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`), b.cfg.Engagement); err != nil {
			return 0, 0, b.red.err(err)
		}
	}
	err = q.QueryRow(ctx, b.q(`SELECT id, rev FROM {{schema}}.engagements WHERE name = $1`), b.cfg.Engagement).Scan(&id, &rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, b.red.err(err)
	}
	return id, rev, nil
}

// Read reads the current state.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	pool, err := b.readers(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.checkVersion(ctx, pool); err != nil {
		return nil, err
	}
	id, rev, err := b.engagementID(ctx, pool, false)
	if err != nil || id == 0 || rev == 0 {
		return nil, err
	}
	st, _, err := b.readState(ctx, pool, id, rev)
	return st, err
}

// History lists the revisions before the current one.
func (b *Backend) History(ctx context.Context) ([]backend.HistoryEntry, error) {
	pool, err := b.readers(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.checkVersion(ctx, pool); err != nil {
		return nil, err
	}
	rows, err := pool.Query(ctx, b.q(`SELECT r.rev, r.serial, r.lineage FROM {{schema}}.runs r
		JOIN {{schema}}.engagements e ON e.id = r.engagement_id
		WHERE e.name = $1 AND r.rev < e.rev ORDER BY r.rev`), b.cfg.Engagement)
	if err != nil {
		return nil, b.red.err(err)
	}
	var out []backend.HistoryEntry
	for rows.Next() {
		var e backend.HistoryEntry
		var serial int64
		if err := rows.Scan(&e.Rev, &serial, &e.Lineage); err != nil {
			rows.Close()
			return nil, b.red.err(err)
		}
		e.Serial = uint64(serial)
		out = append(out, e)
	}
	return out, b.red.err(rows.Err())
}

// ReadHistory rebuilds the state of a past revision.
func (b *Backend) ReadHistory(ctx context.Context, e backend.HistoryEntry) (*state.State, error) {
	pool, err := b.readers(ctx)
	if err != nil {
		return nil, err
	}
	id, _, err := b.engagementID(ctx, pool, false)
	if err != nil {
		return nil, err
	}
	if id == 0 || e.Rev == 0 {
		return nil, fmt.Errorf("no state with serial %d in %s", e.Serial, b.Location())
	}
	st, _, err := b.readState(ctx, pool, id, e.Rev)
	return st, err
}

// Cache is the answer_cache table.
func (b *Backend) Cache() backend.Cache { return &cache{b: b} }

// lockKey is the advisory lock of the engagement: a hash of the schema
// and the engagement's name, so engagements of different schemas in one
// database never share a lock.
func (b *Backend) lockKey() int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "reconform\x00%s\x00%s", b.cfg.Schema, b.cfg.Engagement)
	return int64(h.Sum64())
}

func whoAmI() (who, host string) {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ = os.Hostname()
	if host != "" {
		name += "@" + host
	}
	return name, host
}
