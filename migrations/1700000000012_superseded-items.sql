-- A replayed item whose entity has a newer update (succeeded or still queued) is not sent:
-- it ends `superseded` (issue 16 point 5), so a replay never moves an entity backwards.
-- Its dead letter ends `superseded` too. Counted on the job like every terminal status.

-- Up Migration
ALTER TABLE jobs ADD COLUMN superseded_items bigint NOT NULL DEFAULT 0;
ALTER TABLE job_items DROP CONSTRAINT job_items_status_check;
ALTER TABLE job_items ADD CONSTRAINT job_items_status_check CHECK (status IN
  ('pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded'));
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_status_check;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_status_check CHECK (status IN ('open', 'replaying', 'resolved', 'failed_again', 'superseded'));

CREATE OR REPLACE VIEW job_progress AS
SELECT job_id, tenant_id, status, operation, labels, total_items,
       succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items AS done_items,
       CASE WHEN total_items > 0
            THEN round(100.0 * (succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items + superseded_items) / total_items, 1)
            ELSE 0 END AS percent,
       pending_items, retrying_items, succeeded_items, failed_items, dead_lettered_items, cancelled_items, skipped_items,
       submitted_at, first_activity_at, last_activity_at, finished_at, superseded_items
FROM jobs;

-- Down Migration
CREATE OR REPLACE VIEW job_progress AS
SELECT job_id, tenant_id, status, operation, labels, total_items,
       succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items AS done_items,
       CASE WHEN total_items > 0
            THEN round(100.0 * (succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items) / total_items, 1)
            ELSE 0 END AS percent,
       pending_items, retrying_items, succeeded_items, failed_items, dead_lettered_items, cancelled_items, skipped_items,
       submitted_at, first_activity_at, last_activity_at, finished_at
FROM jobs;
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_status_check;
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_status_check CHECK (status IN ('open', 'replaying', 'resolved', 'failed_again'));
ALTER TABLE job_items DROP CONSTRAINT job_items_status_check;
ALTER TABLE job_items ADD CONSTRAINT job_items_status_check CHECK (status IN
  ('pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered'));
ALTER TABLE jobs DROP COLUMN superseded_items;
