-- reconform pg backend, migration 4: revisions being written. A commit
-- of a large state writes part of its findings over a second connection,
-- in a transaction of its own that commits just before the commit's own
-- transaction publishes the revision (engagements.rev). That transaction
-- adds a row here, which the publishing transaction deletes; a row left
-- behind marks findings of a commit that never published (the runner
-- died between the two), which are invisible (every view and read takes
-- rows with rev <= engagements.rev) and which the next commit deletes
-- before it writes. No foreign key: its check would wait for the lock
-- the publishing transaction holds on the engagement's row. Documented
-- in docs/backend-pg.md.
-- No key either: the commit that drops a stale row holds it deleted
-- until it commits, and a new row under the same key would wait for it.
CREATE TABLE {{schema}}.unpublished (
    engagement_id bigint NOT NULL,
    rev           bigint NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unpublished_engagement ON {{schema}}.unpublished (engagement_id, rev);
