-- Bounded records of failed authentication (issue 16 point 6): a request with no, an
-- unknown, expired or revoked token no longer appends an audit row each (rotating bogus
-- tokens grew the log without bound); it is counted per client address and minute.
-- Every authenticated access is still one audit_log row.
-- And an index for a job's recently finished items, so a progress poll (twice a second
-- per SSE stream) reads the last minute's rows, not the whole job.

-- Up Migration
CREATE TABLE auth_failures (
  minute timestamptz NOT NULL,
  source text NOT NULL,
  failures bigint NOT NULL DEFAULT 1,
  last_reason text NOT NULL,
  last_user_agent text,
  last_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (minute, source)
);
CREATE INDEX job_items_recent ON job_items (job_id, updated_at) WHERE status NOT IN ('pending', 'retrying');

-- Down Migration
DROP INDEX job_items_recent;
DROP TABLE auth_failures;
