// The records the projector quarantined (projection_errors): listed for the HTTP API and
// the CLI, and retried once what refused them is fixed (a migration, a projection fix).
// A retry decodes the kept bytes again and applies them through the same projection,
// marking the error resolved in the same transaction; one that fails again stays open
// with its new error. Scoped by tenant where a tenant asks (a record that did not decode
// belongs to no tenant: only the CLI, which speaks for the operator, sees those).
import type { Pool } from '../db/pool.js';
import { toStorable } from '../domain/storable-text.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import { reapplyQuarantined } from './projection-store.js';

export const PROJECTION_ERROR_STATUSES = ['open', 'resolved'] as const;
export type ProjectionErrorStatus = (typeof PROJECTION_ERROR_STATUSES)[number];

export interface ProjectionError {
  errorId: string;
  topic: string;
  partition: number;
  offset: number;
  jobId: string | null;
  tenantId: string | null;
  status: ProjectionErrorStatus;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  quarantinedAt: string;
  lastAttemptAt: string;
  resolvedAt: string | null;
}

export type RetryOutcome = { type: 'resolved' } | { type: 'failed'; errorCode: string; message: string } | { type: 'not-found' } | { type: 'already-resolved' };

export interface ProjectionErrors {
  /** `tenantId` null: every tenant's and the undecodable ones (the operator's view). */
  list(tenantId: string | null, filter: { status?: ProjectionErrorStatus; limit: number }): Promise<ProjectionError[]>;
  retry(tenantId: string | null, errorId: string): Promise<RetryOutcome>;
}

const COLUMNS = `error_id AS "errorId", topic, partition, "offset"::float8 AS "offset", job_id AS "jobId", tenant_id AS "tenantId", status,
  error_code AS "errorCode", error_message AS "errorMessage", attempts, quarantined_at AS "quarantinedAt", last_attempt_at AS "lastAttemptAt", resolved_at AS "resolvedAt"`;

export function projectionErrors(deps: { pool: Pool; serde: Serde; topics: Topics }): ProjectionErrors {
  const { pool, serde, topics } = deps;
  const roles = new Map((['jobEvents', 'itemResults', 'dlq'] as const).map((role) => [topics[role].name, role]));
  return {
    async list(tenantId, { status, limit }) {
      const { rows } = await pool.query<ProjectionError>(
        `SELECT ${COLUMNS} FROM projection_errors
         WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR status = $2)
         ORDER BY quarantined_at, topic, partition, "offset" LIMIT $3`,
        [tenantId, status ?? null, limit],
      );
      return rows;
    },
    async retry(tenantId, errorId) {
      const { rows } = await pool.query<{ topic: string; status: ProjectionErrorStatus; raw_value: Buffer | null }>(
        `SELECT topic, status, raw_value FROM projection_errors WHERE error_id = $1 AND ($2::text IS NULL OR tenant_id = $2)`,
        [errorId, tenantId],
      );
      const row = rows[0];
      const role = row && roles.get(row.topic);
      if (!row || !role) return { type: 'not-found' };
      if (row.status === 'resolved') return { type: 'already-resolved' };
      try {
        if (!row.raw_value) throw Object.assign(new Error('the record has no value'), { code: 'undecodable' });
        const value = await serde.decode(role, row.raw_value).catch((error: Error) => {
          throw Object.assign(error, { code: 'undecodable' });
        });
        await reapplyQuarantined(pool, errorId, role, value, null);
        return { type: 'resolved' };
      } catch (error) {
        const code = String((error as { code?: unknown }).code ?? 'failed');
        const message = toStorable((error as Error).message.slice(0, 2_000));
        await pool.query(`UPDATE projection_errors SET attempts = attempts + 1, last_attempt_at = now(), error_code = $2, error_message = $3 WHERE error_id = $1`, [errorId, code, message]);
        return { type: 'failed', errorCode: code, message };
      }
    },
  };
}
