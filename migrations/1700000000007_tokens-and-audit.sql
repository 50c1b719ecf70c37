-- API tokens and the audit log.
-- api_tokens holds a SHA-256 of each token, never the token: whoever reads this table
-- cannot call the API with what they read. A token is tenant-wide (admin: submit,
-- control, replay, manage tokens; read: every read) or read-only for one job (to share a
-- progress stream). It may expire and may be revoked; both are kept, not deleted, so
-- the audit log's token ids keep meaning something.
-- audit_log is append-only: the trigger refuses UPDATE, DELETE and TRUNCATE, so a row
-- once written says what happened for good.

-- Up Migration
CREATE TABLE api_tokens (
  token_id    uuid PRIMARY KEY,
  tenant_id   text NOT NULL,
  scope       text NOT NULL CHECK (scope IN ('admin', 'read', 'job')),
  job_id      text,
  name        text NOT NULL,
  secret_hash bytea NOT NULL UNIQUE,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz,
  revoked_by  text,
  CHECK ((scope = 'job') = (job_id IS NOT NULL))
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, created_at);

CREATE TABLE audit_log (
  audit_id   bigserial PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  -- Who: the token (null when none was valid) and a name for people (token name, or cli:user).
  token_id   uuid,
  actor      text NOT NULL,
  tenant_id  text,
  -- What: an action name (job.read, job.pause, dead_letters.replay, token.create, ...) and its target id.
  action     text NOT NULL,
  target     text,
  -- ok, denied (no or wrong scope), not_found (absent or another tenant's), invalid, failed.
  outcome    text NOT NULL,
  status     integer,
  -- From where: the client address (or "cli") and its user agent.
  source     text NOT NULL,
  user_agent text,
  detail     jsonb
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, audit_id);
CREATE INDEX audit_log_target ON audit_log (target, audit_id) WHERE target IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Down Migration
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE api_tokens;
