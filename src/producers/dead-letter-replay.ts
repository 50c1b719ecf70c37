// Sends dead-lettered items back through the pipeline. A replay selects a tenant's dead
// letters by filter, plans them (replay-plan.ts), and, unless it is a dry run, sends
// them in chunks, each chunk one Kafka transaction: the new commands on item-commands
// (keyed by profile, in submission order, so they run under the current limits and in
// per-profile order) and one DeadLettersReplayed event per job recording who, when,
// what selection and which items. Claims (db/replay-claims.ts) make a repeated or
// concurrent replay of the same selection send each item once. `ratePerSecond` caps
// how fast items are re-emitted. An item whose entity has a newer update is not sent but
// ended superseded (newer-updates.ts). `start` answers once the replay is planned and
// sends it in the background (the HTTP API's 202); `replay` waits for the sending.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, IHeaders, Kafka, Producer } from 'kafkajs';
import { inTransaction, type Pool } from '../db/pool.js';
import { claimReplays, lockCancelledJobs } from '../db/replay-claims.js';
import type { ItemResult, JobEvent } from '../domain/events.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { instantProblem } from '../domain/instants.js';
import { findUnstorable } from '../domain/storable-text.js';
import { commandHeaders } from '../kafka/command-headers.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import { inKafkaTransaction, transactionalProducer } from '../kafka/transactions.js';
import { TokenBucket } from '../lib/token-bucket.js';
import { replayCandidates, type DeadLetterFilter } from '../projections/dead-letter-queries.js';
import { endSpan, startSpan, traceHeaders, traceparentOf } from '../telemetry/tracing.js';
import { supersededItems } from './newer-updates.js';
import { planGroups, planReplay, type PlanGroup, type ReplayItem } from './replay-plan.js';
import { partitionerFor, placementsOf } from './job-transaction.js';

const CHUNK = 500;
const ERRORS_LISTED = 100;
/** Items a second a paced replay may be held to at least (slower would be a replay that never ends; timers cap at 24.8 days). */
export const MIN_REPLAY_RATE = 1;
export const MAX_REPLAY_RATE = 100_000;

function rateOutOfRange(rate: number): string | undefined {
  return Number.isFinite(rate) && rate >= MIN_REPLAY_RATE && rate <= MAX_REPLAY_RATE ? undefined : `must be from ${MIN_REPLAY_RATE} to ${MAX_REPLAY_RATE} items a second`;
}

export interface ReplayRequest {
  tenantId: string;
  filter: DeadLetterFilter;
  /** Merged into every replayed payload, then validated against the operation's schema. */
  patch?: Record<string, unknown>;
  /** Items re-emitted per second at most. */
  ratePerSecond?: number;
  requestedBy?: string | null;
  /** The caller's W3C trace context: the replay's span is its child, and the replayed commands carry it. */
  traceparent?: string;
  /** Plan and report only: nothing is produced or claimed. */
  dryRun?: boolean;
  onProgress?: (sent: number, planned: number) => void;
}

export interface ReasonCount {
  reason: string;
  count: number;
}

export type ReplayAnswer =
  /** A field of the request itself cannot be used (text Postgres cannot store, a rate out of range). */
  | { type: 'invalid-request'; field: string; reason: string }
  | { type: 'invalid-patch'; errors: { deadLetterId: string; field: string; reason: string }[]; errorCount: number }
  | ({ type: 'dry-run'; replayId: null } & ReplayCounts)
  | ({ type: 'replayed'; replayId: string } & ReplayCounts);

export interface ReplayCounts {
  /** Dead letters the filter matched. */
  selected: number;
  /** Items sent back (for a dry run: that would be). */
  replayed: number;
  /** Dead letters not sent back, counted by why. */
  skipped: ReasonCount[];
  /** The items sent back (or that would be) by job, profile and reason. */
  groups: PlanGroup[];
}

export interface ReplayerOptions {
  kafka: Kafka;
  /** Reads partition ends for the newer-update check. */
  admin: Admin;
  serde: Serde;
  topics: Topics;
  pool: Pool;
  catalogue: OperationCatalogue;
}

/** A replay planned and under way: `done` settles once every chunk is sent (or sending failed). */
export interface StartedReplay extends ReplayCounts {
  type: 'started';
  replayId: string;
  done: Promise<ReplayAnswer>;
}

