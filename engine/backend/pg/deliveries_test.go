package pg

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/backend/ledgertest"
	"github.com/reconform/reconform/engine/notify/ledger"
	"github.com/reconform/reconform/internal/pgtest"
)

func TestPGDeliveryLedger(t *testing.T) {
	dbs := map[string]string{}
	ledgertest.Run(t, func(t *testing.T) backend.Backend {
		conn, ok := dbs[t.Name()]
		if !ok {
			conn = pgtest.Database(t)
			dbs[t.Name()] = conn
		}
		return newBackend(t, conn, "acme")
	})
}

// A commit whose transaction fails after the ledger part wrote its rows
// leaves no event: the rows go with the rollback.
func TestPGLedgerRolledBackWithTheState(t *testing.T) {
	ctx := context.Background()
	conn := pgtest.Database(t)
	b := newBackend(t, conn, "acme")
	sess, err := b.Open(ctx, backend.OpenOptions{Lock: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	bad := &failingPart{}
	_, err = sess.Commit(ctx, backend.Commit{State: richState(3, 0), Parts: []backend.Part{
		b.DeliveryPart([]ledger.Event{{ID: "e1", Created: time.Now(), Notifiers: []string{"slack.a"}, Body: []byte(`{}`)}}), bad}})
	if err == nil {
		t.Fatal("the commit succeeded")
	}
	got, err := b.Deliveries().List(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("rows of a rolled-back commit: %+v %v", got, err)
	}
}

type failingPart struct{}

func (failingPart) PartName() string { return "failing part" }
func (failingPart) WritePG(context.Context, pgx.Tx, CommitRef) error {
	return errors.New("the disk is full")
}
