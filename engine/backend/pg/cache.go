package pg

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// cache is the answer_cache table, per engagement. Every operation is
// bounded in time: a database that went away costs a run a miss, not a
// stall.
type cache struct{ b *Backend }

const cacheTimeout = 5 * time.Second

// engID finds (create: makes) the engagement's id, remembered.
func (c *cache) engID(ctx context.Context, create bool) (int64, error) {
	b := c.b
	b.mu.Lock()
	id := b.eng
	b.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	pool, err := b.readers(ctx)
	if err != nil {
		return 0, err
	}
	id, _, err = b.engagementID(ctx, pool, create)
	if err != nil || id == 0 {
		return 0, err
	}
	b.mu.Lock()
	b.eng = id
	b.mu.Unlock()
	return id, nil
}

func (c *cache) Get(ctx context.Context, key string) ([]byte, bool) {
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	id, err := c.engID(ctx, false)
	if err != nil || id == 0 {
		return nil, false
	}
	pool, err := c.b.readers(ctx)
	if err != nil {
		return nil, false
	}
	var entry []byte
	err = pool.QueryRow(ctx, c.b.q(`SELECT entry FROM {{schema}}.answer_cache WHERE engagement_id = $1 AND key = $2`), id, key).Scan(&entry)
	if err != nil {
		return nil, false
	}
	return entry, true
}

func (c *cache) Put(ctx context.Context, key string, entry []byte, stored time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	id, err := c.engID(ctx, true)
	if err != nil {
		return err
	}
	if id == 0 {
		return errors.New("no engagement row")
	}
	pool, err := c.b.readers(ctx)
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, c.b.q(`INSERT INTO {{schema}}.answer_cache (engagement_id, key, stored_at, entry) VALUES ($1, $2, $3, $4)
		ON CONFLICT (engagement_id, key) DO UPDATE SET stored_at = EXCLUDED.stored_at, entry = EXCLUDED.entry`), id, key, stored.UTC(), entry)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	return c.b.red.err(err)
}
