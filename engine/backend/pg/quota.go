package pg

import (
	"context"
	"crypto/rand"
	"errors"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
)

// quotaBook is the quota ledger in the backend's schema (migration 3):
// quota_windows, quota_keys, quota_engagements and quota_salt, shared by
// every engagement and runner of the schema. A reservation is one
// transaction that locks the key's window rows (SELECT ... FOR UPDATE, in
// a fixed order) before it adds to them, so two runners never grant more
// than a limit together; a runner that dies mid-transaction leaves
// nothing.
type quotaBook struct{ b *Backend }

var (
	_ backend.QuotaBook  = (*quotaBook)(nil)
	_ backend.QuotaBooks = (*Backend)(nil)
)

// QuotaBook is the schema's quota ledger.
func (b *Backend) QuotaBook() backend.QuotaBook { return &quotaBook{b: b} }

// quotaTimeout bounds every ledger operation: a database that went away
// costs a run its reservations (nothing is sent), not a stall.
const quotaTimeout = 15 * time.Second

func (qb *quotaBook) pool(ctx context.Context) (querier, error) {
	pool, err := qb.b.readers(ctx)
	if err != nil {
		return nil, err
	}
	if err := qb.b.checkVersion(ctx, pool); err != nil {
		return nil, err
	}
	return pool, nil
}

// tx runs f in a transaction on the pool.
func (qb *quotaBook) tx(ctx context.Context, f func(pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(ctx, quotaTimeout)
	defer cancel()
	pool, err := qb.b.readers(ctx)
	if err != nil {
		return err
	}
	if err := qb.b.checkVersion(ctx, pool); err != nil {
		return err
	}
	return qb.b.red.err(pgx.BeginFunc(ctx, pool, f))
}

// ensureWindows makes the rows of windows that have none yet.
func (qb *quotaBook) ensureWindows(ctx context.Context, tx pgx.Tx, key backend.QuotaKey, windows []backend.QuotaWindow) error {
	for _, w := range windows {
		if _, err := tx.Exec(ctx, qb.b.q(`INSERT INTO {{schema}}.quota_windows
			(provider_type, key_id, window_start, window_seconds, window_end, quota_limit) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`), key.ProviderType, key.KeyHash, w.Start.UTC(), int64(w.Length/time.Second), w.End().UTC(), w.Limit); err != nil {
			return err
		}
	}
	return nil
}

// sortedWindows orders windows as every transaction locks them.
func sortedWindows(ws []backend.QuotaWindow) []backend.QuotaWindow {
	out := append([]backend.QuotaWindow(nil), ws...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Length != out[j].Length {
			return out[i].Length < out[j].Length
		}
		return out[i].Start.Before(out[j].Start)
	})
	return out
}

const usedExpr = `CASE WHEN spent_at IS NOT NULL THEN GREATEST(used + extra, quota_limit) ELSE used + extra END`

// Reserve takes n slots in every window, or none.
func (qb *quotaBook) Reserve(ctx context.Context, key backend.QuotaKey, windows []backend.QuotaWindow, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	granted := 0
	err := qb.tx(ctx, func(tx pgx.Tx) error {
		ws := sortedWindows(windows)
		if err := qb.ensureWindows(ctx, tx, key, ws); err != nil {
			return err
		}
		for _, w := range ws {
			var used int
			// The row lock is taken (and kept to the commit) before the
			// count is read: a concurrent reservation waits, then reads
			// this one's count.
			err := tx.QueryRow(ctx, qb.b.q(`SELECT `+usedExpr+` FROM {{schema}}.quota_windows
				WHERE provider_type = $1 AND key_id = $2 AND window_start = $3 AND window_seconds = $4 FOR UPDATE`),
				key.ProviderType, key.KeyHash, w.Start.UTC(), int64(w.Length/time.Second)).Scan(&used)
			if err != nil {
				return err
			}
			if used+n > w.Limit {
				return nil
			}
		}
		for _, w := range ws {
			if _, err := tx.Exec(ctx, qb.b.q(`UPDATE {{schema}}.quota_windows SET used = used + $5, quota_limit = $6
				WHERE provider_type = $1 AND key_id = $2 AND window_start = $3 AND window_seconds = $4`),
				key.ProviderType, key.KeyHash, w.Start.UTC(), int64(w.Length/time.Second), n, w.Limit); err != nil {
				return err
			}
		}
		granted = n
		return nil
	})
	if err != nil {
		return 0, err
	}
	return granted, nil
}

// Release gives back n slots.
func (qb *quotaBook) Release(ctx context.Context, key backend.QuotaKey, windows []backend.QuotaWindow, n int) error {
	if n <= 0 {
		return nil
	}
	return qb.tx(ctx, func(tx pgx.Tx) error {
		for _, w := range sortedWindows(windows) {
			if _, err := tx.Exec(ctx, qb.b.q(`UPDATE {{schema}}.quota_windows SET used = GREATEST(used - $5, 0)
				WHERE provider_type = $1 AND key_id = $2 AND window_start = $3 AND window_seconds = $4`),
				key.ProviderType, key.KeyHash, w.Start.UTC(), int64(w.Length/time.Second), n); err != nil {
				return err
			}
		}
		return nil
	})
}

