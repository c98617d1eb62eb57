package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/engine/notify/ledger"
)

// The delivery ledger in PostgreSQL (migration 2): notify_events rows
// written in the commit's transaction, so an event exists exactly when
// its state does, and notify_deliveries rows claimed with UPDATE ... WHERE
// the claim is free: under READ COMMITTED a second runner's UPDATE waits
// for the first's row lock, then sees the claim and skips the row.

var _ backend.DeliveryLedger = (*Backend)(nil)

// DeliveryPart records events in the commit's transaction.
func (b *Backend) DeliveryPart(events []ledger.Event) backend.Part {
	return &deliveryPart{events: events}
}

// Deliveries is the ledger's tables.
func (b *Backend) Deliveries() ledger.Ledger { return &pgLedger{b: b} }

type deliveryPart struct{ events []ledger.Event }

func (p *deliveryPart) PartName() string { return "delivery ledger" }

func (p *deliveryPart) WritePG(ctx context.Context, tx pgx.Tx, c CommitRef) error {
	for _, e := range p.events {
		if _, err := tx.Exec(ctx, expandSchema(`INSERT INTO {{schema}}.notify_events (engagement_id, id, rev, serial, created, body)
			VALUES ($1, $2, $3, $4, $5, $6)`, c.Schema), c.EngagementID, e.ID, c.Rev, int64(c.Serial), e.Created.UTC(), string(e.Body)); err != nil {
			return err
		}
		for _, n := range e.Notifiers {
			if _, err := tx.Exec(ctx, expandSchema(`INSERT INTO {{schema}}.notify_deliveries (engagement_id, event_id, notifier)
				VALUES ($1, $2, $3)`, c.Schema), c.EngagementID, e.ID, n); err != nil {
				return err
			}
		}
	}
	return nil
}

type pgLedger struct{ b *Backend }

const ledgerTimeout = 30 * time.Second

