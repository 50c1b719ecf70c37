// Sends dead-lettered items back through the pipeline. A replay selects a tenant's dead
// letters by filter, plans them (replay-plan.ts), and, unless it is a dry run, sends
// them in chunks, each chunk one Kafka transaction: the new commands on item-commands
// (keyed by profile, in submission order, so they run under the current limits and in
// per-profile order) and one DeadLettersReplayed event per job recording who, when,
// what selection and which items. Claims (db/replay-claims.ts) make a repeated or
// concurrent replay of the same selection send each item once. `ratePerSecond` caps
// how fast items are re-emitted.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IHeaders, Kafka, Producer } from 'kafkajs';
import { inTransaction, type Pool } from '../db/pool.js';
import { claimReplays, lockCancelledJobs } from '../db/replay-claims.js';
import type { JobEvent } from '../domain/events.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import { inKafkaTransaction, transactionalProducer } from '../kafka/transactions.js';
import { TokenBucket } from '../lib/token-bucket.js';
import { replayCandidates, type DeadLetterFilter } from '../projections/dead-letter-queries.js';
import { endSpan, startSpan, traceHeaders, traceparentOf } from '../telemetry/tracing.js';
import { planGroups, planReplay, type PlanGroup, type ReplayItem } from './replay-plan.js';

const CHUNK = 500;
const ERRORS_LISTED = 100;

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
  | { type: 'invalid-patch'; errors: { deadLetterId: string; field: string; reason: string }[]; errorCount: number }
  | {
      type: 'dry-run' | 'replayed';
      /** Null for a dry run. */
      replayId: string | null;
      /** Dead letters the filter matched. */
      selected: number;
      /** Items sent back (for a dry run: that would be). */
      replayed: number;
      /** Dead letters not sent back, counted by why. */
      skipped: ReasonCount[];
      /** The items sent back (or that would be) by job, profile and reason. */
      groups: PlanGroup[];
    };

export interface ReplayerOptions {
  kafka: Kafka;
  serde: Serde;
  topics: Topics;
  pool: Pool;
  catalogue: OperationCatalogue;
}

export function createDeadLetterReplayer(o: ReplayerOptions) {
  return {
    async replay(req: ReplayRequest): Promise<ReplayAnswer> {
      const candidates = await replayCandidates(o.pool, req.tenantId, req.filter);
      const plan = planReplay(candidates, req.patch, o.catalogue, Date.now());
      if (plan.patchErrors.length > 0) return { type: 'invalid-patch', errors: plan.patchErrors.slice(0, ERRORS_LISTED), errorCount: plan.patchErrors.length };
      const skipped = plan.skipped.map((s) => s.reason);
      if (req.dryRun) return { type: 'dry-run', replayId: null, selected: candidates.length, replayed: plan.items.length, skipped: countReasons(skipped), groups: planGroups(plan.items) };

      const replayId = randomUUID();
      const span = startSpan('sluice.replay', req.traceparent, { 'sluice.tenant': req.tenantId, 'sluice.replay_id': replayId, 'sluice.selected': candidates.length });
      try {
        const sent = await send(o, req, replayId, plan.items, (reason) => skipped.push(reason), traceHeaders(traceparentOf(span)));
        span.setAttribute('sluice.replayed', sent.length);
        endSpan(span);
        return { type: 'replayed', replayId, selected: candidates.length, replayed: sent.length, skipped: countReasons(skipped), groups: planGroups(sent) };
      } catch (error) {
        endSpan(span, error);
        throw error;
      }
    },
  };
}

export type DeadLetterReplayer = ReturnType<typeof createDeadLetterReplayer>;

async function send(o: ReplayerOptions, req: ReplayRequest, replayId: string, items: ReplayItem[], skip: (reason: string) => void, headers: IHeaders | undefined): Promise<ReplayItem[]> {
  const chunkSize = req.ratePerSecond ? Math.max(1, Math.min(CHUNK, Math.ceil(req.ratePerSecond / 10))) : CHUNK;
  const bucket = req.ratePerSecond ? new TokenBucket(req.ratePerSecond, chunkSize, Date.now()) : undefined;
  const selection = JSON.stringify(req.filter);
  const sent: ReplayItem[] = [];
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

async function produce(o: ReplayerOptions, producer: Producer, req: ReplayRequest & { replayId: string; selection: string; headers: IHeaders | undefined }, items: ReplayItem[]): Promise<void> {
  const { replayId, selection, headers } = req;
  const now = Date.now();
  const byJob = new Map<string, ReplayItem[]>();
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
  await inKafkaTransaction(producer, (txn) =>
    txn.sendBatch({
      topicMessages: [
        { topic: o.topics.jobEvents.name, messages: events.map((e) => ({ key: e.jobId, headers, value: o.serde.encode('jobEvents', e) })) },
        { topic: o.topics.itemCommands.name, messages: items.map((i) => ({ key: i.command.profileId, headers, value: o.serde.encode('itemCommands', i.command) })) },
      ],
    }),
  );
}

function countReasons(reasons: string[]): ReasonCount[] {
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([reason, count]) => ({ reason, count }));
}
