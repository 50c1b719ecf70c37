-- Records the projector could not apply (guarantee 10): Postgres refused a value or a
-- constraint, or the record does not decode. Each is kept here with its coordinates and
-- its raw bytes, the partition goes on past it, and an operator retries it after a fix
-- (`sluice projections errors`, GET /v1/projection-errors).

-- Up Migration
CREATE TABLE projection_errors (
  error_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  consumer_group text NOT NULL,
  topic text NOT NULL,
  partition int NOT NULL,
  "offset" bigint NOT NULL,
  -- From the record when it decodes; NULL for one that does not.
  job_id text,
  tenant_id text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  -- undecodable, or the SQLSTATE Postgres answered with
  error_code text NOT NULL,
  error_message text NOT NULL,
  raw_value bytea,
  attempts int NOT NULL DEFAULT 1,
  quarantined_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  UNIQUE (consumer_group, topic, partition, "offset")
);
CREATE INDEX projection_errors_open ON projection_errors (tenant_id, quarantined_at) WHERE status = 'open';

-- Down Migration
DROP TABLE projection_errors;
