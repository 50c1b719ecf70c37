// Queries over the projections for the HTTP API and the CLI: jobs of a tenant (filtered,
// newest first, cursor-paginated), a job's items by status (keyset-paginated by index),
// and a job's results as a stream of rows for export, including the items that have no
// terminal result yet ("unprocessed").
import type { FieldValues } from '../domain/field-values.js';
import type { Pool } from '../db/pool.js';
import { UUID_PATTERN } from '../domain/ids.js';
import { instantProblem } from '../domain/instants.js';
import { countsOf, readJobProgress, type CountRow, type ItemCounts, type JobStatus, type ProgressReader, type VerificationCounts } from './job-progress.js';

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  operation: string | null;
  labels: Record<string, string>;
  totalItems: number;
  done: number;
  /** Items by status, as on the job's progress. */
  counts: ItemCounts;
  /** Who submitted it (`token:<name>` over HTTP), when it was said. */
  submittedBy: string | null;
  submittedAt: string;
  finishedAt: string | null;
}

export interface JobFilter {
  status?: JobStatus;
  /** `key:value`: jobs carrying this label. */
  label?: { key: string; value: string };
  submittedAfter?: Date;
  submittedBefore?: Date;
  limit: number;
  /** From the previous page: continue after this job. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last one. */
  nextCursor: string | null;
}

// A cursor is the last row's (time, id), e.g. (submitted_at, job_id), opaque to clients.
export const encodeCursor = (at: Date, id: string) => Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');

/** A cursor this API did not give out: the HTTP layer answers 400 invalid_cursor. */
export class InvalidCursor extends Error {
  override readonly name = 'InvalidCursor';
  readonly statusCode = 400;
  readonly code = 'invalid_cursor';
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Checked, not trusted: it comes back from the client and goes into a query.
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && instantProblem(value[0]) === undefined && typeof value[1] === 'string' && UUID_PATTERN.test(value[1])) {
      return value as [string, string];
    }
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursor('cursor: not one this API gave out');
}

export async function listJobs(pool: Pool, tenantId: string, f: JobFilter): Promise<Page<JobSummary>> {
  const where = ['tenant_id = $1'];
  const args: unknown[] = [tenantId];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.status) where.push(`status = ${arg(f.status)}`);
  if (f.label) where.push(`labels @> ${arg(JSON.stringify({ [f.label.key]: f.label.value }))}::jsonb`);
  if (f.submittedAfter) where.push(`submitted_at >= ${arg(f.submittedAfter)}`);
  if (f.submittedBefore) where.push(`submitted_at < ${arg(f.submittedBefore)}`);
  if (f.cursor) {
    const [at, id] = decodeCursor(f.cursor);
    where.push(`(submitted_at, job_id) < (${arg(at)}::timestamptz, ${arg(id)})`);
  }
  const { rows } = await pool.query<CountRow & { job_id: string; status: JobStatus; operation: string | null; labels: Record<string, string>; total_items: string; submitted_by: string | null; submitted_at: Date; finished_at: Date | null }>(
    `SELECT * FROM jobs WHERE ${where.join(' AND ')} ORDER BY submitted_at DESC, job_id DESC LIMIT ${arg(f.limit + 1)}`,
    args,
  );
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => {
      const { counts, done } = countsOf(r);
      return { jobId: r.job_id, status: r.status, operation: r.operation, labels: r.labels, totalItems: Number(r.total_items), done, counts, submittedBy: r.submitted_by, submittedAt: r.submitted_at.toISOString(), finishedAt: r.finished_at?.toISOString() ?? null };
    }),
    nextCursor: rows.length > f.limit && last ? encodeCursor(last.submitted_at, last.job_id) : null,
  };
}

export interface ItemView {
  index: number;
  itemId: string;
  profileId: string;
  operation: string;
  status: string;
  attempts: number;
  replayGeneration: number;
  lastError: { kind: string | null; reason: string | null; message: string | null } | null;
  latencyMs: number | null;
  updatedAt: string;
  /** The payload as run: the entity and the values requested. */
  payload: Record<string, unknown> | null;
  /** The fields the item sets: before its write, as acknowledged, and as found by a read that stopped it (conflict). */
  values: { previous: FieldValues | null; applied: FieldValues | null; current: FieldValues | null };
  /** The latest read-back of a succeeded item. */
  verification: { status: 'verified' | 'drifted' | 'unreadable'; found: FieldValues | null; at: string } | null;
  /** The trace of the result that set the row (its spans: the call to the API). */
  traceId: string | null;
}

