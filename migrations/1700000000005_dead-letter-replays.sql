-- Replaying dead letters.
-- replay_claims is the replay tool's own record (write side, like submitted_jobs): one
-- row per item and generation it sent back, claimed in the Postgres transaction that
-- commits only after the Kafka transaction producing the item did, so the same item is
-- never sent twice at one generation, however many replays race for it.
-- replays and dead_letters.replay_id are projections of DeadLettersReplayed events.

-- Up Migration
CREATE TABLE replay_claims (
  job_id            text NOT NULL,
  item_index        bigint NOT NULL,
  replay_generation integer NOT NULL,
  dead_letter_id    text NOT NULL UNIQUE,
  replay_id         text NOT NULL,
  claimed_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, item_index, replay_generation)
);

CREATE TABLE replays (
  replay_id    text PRIMARY KEY,
  tenant_id    text NOT NULL,
  requested_by text,
  selection    jsonb NOT NULL,
  patch        jsonb,
  item_count   bigint NOT NULL DEFAULT 0,
  requested_at timestamptz NOT NULL
);

ALTER TABLE dead_letters ADD COLUMN replay_id text;
CREATE INDEX dead_letters_replay ON dead_letters (replay_id) WHERE replay_id IS NOT NULL;
CREATE INDEX dead_letters_item ON dead_letters (job_id, item_index);

-- Down Migration
DROP INDEX dead_letters_item;
DROP INDEX dead_letters_replay;
ALTER TABLE dead_letters DROP COLUMN replay_id;
DROP TABLE replays;
DROP TABLE replay_claims;