func (l *pgLedger) pool(ctx context.Context) (*pgxpool.Pool, int64, error) {
	pool, err := l.b.readers(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := l.b.checkVersion(ctx, pool); err != nil {
		return nil, 0, err
	}
	id, _, err := l.b.engagementID(ctx, pool, false)
	return pool, id, err
}

const deliveryColumns = `d.event_id, d.notifier, v.serial, v.created, v.body, d.attempts, d.last_error, d.last_attempt, d.delivered_at, d.claimed_by, d.claimed_until`

func scanDeliveries(rows pgx.Rows) ([]ledger.Delivery, error) {
	defer rows.Close()
	var out []ledger.Delivery
	for rows.Next() {
		var (
			d                                   ledger.Delivery
			serial                              int64
			body                                *string
			lastAttempt, delivered, claimedTill *time.Time
			claimedBy                           *string
		)
		if err := rows.Scan(&d.EventID, &d.Notifier, &serial, &d.Created, &body, &d.Attempts, &d.LastError, &lastAttempt, &delivered, &claimedBy, &claimedTill); err != nil {
			return nil, err
		}
		d.Serial, d.Created = uint64(serial), d.Created.UTC()
		if body != nil {
			d.Body = []byte(*body)
		}
		if lastAttempt != nil {
			d.LastAttempt = lastAttempt.UTC()
		}
		if delivered != nil {
			d.Delivered = delivered.UTC()
		}
		if claimedBy != nil {
			d.ClaimedBy = *claimedBy
		}
		if claimedTill != nil {
			d.ClaimedUntil = claimedTill.UTC()
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (l *pgLedger) Claim(ctx context.Context, holder string, notifiers []string, until time.Time) ([]ledger.Delivery, error) {
	ctx, cancel := context.WithTimeout(ctx, ledgerTimeout)
	defer cancel()
	q, id, err := l.pool(ctx)
	if err != nil || id == 0 {
		return nil, err
	}
	rows, err := q.Query(ctx, l.b.q(`WITH claimed AS (
			UPDATE {{schema}}.notify_deliveries d SET claimed_by = $2, claimed_until = $3
			WHERE d.engagement_id = $1 AND d.delivered_at IS NULL AND d.notifier = ANY($4)
			  AND (d.claimed_by IS NULL OR d.claimed_by = $2 OR d.claimed_until < now())
			RETURNING d.*)
		SELECT `+deliveryColumns+` FROM claimed d
		JOIN {{schema}}.notify_events v ON v.engagement_id = d.engagement_id AND v.id = d.event_id
		ORDER BY v.created, v.serial, d.notifier`), id, holder, until.UTC(), notifiers)
	if err != nil {
		return nil, l.b.red.err(err)
	}
	out, err := scanDeliveries(rows)
	return out, l.b.red.err(err)
}

func (l *pgLedger) Finish(ctx context.Context, holder string, outcomes []ledger.Outcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ledgerTimeout)
	defer cancel()
	pool, id, err := l.pool(ctx)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return l.b.red.err(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, o := range outcomes {
		var at any
		if o.Attempts > 0 {
			at = o.At.UTC()
		}
		if o.Delivered {
			// Recorded whoever holds the claim now: it was sent.
			_, err = tx.Exec(ctx, l.b.q(`UPDATE {{schema}}.notify_deliveries SET delivered_at = $4, last_error = '',
				attempts = attempts + $5, last_attempt = COALESCE($6, last_attempt),
				claimed_by = CASE WHEN claimed_by = $7 THEN NULL ELSE claimed_by END,
				claimed_until = CASE WHEN claimed_by = $7 THEN NULL ELSE claimed_until END
				WHERE engagement_id = $1 AND event_id = $2 AND notifier = $3 AND delivered_at IS NULL`),
				id, o.EventID, o.Notifier, o.At.UTC(), o.Attempts, at, holder)
		} else {
			_, err = tx.Exec(ctx, l.b.q(`UPDATE {{schema}}.notify_deliveries SET attempts = attempts + $4,
				last_error = CASE WHEN $5 = '' THEN last_error ELSE $5 END, last_attempt = COALESCE($6, last_attempt),
				claimed_by = NULL, claimed_until = NULL
				WHERE engagement_id = $1 AND event_id = $2 AND notifier = $3 AND delivered_at IS NULL AND claimed_by = $7`),
				id, o.EventID, o.Notifier, o.Attempts, o.Err, at, holder)
		}
		if err != nil {
			return l.b.red.err(err)
		}
	}
	// What was sent everywhere need not be kept, only that it was; and
	// not that for ever.
	if _, err := tx.Exec(ctx, l.b.q(`UPDATE {{schema}}.notify_events v SET body = NULL
		WHERE v.engagement_id = $1 AND v.body IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM {{schema}}.notify_deliveries d WHERE d.engagement_id = v.engagement_id AND d.event_id = v.id AND d.delivered_at IS NULL)`), id); err != nil {
		return l.b.red.err(err)
	}
	if _, err := tx.Exec(ctx, l.b.q(`DELETE FROM {{schema}}.notify_events v
		WHERE v.engagement_id = $1 AND v.body IS NULL AND NOT EXISTS (
			SELECT 1 FROM {{schema}}.notify_deliveries d WHERE d.engagement_id = v.engagement_id AND d.event_id = v.id
			AND (d.delivered_at IS NULL OR d.delivered_at > $2))`), id, time.Now().Add(-ledger.KeepDelivered)); err != nil {
		return l.b.red.err(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("recording deliveries: %w", l.b.red.err(err))
	}
	return nil
}

func (l *pgLedger) List(ctx context.Context) ([]ledger.Delivery, error) {
	ctx, cancel := context.WithTimeout(ctx, ledgerTimeout)
	defer cancel()
	q, id, err := l.pool(ctx)
	if err != nil || id == 0 {
		return nil, err
	}
	rows, err := q.Query(ctx, l.b.q(`SELECT `+deliveryColumns+` FROM {{schema}}.notify_deliveries d
		JOIN {{schema}}.notify_events v ON v.engagement_id = d.engagement_id AND v.id = d.event_id
		WHERE d.engagement_id = $1 ORDER BY v.created, v.serial, d.notifier`), id)
	if err != nil {
		return nil, l.b.red.err(err)
	}
	out, err := scanDeliveries(rows)
	return out, l.b.red.err(err)
}
