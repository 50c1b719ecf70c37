-- The producers' own record of every job they submitted: the Idempotency-Key that made
-- it (so a repeat returns the same job, also after an API restart), whether its Kafka
-- transaction committed, and its control state (so pause/resume/cancel are checked and
-- versioned before they are produced). The projections do not read this table.

-- Up Migration
CREATE TABLE submitted_jobs (
  job_id          text PRIMARY KEY,
  tenant_id       text NOT NULL,
  idempotency_key text,
  request_hash    text NOT NULL,
  item_count      bigint NOT NULL DEFAULT 0,
  submission      text NOT NULL DEFAULT 'pending' CHECK (submission IN ('pending', 'committed')),
  control_state   text NOT NULL DEFAULT 'RUNNING' CHECK (control_state IN ('RUNNING', 'PAUSED', 'CANCELLED')),
  control_version bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  committed_at    timestamptz
);
CREATE UNIQUE INDEX submitted_jobs_idempotency ON submitted_jobs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- Down Migration
DROP TABLE submitted_jobs;
