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

/** A control action written ahead of its Kafka transaction (migration 1700000000010). */
export interface ControlIntent {
  jobId: string;
  tenantId: string;
  state: ControlState;
  version: number;
  event: 'sluice.JobPaused' | 'sluice.JobResumed' | 'sluice.JobCancelled';
  requestedBy: string | null;
  reason: string | null;
}

/**
 * SQL: whether a job is cancelled by any record of it, so a stale row is never trusted
 * alone: its row, a cancel that may have reached Kafka before the row (a pending intent),
 * or the cancel as projected from Kafka. Aliases: s submitted_jobs, i control_intents, j jobs.
 */
export const JOB_IS_CANCELLED_SQL = `(COALESCE(s.control_state = 'CANCELLED', false) OR COALESCE(i.state = 'CANCELLED', false) OR j.cancel_requested_at IS NOT NULL)`;

/** `attemptId`: the submission attempt that now holds the reservation (a release names it). */
export type Reservation = { type: 'reserved'; attemptId: string } | { type: 'exists'; job: SubmittedJob };

const COLUMNS = `job_id AS "jobId", tenant_id AS "tenantId", idempotency_key AS "idempotencyKey", request_hash AS "requestHash",
  item_count::float8 AS "itemCount", submission, control_state AS "controlState", control_version::float8 AS "controlVersion", created_at AS "createdAt"`;

export interface SubmittedJobs {
  /** Records a new job; with a key already taken by the tenant, returns that job instead. */
  /** A job with a canary starts in the CANARY control state (version 1, as its submission writes it). */
  reserve(job: { jobId: string; tenantId: string; idempotencyKey: string | null; requestHash: string; itemCount: number; canary?: boolean }): Promise<Reservation>;
  /**
   * Takes over a pending reservation older than `staleAfterMs` (its submitter died) by
   * making it fresh again under a new attempt; undefined if it is not stale (any more),
   * e.g. another taker won.
   */
  takeOver(jobId: string, staleAfterMs: number): Promise<{ attemptId: string } | undefined>;
  markCommitted(jobId: string): Promise<void>;
  /**
   * Forgets a reservation whose submission failed (its transaction known not to have
   * committed), so the key can be used again; only while `attemptId` still holds it.
   */
  release(jobId: string, attemptId: string): Promise<void>;
  /**
   * Whether `attemptId` still holds the job's pending reservation and it is fresher than
   * `staleAfterMs`: only then may this attempt settle its outcome (a stale one may be
   * taken over at any moment, and settling would fence the taker).
   */
  stillHolds(jobId: string, attemptId: string, staleAfterMs: number): Promise<boolean>;
  /** Whether this attempt's commit is recorded (by itself, or by the marker sweep). */
  committedAttempt(jobId: string, attemptId: string): Promise<boolean>;
  find(tenantId: string, jobId: string): Promise<SubmittedJob | undefined>;
  /**
   * Runs `work` holding the job's row lock; `work` returns the new control state and
   * version to store, or undefined to change nothing. Whatever `work` does before it
   * returns (producing to Kafka) happens while other control actions on the job wait.
   */
  withControlLock<T>(tenantId: string, jobId: string, work: (job: SubmittedJob) => Promise<{ result: T; update?: { state: ControlState; version: number }; released?: boolean }>): Promise<T | undefined>;
  /**
   * Finished jobs, longest finished first, whose control state is still on the control
   * topic and every one of whose commands lies below the executors' committed offset of its
   * partition (`committed`: partition → next offset), so no executor reads one again.
   */
  finishedUnreleased(finishedBeforeMs: number, committed: Map<number, number>, limit: number): Promise<{ tenantId: string; jobId: string }[]>;
  /**
   * Commits a control action before it is produced (on its own connection: the caller
   * holds the job's row lock). The row's next update removes it.
   */
  recordIntent(intent: ControlIntent): Promise<void>;
  /** The job's control action that may have reached Kafka without reaching its row. */
  pendingIntent(jobId: string): Promise<ControlIntent | undefined>;
}

