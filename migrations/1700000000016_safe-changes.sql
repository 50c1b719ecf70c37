-- Up Migration
-- Safe changes: each item keeps what it ran (its payload: the entity and the values it
-- requested), the values its entity held before the write, what the API acknowledged,
-- what a read found when it stopped the item (conflict), and the item's verification.
ALTER TABLE job_items ADD COLUMN payload jsonb;
ALTER TABLE job_items ADD COLUMN previous_values jsonb;
ALTER TABLE job_items ADD COLUMN applied_values jsonb;
ALTER TABLE job_items ADD COLUMN current_values jsonb;
ALTER TABLE job_items ADD COLUMN verification text CHECK (verification IN ('verified', 'drifted', 'unreadable'));
ALTER TABLE job_items ADD COLUMN verified_values jsonb;
ALTER TABLE job_items ADD COLUMN verified_at timestamptz;
ALTER TABLE job_items DROP CONSTRAINT job_items_status_check;
ALTER TABLE job_items ADD CONSTRAINT job_items_status_check CHECK (status IN
  ('pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded', 'expired', 'conflict'));
ALTER TABLE jobs ADD COLUMN conflict_items bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN verified_items bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN drifted_items bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN unreadable_items bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN revert_of text;
ALTER TABLE jobs ADD COLUMN capture_before boolean NOT NULL DEFAULT true;
-- Automatic pause: the job's settings, and who paused it why (Sluice itself, or a person).
ALTER TABLE jobs ADD COLUMN auto_pause jsonb;
ALTER TABLE jobs ADD COLUMN paused_by text;
ALTER TABLE jobs ADD COLUMN pause_reason text;
ALTER TABLE jobs ADD COLUMN resumed_at timestamptz;
-- Canary: the job's slice and share, and its phase (running, passed, failed); CANARY is
-- the control state of a job whose slice runs while the rest waits for the verdict.
ALTER TABLE jobs ADD COLUMN canary jsonb;
ALTER TABLE jobs ADD COLUMN canary_phase text CHECK (canary_phase IN ('running', 'passed', 'failed'));
ALTER TABLE submitted_jobs DROP CONSTRAINT submitted_jobs_control_state_check;
ALTER TABLE submitted_jobs ADD CONSTRAINT submitted_jobs_control_state_check CHECK (control_state IN ('RUNNING', 'PAUSED', 'CANCELLED', 'CANARY'));
ALTER TABLE control_intents DROP CONSTRAINT control_intents_state_check;
ALTER TABLE control_intents ADD CONSTRAINT control_intents_state_check CHECK (state IN ('RUNNING', 'PAUSED', 'CANCELLED', 'CANARY'));
-- Verification at the end: the job asks for it; the api's guard sends it once (submitted_jobs
-- is the write side's: when it was sent).
ALTER TABLE jobs ADD COLUMN verify_at_end boolean NOT NULL DEFAULT false;
ALTER TABLE submitted_jobs ADD COLUMN verify_sent_at timestamptz;
CREATE INDEX jobs_revert_of ON jobs (revert_of) WHERE revert_of IS NOT NULL;
CREATE OR REPLACE VIEW job_progress AS
SELECT job_id, tenant_id, status, operation, labels, total_items,
       succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items + expired_items + conflict_items AS done_items,
       CASE WHEN total_items > 0
            THEN round(100.0 * (succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items + expired_items + conflict_items) / total_items, 1)
            ELSE 0 END AS percent,
       pending_items, retrying_items, succeeded_items, failed_items, dead_lettered_items, cancelled_items, skipped_items,
       submitted_at, first_activity_at, last_activity_at, finished_at, superseded_items, expired_items, paused_at,
       conflict_items, verified_items, drifted_items, unreadable_items, revert_of
FROM jobs;

-- Down Migration
DROP VIEW job_progress;
CREATE VIEW job_progress AS
SELECT job_id, tenant_id, status, operation, labels, total_items,
       succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items + expired_items AS done_items,
       CASE WHEN total_items > 0
            THEN round(100.0 * (succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items + expired_items) / total_items, 1)
            ELSE 0 END AS percent,
       pending_items, retrying_items, succeeded_items, failed_items, dead_lettered_items, cancelled_items, skipped_items,
       submitted_at, first_activity_at, last_activity_at, finished_at, superseded_items, expired_items, paused_at
FROM jobs;
DROP INDEX jobs_revert_of;
ALTER TABLE submitted_jobs DROP COLUMN verify_sent_at;
ALTER TABLE jobs DROP COLUMN verify_at_end;
ALTER TABLE control_intents DROP CONSTRAINT control_intents_state_check;
ALTER TABLE control_intents ADD CONSTRAINT control_intents_state_check CHECK (state IN ('RUNNING', 'PAUSED', 'CANCELLED'));
ALTER TABLE submitted_jobs DROP CONSTRAINT submitted_jobs_control_state_check;
ALTER TABLE submitted_jobs ADD CONSTRAINT submitted_jobs_control_state_check CHECK (control_state IN ('RUNNING', 'PAUSED', 'CANCELLED'));
ALTER TABLE jobs DROP COLUMN canary_phase;
ALTER TABLE jobs DROP COLUMN canary;
ALTER TABLE jobs DROP COLUMN resumed_at;
ALTER TABLE jobs DROP COLUMN pause_reason;
ALTER TABLE jobs DROP COLUMN paused_by;
ALTER TABLE jobs DROP COLUMN auto_pause;
ALTER TABLE jobs DROP COLUMN capture_before;
ALTER TABLE jobs DROP COLUMN revert_of;
ALTER TABLE jobs DROP COLUMN unreadable_items;
ALTER TABLE jobs DROP COLUMN drifted_items;
ALTER TABLE jobs DROP COLUMN verified_items;
ALTER TABLE jobs DROP COLUMN conflict_items;
ALTER TABLE job_items DROP CONSTRAINT job_items_status_check;
ALTER TABLE job_items ADD CONSTRAINT job_items_status_check CHECK (status IN
  ('pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded', 'expired'));
ALTER TABLE job_items DROP COLUMN verified_at;
ALTER TABLE job_items DROP COLUMN verified_values;
ALTER TABLE job_items DROP COLUMN verification;
ALTER TABLE job_items DROP COLUMN current_values;
ALTER TABLE job_items DROP COLUMN applied_values;
ALTER TABLE job_items DROP COLUMN previous_values;
ALTER TABLE job_items DROP COLUMN payload;