interface ItemRowDb {
  item_index: string;
  item_id: string;
  profile_id: string;
  operation: string;
  status: string;
  attempts: number;
  replay_generation: number;
  last_error_kind: string | null;
  last_error_reason: string | null;
  last_error_message: string | null;
  latency_ms: number | null;
  updated_at: Date;
  payload: Record<string, unknown> | null;
  previous_values: FieldValues | null;
  applied_values: FieldValues | null;
  current_values: FieldValues | null;
  verification: 'verified' | 'drifted' | 'unreadable' | null;
  verified_values: FieldValues | null;
  verified_at: Date | null;
  trace_id: string | null;
}

const toItemView = (r: ItemRowDb): ItemView => ({
  index: Number(r.item_index),
  itemId: r.item_id,
  profileId: r.profile_id,
  operation: r.operation,
  status: r.status,
  attempts: r.attempts,
  replayGeneration: r.replay_generation,
  lastError: r.last_error_kind || r.last_error_message ? { kind: r.last_error_kind, reason: r.last_error_reason, message: r.last_error_message } : null,
  latencyMs: r.latency_ms,
  updatedAt: r.updated_at.toISOString(),
  payload: r.payload,
  values: { previous: r.previous_values, applied: r.applied_values, current: r.current_values },
  verification: r.verification ? { status: r.verification, found: r.verified_values, at: r.verified_at!.toISOString() } : null,
  traceId: r.trace_id,
});

/** Which of a job's items: every field narrows the selection. */
export interface ItemFilter {
  statuses?: string[];
  profileId?: string;
  operation?: string;
  /** The last error's reason (THROTTLED, TOO_HIGH, COMMAND_EXPIRED…). */
  reason?: string;
  /** Items with a greater index (the previous page's cursor). */
  after?: number;
  limit: number;
}

/** A job's items, by index from `after` on; undefined if the tenant has no such job. */
export async function listItems(pool: Pool, tenantId: string, jobId: string, f: ItemFilter): Promise<Page<ItemView> | undefined> {
  if (!(await ownsJob(pool, tenantId, jobId))) return undefined;
  const { rows } = await pool.query<ItemRowDb>(
    `SELECT * FROM job_items WHERE job_id = $1 AND item_index > $2 AND ($3::text[] IS NULL OR status = ANY($3))
       AND ($4::text IS NULL OR profile_id = $4) AND ($5::text IS NULL OR operation = $5) AND ($6::text IS NULL OR last_error_reason = $6)
     ORDER BY item_index LIMIT $7`,
    [jobId, f.after ?? -1, f.statuses ?? null, f.profileId ?? null, f.operation ?? null, f.reason ?? null, f.limit + 1],
  );
  const page = rows.slice(0, f.limit).map(toItemView);
  return { items: page, nextCursor: rows.length > f.limit ? String(page.at(-1)!.index) : null };
}

export type ResultSet = 'succeeded' | 'failed' | 'unprocessed';

const RESULT_STATUSES: Record<Exclude<ResultSet, 'unprocessed'>, string[]> = {
  succeeded: ['succeeded'],
  failed: ['failed', 'dead_lettered'],
};

/**
 * Every item of the set, in index order, a page at a time (memory stays flat for any
 * job size). "unprocessed" are the items with no terminal result: retrying, or never
 * seen by the projector at all (then only the index is known).
 */