export function createDeadLetterReplayer(o: ReplayerOptions) {
  /**
   * Checks and plans the replay, and for a real one starts sending it in chunks (at
   * `ratePerSecond`, which may take long) without waiting: what the HTTP API answers
   * 202 with. Whatever is refused, or a dry run, or a selection with nothing to send,
   * is answered at once.
   */
  async function start(req: ReplayRequest): Promise<ReplayAnswer | StartedReplay> {
    const unstorable = findUnstorable({ filter: req.filter, patch: req.patch, requestedBy: req.requestedBy }, '');
    if (unstorable) return { type: 'invalid-request', ...unstorable };
    for (const field of ['since', 'until'] as const) {
      const problem = req.filter[field] === undefined ? undefined : instantProblem(req.filter[field]);
      if (problem) return { type: 'invalid-request', field: `filter.${field}`, reason: problem };
    }
    const rateProblem = req.ratePerSecond === undefined ? undefined : rateOutOfRange(req.ratePerSecond);
    if (rateProblem) return { type: 'invalid-request', field: 'rate', reason: rateProblem };
    const candidates = await replayCandidates(o.pool, req.tenantId, req.filter);
    const plan = planReplay(candidates, req.patch, o.catalogue, Date.now());
    if (plan.patchErrors.length > 0) return { type: 'invalid-patch', errors: plan.patchErrors.slice(0, ERRORS_LISTED), errorCount: plan.patchErrors.length };
    const skipped = plan.skipped.map((s) => s.reason);
    // A newer update of the entity has succeeded or is queued: sending this one would move
    // the entity backwards, so it ends superseded instead (issue 16 point 5).
    const newer = await supersededItems(o, plan.items);
    const superseded = plan.items.filter((i) => newer.has(i.deadLetterId)).map((i) => ({ ...i, newerItemId: newer.get(i.deadLetterId)! }));
    const toSend = plan.items.filter((i) => !newer.has(i.deadLetterId));
    for (const i of superseded) skipped.push(supersededReason(i.newerItemId));
    if (req.dryRun) return { type: 'dry-run', replayId: null, selected: candidates.length, replayed: toSend.length, skipped: countReasons(skipped), groups: planGroups(toSend) };

    const replayId = randomUUID();
    const outgoing = [...toSend, ...superseded];
    const finish = (sent: Outgoing[]): ReplayAnswer => {
      const replayed = sent.filter((i) => !('newerItemId' in i));
      return { type: 'replayed', replayId, selected: candidates.length, replayed: replayed.length, skipped: countReasons(skipped), groups: planGroups(replayed) };
    };
    if (outgoing.length === 0) return finish([]);
    const span = startSpan('sluice.replay', req.traceparent, { 'sluice.tenant': req.tenantId, 'sluice.replay_id': replayId, 'sluice.selected': candidates.length });
    const done = send(o, req, replayId, outgoing, (reason) => skipped.push(reason), traceHeaders(traceparentOf(span))).then(
      (sent) => {
        span.setAttribute('sluice.replayed', sent.length);
        endSpan(span);
        return finish(sent);
      },
      (error: unknown) => {
        endSpan(span, error);
        throw error;
      },
    );
    return { type: 'started', replayId, selected: candidates.length, replayed: toSend.length, skipped: countReasons(skipped), groups: planGroups(toSend), done };
  }

  return {
    start,
    /** The whole replay, answered once it is sent (the CLI and the library). */
    async replay(req: ReplayRequest): Promise<ReplayAnswer> {
      const started = await start(req);
      return started.type === 'started' ? started.done : started;
    },
  };
}

export type DeadLetterReplayer = ReturnType<typeof createDeadLetterReplayer>;

/** An item not sent again: its result says so (superseded by `newerItemId`). */
type SupersededItem = ReplayItem & { newerItemId: string };
type Outgoing = ReplayItem | SupersededItem;

const supersededReason = (newerItemId: string) => `superseded: item ${newerItemId} sets the same entity later and has succeeded or is queued; replaying would move it backwards`;

