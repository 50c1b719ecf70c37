-- The projection tables of DESIGN.md ("Projections"). The projector writes them; the
-- HTTP API and the CLI read them. Offsets live in the same database so that a batch's
-- rows and the offsets that produced them commit in one transaction (guarantee 7).

-- Up Migration
CREATE TABLE jobs (
  job_id              text PRIMARY KEY,
  tenant_id           text NOT NULL,
  status              text NOT NULL CHECK (status IN
                        ('submitted', 'running', 'paused', 'cancelled', 'completed', 'completed_with_errors')),
  operation           text,
  labels              jsonb NOT NULL DEFAULT '{}'::jsonb,
  total_items         bigint NOT NULL CHECK (total_items >= 0),
  pending_items       bigint NOT NULL DEFAULT 0,
  succeeded_items     bigint NOT NULL DEFAULT 0,
  failed_items        bigint NOT NULL DEFAULT 0,
  retrying_items      bigint NOT NULL DEFAULT 0,
  cancelled_items     bigint NOT NULL DEFAULT 0,
  skipped_items       bigint NOT NULL DEFAULT 0,
  dead_lettered_items bigint NOT NULL DEFAULT 0,
  submitted_at        timestamptz NOT NULL,
  first_activity_at   timestamptz,
  last_activity_at    timestamptz,
  finished_at         timestamptz,
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_tenant_submitted ON jobs (tenant_id, submitted_at DESC);
CREATE INDEX jobs_status ON jobs (status);

CREATE TABLE job_items (
  job_id            text NOT NULL,
  item_index        bigint NOT NULL,
  item_id           text NOT NULL,
  profile_id        text NOT NULL,
  operation         text NOT NULL,
  status            text NOT NULL CHECK (status IN
                      ('pending', 'retrying', 'succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered')),
  attempts          integer NOT NULL DEFAULT 0,
  replay_generation integer NOT NULL DEFAULT 0,
  last_error_kind   text,
  last_error_reason text,
  last_error_message text,
  latency_ms        integer,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, item_index)
);
CREATE INDEX job_items_status ON job_items (job_id, status, item_index);

CREATE TABLE dead_letters (
  dead_letter_id    text PRIMARY KEY,
  job_id            text,
  tenant_id         text,
  item_index        bigint,
  profile_id        text,
  operation         text,
  status            text NOT NULL CHECK (status IN ('open', 'replaying', 'resolved', 'failed_again')),
  error_kind        text NOT NULL,
  error_reason      text NOT NULL,
  error_message     text NOT NULL,
  attempts          jsonb NOT NULL DEFAULT '[]'::jsonb,
  command           jsonb,
  raw_value         bytea,
  source_topic      text NOT NULL,
  source_partition  integer NOT NULL,
  source_offset     bigint NOT NULL,
  replay_generation integer NOT NULL DEFAULT 0,
  replayed_by       text,
  replayed_at       timestamptz,
  dead_lettered_at  timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_job ON dead_letters (job_id, status);
CREATE INDEX dead_letters_reason ON dead_letters (error_kind, error_reason);

CREATE TABLE projection_offsets (
  consumer_group text NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  next_offset    bigint NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);

-- Down Migration
DROP TABLE projection_offsets;
DROP TABLE dead_letters;
DROP TABLE job_items;
DROP TABLE jobs;
