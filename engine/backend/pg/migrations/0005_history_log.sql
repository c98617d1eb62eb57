-- reconform pg backend, migration 5: what the history lists of each
-- revision (reconform state history), and its retention (history_keep).
--
-- A revision's findings_added, findings_changed and findings_removed count
-- the findings its commit added, changed (a new version of the same
-- identity) and removed; rows_bytes is the size of the rows it wrote (as
-- sent with COPY). They are NULL for revisions committed before this
-- migration. Pruning removes the runs rows of the revisions it does not
-- keep, and the rows of findings, facts and instances that no kept
-- revision holds (those ended at or before the oldest kept one).
ALTER TABLE {{schema}}.runs
    ADD COLUMN findings_added   bigint,
    ADD COLUMN findings_changed bigint,
    ADD COLUMN findings_removed bigint,
    ADD COLUMN rows_bytes       bigint;
