-- Which submission attempt holds a pending reservation (issue 16 point 3): a slow
-- original whose reservation was taken over must not delete the taker's row when its own
-- produce fails, so a release deletes only the attempt it names.

-- Up Migration
ALTER TABLE submitted_jobs ADD COLUMN attempt_id uuid NOT NULL DEFAULT gen_random_uuid();

-- Down Migration
ALTER TABLE submitted_jobs DROP COLUMN attempt_id;
