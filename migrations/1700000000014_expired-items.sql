-- No silent loss to retention (issue 15 point 5). Every send of a job's commands is
-- followed, in the job's transaction, by where they landed (CommandsPlaced): kept here,
-- one row per partition, profile and send. When an executor finds commands it still had
-- to run gone from item-commands (CommandsExpired), every item placed there that has no
-- outcome yet ends `expired`, a terminal status counted on the job. A paused job records
-- since when, so one paused long enough to lose its commands is flagged before it does.

-- Up Migration
CREATE TABLE command_placements (
  job_id      text NOT NULL,
  partition   integer NOT NULL,
  profile_id  text NOT NULL,
  first_offset bigint NOT NULL,
  last_offset bigint NOT NULL,
  offsets     bigint[] NOT NULL,
  indexes     bigint[] NOT NULL,
  replay_generation integer NOT NULL,
  PRIMARY KEY (job_id, partition, profile_id, first_offset)
);
CREATE INDEX command_placements_by_offset ON command_placements (partition, first_offset);
-- The ranges executors found gone, kept: a rebuild may read a job's CommandsPlaced after
-- the CommandsExpired that covers it (another partition of job-events).
CREATE TABLE expired_ranges (
  topic       text NOT NULL,
  partition   integer NOT NULL,
  from_offset bigint NOT NULL,
  to_offset   bigint NOT NULL,
  profile_id  text NOT NULL DEFAULT '',
  log_start   bigint NOT NULL,
  found_at    timestamptz NOT NULL,
  PRIMARY KEY (topic, partition, from_offset, to_offset, profile_id)
);

ALTER TABLE jobs ADD COLUMN expired_items bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN paused_at timestamptz;
ALTER TABLE job_items DROP CONSTRAINT job_items_status_check;
ALTER TABLE job_items ADD CONSTRAINT job_items_status_check CHECK (status IN
  ('pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded', 'expired'));
CREATE OR REPLACE VIEW job_progress AS
SELECT job_id, tenant_id, status, operation, labels, total_items,
       succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items + expired_items AS done_items,
       CASE WHEN total_items > 0
            THEN round(100.0 * (succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items + expired_items) / total_items, 1)
            ELSE 0 END AS percent,
       pending_items, retrying_items, succeeded_items, failed_items, dead_lettered_items, cancelled_items, skipped_items,
       submitted_at, first_activity_at, last_activity_at, finished_at, superseded_items, expired_items, paused_at
FROM jobs;

-- Down Migration
DROP VIEW job_progress;
CREATE VIEW job_progress AS
SELECT job_id, tenant_id, status, operation, labels, total_items,
       succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items AS done_items,
       CASE WHEN total_items > 0
            THEN round(100.0 * (succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items) / total_items, 1)
            ELSE 0 END AS percent,
       pending_items, retrying_items, succeeded_items, failed_items, dead_lettered_items, cancelled_items, skipped_items,
       submitted_at, first_activity_at, last_activity_at, finished_at, superseded_items
FROM jobs;
ALTER TABLE job_items DROP CONSTRAINT job_items_status_check;
ALTER TABLE job_items ADD CONSTRAINT job_items_status_check CHECK (status IN
  ('pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded'));
ALTER TABLE jobs DROP COLUMN paused_at;
ALTER TABLE jobs DROP COLUMN expired_items;
DROP TABLE expired_ranges;
DROP TABLE command_placements;
