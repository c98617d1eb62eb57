package pg

import (
	"context"
	"strings"
	"testing"
	"time"

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
// schema already has (written on a parallel branch, landed later: the
// delivery ledger's 2 after the quota ledger's 3) is applied by init, and
// until then the backend refuses to run.
func TestMigrationAppliedBelowTheNewest(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	cx, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer cx.Close(ctx)
	if SchemaVersion() < 3 {
		t.Skip("no migration 3")
	}
	// Pretend migration 2 was never applied: undo it.
	for _, sql := range []string{
		`DROP VIEW reconform.current_checks, reconform.pending_notifications`,
		`DROP TABLE reconform.notify_deliveries, reconform.notify_events`,
		`ALTER TABLE reconform.runs DROP COLUMN checks`,
		`DELETE FROM reconform.schema_migrations WHERE version = 2`,
	} {
		if _, err := cx.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Read(ctx); err == nil || !strings.Contains(err.Error(), "lacks migration 2") {
		t.Fatalf("read without migration 2: %v", err)
	}
	r, err := b.Migrate(ctx)
	if err != nil || r.From != SchemaVersion() || r.To != SchemaVersion() {
		t.Fatalf("init: %+v %v", r, err)
	}
	if _, err := b.Read(ctx); err != nil {
		t.Fatalf("read after init: %v", err)
	}
	// A version newer than this build is refused, nothing changed.
	if _, err := cx.Exec(ctx, `INSERT INTO reconform.schema_migrations VALUES (99, 'newer')`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Read(ctx); err == nil || !strings.Contains(err.Error(), "upgrade reconform") {
		t.Fatalf("read with a newer schema: %v", err)
	}
}

// BenchmarkPGQuotaReserve is one reservation in the pg ledger (one
// transaction locking the key's window rows).
func BenchmarkPGQuotaReserve(b *testing.B) {
	qb := newBackend(b, pgtest.Database(b), "acme").QuotaBook()
	key := backend.QuotaKey{ProviderType: "virustotal", KeyHash: "k"}
	w := []backend.QuotaWindow{{Start: time.Now().UTC().Truncate(24 * time.Hour), Length: 24 * time.Hour, Limit: 1 << 30}}
	for b.Loop() {
		if _, err := qb.Reserve(b.Context(), key, w, 1); err != nil {
			b.Fatal(err)
		}
	}
}
