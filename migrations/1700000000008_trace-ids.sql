-- The W3C trace id each projected row came from: a job's submission, the latest result
-- of an item (a replayed item's is the replay's trace), a dead letter's failing attempt.
-- With it an operator goes from a row in Postgres to the trace of what made it.

-- Up Migration
ALTER TABLE jobs ADD COLUMN trace_id text;
ALTER TABLE job_items ADD COLUMN trace_id text;
ALTER TABLE dead_letters ADD COLUMN trace_id text;

-- Down Migration
ALTER TABLE dead_letters DROP COLUMN trace_id;
ALTER TABLE job_items DROP COLUMN trace_id;
ALTER TABLE jobs DROP COLUMN trace_id;
