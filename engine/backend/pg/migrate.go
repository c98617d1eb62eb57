package pg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one migrations/NNNN_name.sql file.
type migration struct {
	Version     int
	Description string
	SQL         string
}

// migrations are the embedded migrations, by version.
func migrations() []migration {
	ents, _ := fs.ReadDir(migrationFiles, "migrations")
	var out []migration
	for _, e := range ents {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			continue
		}
		data, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		out = append(out, migration{Version: v, Description: strings.ReplaceAll(name, "_", " "), SQL: string(data)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// SchemaVersion is the newest schema version this build knows.
func SchemaVersion() int {
	m := migrations()
	return m[len(m)-1].Version
}

// MigrationSQL is the SQL of every migration for schema, in order: what
// Init runs, for a database administrator who applies it by hand.
func MigrationSQL(schema string) string {
	var b strings.Builder
	q := pgx.Identifier{schema}.Sanitize()
	for _, m := range migrations() {
		fmt.Fprintf(&b, "-- migration %d: %s\n%s\n", m.Version, m.Description, expandSchema(m.SQL, q))
	}
	return b.String()
}

func expandSchema(sql, quoted string) string { return strings.ReplaceAll(sql, "{{schema}}", quoted) }

// InitResult says what Init did.
type InitResult struct {
	// From and To are the schema versions before and after (From 0: the
	// schema was created).
	From, To int
}

// Init creates the schema when it is missing (the role needs CREATE on
// the database for that; a schema an administrator made for the role is
// used as it is) and applies the migrations it lacks, each in its own
// transaction, under an advisory lock so that two runners initialising
// at once apply each migration once.
func (b *Backend) Init(ctx context.Context) error {
	_, err := b.Migrate(ctx)
	return err
}

// Migrate is Init, saying which versions it went from and to.
func (b *Backend) Migrate(ctx context.Context) (InitResult, error) {
	conn, err := b.connect(ctx)
	if err != nil {
		return InitResult{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, b.cfg.Schema).Scan(&exists); err != nil {
		return InitResult{}, b.red.err(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, b.migrateKey()); err != nil {
		return InitResult{}, b.red.err(err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, b.migrateKey())
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+b.schema); err != nil {
			return InitResult{}, fmt.Errorf("creating the schema %s (the role needs CREATE on the database, or an administrator creates the schema for it: see docs/backend-pg.md): %w", b.cfg.Schema, b.red.err(err))
		}
	}
	if _, err := conn.Exec(ctx, b.q(`CREATE TABLE IF NOT EXISTS {{schema}}.schema_migrations (
		version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)); err != nil {
		return InitResult{}, b.red.err(err)
	}
	from, err := b.version(ctx, conn)
	if err != nil {
		return InitResult{}, err
	}
	res := InitResult{From: from, To: from}
	if from > SchemaVersion() {
		return res, b.newerSchema(from)
	}
	applied, err := b.applied(ctx, conn)
	if err != nil {
		return res, err
	}
	for _, m := range migrations() {
		// Every migration not applied yet, not only those above the
		// newest: migrations written on parallel branches land in either
		// order, and one numbered below an applied one still runs.
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, b.q(m.SQL)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, b.q(`INSERT INTO {{schema}}.schema_migrations (version, description) VALUES ($1, $2)`), m.Version, m.Description)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("applying migration %d (%s) to schema %s: %w", m.Version, m.Description, b.cfg.Schema, b.red.err(err))
		}
		res.To = max(res.To, m.Version)
	}
	return res, nil
}

// applied is the set of migration versions the schema has.
func (b *Backend) applied(ctx context.Context, q querier) (map[int]bool, error) {
	rows, err := q.Query(ctx, b.q(`SELECT version FROM {{schema}}.schema_migrations`))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") {
		return map[int]bool{}, nil
	}
	if err != nil {
		return nil, b.red.err(err)
	}
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, b.red.err(err)
		}
		out[v] = true
	}
	return out, b.red.err(rows.Err())
}

func (b *Backend) migrateKey() int64 { return b.lockKey() ^ 0x6d696772617465 }

// version is the schema's applied version (0: none).
func (b *Backend) version(ctx context.Context, q querier) (int, error) {
	var v *int
	err := q.QueryRow(ctx, b.q(`SELECT max(version) FROM {{schema}}.schema_migrations`)).Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") { // undefined table, schema
		return 0, nil
	}
	if err != nil {
		return 0, b.red.err(err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// checkVersion refuses a schema that is not initialised, or not to this
// build's version.
func (b *Backend) checkVersion(ctx context.Context, q querier) error {
	v, err := b.version(ctx, q)
	if err != nil {
		return err
	}
	if v > 0 && v <= SchemaVersion() {
		applied, err := b.applied(ctx, q)
		if err != nil {
			return err
		}
		for _, m := range migrations() {
			if !applied[m.Version] {
				return fmt.Errorf("the pg backend's schema %s lacks migration %d (%s) that this reconform needs: run reconform init to migrate it", b.cfg.Schema, m.Version, m.Description)
			}
		}
	}
	switch {
	case v == 0:
		return fmt.Errorf("the pg backend's schema %s is not initialised: run reconform init", b.cfg.Schema)
	case v < SchemaVersion():
		return fmt.Errorf("the pg backend's schema %s is at version %d and this reconform needs version %d: run reconform init to migrate it", b.cfg.Schema, v, SchemaVersion())
	case v > SchemaVersion():
		return b.newerSchema(v)
	}
	return nil
}

func (b *Backend) newerSchema(v int) error {
	return fmt.Errorf("the pg backend's schema %s is at version %d, newer than this reconform knows (%d): upgrade reconform (nothing was changed)", b.cfg.Schema, v, SchemaVersion())
}
