-- Up Migration
-- When a finished job's state was removed from the compacted job-control topic (a
-- tombstone), so executors stop holding it; cleared when a control action writes it again.
ALTER TABLE submitted_jobs ADD COLUMN control_released_at timestamptz;

-- Down Migration
ALTER TABLE submitted_jobs DROP COLUMN control_released_at;