// Salt reads or makes the schema's salt.
func (qb *quotaBook) Salt(ctx context.Context, create bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, quotaTimeout)
	defer cancel()
	pool, err := qb.pool(ctx)
	if err != nil {
		return nil, err
	}
	if create {
		salt := make([]byte, 32)
		rand.Read(salt)
		// The first salt made stays: a concurrent maker's insert is a no-op.
		if _, err := pool.Exec(ctx, qb.b.q(`INSERT INTO {{schema}}.quota_salt (salt) VALUES ($1) ON CONFLICT DO NOTHING`), salt); err != nil {
			return nil, qb.b.red.err(err)
		}
	}
	var salt []byte
	err = pool.QueryRow(ctx, qb.b.q(`SELECT salt FROM {{schema}}.quota_salt`)).Scan(&salt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return salt, qb.b.red.err(err)
}

// Windows reads the key's windows.
func (qb *quotaBook) Windows(ctx context.Context, key backend.QuotaKey, windows []backend.QuotaWindow) ([]backend.QuotaCount, error) {
	ctx, cancel := context.WithTimeout(ctx, quotaTimeout)
	defer cancel()
	pool, err := qb.pool(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]backend.QuotaCount, len(windows))
	for i, w := range windows {
		out[i] = backend.QuotaCount{QuotaWindow: w}
		var spent, reconciled *time.Time
		var vUsed, vLimit *int
		var used, extra int
		err := pool.QueryRow(ctx, qb.b.q(`SELECT used, extra, spent_at, vendor_used, vendor_limit, reconciled_at FROM {{schema}}.quota_windows
			WHERE provider_type = $1 AND key_id = $2 AND window_start = $3 AND window_seconds = $4`),
			key.ProviderType, key.KeyHash, w.Start.UTC(), int64(w.Length/time.Second)).Scan(&used, &extra, &spent, &vUsed, &vLimit, &reconciled)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, qb.b.red.err(err)
		}
		out[i] = countOf(w, used, extra, spent, vUsed, vLimit, reconciled)
	}
	return out, nil
}

func countOf(w backend.QuotaWindow, used, extra int, spent *time.Time, vUsed, vLimit *int, reconciled *time.Time) backend.QuotaCount {
	c := backend.QuotaCount{QuotaWindow: w, Used: used + extra}
	if spent != nil {
		c.Spent = spent.UTC()
		c.Used = max(c.Used, w.Limit)
	}
	if vUsed != nil {
		c.VendorUsed = *vUsed
	}
	if vLimit != nil {
		c.VendorLimit = *vLimit
	}
	if reconciled != nil {
		c.Reconciled = reconciled.UTC()
	}
	return c
}

// MarkSpent marks the window spent.
func (qb *quotaBook) MarkSpent(ctx context.Context, key backend.QuotaKey, w backend.QuotaWindow, at time.Time) error {
	return qb.tx(ctx, func(tx pgx.Tx) error {
		if err := qb.ensureWindows(ctx, tx, key, []backend.QuotaWindow{w}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, qb.b.q(`UPDATE {{schema}}.quota_windows SET spent_at = $5
			WHERE provider_type = $1 AND key_id = $2 AND window_start = $3 AND window_seconds = $4`),
			key.ProviderType, key.KeyHash, w.Start.UTC(), int64(w.Length/time.Second), at.UTC())
		return err
	})
}

// Reconcile raises the window's count to the vendor's figure.
func (qb *quotaBook) Reconcile(ctx context.Context, key backend.QuotaKey, w backend.QuotaWindow, vendorUsed, vendorLimit int, at time.Time) error {
	return qb.tx(ctx, func(tx pgx.Tx) error {
		if err := qb.ensureWindows(ctx, tx, key, []backend.QuotaWindow{w}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, qb.b.q(`UPDATE {{schema}}.quota_windows
			SET extra = GREATEST(extra, $5 - used), vendor_used = $5, vendor_limit = $6, reconciled_at = $7
			WHERE provider_type = $1 AND key_id = $2 AND window_start = $3 AND window_seconds = $4`),
			key.ProviderType, key.KeyHash, w.Start.UTC(), int64(w.Length/time.Second), vendorUsed, vendorLimit, at.UTC()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, qb.b.q(`INSERT INTO {{schema}}.quota_keys (provider_type, key_id, last_reconciled) VALUES ($1, $2, $3)
			ON CONFLICT (provider_type, key_id) DO UPDATE SET last_reconciled = GREATEST({{schema}}.quota_keys.last_reconciled, EXCLUDED.last_reconciled)`),
			key.ProviderType, key.KeyHash, at.UTC())
		return err
	})
}

