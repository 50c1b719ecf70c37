-- Views for those who query the projections with SQL directly (documented in README.md,
-- "Progress: the projector"). They read the projector's tables and add nothing to them.

-- Up Migration
CREATE VIEW job_progress AS
SELECT job_id, tenant_id, status, operation, labels, total_items,
       succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items AS done_items,
       CASE WHEN total_items > 0
            THEN round(100.0 * (succeeded_items + failed_items + dead_lettered_items + cancelled_items + skipped_items) / total_items, 1)
            ELSE 0 END AS percent,
       pending_items, retrying_items, succeeded_items, failed_items, dead_lettered_items, cancelled_items, skipped_items,
       submitted_at, first_activity_at, last_activity_at, finished_at
FROM jobs;

CREATE VIEW job_failures AS
SELECT i.job_id, j.tenant_id, i.item_index, i.item_id, i.profile_id, i.operation, i.status, i.attempts,
       i.last_error_kind, i.last_error_reason, i.last_error_message, i.updated_at
FROM job_items i JOIN jobs j USING (job_id)
WHERE i.status IN ('failed', 'dead_lettered');

CREATE VIEW profile_progress AS
SELECT job_id, profile_id,
       count(*) FILTER (WHERE status NOT IN ('pending', 'retrying')) AS done_items,
       count(*) FILTER (WHERE status = 'succeeded') AS succeeded_items,
       count(*) FILTER (WHERE status IN ('failed', 'dead_lettered')) AS failed_items,
       count(*) FILTER (WHERE status = 'retrying') AS retrying_items,
       max(updated_at) AS last_activity_at
FROM job_items GROUP BY job_id, profile_id;

-- Down Migration
DROP VIEW profile_progress;
DROP VIEW job_failures;
DROP VIEW job_progress;
