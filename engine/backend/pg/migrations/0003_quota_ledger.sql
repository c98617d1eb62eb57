-- reconform pg backend, migration 3: the quota ledger (issue 13), shared
-- by every engagement and runner of the schema, and when each query
-- instance last succeeded (coverage scheduling verifies the stalest
-- first). Documented in docs/backend-pg.md and docs/quota.md.
--
-- Numbered 3: migration 2 is the delivery ledger's (issue 14).

ALTER TABLE {{schema}}.instances ADD COLUMN verified_at timestamptz;
ALTER TABLE {{schema}}.instances ADD COLUMN verified_at_ns smallint NOT NULL DEFAULT 0;

-- The ledger's salt for key identifiers: one row, made on first use.
-- key_id = HMAC-SHA256 over PBKDF2 of the key with this salt (see
-- docs/quota.md); whoever can read both this row and a key_id can test
-- guesses of a key offline, so grant SELECT on it to reconform's role only.
CREATE TABLE {{schema}}.quota_salt (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    salt bytea NOT NULL
);

-- One row per vendor key (provider type and key_id; never the key).
CREATE TABLE {{schema}}.quota_keys (
    provider_type   text NOT NULL,
    key_id          text NOT NULL,
    quota           text[] NOT NULL DEFAULT '{}',
    quota_reset     timestamptz,
    last_used       timestamptz,
    last_reconciled timestamptz,
    PRIMARY KEY (provider_type, key_id)
);

-- One row per key and window (a day, a month...). used is what runs
-- reserved and did not give back, extra what the vendor counted beyond
-- it (its usage endpoint); a window with spent_at is spent until it ends.
CREATE TABLE {{schema}}.quota_windows (
    provider_type  text NOT NULL,
    key_id         text NOT NULL,
    window_start   timestamptz NOT NULL,
    window_seconds bigint NOT NULL,
    window_end     timestamptz NOT NULL,
    quota_limit    integer NOT NULL,
    used           integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    extra          integer NOT NULL DEFAULT 0 CHECK (extra >= 0),
    spent_at       timestamptz,
    vendor_used    integer,
    vendor_limit   integer,
    reconciled_at  timestamptz,
    PRIMARY KEY (provider_type, key_id, window_start, window_seconds)
);
CREATE INDEX quota_windows_end ON {{schema}}.quota_windows (window_end);

-- Which engagements used a key, and when they last did.
CREATE TABLE {{schema}}.quota_engagements (
    provider_type text NOT NULL,
    key_id        text NOT NULL,
    engagement    text NOT NULL,
    last_used     timestamptz NOT NULL,
    PRIMARY KEY (provider_type, key_id, engagement)
);

-- Every key's windows that are open now, with what they have left.
CREATE VIEW {{schema}}.quota_current AS
SELECT w.provider_type, w.key_id, w.window_start, w.window_end, w.quota_limit,
       CASE WHEN w.spent_at IS NOT NULL THEN GREATEST(w.used + w.extra, w.quota_limit) ELSE w.used + w.extra END AS used,
       GREATEST(w.quota_limit - CASE WHEN w.spent_at IS NOT NULL THEN GREATEST(w.used + w.extra, w.quota_limit) ELSE w.used + w.extra END, 0) AS remaining,
       w.spent_at, w.vendor_used, w.vendor_limit, w.reconciled_at
FROM {{schema}}.quota_windows w
WHERE w.window_start <= now() AND w.window_end > now();

-- current_instances gains verified_at (new columns go last).
CREATE OR REPLACE VIEW {{schema}}.current_instances AS
SELECT e.name AS engagement_name, i.key, i.block, COALESCE(i.blocks, ARRAY[i.block]) AS blocks, i.depth, i.active, i.status,
       NULLIF(i.reason, '') AS reason, i.requests, i.findings, i.truncated, i.provider, i.op,
       i.subject_kind, i.subject_value, i.rrtypes, i.params, i.rev AS since_rev, i.verified_at
FROM {{schema}}.engagements e
JOIN {{schema}}.instances i ON i.engagement_id = e.id AND i.rev <= e.rev
WHERE NOT EXISTS (SELECT 1 FROM {{schema}}.instance_ends x
                  WHERE x.engagement_id = e.id AND x.instance_id = i.id AND x.rev <= e.rev);
