// Reads a job's progress from the projections: status, counts per item status, percent,
// recent throughput and an ETA, activity times, a per-profile breakdown, and how fresh
// the view is. Answers always come with `projectedAt`, the last time the projector
// committed anything, so a reader can tell a stalled job from a stalled projector.
import type { Pool } from '../db/pool.js';
import { BREAKER_OPEN } from '../domain/events.js';

export type JobStatus = 'submitted' | 'running' | 'paused' | 'cancelled' | 'completed' | 'completed_with_errors';

export const FINAL_STATUSES: readonly JobStatus[] = ['cancelled', 'completed', 'completed_with_errors'];

export interface ItemCounts {
  pending: number;
  retrying: number;
  succeeded: number;
  failed: number;
  deadLettered: number;
  cancelled: number;
  skipped: number;
  /** Replayed items not sent because a newer update of their entity succeeded or was queued. */
  superseded: number;
  /** Items whose command was removed from the topic (retention) before it ran. */
  expired: number;
  /** Items not written because their entity differed from their expect (the stale-write guard). */
  conflict: number;
}

/** Succeeded items read back after the job: still holding what was written, or not. */
export interface VerificationCounts {
  verified: number;
  /** Acknowledged but not applied, or changed by someone since. */
  drifted: number;
  /** The read back failed for good (the profile's access was lost, the entity's call kept failing). */
  unreadable: number;
}

export interface ProfileProgress {
  profileId: string;
  /** The job's items of this profile. */
  total: number;
  done: number;
  remaining: number;
  succeeded: number;
  failedOrDeadLettered: number;
  retrying: number;
  /** Of the retrying items, those the API throttled (429): the profile is at its limit. */
  throttled: number;
  /** Of the retrying items, those whose last call left a breaker open: the profile is not called until a probe succeeds. */
  breakerOpen: number;
  /** Items done per second since the job's first activity (0 before any). */
  itemsPerS: number;
}

export interface JobProgress {
  jobId: string;
  tenantId: string;
  status: JobStatus;
  operation: string | null;
  labels: Record<string, string>;
  totalItems: number;
  counts: ItemCounts;
  verification: VerificationCounts;
  /** The job this one reverts. */
  revertOf: string | null;
  /** Whether its items captured before-images (false: it cannot be reverted). */
  captureBefore: boolean;
  /** Items with a terminal status. */
  done: number;
  percent: number;
  /** Items finished per second over the last minute of activity. */
  throughputPerS: number;
  /**
   * Seconds left: the longer of the job's recent pace and its slowest profile's pace (each
   * profile has its own rate limit, so the slowest one bounds the job); null when nothing
   * is moving or the job is over.
   */
  etaSeconds: number | null;
  /** The profile whose remaining items take longest at its own pace, when known. */
  slowestProfile: { profileId: string; remaining: number; itemsPerS: number; etaSeconds: number } | null;
  submittedAt: string;
  firstActivityAt: string | null;
  lastActivityAt: string | null;
  finishedAt: string | null;
  /** When the job was paused, while it is. */
  pausedSince: string | null;
  /** The job's canary and its phase: running (only the slice runs), passed, or failed (the job was paused). */
  canary: { items: number; maxFailureRate: number; phase: 'running' | 'passed' | 'failed' } | null;
  /** Who paused it and why, while it is paused: `sluice` for an automatic pause or a failed canary. */
  pause: { by: string | null; reason: string | null } | null;
  /**
   * Paused longer than the operator's bound (SLUICE_PAUSE_WARN_MS): its commands expire
   * once item-commands' retention passes; resume or cancel it.
   */
  pauseOverdue: boolean;
  /** When the projector last committed a batch (of any job). */
  projectedAt: string | null;
  profiles?: ProfileProgress[];
}

export interface ProgressOptions {
  profiles?: boolean;
  /** A pause longer than this is overdue (7 days unless told). */
  pauseWarnMs?: number;
}

export type ProgressReader = (tenantId: string, jobId: string, options?: ProgressOptions) => Promise<JobProgress | undefined>;

export const DEFAULT_PAUSE_WARN_MS = 7 * 24 * 3_600_000;

