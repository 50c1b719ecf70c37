// Queries over the dead_letters projection for the HTTP API, the CLI and the replay tool:
// a tenant's dead letters by filter (oldest first, cursor pages), their counts grouped
// by error, one dead letter in full, what a replay has come to, and the selection a
// replay starts from. A dead letter of another tenant is never found.
import type { Pool } from '../db/pool.js';
import { JOB_IS_CANCELLED_SQL } from '../db/submitted-jobs.js';
import type { AttemptRecord, ItemRequested } from '../domain/events.js';
import { decodeCursor, encodeCursor, type Page } from './job-queries.js';

export const DEAD_LETTER_STATUSES = ['open', 'replaying', 'resolved', 'failed_again', 'superseded'] as const;
export type DeadLetterStatus = (typeof DEAD_LETTER_STATUSES)[number];

/** Which dead letters: every field narrows the selection; none means all of the tenant's. */
export interface DeadLetterFilter {
  jobId?: string;
  /** With jobId: one item's dead letters (one per replay generation that failed). */
  index?: number;
  profileId?: string;
  operation?: string;
  errorKind?: string;
  reason?: string;
  /** Dead-lettered at or after this time (ISO 8601). */
  since?: string;
  /** Dead-lettered before this time (ISO 8601). */
  until?: string;
  status?: DeadLetterStatus;
}

export interface DeadLetterSummary {
  deadLetterId: string;
  jobId: string | null;
  index: number | null;
  profileId: string | null;
  operation: string | null;
  status: DeadLetterStatus;
  errorKind: string;
  reason: string;
  message: string;
  replayGeneration: number;
  deadLetteredAt: string;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  /** The command as it was dead-lettered; null for an undecodable record. */
  command: ItemRequested | null;
  /** The undecodable record's bytes, base64; null otherwise. */
  rawValue: string | null;
  attempts: AttemptRecord[];
  source: { topic: string; partition: number; offset: number };
  replayId: string | null;
  replayedBy: string | null;
  replayedAt: string | null;
}

export interface ReasonCount {
  errorKind: string;
  reason: string;
  count: number;
}

/** A dead letter as a replay weighs it. */
export interface ReplayCandidate {
  deadLetterId: string;
  status: DeadLetterStatus;
  errorKind: string;
  reason: string;
  command: ItemRequested | null;
  /** Whether the job was cancelled (then its items are not replayed). */
  jobCancelled: boolean;
  /** Where the failed command was read: later records of its partition are newer updates. */
  source: { topic: string; partition: number; offset: number };
}

export type ReplayOutcome = Record<DeadLetterStatus, number>;

const SUMMARY_COLUMNS = `dead_letter_id, job_id, item_index, profile_id, operation, status, error_kind, error_reason, error_message, replay_generation, dead_lettered_at`;

interface SummaryRow {
  dead_letter_id: string;
  job_id: string | null;
  item_index: string | null;
  profile_id: string | null;
  operation: string | null;
  status: DeadLetterStatus;
  error_kind: string;
  error_reason: string;
  error_message: string;
  replay_generation: number;
  dead_lettered_at: Date;
}

function toSummary(r: SummaryRow): DeadLetterSummary {
  return {
    deadLetterId: r.dead_letter_id,
    jobId: r.job_id,
    index: r.item_index === null ? null : Number(r.item_index),
    profileId: r.profile_id,
    operation: r.operation,
    status: r.status,
    errorKind: r.error_kind,
    reason: r.error_reason,
    message: r.error_message,
    replayGeneration: r.replay_generation,
    deadLetteredAt: r.dead_lettered_at.toISOString(),
  };
}

/** The WHERE clause of a tenant's filter, with its parameters numbered from 1 (column names qualified by `d.`). */
function whereOf(tenantId: string, f: DeadLetterFilter): { where: string[]; args: unknown[]; arg: (v: unknown) => string } {
  const args: unknown[] = [tenantId];
  const arg = (v: unknown) => `$${args.push(v)}`;
  const where = ['d.tenant_id = $1'];
  if (f.jobId) where.push(`d.job_id = ${arg(f.jobId)}`);
  if (f.index !== undefined) where.push(`d.item_index = ${arg(f.index)}`);
  if (f.profileId) where.push(`d.profile_id = ${arg(f.profileId)}`);
  if (f.operation) where.push(`d.operation = ${arg(f.operation)}`);
  if (f.errorKind) where.push(`d.error_kind = ${arg(f.errorKind)}`);
  if (f.reason) where.push(`d.error_reason = ${arg(f.reason)}`);
  if (f.since) where.push(`d.dead_lettered_at >= ${arg(f.since)}::timestamptz`);
  if (f.until) where.push(`d.dead_lettered_at < ${arg(f.until)}::timestamptz`);
  if (f.status) where.push(`d.status = ${arg(f.status)}`);
  return { where, args, arg };
}

export async function listDeadLetters(pool: Pool, tenantId: string, f: DeadLetterFilter, page: { limit: number; cursor?: string }): Promise<Page<DeadLetterSummary>> {
  const { where, args, arg } = whereOf(tenantId, f);
  if (page.cursor) {
    const [at, id] = decodeCursor(page.cursor);
    where.push(`(d.dead_lettered_at, d.dead_letter_id) > (${arg(at)}::timestamptz, ${arg(id)})`);
  }
  const { rows } = await pool.query<SummaryRow>(
    `SELECT ${SUMMARY_COLUMNS} FROM dead_letters d WHERE ${where.join(' AND ')}
     ORDER BY d.dead_lettered_at, d.dead_letter_id LIMIT ${arg(page.limit + 1)}`,
    args,
  );
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items: items.map(toSummary), nextCursor: rows.length > page.limit && last ? encodeCursor(last.dead_lettered_at, last.dead_letter_id) : null };
}

