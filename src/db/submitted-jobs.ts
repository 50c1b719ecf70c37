// The producers' table of submitted jobs (migration 1700000000001): idempotency-key
// reservations, whether a job's Kafka transaction committed, and its control state.
import type { ControlState } from '../domain/events.js';
import { inTransaction, type Pool, type PoolClient } from './pool.js';

export interface SubmittedJob {
  jobId: string;
  tenantId: string;
  idempotencyKey: string | null;
  requestHash: string;
  itemCount: number;
  submission: 'pending' | 'committed';
  controlState: ControlState;
  controlVersion: number;
  createdAt: Date;
}

export type Reservation = { type: 'reserved' } | { type: 'exists'; job: SubmittedJob };

const COLUMNS = `job_id AS "jobId", tenant_id AS "tenantId", idempotency_key AS "idempotencyKey", request_hash AS "requestHash",
  item_count::float8 AS "itemCount", submission, control_state AS "controlState", control_version::float8 AS "controlVersion", created_at AS "createdAt"`;

export interface SubmittedJobs {
  /** Records a new job; with a key already taken by the tenant, returns that job instead. */
  reserve(job: { jobId: string; tenantId: string; idempotencyKey: string | null; requestHash: string; itemCount: number }): Promise<Reservation>;
  /**
   * Takes over a pending reservation older than `staleAfterMs` (its submitter died) by
   * making it fresh again; false if it is not stale (any more), e.g. another taker won.
   */
  takeOver(jobId: string, staleAfterMs: number): Promise<boolean>;
  markCommitted(jobId: string): Promise<void>;
  /** Forgets a reservation whose submission failed, so the key can be used again. */
  release(jobId: string): Promise<void>;
  find(tenantId: string, jobId: string): Promise<SubmittedJob | undefined>;
  /**
   * Runs `work` holding the job's row lock; `work` returns the new control state and
   * version to store, or undefined to change nothing. Whatever `work` does before it
   * returns (producing to Kafka) happens while other control actions on the job wait.
   */
  withControlLock<T>(tenantId: string, jobId: string, work: (job: SubmittedJob) => Promise<{ result: T; update?: { state: ControlState; version: number } }>): Promise<T | undefined>;
}

export function createSubmittedJobs(pool: Pool): SubmittedJobs {
  return {
    async reserve(job) {
      const inserted = await pool.query(
        `INSERT INTO submitted_jobs (job_id, tenant_id, idempotency_key, request_hash, item_count)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING job_id`,
        [job.jobId, job.tenantId, job.idempotencyKey, job.requestHash, job.itemCount],
      );
      if (inserted.rowCount) return { type: 'reserved' };
      const { rows } = await pool.query<SubmittedJob>(`SELECT ${COLUMNS} FROM submitted_jobs WHERE tenant_id = $1 AND idempotency_key = $2`, [job.tenantId, job.idempotencyKey]);
      if (!rows[0]) throw new Error(`idempotency key of job ${job.jobId} conflicted, but no job holds it`);
      return { type: 'exists', job: rows[0] };
    },
    async takeOver(jobId, staleAfterMs) {
      const { rowCount } = await pool.query(
        `UPDATE submitted_jobs SET created_at = now()
         WHERE job_id = $1 AND submission = 'pending' AND created_at < now() - make_interval(secs => $2 / 1000.0)`,
        [jobId, staleAfterMs],
      );
      return rowCount === 1;
    },
    async markCommitted(jobId) {
      await pool.query(`UPDATE submitted_jobs SET submission = 'committed', committed_at = now() WHERE job_id = $1`, [jobId]);
    },
    async release(jobId) {
      await pool.query(`DELETE FROM submitted_jobs WHERE job_id = $1 AND submission = 'pending'`, [jobId]);
    },
    async find(tenantId, jobId) {
      const { rows } = await pool.query<SubmittedJob>(`SELECT ${COLUMNS} FROM submitted_jobs WHERE tenant_id = $1 AND job_id = $2`, [tenantId, jobId]);
      return rows[0];
    },
    async withControlLock(tenantId, jobId, work) {
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<SubmittedJob>(
          `SELECT ${COLUMNS} FROM submitted_jobs WHERE tenant_id = $1 AND job_id = $2 AND submission = 'committed' FOR UPDATE`,
          [tenantId, jobId],
        );
        if (!rows[0]) return undefined;
        const { result, update } = await work(rows[0]);
        if (update) {
          await client.query(`UPDATE submitted_jobs SET control_state = $2, control_version = $3 WHERE job_id = $1`, [jobId, update.state, update.version]);
        }
        return result;
      });
    },
  };
}
