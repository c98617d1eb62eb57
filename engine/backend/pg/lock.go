package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reconform/reconform/engine/backend"
)

// holder is who holds the engagement's advisory lock now, from pg_locks
// (the truth: a lock ends with its session) and the locks table (who said
// they hold it). nil when nobody does.
func (b *Backend) holder(ctx context.Context, q querier) (*backend.LockInfo, int32, error) {
	key := uint64(b.lockKey())
	var (
		pid                    int32
		id, who, host, op, ver *string
		created                *time.Time
		clientPID              *int32
	)
	err := q.QueryRow(ctx, b.q(`SELECT a.pid, l.id, l.who, l.host, l.operation, l.created, l.pid, l.version
		FROM pg_locks a
		LEFT JOIN {{schema}}.locks l ON l.engagement = $1 AND l.backend_pid = a.pid
		WHERE a.locktype = 'advisory' AND a.granted AND a.objsubid = 1
		  AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND a.classid = $2::bigint::oid AND a.objid = $3::bigint::oid
		LIMIT 1`), b.cfg.Engagement, int64(key>>32), int64(key&0xffffffff)).Scan(&pid, &id, &who, &host, &op, &created, &clientPID, &ver)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, b.red.err(err)
	}
	info := &backend.LockInfo{ID: fmt.Sprintf("pg-backend-%d", pid), Who: "(a session that has not recorded who it is)", Path: b.Location(), OSLock: true}
	if id != nil {
		info.ID, info.Who, info.Host, info.Operation, info.Version = *id, *who, *host, *op, *ver
		info.Created = created.UTC()
		info.PID = int(*clientPID)
	}
	return info, pid, nil
}

func (b *Backend) lockedError(ctx context.Context, q querier) error {
	info, _, err := b.holder(ctx, q)
	if err != nil {
		return err
	}
	e := &backend.LockedError{Where: b.Location() + ", a PostgreSQL advisory lock",
		Note: "The lock is held by the holder's database session: it ends when that run ends, even killed."}
	if info != nil {
		e.Info = *info
	} else {
		// Released between our try and our look.
		e.Info = backend.LockInfo{ID: "released-just-now", Who: "(released while we looked; run again)"}
	}
	return e
}

// LockHolder says who holds the lock.
func (b *Backend) LockHolder(ctx context.Context) (*backend.LockInfo, error) {
	pool, err := b.readers(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.checkVersion(ctx, pool); err != nil {
		return nil, err
	}
	info, _, err := b.holder(ctx, pool)
	return info, err
}

// ForceUnlock ends the database session that holds the lock with the
// given ID (pg_terminate_backend: the role must be the holder's, or a
// member of pg_signal_backend), which releases the lock.
func (b *Backend) ForceUnlock(ctx context.Context, id string) error {
	pool, err := b.readers(ctx)
	if err != nil {
		return err
	}
	info, pid, err := b.holder(ctx, pool)
	if err != nil {
		return err
	}
	if info == nil {
		pool.Exec(ctx, b.q(`DELETE FROM {{schema}}.locks WHERE engagement = $1 AND id = $2`), b.cfg.Engagement, id)
		return fmt.Errorf("%s is not locked", b.Location())
	}
	if info.ID != id {
		return fmt.Errorf("the lock on %s has ID %s, not %s; nothing was removed", b.Location(), info.ID, id)
	}
	var ok bool
	if err := pool.QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, pid).Scan(&ok); err != nil {
		return fmt.Errorf("ending the session that holds the lock: %w", b.red.err(err))
	}
	if !ok {
		return fmt.Errorf("the session that holds the lock did not end within 5s")
	}
	pool.Exec(ctx, b.q(`DELETE FROM {{schema}}.locks WHERE engagement = $1 AND id = $2`), b.cfg.Engagement, id)
	return nil
}