export async function* exportResults(pool: Pool, jobId: string, set: ResultSet, pageSize = 5_000): AsyncGenerator<ItemView | { index: number; status: 'pending' }> {
  for (let after = -1; ; ) {
    const { rows } =
      set === 'unprocessed'
        ? await pool.query<ItemRowDb & { known: boolean }>(
            `SELECT g.i AS item_index, i.item_id, i.profile_id, i.operation, COALESCE(i.status, 'pending') AS status, i.attempts, i.replay_generation,
                    i.last_error_kind, i.last_error_reason, i.last_error_message, i.latency_ms, i.updated_at, i.payload, i.previous_values,
                    i.applied_values, i.current_values, i.verification, i.verified_values, i.verified_at, i.job_id IS NOT NULL AS known
             FROM jobs j CROSS JOIN LATERAL generate_series($2::bigint + 1, j.total_items - 1) AS g(i)
             LEFT JOIN job_items i ON i.job_id = j.job_id AND i.item_index = g.i
             WHERE j.job_id = $1 AND (i.status IS NULL OR i.status IN ('pending', 'retrying'))
             ORDER BY g.i LIMIT $3`,
            [jobId, after, pageSize],
          )
        : await pool.query<ItemRowDb & { known: boolean }>(
            `SELECT *, true AS known FROM job_items WHERE job_id = $1 AND item_index > $2 AND status = ANY($3) ORDER BY item_index LIMIT $4`,
            [jobId, after, RESULT_STATUSES[set], pageSize],
          );
    for (const r of rows) yield r.known ? toItemView(r) : { index: Number(r.item_index), status: 'pending' as const };
    if (rows.length < pageSize) return;
    after = Number(rows.at(-1)!.item_index);
  }
}

export async function ownsJob(pool: Pool, tenantId: string, jobId: string): Promise<boolean> {
  const { rowCount } = await pool.query(`SELECT 1 FROM jobs WHERE job_id = $1 AND tenant_id = $2`, [jobId, tenantId]);
  return rowCount === 1;
}

/** The job's projected status when every item of it has ended (completed, with errors, or cancelled); else undefined. */
export async function finishedStatus(pool: Pool, jobId: string): Promise<JobStatus | undefined> {
  const { rows } = await pool.query<{ status: JobStatus }>(`SELECT status FROM jobs WHERE job_id = $1 AND finished_at IS NOT NULL`, [jobId]);
  return rows[0]?.status;
}

async function verifiedSince(pool: Pool, jobId: string, since: Date): Promise<VerificationCounts> {
  const { rows } = await pool.query<{ verified: string; drifted: string; unreadable: string }>(
    `SELECT count(*) FILTER (WHERE verification = 'verified') AS verified, count(*) FILTER (WHERE verification = 'drifted') AS drifted,
            count(*) FILTER (WHERE verification = 'unreadable') AS unreadable
     FROM job_items WHERE job_id = $1 AND verified_at >= $2`,
    [jobId, since],
  );
  return { verified: Number(rows[0]!.verified), drifted: Number(rows[0]!.drifted), unreadable: Number(rows[0]!.unreadable) };
}

/** Everything the API reads from the projections, over one pool. */
export interface ProjectionQueries {
  progress: ProgressReader;
  jobs(tenantId: string, filter: JobFilter): Promise<Page<JobSummary>>;
  items(tenantId: string, jobId: string, filter: ItemFilter): Promise<Page<ItemView> | undefined>;
  results(jobId: string, set: ResultSet): AsyncGenerator<ItemView | { index: number; status: 'pending' }>;
  ownsJob(tenantId: string, jobId: string): Promise<boolean>;
  finishedStatus(jobId: string): Promise<JobStatus | undefined>;
  /** The job's items read back at or after `since`, by verdict. */
  verifiedSince(jobId: string, since: Date): Promise<VerificationCounts>;
}

export function projectionQueries(pool: Pool, settings: { pauseWarnMs?: number } = {}): ProjectionQueries {
  return {
    progress: (tenantId, jobId, options) => readJobProgress(pool, tenantId, jobId, { ...settings, ...options }),
    jobs: (tenantId, filter) => listJobs(pool, tenantId, filter),
    items: (tenantId, jobId, filter) => listItems(pool, tenantId, jobId, filter),
    results: (jobId, set) => exportResults(pool, jobId, set),
    ownsJob: (tenantId, jobId) => ownsJob(pool, tenantId, jobId),
    finishedStatus: (jobId) => finishedStatus(pool, jobId),
    verifiedSince: (jobId, since) => verifiedSince(pool, jobId, since),
  };
}
