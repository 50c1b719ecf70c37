// Writes projected batches to Postgres: the rows a batch of records produces and the
// offset after its last record, in one transaction, so a batch is applied whole or not
// at all and never twice (records below the stored offset are skipped). The row changes
// are also idempotent on their own (item-transitions.ts), so a duplicated result event
// changes nothing either. Every write is one multi-row statement per table.
import { DEFAULT_AUTO_PAUSE } from '../domain/auto-pause.js';
import type { CommandPlacement, CommandsExpired, DeadLettered, DeadLettersReplayed, ItemResult, JobEvent } from '../domain/events.js';
import { inTransaction, type Pool, type PoolClient } from '../db/pool.js';
import { toStorable } from '../domain/storable-text.js';
import { addTransition, applyResult, isVerification, TERMINAL_STATUSES, verdictOf, type ItemRow, type ItemStanding, type ItemStatus, type StatusDeltas, type Verdict } from './item-transitions.js';

export interface PartitionBatch<V> {
  group: string;
  topic: string;
  partition: number;
  /** Each record's value and the trace id its headers carry. */
  records: { offset: number; value: V; traceId: string | null }[];
  /** Records that cannot be applied: kept in projection_errors, in the same transaction as the rest. */
  quarantined?: QuarantinedRecord[];
}

/** A record the projector passes over, with why: it is kept to be retried after a fix. */
export interface QuarantinedRecord {
  offset: number;
  jobId: string | null;
  tenantId: string | null;
  /** `undecodable`, or the SQLSTATE Postgres refused the record with. */
  errorCode: string;
  errorMessage: string;
  rawValue: Buffer | null;
}

/**
 * Postgres refused the data itself (a value it cannot hold, a constraint, a datatype, a
 * size limit): the same record fails the same way on every retry. Anything else (a lost
 * connection, a restart, a deadlock) is transient and retried.
 */
export function isRefusedData(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54|42804)/.test(code);
}

export interface ProjectedBatch {
  applied: number;
  /** Records at or below the stored offset: applied by an earlier transaction. */
  skipped: number;
}

/** Writes the rows of `values`; `traceIds[i]` is the trace of `values[i]`. */
type Apply<V> = (client: PoolClient, values: V[], traceIds: (string | null)[]) => Promise<void>;

async function project<V>(pool: Pool, batch: PartitionBatch<V>, apply: Apply<V>): Promise<ProjectedBatch> {
  const quarantined = batch.quarantined ?? [];
  const last = Math.max(batch.records.at(-1)?.offset ?? -1, quarantined.at(-1)?.offset ?? -1);
  if (last < 0) return { applied: 0, skipped: 0 };
  return inTransaction(pool, async (client) => {
    const next = await lockOffset(client, batch);
    const fresh = batch.records.filter((r) => r.offset >= next);
    const freshQuarantined = quarantined.filter((r) => r.offset >= next);
    if (fresh.length > 0) await apply(client, fresh.map((r) => r.value), fresh.map((r) => r.traceId));
    if (freshQuarantined.length > 0) await storeQuarantined(client, batch, freshQuarantined);
    if (last >= next) {
      await client.query(`UPDATE projection_offsets SET next_offset = $4, updated_at = now() WHERE consumer_group = $1 AND topic = $2 AND partition = $3`, [batch.group, batch.topic, batch.partition, last + 1]);
    }
    return { applied: fresh.length, skipped: batch.records.length - fresh.length };
  });
}

async function storeQuarantined(client: PoolClient, batch: PartitionBatch<unknown>, records: QuarantinedRecord[]): Promise<void> {
  await client.query(
    `INSERT INTO projection_errors (consumer_group, topic, partition, "offset", job_id, tenant_id, error_code, error_message, raw_value)
     SELECT $1, $2, $3, x."offset", x.job_id, x.tenant_id, x.error_code, x.error_message, decode(x.raw_hex, 'hex')
     FROM jsonb_to_recordset($4::jsonb) AS x("offset" bigint, job_id text, tenant_id text, error_code text, error_message text, raw_hex text)
     ON CONFLICT (consumer_group, topic, partition, "offset") DO NOTHING`,
    [
      batch.group,
      batch.topic,
      batch.partition,
      // Ids and the message come from a record Postgres refused: keep only what it can store.
      JSON.stringify(records.map((r) => ({ offset: r.offset, job_id: storable(r.jobId), tenant_id: storable(r.tenantId), error_code: r.errorCode, error_message: toStorable(r.errorMessage.slice(0, 2_000)), raw_hex: r.rawValue?.toString('hex') ?? null }))),
    ],
  );
}

const storable = (text: string | null) => (text === null ? null : toStorable(text));

const APPLY = { jobEvents: applyJobEvents, itemResults: applyItemResults, dlq: applyDeadLetters } as const;

/**
 * Applies a quarantined record again (after the fix of what refused it) and marks it
 * resolved, in one transaction; its offset was passed long ago, so no offset moves.
 * Every projection is idempotent, so a record applied twice changes nothing more.
 */
export async function reapplyQuarantined<R extends keyof typeof APPLY>(pool: Pool, errorId: string, role: R, value: Parameters<(typeof APPLY)[R]>[1][number], traceId: string | null): Promise<void> {
  await inTransaction(pool, async (client) => {
    await (APPLY[role] as Apply<typeof value>)(client, [value], [traceId]);
    await client.query(`UPDATE projection_errors SET status = 'resolved', resolved_at = now(), last_attempt_at = now(), attempts = attempts + 1 WHERE error_id = $1`, [errorId]);
  });
}

