-- When a job's cancel was requested, kept apart from its status so that the status
-- follows from facts that do not depend on the order the projector reads topics in: a
-- cancel that arrives after every item ended leaves the job completed, whether a rebuild
-- reads the cancel before or after the results.

-- Up Migration
ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz;

-- Down Migration
ALTER TABLE jobs DROP COLUMN cancel_requested_at;
