-- reconform pg backend, migration 2: check results in the runs row, and
-- the delivery ledger of notifications (issue 14). Documented in
-- docs/backend-pg.md and docs/monitoring.md.

-- The results of the engagement's check blocks, in the state file's
-- form (a list of {name, severity, status, messages, diagnostics}).
ALTER TABLE {{schema}}.runs ADD COLUMN checks json;

-- One row per run that had something to notify, written in the same
-- transaction as the state of that run (rev, serial). body is the
-- notification's content (drift document, checks, failure): no secret.
CREATE TABLE {{schema}}.notify_events (
    engagement_id bigint NOT NULL REFERENCES {{schema}}.engagements (id) ON DELETE CASCADE,
    id            text NOT NULL,
    rev           bigint NOT NULL,
    serial        bigint NOT NULL,
    created       timestamptz NOT NULL,
    body          json,
    PRIMARY KEY (engagement_id, id)
);

-- One row per event and notifier: pending until delivered_at is set.
-- A run sending it holds a claim (claimed_by, claimed_until) that lapses
-- if the run dies, so a delivery is sent late, never lost, and two
-- runners never send it both.
CREATE TABLE {{schema}}.notify_deliveries (
    engagement_id bigint NOT NULL,
    event_id      text NOT NULL,
    notifier      text NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    last_attempt  timestamptz,
    delivered_at  timestamptz,
    claimed_by    text,
    claimed_until timestamptz,
    PRIMARY KEY (engagement_id, event_id, notifier),
    FOREIGN KEY (engagement_id, event_id) REFERENCES {{schema}}.notify_events (engagement_id, id) ON DELETE CASCADE
);

CREATE INDEX notify_deliveries_pending ON {{schema}}.notify_deliveries (engagement_id, notifier) WHERE delivered_at IS NULL;

-- Every engagement's current check results, for SQL and dashboards.
CREATE VIEW {{schema}}.current_checks AS
SELECT e.name AS engagement_name, c->>'name' AS name, c->>'severity' AS severity, c->>'status' AS status,
       c->'messages' AS messages, c->'diagnostics' AS diagnostics, r.finished_at
FROM {{schema}}.engagements e
JOIN {{schema}}.runs r ON r.engagement_id = e.id AND r.rev = e.rev
CROSS JOIN LATERAL json_array_elements(COALESCE(r.checks, '[]'::json)) AS c;

-- Notifications not delivered yet, with the last error.
CREATE VIEW {{schema}}.pending_notifications AS
SELECT e.name AS engagement_name, d.notifier, v.serial, v.created, d.attempts, NULLIF(d.last_error, '') AS last_error, d.last_attempt
FROM {{schema}}.notify_deliveries d
JOIN {{schema}}.notify_events v ON v.engagement_id = d.engagement_id AND v.id = d.event_id
JOIN {{schema}}.engagements e ON e.id = d.engagement_id
WHERE d.delivered_at IS NULL;