async function lockOffset(client: PoolClient, b: PartitionBatch<unknown>): Promise<number> {
  await client.query(`INSERT INTO projection_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING`, [b.group, b.topic, b.partition]);
  const { rows } = await client.query<{ next_offset: string }>(`SELECT next_offset FROM projection_offsets WHERE consumer_group = $1 AND topic = $2 AND partition = $3 FOR UPDATE`, [b.group, b.topic, b.partition]);
  return Number(rows[0]!.next_offset);
}

/** The offsets stored for a group: where its consumer resumes each partition. */
export async function storedOffsets(pool: Pool, group: string): Promise<{ topic: string; partition: number; nextOffset: number }[]> {
  const { rows } = await pool.query<{ topic: string; partition: number; next_offset: string }>(`SELECT topic, partition, next_offset FROM projection_offsets WHERE consumer_group = $1`, [group]);
  return rows.map((r) => ({ topic: r.topic, partition: r.partition, nextOffset: Number(r.next_offset) }));
}

export const projectJobEvents = (pool: Pool, batch: PartitionBatch<JobEvent>) => project(pool, batch, applyJobEvents);
export const projectItemResults = (pool: Pool, batch: PartitionBatch<ItemResult>) => project(pool, batch, applyItemResults);
export const projectDeadLetters = (pool: Pool, batch: PartitionBatch<DeadLettered>) => project(pool, batch, applyDeadLetters);

async function applyJobEvents(client: PoolClient, events: JobEvent[], traceIds: (string | null)[]): Promise<void> {
  await lockPlacementPartitions(client, events);
  await lockJobs(client, events.map((e) => e.jobId));
  for (const [i, e] of events.entries()) {
    const body = e.event;
    if ('sluice.JobSubmitted' in body) {
      const s = body['sluice.JobSubmitted'];
      // A job's results may be projected before its JobSubmitted (another topic): the row
      // then exists as a placeholder whose counters are kept.
      await client.query(
        `INSERT INTO jobs (job_id, tenant_id, status, operation, labels, total_items, submitted_at, trace_id, revert_of, capture_before, auto_pause, canary, canary_phase, verify_at_end, submitted_by)
         VALUES ($1, $2, 'submitted', $3, $4, $5, to_timestamp($6 / 1000.0), $7, $8, $9, $10, $11, CASE WHEN $11::jsonb IS NULL THEN NULL ELSE 'running' END, $12, $13)
         ON CONFLICT (job_id) DO UPDATE SET operation = EXCLUDED.operation, labels = EXCLUDED.labels, submitted_by = EXCLUDED.submitted_by,
           total_items = EXCLUDED.total_items, submitted_at = EXCLUDED.submitted_at, trace_id = EXCLUDED.trace_id,
           revert_of = EXCLUDED.revert_of, capture_before = EXCLUDED.capture_before, auto_pause = EXCLUDED.auto_pause,
           canary = EXCLUDED.canary, canary_phase = COALESCE(jobs.canary_phase, EXCLUDED.canary_phase), verify_at_end = EXCLUDED.verify_at_end, updated_at = now()`,
        [e.jobId, e.tenantId, s.operation, JSON.stringify(s.labels), s.itemCount, e.occurredAt, traceIds[i], s.revertOf ?? null, s.captureBefore ?? true, JSON.stringify(s.autoPause ?? DEFAULT_AUTO_PAUSE), s.canary ? JSON.stringify(s.canary) : null, s.verifyAtEnd ?? false, s.submittedBy],
      );
      // Results projected before this event are counted in from the items already there.
      await client.query(
        `INSERT INTO job_profiles (job_id, profile_id, total_items, done_items)
         SELECT $1, key, value::bigint,
                (SELECT count(*) FROM job_items i WHERE i.job_id = $1 AND i.profile_id = key AND i.status NOT IN ('pending', 'retrying'))
         FROM jsonb_each_text($2::jsonb) ON CONFLICT DO NOTHING`,
        [e.jobId, JSON.stringify(s.profileItemCounts)],
      );
    } else if ('sluice.JobPaused' in body) {
      await client.query(
        `UPDATE jobs SET status = 'paused', paused_at = to_timestamp($2 / 1000.0), updated_at = now() WHERE job_id = $1 AND status IN ('submitted', 'running')`,
        [e.jobId, e.occurredAt],
      );
      // Whoever paused and why, and the canary's phase, follow the job's control events
      // alone (one partition, in order), not whether its results were projected first: a
      // rebuild reads them in another order. Out of the canary phase only by the verdict
      // (job-control.ts): a pause then is the failed one.
      await client.query(
        `UPDATE jobs SET paused_by = $2, pause_reason = $3, canary_phase = CASE WHEN canary_phase = 'running' THEN 'failed' ELSE canary_phase END WHERE job_id = $1`,
        [e.jobId, body['sluice.JobPaused'].by, body['sluice.JobPaused'].reason],
      );
    } else if ('sluice.JobResumed' in body) {
      await client.query(
        `UPDATE jobs SET status = CASE WHEN first_activity_at IS NULL THEN 'submitted' ELSE 'running' END, paused_at = NULL, updated_at = now() WHERE job_id = $1 AND status = 'paused'`,
        [e.jobId],
      );
      // As for a pause: from the control events alone. A resume out of the canary phase is the passed verdict.
      await client.query(
        `UPDATE jobs SET paused_by = NULL, pause_reason = NULL, resumed_at = to_timestamp($2 / 1000.0),
           canary_phase = CASE WHEN canary_phase = 'running' THEN 'passed' ELSE canary_phase END WHERE job_id = $1`,
        [e.jobId, e.occurredAt],
      );
    } else if ('sluice.JobCancelled' in body) {
      await client.query(
        `UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, to_timestamp($2 / 1000.0)), updated_at = now(),
           status = CASE WHEN status IN ('completed', 'completed_with_errors') THEN status ELSE 'cancelled' END
         WHERE job_id = $1`,
        [e.jobId, e.occurredAt],
      );
    } else if ('sluice.CommandsPlaced' in body) {
      await storePlacements(client, e.jobId, body['sluice.CommandsPlaced'].placements);
    } else if ('sluice.CommandsExpired' in body) {
      await expireCommands(client, body['sluice.CommandsExpired'], e.occurredAt);
    } else {
      await applyReplay(client, e, body['sluice.DeadLettersReplayed']);
    }
  }
  await settleJobs(client, [...new Set(events.map((e) => e.jobId).filter((id) => id !== ''))]);
}

