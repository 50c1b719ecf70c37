-- A control action's write-ahead record (issue 16 point 4). Kafka commits a control state
-- before Postgres stores it; a crash between them used to leave submitted_jobs one
-- version behind, so a later pause could bring a cancelled job back. The intent is
-- committed before the Kafka transaction and removed with the row's update after it:
-- one found later is an action that may have reached Kafka, and the next action on the
-- job finishes it first (produces it again, stores it) before deciding anything.
-- No foreign key: the intent is written while the job's row is locked FOR UPDATE, which
-- a key check on that row would wait for.

-- Up Migration
CREATE TABLE control_intents (
  job_id text PRIMARY KEY,
  tenant_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('RUNNING', 'PAUSED', 'CANCELLED')),
  version bigint NOT NULL,
  event text NOT NULL,
  requested_by text,
  reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE control_intents;