// Touch records the engagement's use of the key.
func (qb *quotaBook) Touch(ctx context.Context, key backend.QuotaKey, use backend.QuotaUse) error {
	quota := use.Quota
	if quota == nil {
		quota = []string{}
	}
	return qb.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, qb.b.q(`INSERT INTO {{schema}}.quota_keys (provider_type, key_id, quota, quota_reset, last_used) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (provider_type, key_id) DO UPDATE SET quota = EXCLUDED.quota, quota_reset = EXCLUDED.quota_reset,
				last_used = GREATEST({{schema}}.quota_keys.last_used, EXCLUDED.last_used)`),
			key.ProviderType, key.KeyHash, quota, tsOrNil(use.QuotaReset.UTC()), use.At.UTC()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, qb.b.q(`INSERT INTO {{schema}}.quota_engagements (provider_type, key_id, engagement, last_used) VALUES ($1, $2, $3, $4)
			ON CONFLICT (provider_type, key_id, engagement) DO UPDATE SET last_used = GREATEST({{schema}}.quota_engagements.last_used, EXCLUDED.last_used)`),
			key.ProviderType, key.KeyHash, use.Engagement, use.At.UTC())
		return err
	})
}

// Report lists every key with its windows.
func (qb *quotaBook) Report(ctx context.Context) ([]backend.QuotaKeyReport, error) {
	ctx, cancel := context.WithTimeout(ctx, quotaTimeout)
	defer cancel()
	pool, err := qb.pool(ctx)
	if err != nil {
		return nil, err
	}
	byKey := map[backend.QuotaKey]*backend.QuotaKeyReport{}
	var order []backend.QuotaKey
	get := func(k backend.QuotaKey) *backend.QuotaKeyReport {
		if r := byKey[k]; r != nil {
			return r
		}
		r := &backend.QuotaKeyReport{Key: k}
		byKey[k] = r
		order = append(order, k)
		return r
	}
	rows, err := pool.Query(ctx, qb.b.q(`SELECT provider_type, key_id, quota, quota_reset, last_used, last_reconciled FROM {{schema}}.quota_keys`))
	if err != nil {
		return nil, qb.b.red.err(err)
	}
	for rows.Next() {
		var k backend.QuotaKey
		var quota []string
		var reset, used, reconciled *time.Time
		if err := rows.Scan(&k.ProviderType, &k.KeyHash, &quota, &reset, &used, &reconciled); err != nil {
			rows.Close()
			return nil, qb.b.red.err(err)
		}
		r := get(k)
		r.Quota = quota
		if reset != nil {
			r.QuotaReset = reset.UTC()
		}
		if used != nil {
			r.LastUsed = used.UTC()
		}
		if reconciled != nil {
			r.LastReconciled = reconciled.UTC()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, qb.b.red.err(err)
	}
	rows, err = pool.Query(ctx, qb.b.q(`SELECT provider_type, key_id, engagement, last_used FROM {{schema}}.quota_engagements ORDER BY engagement`))
	if err != nil {
		return nil, qb.b.red.err(err)
	}
	for rows.Next() {
		var k backend.QuotaKey
		var e backend.QuotaEngagement
		if err := rows.Scan(&k.ProviderType, &k.KeyHash, &e.Name, &e.LastUsed); err != nil {
			rows.Close()
			return nil, qb.b.red.err(err)
		}
		e.LastUsed = e.LastUsed.UTC()
		r := get(k)
		r.Engagements = append(r.Engagements, e)
	}
	if err := rows.Err(); err != nil {
		return nil, qb.b.red.err(err)
	}
	rows, err = pool.Query(ctx, qb.b.q(`SELECT provider_type, key_id, window_start, window_seconds, quota_limit, used, extra, spent_at, vendor_used, vendor_limit, reconciled_at
		FROM {{schema}}.quota_windows ORDER BY window_start, window_seconds`))
	if err != nil {
		return nil, qb.b.red.err(err)
	}
	for rows.Next() {
		var k backend.QuotaKey
		var w backend.QuotaWindow
		var secs int64
		var used, extra int
		var spent, reconciled *time.Time
		var vUsed, vLimit *int
		if err := rows.Scan(&k.ProviderType, &k.KeyHash, &w.Start, &secs, &w.Limit, &used, &extra, &spent, &vUsed, &vLimit, &reconciled); err != nil {
			rows.Close()
			return nil, qb.b.red.err(err)
		}
		w.Start, w.Length = w.Start.UTC(), time.Duration(secs)*time.Second
		r := get(k)
		r.Windows = append(r.Windows, countOf(w, used, extra, spent, vUsed, vLimit, reconciled))
	}
	if err := rows.Err(); err != nil {
		return nil, qb.b.red.err(err)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].ProviderType != order[j].ProviderType {
			return order[i].ProviderType < order[j].ProviderType
		}
		return order[i].KeyHash < order[j].KeyHash
	})
	out := make([]backend.QuotaKeyReport, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out, nil
}