const COUNTER_COLUMNS: Record<Exclude<ItemStatus, 'pending'>, string> = {
  retrying: 'retrying_items',
  succeeded: 'succeeded_items',
  failed: 'failed_items',
  cancelled: 'cancelled_items',
  skipped: 'skipped_items',
  dead_lettered: 'dead_lettered_items',
  superseded: 'superseded_items',
  expired: 'expired_items',
  conflict: 'conflict_items',
};

async function applyItemResults(client: PoolClient, all: ItemResult[], allTraceIds: (string | null)[]): Promise<void> {
  await lockJobs(client, all.map((r) => r.jobId));
  // A verification comes after its item's success on the same partition: its row exists.
  const verifying = all.map(isVerification);
  const results = all.filter((_, i) => !verifying[i]);
  const traceIds = allTraceIds.filter((_, i) => !verifying[i]);
  const keys = { jobs: results.map((r) => r.jobId), indexes: results.map((r) => r.index) };
  const { rows: existing } = await client.query<{ job_id: string; item_index: string; status: ItemStatus; attempts: number; replay_generation: number }>(
    `SELECT job_id, item_index, status, attempts, replay_generation FROM job_items
     WHERE (job_id, item_index) IN (SELECT * FROM unnest($1::text[], $2::bigint[])) FOR UPDATE`,
    [keys.jobs, keys.indexes],
  );
  const rows = new Map<string, ItemStanding>();
  const before = new Map<string, ItemStatus>();
  for (const r of existing) {
    const key = `${r.job_id}/${r.item_index}`;
    before.set(key, r.status);
    rows.set(key, { status: r.status, attempts: r.attempts, replayGeneration: r.replay_generation });
  }
  const changed = new Map<string, ItemRow>();
  const traceOf = new Map<string, string | null>(); // of the result that changed the row last
  for (const [i, result] of results.entries()) {
    const key = `${result.jobId}/${result.index}`;
    const next = applyResult(rows.get(key), result);
    if (!next) continue;
    rows.set(key, next);
    changed.set(key, next);
    traceOf.set(key, traceIds[i] ?? null);
  }
  const changes: StatusChange[] = [...changed].map(([key, row]) => ({ jobId: row.jobId, profileId: row.profileId, from: before.get(key), to: row.status }));
  if (changed.size > 0) await client.query(
    `INSERT INTO job_items (job_id, item_index, item_id, profile_id, operation, status, attempts, replay_generation,
                            last_error_kind, last_error_reason, last_error_message, latency_ms, updated_at, trace_id,
                            payload, previous_values, applied_values, current_values)
     SELECT job_id, item_index, item_id, profile_id, operation, status, attempts, replay_generation,
            last_error_kind, last_error_reason, last_error_message, latency_ms, to_timestamp(updated_at / 1000.0), trace_id,
            payload::jsonb, previous_values::jsonb, applied_values::jsonb, current_values::jsonb
     FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, item_index bigint, item_id text, profile_id text, operation text, status text,
          attempts int, replay_generation int, last_error_kind text, last_error_reason text, last_error_message text, latency_ms int, updated_at bigint,
          trace_id text, payload text, previous_values text, applied_values text, current_values text)
     ON CONFLICT (job_id, item_index) DO UPDATE SET status = EXCLUDED.status, attempts = EXCLUDED.attempts,
       replay_generation = EXCLUDED.replay_generation, last_error_kind = EXCLUDED.last_error_kind,
       last_error_reason = EXCLUDED.last_error_reason, last_error_message = EXCLUDED.last_error_message,
       latency_ms = EXCLUDED.latency_ms, updated_at = EXCLUDED.updated_at, trace_id = EXCLUDED.trace_id, projected_at = now(),
       payload = COALESCE(EXCLUDED.payload, job_items.payload), previous_values = EXCLUDED.previous_values,
       applied_values = EXCLUDED.applied_values, current_values = EXCLUDED.current_values`,
    [JSON.stringify([...changed].map(([key, row]) => ({ ...toItemRecord(row), trace_id: traceOf.get(key) ?? null })))],
  );
  // Every result is activity of its job, also one a newer generation outranks (a rebuild
  // may read a replay before the results it replaced): the job's times do not depend on order.
  const activity = new Map<string, { tenantId: string; first: number; last: number }>();
  for (const r of results) {
    const a = activity.get(r.jobId);
    activity.set(r.jobId, { tenantId: r.tenantId, first: Math.min(a?.first ?? Infinity, r.occurredAt), last: Math.max(a?.last ?? 0, r.occurredAt) });
  }
  // A placeholder for a job whose JobSubmitted is not projected yet (a separate statement:
  // an UPDATE does not see rows inserted by its own WITH clause).
  await client.query(
    `INSERT INTO jobs (job_id, tenant_id, status, total_items, submitted_at)
     SELECT job_id, tenant_id, 'submitted', 0, to_timestamp(first / 1000.0)
     FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, tenant_id text, first bigint) ON CONFLICT (job_id) DO NOTHING`,
    [JSON.stringify([...activity].map(([jobId, a]) => ({ job_id: jobId, tenant_id: a.tenantId, first: a.first })))],
  );
  await applyStatusChanges(client, changes, activity);
  const replayed = [...changed.values()].filter((row) => row.replayGeneration > 0);
  if (replayed.length > 0) await reconcileDeadLetters(client, replayed.map((row) => ({ job_id: row.jobId, item_index: row.index })));
  await settleJobs(client, [...activity.keys()]);
  await applyVerifications(client, all.filter((_, i) => verifying[i]));
}