export function createSubmittedJobs(pool: Pool): SubmittedJobs {
  return {
    async reserve(job) {
      const inserted = await pool.query(
        `INSERT INTO submitted_jobs (job_id, tenant_id, idempotency_key, request_hash, item_count, control_state, control_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
         RETURNING attempt_id`,
        [job.jobId, job.tenantId, job.idempotencyKey, job.requestHash, job.itemCount, job.canary ? 'CANARY' : 'RUNNING', job.canary ? 1 : 0],
      );
      if (inserted.rows[0]) return { type: 'reserved', attemptId: inserted.rows[0].attempt_id as string };
      const { rows } = await pool.query<SubmittedJob>(`SELECT ${COLUMNS} FROM submitted_jobs WHERE tenant_id = $1 AND idempotency_key = $2`, [job.tenantId, job.idempotencyKey]);
      if (!rows[0]) throw new Error(`idempotency key of job ${job.jobId} conflicted, but no job holds it`);
      return { type: 'exists', job: rows[0] };
    },
    async takeOver(jobId, staleAfterMs) {
      const { rows } = await pool.query<{ attempt_id: string }>(
        `UPDATE submitted_jobs SET created_at = now(), attempt_id = gen_random_uuid()
         WHERE job_id = $1 AND submission = 'pending' AND created_at < now() - make_interval(secs => $2 / 1000.0)
         RETURNING attempt_id`,
        [jobId, staleAfterMs],
      );
      return rows[0] ? { attemptId: rows[0].attempt_id } : undefined;
    },
    async markCommitted(jobId) {
      await pool.query(`UPDATE submitted_jobs SET submission = 'committed', committed_at = now() WHERE job_id = $1`, [jobId]);
    },
    async release(jobId, attemptId) {
      await pool.query(`DELETE FROM submitted_jobs WHERE job_id = $1 AND attempt_id = $2 AND submission = 'pending'`, [jobId, attemptId]);
    },
    async committedAttempt(jobId, attemptId) {
      const { rowCount } = await pool.query(`SELECT 1 FROM submitted_jobs WHERE job_id = $1 AND attempt_id = $2 AND submission = 'committed'`, [jobId, attemptId]);
      return rowCount === 1;
    },
    async stillHolds(jobId, attemptId, staleAfterMs) {
      const { rowCount } = await pool.query(
        `SELECT 1 FROM submitted_jobs WHERE job_id = $1 AND attempt_id = $2 AND submission = 'pending' AND created_at >= now() - make_interval(secs => $3 / 1000.0)`,
        [jobId, attemptId, staleAfterMs],
      );
      return rowCount === 1;
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
        const { result, update, released } = await work(rows[0]);
        if (released) await client.query(`UPDATE submitted_jobs SET control_released_at = now() WHERE job_id = $1`, [jobId]);
        if (update) {
          // Written again: a later release removes it again.
          await client.query(`UPDATE submitted_jobs SET control_state = $2, control_version = $3, control_released_at = NULL WHERE job_id = $1`, [jobId, update.state, update.version]);
          await client.query(`DELETE FROM control_intents WHERE job_id = $1 AND version <= $2`, [jobId, update.version]);
        }
        return result;
      });
    },
    async finishedUnreleased(finishedBeforeMs, committed, limit) {
      const { rows } = await pool.query<{ tenantId: string; jobId: string }>(
        `WITH c AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS x(partition int, next_offset bigint))
         SELECT s.tenant_id AS "tenantId", s.job_id AS "jobId" FROM submitted_jobs s JOIN jobs j ON j.job_id = s.job_id
         WHERE s.submission = 'committed' AND s.control_released_at IS NULL AND j.finished_at < to_timestamp($1 / 1000.0)
           AND EXISTS (SELECT 1 FROM command_placements p WHERE p.job_id = s.job_id)
           AND NOT EXISTS (SELECT 1 FROM command_placements p LEFT JOIN c ON c.partition = p.partition
                           WHERE p.job_id = s.job_id AND (c.next_offset IS NULL OR p.last_offset >= c.next_offset))
         ORDER BY j.finished_at LIMIT $2`,
        [finishedBeforeMs, limit, JSON.stringify([...committed].map(([partition, next]) => ({ partition, next_offset: next })))],
      );
      return rows;
    },
    async recordIntent(i) {
      await pool.query(
        `INSERT INTO control_intents (job_id, tenant_id, state, version, event, requested_by, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (job_id) DO UPDATE SET state = EXCLUDED.state, version = EXCLUDED.version, event = EXCLUDED.event,
           requested_by = EXCLUDED.requested_by, reason = EXCLUDED.reason, created_at = now()`,
        [i.jobId, i.tenantId, i.state, i.version, i.event, i.requestedBy, i.reason],
      );
    },
    async pendingIntent(jobId) {
      const { rows } = await pool.query<ControlIntent>(
        `SELECT job_id AS "jobId", tenant_id AS "tenantId", state, version::float8 AS version, event, requested_by AS "requestedBy", reason FROM control_intents WHERE job_id = $1`,
        [jobId],
      );
      return rows[0];
    },
  };
}
