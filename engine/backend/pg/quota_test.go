package pg

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/backend/quotatest"
	"github.com/reconform/reconform/internal/pgtest"
)

// TestQuotaLedgerContract: the ledger contract against a real server,
// every "open" a new backend (another runner) on the test's database.
func TestQuotaLedgerContract(t *testing.T) {
	conns := map[*testing.T]string{}
	quotatest.Run(t, func(t *testing.T) backend.QuotaBook {
		if conns[t] == "" {
			conns[t] = pgtest.Database(t)
		}
		return newBackend(t, conns[t], "e-"+t.Name()).QuotaBook()
	})
}

// TestMigrationAppliedBelowTheNewest: a migration numbered below one the
// schema already has (written on a parallel branch, landed later) is
// applied by init, and until then the backend refuses to run.
func TestMigrationAppliedBelowTheNewest(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	cx, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer cx.Close(ctx)
	// Pretend migration 3 was never applied: undo it.
	for _, sql := range []string{
		`DROP VIEW reconform.quota_current`, `DROP TABLE reconform.quota_windows, reconform.quota_keys, reconform.quota_engagements, reconform.quota_salt`,
		`DELETE FROM reconform.schema_migrations WHERE version = 3`,
		`INSERT INTO reconform.schema_migrations VALUES (4, 'newer, from another branch')`,
	} {
		if _, err := cx.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// Version 4 is newer than this build: refused, nothing changed.
	if _, err := b.Read(ctx); err == nil || !strings.Contains(err.Error(), "upgrade reconform") {
		t.Fatalf("read with a newer schema: %v", err)
	}
	if _, err := cx.Exec(ctx, `DELETE FROM reconform.schema_migrations WHERE version = 4`); err != nil {
		t.Fatal(err)
	}
	if _, err := cx.Exec(ctx, `INSERT INTO reconform.schema_migrations VALUES (2, 'from another branch')`); err != nil {
		t.Fatal(err)
	}
	if SchemaVersion() < 3 {
		t.Skip("no migration 3")
	}
	if _, err := b.Read(ctx); err == nil || !strings.Contains(err.Error(), "lacks migration 3") {
		t.Fatalf("read without migration 3: %v", err)
	}
	// Re-create the objects the altered instances table already has.
	if _, err := cx.Exec(ctx, `ALTER TABLE reconform.instances DROP COLUMN verified_at CASCADE, DROP COLUMN verified_at_ns`); err != nil {
		t.Fatal(err)
	}
	r, err := b.Migrate(ctx)
	if err != nil || r.To != SchemaVersion() {
		t.Fatalf("init: %+v %v", r, err)
	}
	if _, err := b.QuotaBook().Report(ctx); err != nil {
		t.Fatalf("the ledger after init: %v", err)
	}
}