/**
 * An item's latest verification (by when it was read) is its verification; the jobs'
 * verified, drifted and unreadable counts move by the changes. The old values are read in
 * the same statement (the self-join sees the row as it was), so applying a batch twice
 * moves nothing.
 */
async function applyVerifications(client: PoolClient, results: ItemResult[]): Promise<void> {
  const latest = new Map<string, { job_id: string; item_index: number; verdict: Verdict; found: string | null; at: number }>();
  for (const r of results) {
    const verdict = verdictOf(r);
    const key = `${r.jobId}/${r.index}`;
    if (verdict && (latest.get(key)?.at ?? -Infinity) <= r.occurredAt) latest.set(key, { job_id: r.jobId, item_index: r.index, ...verdict, at: r.occurredAt });
  }
  if (latest.size === 0) return;
  const { rows } = await client.query<{ job_id: string; before: Verdict | null; after: Verdict }>(
    `UPDATE job_items i SET verification = x.verdict, verified_values = x.found::jsonb, verified_at = to_timestamp(x.at / 1000.0), projected_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, item_index bigint, verdict text, found text, at bigint), job_items old
     WHERE i.job_id = x.job_id AND i.item_index = x.item_index AND old.job_id = i.job_id AND old.item_index = i.item_index
       AND (old.verified_at IS NULL OR old.verified_at <= to_timestamp(x.at / 1000.0))
     RETURNING i.job_id, old.verification AS before, i.verification AS after`,
    [JSON.stringify([...latest.values()])],
  );
  const deltas = new Map<string, { job_id: string } & Record<Verdict, number>>();
  for (const r of rows) {
    const d = deltas.get(r.job_id) ?? { job_id: r.job_id, verified: 0, drifted: 0, unreadable: 0 };
    if (r.before) d[r.before]--;
    d[r.after]++;
    deltas.set(r.job_id, d);
  }
  await client.query(
    `UPDATE jobs j SET verified_items = j.verified_items + d.verified, drifted_items = j.drifted_items + d.drifted,
       unreadable_items = j.unreadable_items + d.unreadable, updated_at = now()
     FROM jsonb_to_recordset($1::jsonb) AS d(job_id text, verified bigint, drifted bigint, unreadable bigint) WHERE j.job_id = d.job_id`,
    [JSON.stringify([...deltas.values()])],
  );
}

/**
 * Results, expiries, replays and dead letters of the same job are applied one transaction
 * at a time (a rebuild reads item-results, job-events and the DLQ at once): each sees the
 * other's rows, so an item is counted once whichever comes first. The lock is an advisory
 * one on the job id, not the job's row: a job's first events may come before its row
 * exists (a results batch that found no row to lock ran beside the JobSubmitted batch that
 * was writing it, and wrote an older generation over the expiry it could not see). Jobs
 * are locked in one order; a lock taken later in a transaction (the jobs a gap touches)
 * may meet a deadlock, which Postgres breaks and the projector retries.
 */
async function lockJobs(client: PoolClient, jobIds: string[]): Promise<void> {
  const keys = [...new Set(jobIds.filter((id) => id !== '').map(jobLockKey))].sort((a, b) => a - b);
  if (keys.length > 0) await client.query(`SELECT pg_advisory_xact_lock($1, k) FROM unnest($2::int[]) WITH ORDINALITY AS u(k, n) ORDER BY n`, [JOB_LOCK_SPACE, keys]);
}

/** The first key of the advisory locks on jobs (the second is the job id's hash). */
const JOB_LOCK_SPACE = 0x51c4;

