// The audit log (migration 1700000000007): who did what to which job, dead letter or
// token, when, from where, and how it ended. Rows are only ever appended (the table's
// trigger refuses anything else); read back newest first in keyset pages.
import type { Pool } from './pool.js';

export const AUDIT_OUTCOMES = ['ok', 'denied', 'not_found', 'invalid', 'refused', 'unauthenticated', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEntry {
  tokenId: string | null;
  actor: string;
  tenantId: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  status: number | null;
  source: string;
  userAgent: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  auditId: number;
  at: Date;
}

export interface AuditFilter {
  /** Null: every tenant's (the operator's CLI). */
  tenantId: string | null;
  target?: string;
  action?: string;
  outcome?: AuditOutcome;
  since?: Date;
  /** Entries older than this audit id (the previous page's last). */
  before?: number;
  limit: number;
}

/** Failed authentication from one address in one minute, counted (not a row each). */
export interface AuthFailureCount {
  minute: Date;
  source: string;
  failures: number;
  lastReason: string;
  lastUserAgent: string | null;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  query(filter: AuditFilter): Promise<AuditRecord[]>;
  /** Counts a request refused for its token (none, unknown, expired, revoked) against its address's minute. */
  recordAuthFailure(failure: { source: string; reason: string; userAgent: string | null }): Promise<void>;
  /** The counted failures, newest minute first. */
  authFailures(filter: { since?: Date; limit: number }): Promise<AuthFailureCount[]>;
}

export function createAuditLog(pool: Pool): AuditLog {
  return {
    async record(e) {
      await pool.query(
        `INSERT INTO audit_log (token_id, actor, tenant_id, action, target, outcome, status, source, user_agent, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [e.tokenId, e.actor, e.tenantId, e.action, e.target, e.outcome, e.status, e.source, e.userAgent, e.detail ? JSON.stringify(e.detail) : null],
      );
    },

    async recordAuthFailure({ source, reason, userAgent }) {
      await pool.query(
        `INSERT INTO auth_failures (minute, source, last_reason, last_user_agent) VALUES (date_trunc('minute', now()), $1, $2, $3)
         ON CONFLICT (minute, source) DO UPDATE SET failures = auth_failures.failures + 1, last_reason = EXCLUDED.last_reason,
           last_user_agent = EXCLUDED.last_user_agent, last_at = now()`,
        [source, reason, userAgent],
      );
    },

    async authFailures({ since, limit }) {
      const { rows } = await pool.query<AuthFailureCount>(
        `SELECT minute, source, failures::float8 AS failures, last_reason AS "lastReason", last_user_agent AS "lastUserAgent"
         FROM auth_failures WHERE $1::timestamptz IS NULL OR minute >= $1 ORDER BY minute DESC, failures DESC LIMIT $2`,
        [since ?? null, limit],
      );
      return rows;
    },

    async query(f) {
      const args: unknown[] = [];
      const arg = (v: unknown) => `$${args.push(v)}`;
      const where = ['true'];
      if (f.tenantId !== null) where.push(`tenant_id = ${arg(f.tenantId)}`);
      if (f.target) where.push(`target = ${arg(f.target)}`);
      if (f.action) where.push(`action = ${arg(f.action)}`);
      if (f.outcome) where.push(`outcome = ${arg(f.outcome)}`);
      if (f.since) where.push(`at >= ${arg(f.since)}`);
      if (f.before !== undefined) where.push(`audit_id < ${arg(f.before)}`);
      const { rows } = await pool.query<AuditRecord>(
        `SELECT audit_id::float8 AS "auditId", at, token_id AS "tokenId", actor, tenant_id AS "tenantId", action, target, outcome, status,
                source, user_agent AS "userAgent", detail
         FROM audit_log WHERE ${where.join(' AND ')} ORDER BY audit_id DESC LIMIT ${arg(f.limit)}`,
        args,
      );
      return rows;
    },
  };
}
