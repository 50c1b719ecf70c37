-- When the projector wrote each item row's current state (its transaction's time), next
-- to updated_at (when the result happened): the difference is the projection's lag.

-- Up Migration
ALTER TABLE job_items ADD COLUMN projected_at timestamptz NOT NULL DEFAULT now();

-- Down Migration
ALTER TABLE job_items DROP COLUMN projected_at;