const THROUGHPUT_WINDOW_S = 60;

/** The jobs row's counter columns. */
export type CountRow = Record<'pending_items' | 'retrying_items' | 'succeeded_items' | 'failed_items' | 'dead_lettered_items' | 'cancelled_items' | 'skipped_items' | 'superseded_items' | 'expired_items' | 'conflict_items', string>;

/** A job's items by status, and how many of them have ended, from its row's counters. */
export function countsOf(row: CountRow): { counts: ItemCounts; done: number } {
  const counts: ItemCounts = {
    pending: Number(row.pending_items),
    retrying: Number(row.retrying_items),
    succeeded: Number(row.succeeded_items),
    failed: Number(row.failed_items),
    deadLettered: Number(row.dead_lettered_items),
    cancelled: Number(row.cancelled_items),
    skipped: Number(row.skipped_items),
    superseded: Number(row.superseded_items),
    expired: Number(row.expired_items),
    conflict: Number(row.conflict_items),
  };
  const done = counts.succeeded + counts.failed + counts.deadLettered + counts.cancelled + counts.skipped + counts.superseded + counts.expired + counts.conflict;
  return { counts, done };
}

interface JobRow {
  job_id: string;
  tenant_id: string;
  status: JobStatus;
  operation: string | null;
  labels: Record<string, string>;
  total_items: string;
  pending_items: string;
  retrying_items: string;
  succeeded_items: string;
  failed_items: string;
  dead_lettered_items: string;
  cancelled_items: string;
  skipped_items: string;
  superseded_items: string;
  expired_items: string;
  conflict_items: string;
  verified_items: string;
  drifted_items: string;
  unreadable_items: string;
  revert_of: string | null;
  capture_before: boolean;
  paused_by: string | null;
  canary: { items: number; maxFailureRate: number } | null;
  canary_phase: 'running' | 'passed' | 'failed' | null;
  pause_reason: string | null;
  paused_at: Date | null;
  submitted_at: Date;
  first_activity_at: Date | null;
  last_activity_at: Date | null;
  finished_at: Date | null;
  recent_done: string;
  projected_at: Date | null;
}