async function send(o: ReplayerOptions, req: ReplayRequest, replayId: string, items: Outgoing[], skip: (reason: string) => void, headers: IHeaders | undefined): Promise<Outgoing[]> {
  const chunkSize = req.ratePerSecond ? Math.max(1, Math.min(CHUNK, Math.ceil(req.ratePerSecond / 10))) : CHUNK;
  const bucket = req.ratePerSecond ? new TokenBucket(req.ratePerSecond, chunkSize, Date.now()) : undefined;
  const selection = JSON.stringify(req.filter);
  const sent: Outgoing[] = [];
  const producer = transactionalProducer(o.kafka, { transactionalId: `sluice-replay-${replayId}` });
  await producer.connect();
  try {
    for (let i = 0; i < items.length; i += chunkSize) {
      const chunk = items.slice(i, i + chunkSize);
      if (bucket) {
        await sleep(bucket.waitMs(Date.now(), chunk.length));
        bucket.tryTake(Date.now(), chunk.length);
      }
      const produced = await inTransaction(o.pool, async (client) => {
        const cancelled = await lockCancelledJobs(client, [...new Set(chunk.map((c) => c.command.jobId))]);
        const live = chunk.filter((c) => !cancelled.has(c.command.jobId));
        const claimed = await claimReplays(client, replayId, live.map((c) => ({ jobId: c.command.jobId, index: c.command.index, replayGeneration: c.command.replayGeneration, deadLetterId: c.deadLetterId })));
        for (const c of chunk) {
          if (cancelled.has(c.command.jobId)) skip(`job ${c.command.jobId} is cancelled: its items are not replayed`);
          else if (!claimed.has(c.deadLetterId)) skip('already replayed by another replay');
        }
        const mine = live.filter((c) => claimed.has(c.deadLetterId));
        // Postgres commits the claims only after Kafka committed the items (or rolls them back).
        if (mine.length > 0) await produce(o, producer, { ...req, replayId, selection, headers }, mine);
        return mine;
      });
      sent.push(...produced);
      req.onProgress?.(sent.length, items.length);
    }
  } finally {
    await producer.disconnect();
  }
  return sent;
}

async function produce(o: ReplayerOptions, producer: Producer, req: ReplayRequest & { replayId: string; selection: string; headers: IHeaders | undefined }, items: Outgoing[]): Promise<void> {
  const { replayId, selection, headers } = req;
  const now = Date.now();
  const byJob = new Map<string, Outgoing[]>();
  for (const item of items) {
    const jobItems = byJob.get(item.command.jobId);
    if (jobItems) jobItems.push(item);
    else byJob.set(item.command.jobId, [item]);
  }
  const events = [...byJob].map(([jobId, jobItems]): JobEvent => ({
    eventId: randomUUID(),
    jobId,
    tenantId: req.tenantId,
    occurredAt: now,
    event: {
      'sluice.DeadLettersReplayed': {
        replayId,
        requestedBy: req.requestedBy ?? null,
        selection,
        patch: req.patch ? JSON.stringify(req.patch) : null,
        items: jobItems.map((i) => ({ deadLetterId: i.deadLetterId, index: i.command.index, profileId: i.command.profileId, replayGeneration: i.command.replayGeneration })),
      },
    },
  }));
  const commands = items.filter((i) => !('newerItemId' in i));
  const superseded = items.filter((i): i is SupersededItem => 'newerItemId' in i);
  const commandTopic = o.topics.itemCommands.name;
  const partitionOf = partitionerFor(o.topics.itemCommands);
  const messages = commands.map((i) => ({ key: i.command.profileId, partition: partitionOf(i.command.profileId), headers: commandHeaders(i.command.jobId, headers), value: o.serde.encode('itemCommands', i.command) }));
  await inKafkaTransaction(producer, async (txn) => {
    // The commands first: where they land goes with them, as for a submitted job.
    const landed = messages.length > 0 ? await txn.send({ topic: commandTopic, messages }) : [];
    const placed = placementsOf(commandTopic, messages, commands.map((i) => i.command), landed);
    const placedEvents = [...placed].map(([jobId, placements]): JobEvent => ({ eventId: randomUUID(), jobId, tenantId: req.tenantId, occurredAt: now, event: { 'sluice.CommandsPlaced': { placements } } }));
    await txn.sendBatch({
      topicMessages: [
        { topic: o.topics.jobEvents.name, messages: [...events, ...placedEvents].map((e) => ({ key: e.jobId, headers, value: o.serde.encode('jobEvents', e) })) },
        { topic: o.topics.itemResults.name, messages: superseded.map((i) => ({ key: i.command.jobId, headers, value: o.serde.encode('itemResults', supersededResult(i, now)) })) },
      ].filter((t) => t.messages.length > 0),
    });
  });
}

function supersededResult(i: SupersededItem, now: number): ItemResult {
  const { jobId, itemId, index, tenantId, profileId, operation, attempt, replayGeneration } = i.command;
  return { jobId, itemId, index, tenantId, profileId, operation, attempt, replayGeneration, occurredAt: now, latencyMs: null, outcome: { 'sluice.ItemSuperseded': { reason: supersededReason(i.newerItemId), newerItemId: i.newerItemId } } };
}

function countReasons(reasons: string[]): ReasonCount[] {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([reason, count]) => ({ reason, count }));
}
