// Watches running jobs and acts for them as `sluice`, by ordinary control actions:
// - a job whose canary slice has ended gets its verdict (domain/canary.ts): it goes on,
//   or it is paused with reason canary_failed and the failures by reason;
// - a job whose most recently ended items fail permanently above its auto-pause share
//   (domain/auto-pause.ts) is paused with the reason and the top error reasons. Only
//   items that ended since the job's last resume count, so a resumed job is judged on
//   what it does after.
// - a finished job that asked to be verified at the end gets its verification sent, once
//   (a crash between the send and its mark sends it again: verdicts are idempotent).
// It reads the projections, so it acts within a check interval plus the projection lag;
// the operator resumes or cancels what it paused.
import { Counter, type Registry } from 'prom-client';
import type { Pool } from '../db/pool.js';
import { autoPauseVerdict, DEFAULT_AUTO_PAUSE, type AutoPauseSettings } from '../domain/auto-pause.js';
import { canaryVerdict, type CanaryOption } from '../domain/canary.js';
import type { Logger } from '../telemetry/logger.js';
import type { JobControl } from './job-control.js';
import type { JobVerifier } from './job-verification.js';

export interface JobGuard {
  /** One look at every running job; answers the jobs it paused or let go on. */
  check(): Promise<{ paused: string[]; passed: string[]; verified: string[] }>;
  /** Looks every `intervalMs` until stopped. */
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

/**
 * An item that failed because of the change it makes: a permanent failure the API gave
 * for the item. Not counted: items that ran out of retries on transient errors, and
 * items of a profile whose access was lost (401/403), which say something of the API or
 * of one profile (the breakers handle those), not of the change.
 */
const CHANGE_FAILURE_SQL = `(status IN ('failed', 'dead_lettered') AND last_error_reason IS DISTINCT FROM 'RETRIES_EXHAUSTED'
  AND COALESCE(last_error_kind, '') NOT IN ('unauthorized', 'forbidden'))`;

/** The count of automatic pauses, served where the api's metrics are. */
export function autoPauseCounter(registry: Registry): Counter {
  return new Counter({ name: 'sluice_jobs_auto_paused_total', help: 'Jobs Sluice paused on its own: permanent failures above their auto-pause share, or a failed canary', registers: [registry] });
}

export function createJobGuard(o: { pool: Pool; control: JobControl; verifier: JobVerifier; logger: Logger; pausedTotal: Counter }): JobGuard {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();

  async function judgeCanaries(): Promise<{ paused: string[]; passed: string[] }> {
    const { rows: jobs } = await o.pool.query<{ job_id: string; tenant_id: string; canary: CanaryOption; ended: string }>(
      `SELECT j.job_id, j.tenant_id, j.canary,
              (SELECT count(*) FROM job_items i WHERE i.job_id = j.job_id AND i.status NOT IN ('pending', 'retrying')) AS ended
       FROM jobs j WHERE j.canary_phase = 'running' AND j.status IN ('submitted', 'running')`,
    );
    const judged = { paused: [] as string[], passed: [] as string[] };
    for (const job of jobs.filter((j) => Number(j.ended) >= j.canary.items)) {
      const { rows: failures } = await o.pool.query<{ reason: string; count: string }>(
        `SELECT COALESCE(last_error_reason, 'UNKNOWN') AS reason, count(*) AS count FROM job_items
         WHERE job_id = $1 AND ${CHANGE_FAILURE_SQL}
         GROUP BY 1 ORDER BY 2 DESC, 1`,
        [job.job_id],
      );
      const verdict = canaryVerdict(job.canary, Number(job.ended), failures.map((f) => ({ reason: f.reason, count: Number(f.count) })));
      const result = await o.control.control({ tenantId: job.tenant_id, jobId: job.job_id, action: verdict.passed ? 'pass-canary' : 'fail-canary', by: 'sluice', reason: verdict.reason });
      if (result.type !== 'applied') continue; // cancelled meanwhile
      (verdict.passed ? judged.passed : judged.paused).push(job.job_id);
      if (!verdict.passed) o.pausedTotal.inc();
      if (verdict.passed) o.logger.info({ jobId: job.job_id, tenantId: job.tenant_id, reason: verdict.reason }, 'canary passed: the job goes on');
      else o.logger.warn({ jobId: job.job_id, tenantId: job.tenant_id, reason: verdict.reason }, 'canary failed: the job is paused; resume or cancel it');
    }
    return judged;
  }

  async function check(): Promise<{ paused: string[]; passed: string[]; verified: string[] }> {
    const judged = await judgeCanaries();
    return { paused: [...judged.paused, ...(await autoPause())], passed: judged.passed, verified: await verifyFinished() };
  }

  async function verifyFinished(): Promise<string[]> {
    const { rows } = await o.pool.query<{ job_id: string; tenant_id: string }>(
      `SELECT j.job_id, j.tenant_id FROM jobs j JOIN submitted_jobs s USING (job_id)
       WHERE j.verify_at_end AND j.finished_at IS NOT NULL AND j.status IN ('completed', 'completed_with_errors') AND s.verify_sent_at IS NULL`,
    );
    for (const job of rows) {
      const answer = await o.verifier.verify(job.tenant_id, job.job_id);
      await o.pool.query(`UPDATE submitted_jobs SET verify_sent_at = now() WHERE job_id = $1`, [job.job_id]);
      o.logger.info({ jobId: job.job_id, tenantId: job.tenant_id, items: answer.type === 'started' ? answer.items : 0 }, 'job finished: its items are read back (verifyAtEnd)');
    }
    return rows.map((r) => r.job_id);
  }

  async function autoPause(): Promise<string[]> {
    const { rows: jobs } = await o.pool.query<{ job_id: string; tenant_id: string; auto_pause: AutoPauseSettings | null; resumed_at: Date | null }>(
      `SELECT job_id, tenant_id, auto_pause, resumed_at FROM jobs WHERE status = 'running' AND COALESCE((auto_pause->>'enabled')::boolean, true)`,
    );
    const tripped: string[] = [];
    for (const job of jobs) {
      const settings = { ...DEFAULT_AUTO_PAUSE, ...job.auto_pause };
      // The window: items that succeeded or failed for their change (others say nothing of it).
      const { rows } = await o.pool.query<{ failed: boolean; last_error_reason: string | null }>(
        `SELECT ${CHANGE_FAILURE_SQL} AS failed, last_error_reason FROM job_items
         WHERE job_id = $1 AND (status = 'succeeded' OR ${CHANGE_FAILURE_SQL}) AND updated_at > COALESCE($2, '-infinity'::timestamptz)
         ORDER BY updated_at DESC LIMIT $3`,
        [job.job_id, job.resumed_at, settings.window],
      );
      const window = rows.map((r) => ({ permanentFailure: r.failed, reason: r.last_error_reason }));
      const verdict = autoPauseVerdict(window, settings);
      if (!verdict.pause) continue;
      const result = await o.control.control({ tenantId: job.tenant_id, jobId: job.job_id, action: 'pause', by: 'sluice', reason: verdict.reason });
      if (result.type !== 'applied') continue; // paused, cancelled or finished meanwhile
      o.pausedTotal.inc();
      tripped.push(job.job_id);
      o.logger.warn({ jobId: job.job_id, tenantId: job.tenant_id, failed: verdict.failed, of: verdict.of, topReasons: verdict.topReasons }, 'job paused automatically: resume or cancel it');
    }
    return tripped;
  }

  return {
    check,
    // The next check is timed from the end of the last one: a slow check never overlaps the next.
    start(intervalMs) {
      stopped = false;
      const next = () => {
        timer = setTimeout(() => {
          running = check()
            .catch((error: unknown) => o.logger.warn({ err: error }, 'the auto-pause check failed; it runs again'))
            .finally(() => stopped || next());
        }, intervalMs);
      };
      next();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