/** The job's progress, or undefined if this tenant has no such job (yet). */
export async function readJobProgress(pool: Pool, tenantId: string, jobId: string, options: ProgressOptions = {}): Promise<JobProgress | undefined> {
  const { rows } = await pool.query<JobRow>(
    `SELECT j.*,
       (SELECT count(*) FROM job_items i WHERE i.job_id = j.job_id AND i.status NOT IN ('pending', 'retrying')
          AND i.updated_at > COALESCE(j.last_activity_at, now()) - make_interval(secs => $3)) AS recent_done,
       (SELECT max(updated_at) FROM projection_offsets) AS projected_at
     FROM jobs j WHERE j.job_id = $1 AND j.tenant_id = $2`,
    [jobId, tenantId, THROUGHPUT_WINDOW_S],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { counts, done } = countsOf(row);
  const total = Number(row.total_items);
  const window = row.first_activity_at && row.last_activity_at ? Math.min(THROUGHPUT_WINDOW_S, Math.max(1, (row.last_activity_at.getTime() - row.first_activity_at.getTime()) / 1000)) : 0;
  const throughput = window > 0 ? Number(row.recent_done) / window : 0;
  const over = FINAL_STATUSES.includes(row.status);
  const activeS = row.first_activity_at && row.last_activity_at ? Math.max(1, (row.last_activity_at.getTime() - row.first_activity_at.getTime()) / 1000) : 0;
  const slowest = over || activeS === 0 ? null : await readSlowestProfile(pool, jobId, activeS);
  const overallEta = over || throughput === 0 ? null : Math.ceil((total - done) / throughput);
  return {
    jobId: row.job_id,
    tenantId: row.tenant_id,
    status: row.status,
    operation: row.operation,
    labels: row.labels,
    totalItems: total,
    counts,
    verification: { verified: Number(row.verified_items), drifted: Number(row.drifted_items), unreadable: Number(row.unreadable_items) },
    revertOf: row.revert_of,
    captureBefore: row.capture_before,
    done,
    percent: total > 0 ? Math.floor((done / total) * 1000) / 10 : 0,
    throughputPerS: Math.round(throughput * 10) / 10,
    etaSeconds: overallEta === null ? null : Math.max(overallEta, slowest?.etaSeconds ?? 0),
    slowestProfile: slowest,
    submittedAt: row.submitted_at.toISOString(),
    firstActivityAt: row.first_activity_at?.toISOString() ?? null,
    lastActivityAt: row.last_activity_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    pausedSince: row.status === 'paused' ? (row.paused_at?.toISOString() ?? null) : null,
    pause: row.status === 'paused' ? { by: row.paused_by, reason: row.pause_reason } : null,
    canary: row.canary && row.canary_phase ? { ...row.canary, phase: row.canary_phase } : null,
    pauseOverdue: row.status === 'paused' && row.paused_at !== null && Date.now() - row.paused_at.getTime() > (options.pauseWarnMs ?? DEFAULT_PAUSE_WARN_MS),
    projectedAt: row.projected_at?.toISOString() ?? null,
    ...(options.profiles ? { profiles: await readProfileProgress(pool, jobId, activeS) } : {}),
  };
}

// Each profile's pace is its items done since the job's first activity; a profile with
// none done yet has no pace to go by and is left out.
async function readSlowestProfile(pool: Pool, jobId: string, activeS: number): Promise<JobProgress['slowestProfile']> {
  const { rows } = await pool.query<{ profile_id: string; total_items: string; done_items: string }>(
    `SELECT profile_id, total_items, done_items FROM job_profiles WHERE job_id = $1 AND done_items > 0 AND done_items < total_items`,
    [jobId],
  );
  let slowest: JobProgress['slowestProfile'] = null;
  for (const r of rows) {
    const remaining = Number(r.total_items) - Number(r.done_items);
    const itemsPerS = Number(r.done_items) / activeS;
    const etaSeconds = Math.ceil(remaining / itemsPerS);
    if (!slowest || etaSeconds > slowest.etaSeconds) slowest = { profileId: r.profile_id, remaining, itemsPerS: Math.round(itemsPerS * 100) / 100, etaSeconds };
  }
  return slowest;
}

// Every profile of the job (those with nothing projected yet too), from its placed count
// and its items' rows.
async function readProfileProgress(pool: Pool, jobId: string, activeS: number): Promise<ProfileProgress[]> {
  const { rows } = await pool.query<{ profile_id: string; total: string; done: string; succeeded: string; failed: string; retrying: string; throttled: string; breaker_open: string }>(
    `SELECT p.profile_id, p.total_items AS total, COALESCE(i.done, 0) AS done, COALESCE(i.succeeded, 0) AS succeeded,
            COALESCE(i.failed, 0) AS failed, COALESCE(i.retrying, 0) AS retrying, COALESCE(i.throttled, 0) AS throttled,
            COALESCE(i.breaker_open, 0) AS breaker_open
     FROM job_profiles p LEFT JOIN (
       SELECT profile_id,
         count(*) FILTER (WHERE status NOT IN ('pending', 'retrying')) AS done,
         count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status IN ('failed', 'dead_lettered')) AS failed,
         count(*) FILTER (WHERE status = 'retrying') AS retrying,
         count(*) FILTER (WHERE status = 'retrying' AND last_error_kind = 'throttled') AS throttled,
         count(*) FILTER (WHERE status = 'retrying' AND last_error_reason = $2) AS breaker_open
       FROM job_items WHERE job_id = $1 GROUP BY profile_id) i USING (profile_id)
     WHERE p.job_id = $1 ORDER BY p.profile_id`,
    [jobId, BREAKER_OPEN],
  );
  return rows.map((r) => {
    const [total, done] = [Number(r.total), Number(r.done)];
    return {
      profileId: r.profile_id,
      total,
      done,
      remaining: Math.max(0, total - done),
      succeeded: Number(r.succeeded),
      failedOrDeadLettered: Number(r.failed),
      retrying: Number(r.retrying),
      throttled: Number(r.throttled),
      breakerOpen: Number(r.breaker_open),
      itemsPerS: activeS > 0 ? Math.round((done / activeS) * 100) / 100 : 0,
    };
  });
}