/** A job id's 32-bit FNV-1a hash, signed as Postgres's int: ids that share one only wait for each other. */
function jobLockKey(jobId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) hash = Math.imul(hash ^ jobId.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/** An item's projected status changed (from undefined: its first result). */
interface StatusChange {
  jobId: string;
  profileId: string;
  from: ItemStatus | undefined;
  to: ItemStatus;
}

/**
 * Moves the jobs' status counters and the profiles' done counts by the changes, and
 * stretches the jobs' first/last activity over the times in `activity` when given.
 */
async function applyStatusChanges(client: PoolClient, changes: StatusChange[], activity = new Map<string, { first: number; last: number }>()): Promise<void> {
  const deltas: StatusDeltas = new Map();
  const profileDone = new Map<string, { job_id: string; profile_id: string; delta: number }>();
  for (const c of changes) {
    addTransition(deltas, c.jobId, c.from, c.to);
    const delta = Number(TERMINAL_STATUSES.includes(c.to)) - Number(c.from !== undefined && TERMINAL_STATUSES.includes(c.from));
    if (delta === 0) continue;
    const key = `${c.jobId}/${c.profileId}`;
    const p = profileDone.get(key) ?? { job_id: c.jobId, profile_id: c.profileId, delta: 0 };
    p.delta += delta;
    profileDone.set(key, p);
  }
  const jobIds = new Set([...deltas.keys(), ...activity.keys()]);
  const counters = [...jobIds].map((jobId) => {
    const d = deltas.get(jobId) ?? {};
    const a = activity.get(jobId);
    return { job_id: jobId, first: a?.first ?? null, last: a?.last ?? null, ...Object.fromEntries(Object.entries(COUNTER_COLUMNS).map(([status, column]) => [column, d[status as ItemStatus] ?? 0])) };
  });
  await client.query(
    `WITH d AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, first bigint, last bigint, retrying_items bigint,
                succeeded_items bigint, failed_items bigint, cancelled_items bigint, skipped_items bigint, dead_lettered_items bigint,
                superseded_items bigint, expired_items bigint, conflict_items bigint))
     UPDATE jobs j SET
       retrying_items = j.retrying_items + d.retrying_items, succeeded_items = j.succeeded_items + d.succeeded_items,
       failed_items = j.failed_items + d.failed_items, cancelled_items = j.cancelled_items + d.cancelled_items,
       skipped_items = j.skipped_items + d.skipped_items, dead_lettered_items = j.dead_lettered_items + d.dead_lettered_items,
       superseded_items = j.superseded_items + d.superseded_items, expired_items = j.expired_items + d.expired_items,
       conflict_items = j.conflict_items + d.conflict_items,
       first_activity_at = CASE WHEN d.first IS NULL THEN j.first_activity_at
                                ELSE LEAST(COALESCE(j.first_activity_at, 'infinity'), to_timestamp(d.first / 1000.0)) END,
       last_activity_at = CASE WHEN d.last IS NULL THEN j.last_activity_at
                               ELSE GREATEST(COALESCE(j.last_activity_at, '-infinity'), to_timestamp(d.last / 1000.0)) END,
       updated_at = now()
     FROM d WHERE j.job_id = d.job_id`,
    [JSON.stringify(counters)],
  );
  if (profileDone.size > 0) {
    await client.query(
      `UPDATE job_profiles p SET done_items = p.done_items + d.delta
       FROM jsonb_to_recordset($1::jsonb) AS d(job_id text, profile_id text, delta bigint)
       WHERE p.job_id = d.job_id AND p.profile_id = d.profile_id`,
      [JSON.stringify([...profileDone.values()])],
    );
  }
  await settleJobs(client, [...jobIds]);
}

/**
 * Where commands were placed and which ranges are gone meet in two kinds of event, read
 * from different partitions of job-events, in any order, by transactions that run at
 * once: each would miss the other's uncommitted rows and nothing would expire. So a batch
 * with either locks the item-commands partitions they name first (in order, before any
 * row: no deadlock), and the later one sees the earlier one's rows.
 */
async function lockPlacementPartitions(client: PoolClient, events: JobEvent[]): Promise<void> {
  const partitions = new Set<number>();
  for (const { event } of events) {
    if ('sluice.CommandsPlaced' in event) for (const placement of event['sluice.CommandsPlaced'].placements) partitions.add(placement.partition);
    else if ('sluice.CommandsExpired' in event) partitions.add(event['sluice.CommandsExpired'].partition);
  }
  for (const partition of [...partitions].sort((a, b) => a - b)) await client.query(`SELECT pg_advisory_xact_lock($1, $2)`, [PLACEMENT_LOCK_SPACE, partition]);
}

/** The first key of the advisory locks on item-commands partitions (the second is the partition). */
const PLACEMENT_LOCK_SPACE = 0x51c3;

/** Where a send of the job's commands landed: one row per partition and profile. */
async function storePlacements(client: PoolClient, jobId: string, placements: CommandPlacement[]): Promise<void> {
  if (placements.length === 0) return;
  await client.query(
    `INSERT INTO command_placements (job_id, partition, profile_id, first_offset, last_offset, offsets, indexes, replay_generation)
     SELECT $1, partition, profile_id, offsets[1], offsets[array_length(offsets, 1)], offsets, indexes, replay_generation
     FROM jsonb_to_recordset($2::jsonb) AS x(partition int, profile_id text, offsets bigint[], indexes bigint[], replay_generation int)
     ON CONFLICT DO NOTHING`,
    [jobId, JSON.stringify(placements.map((p) => ({ partition: p.partition, profile_id: p.profileId, offsets: p.offsets, indexes: p.indexes, replay_generation: p.replayGeneration })))],
  );
  // A gap found before this event was projected (a rebuild reads job-events' partitions in any order).
  await expirePlaced(client, { jobId });
}

/** Commands an executor still had to run were gone: the ranges are kept, and what was placed there expires. */
async function expireCommands(client: PoolClient, gap: CommandsExpired, foundAt: number): Promise<void> {
  await client.query(
    `INSERT INTO expired_ranges (topic, partition, from_offset, to_offset, profile_id, log_start, found_at)
     SELECT $1, $2, from_offset, to_offset, COALESCE(profile_id, ''), $3, to_timestamp($5 / 1000.0)
     FROM jsonb_to_recordset($4::jsonb) AS x(from_offset bigint, to_offset bigint, profile_id text)
     ON CONFLICT DO NOTHING`,
    [gap.topic, gap.partition, gap.logStartOffset, JSON.stringify(gap.ranges.map((r) => ({ from_offset: r.fromOffset, to_offset: r.toOffset, profile_id: r.profileId }))), foundAt],
  );
  await expirePlaced(client, { partition: gap.partition });
}

/**
 * Every item placed in an expired range (of one job, or of one partition) that has no
 * outcome yet in the generation placed there ends `expired` in that generation, saying
 * why; its newest such command decides. (An item replayed since runs from its replay's
 * command, placed elsewhere: it is not touched.)
 */
async function expirePlaced(client: PoolClient, scope: { jobId: string } | { partition: number }): Promise<void> {
  const filter = 'jobId' in scope ? 'p.job_id = $1' : 'p.partition = $1';
  const param = 'jobId' in scope ? scope.jobId : scope.partition;
  const rangeJoin = `JOIN expired_ranges r ON r.partition = p.partition AND r.from_offset <= p.last_offset AND r.to_offset > p.first_offset
                     AND (r.profile_id = '' OR r.profile_id = p.profile_id)`;
  const { rows: touched } = await client.query<{ job_id: string }>(`SELECT DISTINCT p.job_id FROM command_placements p ${rangeJoin} WHERE ${filter}`, [param]);
  if (touched.length === 0) return;
  await lockJobs(client, touched.map((t) => t.job_id));
  const { rows } = await client.query<{ job_id: string; item_index: string; profile_id: string; replay_generation: number; operation: string | null; status: ItemStatus | null; message: string; found_at: string }>(
    `WITH placed AS (
       SELECT p.job_id, u.item_index, p.profile_id, p.replay_generation,
              'its command was removed from ' || r.topic || ' partition ' || r.partition || ' (log start ' || r.log_start || ') before it ran: retention, or records deleted' AS message,
              r.found_at
       FROM command_placements p ${rangeJoin}
       CROSS JOIN LATERAL unnest(p.offsets, p.indexes) AS u(command_offset, item_index)
       WHERE u.command_offset >= r.from_offset AND u.command_offset < r.to_offset AND ${filter})
     SELECT DISTINCT ON (placed.job_id, placed.item_index) placed.job_id, placed.item_index, placed.profile_id, placed.replay_generation, placed.message,
            extract(epoch FROM placed.found_at) * 1000 AS found_at, j.operation, i.status
     FROM placed JOIN jobs j ON j.job_id = placed.job_id
     LEFT JOIN job_items i ON i.job_id = placed.job_id AND i.item_index = placed.item_index
     WHERE i.status IS NULL
        OR (i.replay_generation = placed.replay_generation AND i.status IN ('pending', 'retrying'))
        -- a replay's command (a rebuild may read it before the results it replaced)
        OR i.replay_generation < placed.replay_generation
     -- the first gap that covered it, as when it was projected live
     ORDER BY placed.job_id, placed.item_index, placed.replay_generation DESC, placed.found_at, placed.message`,
    [param],
  );
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO job_items (job_id, item_index, item_id, profile_id, operation, status, attempts, replay_generation,
                            last_error_kind, last_error_reason, last_error_message, latency_ms, updated_at)
     SELECT job_id, item_index, job_id || ':' || item_index, profile_id, COALESCE(operation, ''), 'expired', 0, replay_generation,
            'expired', 'COMMAND_EXPIRED', message, NULL, to_timestamp(found_at / 1000.0)
     FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, item_index bigint, profile_id text, replay_generation int, operation text, message text, found_at bigint)
     -- The row is the expired command's, whatever results were projected before: its
     -- generation (a rebuild may expire a replay's command before it reads the replay) and
     -- no attempts (any result of that generation outranks it, in whichever order they come).
     ON CONFLICT (job_id, item_index) DO UPDATE SET status = 'expired', attempts = 0, replay_generation = EXCLUDED.replay_generation,
       last_error_kind = 'expired', last_error_reason = 'COMMAND_EXPIRED', last_error_message = EXCLUDED.last_error_message,
       latency_ms = NULL, updated_at = EXCLUDED.updated_at, trace_id = NULL, projected_at = now(),
       -- nothing of an outranked result stays (it may or may not have been projected first)
       payload = NULL, previous_values = NULL, applied_values = NULL, current_values = NULL`,
    [JSON.stringify(rows.map((r) => ({ job_id: r.job_id, item_index: Number(r.item_index), profile_id: r.profile_id, replay_generation: r.replay_generation, operation: r.operation, message: r.message, found_at: Math.round(Number(r.found_at)) })))],
  );
  await applyStatusChanges(client, rows.map((r) => ({ jobId: r.job_id, profileId: r.profile_id, from: r.status ?? undefined, to: 'expired' })));
  // A replay whose command expired did not fix its item: the dead letter may be replayed again.
  const replayed = rows.filter((r) => r.replay_generation > 0).map((r) => ({ job_id: r.job_id, item_index: Number(r.item_index) }));
  if (replayed.length > 0) await reconcileDeadLetters(client, replayed);
}

/**
 * A replay sends an item back as a newer generation: it is pending again (its job is
 * running again) and its dead letter is marked with the replay. Items already at that
 * generation (their replayed result was projected first) are left as they are.
 */
async function applyReplay(client: PoolClient, e: JobEvent, replay: DeadLettersReplayed): Promise<void> {
  await client.query(
    `INSERT INTO replays (replay_id, tenant_id, requested_by, selection, patch, item_count, requested_at)
     VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0))
     ON CONFLICT (replay_id) DO UPDATE SET item_count = replays.item_count + EXCLUDED.item_count,
       requested_at = LEAST(replays.requested_at, EXCLUDED.requested_at)`,
    [replay.replayId, e.tenantId, replay.requestedBy, replay.selection, replay.patch, replay.items.length, e.occurredAt],
  );
  const { rows } = await client.query<{ profile_id: string; before: ItemStatus }>(
    `WITH r AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(index bigint, "replayGeneration" int)),
     prior AS (SELECT i.item_index, i.status FROM job_items i JOIN r ON r.index = i.item_index
               WHERE i.job_id = $1 AND i.replay_generation < r."replayGeneration" FOR UPDATE OF i)
     UPDATE job_items i SET status = 'pending', attempts = 0, replay_generation = r."replayGeneration", last_error_kind = NULL,
       last_error_reason = NULL, last_error_message = NULL, latency_ms = NULL, updated_at = to_timestamp($3 / 1000.0), projected_at = now()
     FROM r JOIN prior ON prior.item_index = r.index
     WHERE i.job_id = $1 AND i.item_index = r.index
     RETURNING i.profile_id, prior.status AS before`,
    [e.jobId, JSON.stringify(replay.items), e.occurredAt],
  );
  await applyStatusChanges(client, rows.map((r) => ({ jobId: e.jobId, profileId: r.profile_id, from: r.before, to: 'pending' as const })));
  // Live, a dead letter is projected before anyone can replay it; a rebuild may read the
  // replay first, and then keeps the replay on a placeholder the dead letter fills in.
  await client.query(
    `INSERT INTO dead_letters (dead_letter_id, job_id, tenant_id, item_index, profile_id, status, error_kind, error_reason, error_message,
                               source_topic, source_partition, source_offset, replay_generation, dead_lettered_at, replay_id, replayed_by, replayed_at)
     SELECT "deadLetterId", $1, $2, index, "profileId", 'open', '', '', '', '', 0, 0, "replayGeneration" - 1, to_timestamp($5 / 1000.0), $3, $4, to_timestamp($5 / 1000.0)
     FROM jsonb_to_recordset($6::jsonb) AS x("deadLetterId" text, index bigint, "profileId" text, "replayGeneration" int)
     ON CONFLICT (dead_letter_id) DO UPDATE SET replay_id = EXCLUDED.replay_id, replayed_by = EXCLUDED.replayed_by,
       replayed_at = EXCLUDED.replayed_at, updated_at = now()`,
    [e.jobId, e.tenantId, replay.replayId, replay.requestedBy, e.occurredAt, JSON.stringify(replay.items)],
  );
  await reconcileDeadLetters(client, replay.items.map((i) => ({ job_id: e.jobId, item_index: i.index })));
}

/**
 * A dead letter's status follows from its item's projected row, whatever order the
 * replay event, the replayed results and the dead letter itself were projected in: an
 * item at a newer generation is being replayed (pending, retrying), resolved
 * (succeeded) or failed again (any other end, or replayed once more after that).
 */
async function reconcileDeadLetters(client: PoolClient, items: { job_id: string; item_index: number }[]): Promise<void> {
  await client.query(
    `WITH k AS (SELECT DISTINCT * FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, item_index bigint)),
     next AS (
       SELECT d.dead_letter_id, CASE
           WHEN i.replay_generation > d.replay_generation + 1 THEN 'failed_again'
           WHEN i.status = 'succeeded' THEN 'resolved'
           WHEN i.status = 'superseded' THEN 'superseded'
           WHEN i.status IN ('pending', 'retrying') THEN 'replaying'
           ELSE 'failed_again' END AS status
       FROM k JOIN dead_letters d USING (job_id, item_index)
       JOIN job_items i ON i.job_id = d.job_id AND i.item_index = d.item_index AND i.replay_generation > d.replay_generation)
     UPDATE dead_letters d SET status = next.status, updated_at = now()
     FROM next WHERE d.dead_letter_id = next.dead_letter_id AND d.status <> next.status`,
    [JSON.stringify(items)],
  );
}

const TERMINAL_SUM = TERMINAL_STATUSES.map((s) => COUNTER_COLUMNS[s as Exclude<ItemStatus, 'pending'>]).join(' + ');

/** Pending counts and statuses that follow from the counters: running, completed… */
async function settleJobs(client: PoolClient, jobIds: string[]): Promise<void> {
  await client.query(
    `UPDATE jobs SET
       pending_items = GREATEST(0, total_items - (${TERMINAL_SUM} + retrying_items)),
       status = CASE
         WHEN total_items > 0 AND ${TERMINAL_SUM} >= total_items THEN
           -- cancelled only if the cancel stopped something; one that came after the end changed nothing
           CASE WHEN cancel_requested_at IS NOT NULL AND cancelled_items > 0 THEN 'cancelled'
                WHEN failed_items + dead_lettered_items + expired_items + conflict_items > 0 THEN 'completed_with_errors' ELSE 'completed' END
         WHEN status = 'submitted' AND first_activity_at IS NOT NULL THEN 'running'
         -- a replay sent finished items back: the job runs again until they end
         WHEN status IN ('completed', 'completed_with_errors') THEN 'running'
         ELSE status END,
       -- the last activity, not the moment the projector saw the last item end: the same
       -- whatever order a rebuild reads the topics in
       finished_at = CASE WHEN total_items > 0 AND ${TERMINAL_SUM} >= total_items THEN last_activity_at ELSE NULL END,
       -- a job that ended is not paused, whatever order a rebuild reads its events in
       paused_at = CASE WHEN total_items > 0 AND ${TERMINAL_SUM} >= total_items THEN NULL ELSE paused_at END
     WHERE job_id = ANY($1::text[])`,
    [jobIds],
  );
}

function toItemRecord(r: ItemRow) {
  return {
    job_id: r.jobId,
    item_index: r.index,
    item_id: r.itemId,
    profile_id: r.profileId,
    operation: r.operation,
    status: r.status,
    attempts: r.attempts,
    replay_generation: r.replayGeneration,
    last_error_kind: r.lastErrorKind,
    last_error_reason: r.lastErrorReason,
    last_error_message: r.lastErrorMessage,
    latency_ms: r.latencyMs,
    updated_at: r.updatedAt,
    payload: r.payload,
    previous_values: r.previousValues,
    applied_values: r.appliedValues,
    current_values: r.currentValues,
  };
}

async function applyDeadLetters(client: PoolClient, letters: DeadLettered[], traceIds: (string | null)[]): Promise<void> {
  await lockJobs(client, letters.flatMap((d) => (d.command ? [d.command.jobId] : [])));
  await client.query(
    `INSERT INTO dead_letters (dead_letter_id, job_id, tenant_id, item_index, profile_id, operation, status, error_kind, error_reason,
                               error_message, attempts, command, raw_value, source_topic, source_partition, source_offset,
                               replay_generation, dead_lettered_at, trace_id)
     SELECT dead_letter_id, job_id, tenant_id, item_index, profile_id, operation, 'open', error_kind, error_reason, error_message,
            attempts, command, decode(raw_value_hex, 'hex'), source_topic, source_partition, source_offset, replay_generation,
            to_timestamp(occurred_at / 1000.0), trace_id
     FROM jsonb_to_recordset($1::jsonb) AS x(dead_letter_id text, job_id text, tenant_id text, item_index bigint, profile_id text,
          operation text, error_kind text, error_reason text, error_message text, attempts jsonb, command jsonb, raw_value_hex text,
          source_topic text, source_partition int, source_offset bigint, replay_generation int, occurred_at bigint, trace_id text)
     ON CONFLICT (dead_letter_id) DO UPDATE SET job_id = EXCLUDED.job_id, tenant_id = EXCLUDED.tenant_id, item_index = EXCLUDED.item_index,
       profile_id = EXCLUDED.profile_id, operation = EXCLUDED.operation, error_kind = EXCLUDED.error_kind, error_reason = EXCLUDED.error_reason,
       error_message = EXCLUDED.error_message, attempts = EXCLUDED.attempts, command = EXCLUDED.command, raw_value = EXCLUDED.raw_value,
       source_topic = EXCLUDED.source_topic, source_partition = EXCLUDED.source_partition, source_offset = EXCLUDED.source_offset,
       replay_generation = EXCLUDED.replay_generation, dead_lettered_at = EXCLUDED.dead_lettered_at, trace_id = EXCLUDED.trace_id`,
    [
      JSON.stringify(
        letters.map((d, i) => ({
          dead_letter_id: d.deadLetterId,
          job_id: d.command?.jobId ?? null,
          tenant_id: d.command?.tenantId ?? null,
          item_index: d.command?.index ?? null,
          profile_id: d.command?.profileId ?? d.rawKey?.toString('utf8') ?? null,
          operation: d.command?.operation ?? null,
          error_kind: d.errorKind,
          error_reason: d.reason,
          error_message: d.message,
          attempts: d.attempts,
          command: d.command,
          raw_value_hex: d.rawValue?.toString('hex') ?? null,
          source_topic: d.source.topic,
          source_partition: d.source.partition,
          source_offset: d.source.offset,
          replay_generation: d.command?.replayGeneration ?? 0,
          occurred_at: d.occurredAt,
          trace_id: traceIds[i],
        })),
      ),
    ],
  );
  // A rebuild may project an item's replayed results before its dead letter.
  const items = letters.flatMap((d) => (d.command ? [{ job_id: d.command.jobId, item_index: d.command.index }] : []));
  if (items.length > 0) await reconcileDeadLetters(client, items);
}
