-- reconform pg backend, migration 1: engagements, their states as rows
-- (findings, facts, instances, runs), history as changes, locks, the
-- response cache, and views of every engagement's current state.
--
-- {{schema}} is the backend's schema_name, quoted. Documented in
-- docs/backend-pg.md.

-- One row per engagement (its name in the engagement block). rev is the
-- revision of its current state: every commit adds one.
CREATE TABLE {{schema}}.engagements (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    rev        bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per revision: the state's top-level fields and the run that
-- produced it.
CREATE TABLE {{schema}}.runs (
    engagement_id      bigint NOT NULL REFERENCES {{schema}}.engagements (id) ON DELETE CASCADE,
    rev                bigint NOT NULL,
    serial             bigint NOT NULL,
    lineage            text NOT NULL,
    format_version     integer NOT NULL,
    engagement         text NOT NULL,
    config_hash        text NOT NULL,
    started_at         timestamptz,
    started_at_ns      smallint NOT NULL DEFAULT 0,
    finished_at        timestamptz,
    finished_at_ns     smallint NOT NULL DEFAULT 0,
    interrupted        boolean NOT NULL DEFAULT false,
    instances_by_status jsonb NOT NULL DEFAULT '{}',
    requests           jsonb NOT NULL DEFAULT '{}',
    findings_reported  bigint NOT NULL DEFAULT 0,
    state_findings     bigint NOT NULL DEFAULT 0,
    warnings           text[],
    targets            text[],
    plan               text NOT NULL DEFAULT '',
    outputs            json,
    exact              bytea,
    committed_at       timestamptz NOT NULL DEFAULT now(),
    committed_by       text NOT NULL DEFAULT '',
    PRIMARY KEY (engagement_id, rev)
);

-- Findings, facts and instances are kept as versions: a row is added by
-- revision rev and belongs to every state from rev on until an *_ends row
-- ends it. A re-run writes only what changed; any revision can be rebuilt.
-- Rows are only ever appended. A row is identified by (engagement_id, id);
-- id is rev * 2^32 + the row's place in its commit, made by the writer, so
-- a bulk COPY of a large state maintains no sequence and no unique index
-- (nor foreign keys: a check per row; engagement_id is always an
-- engagements.id).
CREATE TABLE {{schema}}.findings (
    id                  bigint NOT NULL,
    engagement_id       bigint NOT NULL,
    rev                 bigint NOT NULL,
    name                text NOT NULL,
    type                text NOT NULL,
    value               text NOT NULL,
    currency            text NOT NULL,
    first_seen          timestamptz,
    first_seen_ns       smallint NOT NULL DEFAULT 0,
    last_seen           timestamptz,
    last_seen_ns        smallint NOT NULL DEFAULT 0,
    count               bigint NOT NULL DEFAULT 0,
    sources             text[],
    instances           text[],
    block               text NOT NULL DEFAULT '',
    blocks              text[],
    query               text NOT NULL DEFAULT '',
    depth               bigint NOT NULL DEFAULT 0,
    active              boolean NOT NULL DEFAULT false,
    unverified          text NOT NULL DEFAULT '',
    unverified_since    timestamptz,
    unverified_since_ns smallint NOT NULL DEFAULT 0,
    exact               bytea
);
CREATE INDEX findings_engagement_rev ON {{schema}}.findings USING brin (engagement_id, rev) WITH (pages_per_range = 16, autosummarize = on);

CREATE TABLE {{schema}}.finding_ends (
    engagement_id bigint NOT NULL,
    rev           bigint NOT NULL,
    finding_id    bigint NOT NULL
);
CREATE INDEX finding_ends_engagement_rev ON {{schema}}.finding_ends (engagement_id, rev);

CREATE TABLE {{schema}}.facts (
    id            bigint NOT NULL,
    engagement_id bigint NOT NULL,
    rev           bigint NOT NULL,
    subject       text NOT NULL,
    kind          text NOT NULL,
    value         text NOT NULL,
    evidence      text[],
    exact         bytea
);
CREATE INDEX facts_engagement_rev ON {{schema}}.facts (engagement_id, rev);

CREATE TABLE {{schema}}.fact_ends (
    engagement_id bigint NOT NULL,
    rev           bigint NOT NULL,
    fact_id       bigint NOT NULL
);
CREATE INDEX fact_ends_engagement_rev ON {{schema}}.fact_ends (engagement_id, rev);

CREATE TABLE {{schema}}.instances (
    id            bigint NOT NULL,
    engagement_id bigint NOT NULL,
    rev           bigint NOT NULL,
    key           text NOT NULL,
    block         text NOT NULL DEFAULT '',
    blocks        text[],
    depth         bigint NOT NULL DEFAULT 0,
    active        boolean NOT NULL DEFAULT false,
    status        text NOT NULL,
    reason        text NOT NULL DEFAULT '',
    requests      bigint NOT NULL DEFAULT 0,
    findings      bigint NOT NULL DEFAULT 0,
    truncated     boolean NOT NULL DEFAULT false,
    provider      text NOT NULL,
    op            text NOT NULL,
    subject_kind  text NOT NULL,
    subject_value text NOT NULL,
    rrtypes       text[],
    params        jsonb,
    exact         bytea
);
CREATE INDEX instances_engagement_rev ON {{schema}}.instances (engagement_id, rev);

CREATE TABLE {{schema}}.instance_ends (
    engagement_id bigint NOT NULL,
    rev           bigint NOT NULL,
    instance_id   bigint NOT NULL
);
CREATE INDEX instance_ends_engagement_rev ON {{schema}}.instance_ends (engagement_id, rev);

-- Who holds an engagement's lock. The lock itself is a session advisory
-- lock, which ends with the holder's session; a row whose backend_pid
-- holds no such lock is left from a holder that died, and counts for
-- nothing.
CREATE TABLE {{schema}}.locks (
    engagement  text PRIMARY KEY,
    id          text NOT NULL,
    who         text NOT NULL,
    host        text NOT NULL,
    operation   text NOT NULL,
    created     timestamptz NOT NULL,
    pid         integer NOT NULL,
    version     text NOT NULL,
    backend_pid integer NOT NULL
);

-- The providers' response cache: opaque entries under keys that hold no
-- secret, per engagement.
CREATE TABLE {{schema}}.answer_cache (
    engagement_id bigint NOT NULL REFERENCES {{schema}}.engagements (id) ON DELETE CASCADE,
    key           text NOT NULL,
    stored_at     timestamptz NOT NULL,
    entry         bytea NOT NULL,
    PRIMARY KEY (engagement_id, key)
);

-- Every engagement's current state, for SQL.
CREATE VIEW {{schema}}.current_runs AS
SELECT e.name AS engagement_name, r.serial, r.lineage, r.config_hash,
       r.started_at, r.finished_at, r.interrupted, r.instances_by_status,
       r.requests, r.findings_reported, r.state_findings, r.warnings, r.targets,
       r.plan, r.outputs, r.committed_at, r.committed_by
FROM {{schema}}.engagements e
JOIN {{schema}}.runs r ON r.engagement_id = e.id AND r.rev = e.rev;

CREATE VIEW {{schema}}.current_findings AS
SELECT e.name AS engagement_name, f.name, f.type, f.value, f.currency,
       f.currency = 'current' AS current, f.first_seen, f.last_seen, f.count,
       f.sources, f.instances, f.block, COALESCE(f.blocks, ARRAY[f.block]) AS blocks, f.query, f.depth, f.active,
       NULLIF(f.unverified, '') AS unverified, f.unverified_since,
       f.rev AS since_rev
FROM {{schema}}.engagements e
JOIN {{schema}}.findings f ON f.engagement_id = e.id AND f.rev <= e.rev
WHERE NOT EXISTS (SELECT 1 FROM {{schema}}.finding_ends x
                  WHERE x.engagement_id = e.id AND x.finding_id = f.id AND x.rev <= e.rev);

CREATE VIEW {{schema}}.current_facts AS
SELECT e.name AS engagement_name, f.subject, f.kind, f.value, f.evidence, f.rev AS since_rev
FROM {{schema}}.engagements e
JOIN {{schema}}.facts f ON f.engagement_id = e.id AND f.rev <= e.rev
WHERE NOT EXISTS (SELECT 1 FROM {{schema}}.fact_ends x
                  WHERE x.engagement_id = e.id AND x.fact_id = f.id AND x.rev <= e.rev);

CREATE VIEW {{schema}}.current_instances AS
SELECT e.name AS engagement_name, i.key, i.block, COALESCE(i.blocks, ARRAY[i.block]) AS blocks, i.depth, i.active, i.status,
       NULLIF(i.reason, '') AS reason, i.requests, i.findings, i.truncated, i.provider, i.op,
       i.subject_kind, i.subject_value, i.rrtypes, i.params, i.rev AS since_rev
FROM {{schema}}.engagements e
JOIN {{schema}}.instances i ON i.engagement_id = e.id AND i.rev <= e.rev
WHERE NOT EXISTS (SELECT 1 FROM {{schema}}.instance_ends x
                  WHERE x.engagement_id = e.id AND x.instance_id = i.id AND x.rev <= e.rev);

-- Every engagement's outputs after its last run (a secret output's value
-- is never stored).
CREATE VIEW {{schema}}.current_outputs AS
SELECT e.name AS engagement_name, o->>'name' AS name, o->>'description' AS description,
       COALESCE((o->>'sensitive')::boolean, false) AS sensitive, COALESCE((o->>'secret')::boolean, false) AS secret,
       o->'type' AS type, o->'value' AS value
FROM {{schema}}.engagements e
JOIN {{schema}}.runs r ON r.engagement_id = e.id AND r.rev = e.rev
CROSS JOIN LATERAL json_array_elements(COALESCE(r.outputs, '[]'::json)) AS o;