export async function countDeadLettersByReason(pool: Pool, tenantId: string, f: DeadLetterFilter): Promise<ReasonCount[]> {
  const { where, args } = whereOf(tenantId, f);
  const { rows } = await pool.query<{ error_kind: string; error_reason: string; count: string }>(
    `SELECT d.error_kind, d.error_reason, count(*) AS count FROM dead_letters d WHERE ${where.join(' AND ')}
     GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2`,
    args,
  );
  return rows.map((r) => ({ errorKind: r.error_kind, reason: r.error_reason, count: Number(r.count) }));
}

export async function readDeadLetter(pool: Pool, tenantId: string, deadLetterId: string): Promise<DeadLetterDetail | undefined> {
  const { rows } = await pool.query<SummaryRow & { command: ItemRequested | null; raw_value: Buffer | null; attempts: AttemptRecord[]; source_topic: string; source_partition: number; source_offset: string; replay_id: string | null; replayed_by: string | null; replayed_at: Date | null }>(
    `SELECT ${SUMMARY_COLUMNS}, command, raw_value, attempts, source_topic, source_partition, source_offset, replay_id, replayed_by, replayed_at
     FROM dead_letters d WHERE d.tenant_id = $1 AND d.dead_letter_id = $2`,
    [tenantId, deadLetterId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    ...toSummary(r),
    command: r.command,
    rawValue: r.raw_value?.toString('base64') ?? null,
    attempts: r.attempts,
    source: { topic: r.source_topic, partition: r.source_partition, offset: Number(r.source_offset) },
    replayId: r.replay_id,
    replayedBy: r.replayed_by,
    replayedAt: r.replayed_at?.toISOString() ?? null,
  };
}

/**
 * The dead letters a replay of `f` weighs, in the order their items were submitted
 * (job by job, by index), so a profile's items go back in their original order.
 */
export async function replayCandidates(pool: Pool, tenantId: string, f: DeadLetterFilter): Promise<ReplayCandidate[]> {
  const { where, args } = whereOf(tenantId, f);
  const { rows } = await pool.query<{ dead_letter_id: string; status: DeadLetterStatus; error_kind: string; error_reason: string; command: ItemRequested | null; job_cancelled: boolean; source_topic: string; source_partition: number; source_offset: string }>(
    `SELECT d.dead_letter_id, d.status, d.error_kind, d.error_reason, d.command, d.source_topic, d.source_partition, d.source_offset,
            COALESCE(j.status = 'cancelled', false) OR ${JOB_IS_CANCELLED_SQL} AS job_cancelled
     FROM dead_letters d
     LEFT JOIN jobs j ON j.job_id = d.job_id
     LEFT JOIN submitted_jobs s ON s.job_id = d.job_id
     LEFT JOIN control_intents i ON i.job_id = d.job_id
     WHERE ${where.join(' AND ')}
     ORDER BY j.submitted_at NULLS LAST, d.job_id, d.item_index, d.dead_lettered_at`,
    args,
  );
  return rows.map((r) => ({
    deadLetterId: r.dead_letter_id,
    status: r.status,
    errorKind: r.error_kind,
    reason: r.error_reason,
    command: r.command,
    jobCancelled: r.job_cancelled,
    source: { topic: r.source_topic, partition: r.source_partition, offset: Number(r.source_offset) },
  }));
}

/** How the dead letters a replay sent back stand now (as far as the projector has seen). */
export async function readReplayOutcome(pool: Pool, tenantId: string, replayId: string): Promise<ReplayOutcome> {
  const { rows } = await pool.query<{ status: DeadLetterStatus; count: string }>(
    `SELECT status, count(*) AS count FROM dead_letters WHERE tenant_id = $1 AND replay_id = $2 GROUP BY status`,
    [tenantId, replayId],
  );
  const outcome: ReplayOutcome = { open: 0, replaying: 0, resolved: 0, failed_again: 0, superseded: 0 };
  for (const r of rows) outcome[r.status] = Number(r.count);
  return outcome;
}

export interface DeadLetterQueries {
  list(tenantId: string, filter: DeadLetterFilter, page: { limit: number; cursor?: string }): Promise<Page<DeadLetterSummary>>;
  countByReason(tenantId: string, filter: DeadLetterFilter): Promise<ReasonCount[]>;
  read(tenantId: string, deadLetterId: string): Promise<DeadLetterDetail | undefined>;
  replayOutcome(tenantId: string, replayId: string): Promise<ReplayOutcome>;
  /** Whether the tenant has a replay of this id (as projected). */
  replayExists(tenantId: string, replayId: string): Promise<boolean>;
}

export function deadLetterQueries(pool: Pool): DeadLetterQueries {
  return {
    list: (tenantId, filter, page) => listDeadLetters(pool, tenantId, filter, page),
    countByReason: (tenantId, filter) => countDeadLettersByReason(pool, tenantId, filter),
    read: (tenantId, id) => readDeadLetter(pool, tenantId, id),
    replayOutcome: (tenantId, replayId) => readReplayOutcome(pool, tenantId, replayId),
    replayExists: async (tenantId, replayId) => (await pool.query(`SELECT 1 FROM replays WHERE replay_id = $1 AND tenant_id = $2`, [replayId, tenantId])).rowCount === 1,
  };
}
