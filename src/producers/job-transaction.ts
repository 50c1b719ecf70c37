// Produces a whole job in one Kafka transaction (guarantee 1): JobSubmitted, every
// ItemRequested keyed by profile in submission order (each send followed by where its
// commands landed), the job's RUNNING control state,
// and a commit marker (a consumer-group offset sent with the transaction). Consumers
// reading committed data see all of it or none of it; the marker tells a later submitter
// whether a crashed one's transaction committed.
import type { AutoPauseSettings } from '../domain/auto-pause.js';
import type { CanaryOption } from '../domain/canary.js';
import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Kafka, type Message, type RecordMetadata } from 'kafkajs';
import { MAX_PROFILES_COUNTED, type CommandPlacement, type ItemRequested } from '../domain/events.js';
import { commandHeaders } from '../kafka/command-headers.js';
import type { Serde } from '../kafka/serde.js';
import { MAX_SEND_BYTES, sendOffsetsInTransaction, transactionalProducer, withTransaction } from '../kafka/transactions.js';
import type { Topics } from '../kafka/topics.js';
import { traceHeaders } from '../telemetry/tracing.js';
import type { ValidItem } from './item-validation.js';
import type { SpooledRecord } from './item-spool.js';

export interface JobHeader {
  jobId: string;
  tenantId: string;
  operation: string | null;
  labels: Record<string, string>;
  submittedBy: string | null;
  idempotencyKey: string | null;
  itemCount: number;
  /** Items per profile. */
  profileItems: Map<string, number>;
  /** The submission span's W3C context, carried in every record's headers. */
  traceparent?: string;
  revertOf: string | null;
  captureBefore: boolean;
  autoPause: AutoPauseSettings;
  /** With a canary, the job starts in the CANARY control state. */
  canary: CanaryOption | null;
  verifyAtEnd: boolean;
}

export interface JobTransactionOptions {
  kafka: Kafka;
  serde: Serde;
  topics: Topics;
  /** Item commands per produce request; one request is in flight while the next is encoded. */
  batchSize: number;
  /** The broker aborts a transaction left open this long (≤ transaction.max.timeout.ms). */
  transactionTimeoutMs: number;
  onProgress?: (produced: number) => void;
}

/** The command for item `index` of a job: attempt 1, replay generation 0, keyed by profile. */
export function itemCommand(job: { jobId: string; tenantId: string; captureBefore: boolean }, index: number, item: ValidItem, requestedAt: number): ItemRequested {
  return {
    jobId: job.jobId,
    itemId: `${job.jobId}:${index}`,
    index,
    tenantId: job.tenantId,
    profileId: item.profileId,
    operation: item.operation,
    payload: JSON.stringify(item.payload),
    attempt: 1,
    replayGeneration: 0,
    requestedAt,
    expect: item.expect ? JSON.stringify(item.expect) : null,
    captureBefore: job.captureBefore,
  };
}

/** The records with each command changed by `change` (decoded, changed, encoded again). */
async function* rewritten(chunks: AsyncIterable<SpooledRecord[]>, serde: Serde, change: (command: ItemRequested) => ItemRequested): AsyncGenerator<SpooledRecord[]> {
  for await (const records of chunks) {
    const out: SpooledRecord[] = [];
    for (const { key, value, index } of records) out.push({ key, value: serde.encode('itemCommands', change(await serde.decode('itemCommands', value))), index });
    yield out;
  }
}

/** The same records under another job id (a job taken over from a dead submitter keeps its id). */
export function underJobId(chunks: AsyncIterable<SpooledRecord[]>, serde: Serde, jobId: string): AsyncGenerator<SpooledRecord[]> {
  return rewritten(chunks, serde, (command) => ({ ...command, jobId, itemId: `${jobId}:${command.index}` }));
}

/** The same records, each marked in or out of the canary slice: each profile's first `quotas` items are in. */
export function inCanarySlice(chunks: AsyncIterable<SpooledRecord[]>, serde: Serde, quotas: ReadonlyMap<string, number>): AsyncGenerator<SpooledRecord[]> {
  const taken = new Map<string, number>();
  return rewritten(chunks, serde, (command) => {
    const count = taken.get(command.profileId) ?? 0;
    const canary = count < (quotas.get(command.profileId) ?? 0);
    if (canary) taken.set(command.profileId, count + 1);
    return { ...command, canary };
  });
}

/** The consumer group whose offset marks a job's transaction as committed. */
export const commitMarkerGroup = (topics: Topics, jobId: string) => `${topics.jobEvents.name}.submitted.${jobId}`;

export async function produceJob(options: JobTransactionOptions, job: JobHeader, chunks: AsyncIterable<SpooledRecord[]>): Promise<void> {
  const { kafka, serde, topics } = options;
  // One transactional id per job: a retry after a crash fences the dead submitter.
  // One headers object shared by every record of the job (counted in each record's size).
  const headers = traceHeaders(job.traceparent);
  const itemHeaders = commandHeaders(job.jobId, headers);
  const headerBytes = Object.entries(itemHeaders).reduce((sum, [name, value]) => sum + name.length + String(value).length, 0);
  await withTransaction(kafka, { transactionalId: submitTransactionalId(job.jobId), transactionTimeoutMs: options.transactionTimeoutMs }, async (txn) => {
    const now = Date.now();
    await txn.send({
      topic: topics.jobEvents.name,
      messages: [{ key: job.jobId, headers, value: serde.encode('jobEvents', {
        eventId: randomUUID(),
        jobId: job.jobId,
        tenantId: job.tenantId,
        occurredAt: now,
        event: {
          'sluice.JobSubmitted': {
            operation: job.operation,
            itemCount: job.itemCount,
            profileCount: job.profileItems.size,
            labels: job.labels,
            submittedBy: job.submittedBy,
            idempotencyKey: job.idempotencyKey,
            profileItemCounts: job.profileItems.size <= MAX_PROFILES_COUNTED ? Object.fromEntries(job.profileItems) : {},
            revertOf: job.revertOf,
            captureBefore: job.captureBefore,
            autoPause: job.autoPause,
            canary: job.canary,
            verifyAtEnd: job.verifyAtEnd,
          },
        },
      }) }],
    });
    // A canary job's control state goes with it: no executor may run its other items
    // before it knows (they also wait while their job's state is unknown).
    if (job.canary) {
      await txn.send({ topic: topics.jobControl.name, messages: [{ key: job.jobId, value: serde.encode('jobControl', { jobId: job.jobId, tenantId: job.tenantId, state: 'CANARY', version: 1, updatedAt: now }) }] });
    }

    let batch: Message[] = [];
    let batchItems: PlacedItem[] = [];
    // Bytes per partition of the batch: a record batch (one partition) must stay under the
    // broker's limit, however the job's profiles are spread.
    const partitionOf = partitionerFor(topics.itemCommands);
    let partitionBytes = new Map<number, number>();
    let inFlight: Promise<unknown> = Promise.resolve();
    let produced = 0;
    const placedEvent = (placements: CommandPlacement[]): Message => ({
      key: job.jobId,
      headers,
      value: serde.encode('jobEvents', { eventId: randomUUID(), jobId: job.jobId, tenantId: job.tenantId, occurredAt: now, event: { 'sluice.CommandsPlaced': { placements } } }),
    });
    const flush = async () => {
      await inFlight;
      const messages = batch;
      const items = batchItems;
      batch = [];
      batchItems = [];
      partitionBytes = new Map();
      // Where the commands landed goes in the same transaction, so an item whose command
      // retention removes before it ran can be named (and end expired, not pending for ever).
      inFlight = txn
        .send({ topic: topics.itemCommands.name, messages })
        .then((landed) => txn.send({ topic: topics.jobEvents.name, messages: [placedEvent(placementsOf(topics.itemCommands.name, messages, items, landed).get(job.jobId) ?? [])] }));
      // Marked handled now: it may fail before the next flush awaits it (and throws then).
      inFlight.catch(() => undefined);
      produced += messages.length;
      options.onProgress?.(produced);
    };
    for await (const records of chunks) {
      for (const record of records) {
        const partition = partitionOf(record.key);
        batch.push({ key: record.key, value: record.value, headers: itemHeaders, partition });
        batchItems.push({ jobId: job.jobId, index: record.index, replayGeneration: 0 });
        const bytes = (partitionBytes.get(partition) ?? 0) + record.value.length + headerBytes;
        partitionBytes.set(partition, bytes);
        if (batch.length >= options.batchSize || bytes >= MAX_SEND_BYTES) await flush();
      }
    }
    if (batch.length > 0) await flush();
    await inFlight;
    if (produced !== job.itemCount) throw new Error(`job ${job.jobId}: expected ${job.itemCount} items, produced ${produced}`);

    await txn.send({
      topic: topics.jobControl.name,
      messages: [{ key: job.jobId, headers, value: serde.encode('jobControl', { jobId: job.jobId, tenantId: job.tenantId, state: 'RUNNING', version: 0, updatedAt: now }) }],
    });
    await sendOffsetsInTransaction(txn, {
      consumerGroupId: commitMarkerGroup(topics, job.jobId),
      topics: [{ topic: topics.jobEvents.name, partitions: [{ partition: 0, offset: '1' }] }],
    });
  });
}

/** The item a command of a send is for. */
export interface PlacedItem {
  jobId: string;
  index: number;
  replayGeneration: number;
}

/**
 * Where each command of one send landed: a send puts each partition's messages in one
 * record batch, in order, from the base offset the broker answered for that partition.
 * `landed` may name other topics of the same send; only `topic`'s count. By job id.
 */
export function placementsOf(topic: string, messages: Message[], items: readonly PlacedItem[], landed: RecordMetadata[]): Map<string, CommandPlacement[]> {
  const baseOf = new Map(landed.filter((m) => m.topicName === topic).map((m) => [m.partition, Number(m.baseOffset)]));
  const next = new Map<number, number>();
  const placements = new Map<string, { jobId: string; placement: CommandPlacement }>();
  messages.forEach((message, i) => {
    const partition = message.partition!;
    const base = baseOf.get(partition);
    if (base === undefined || !Number.isFinite(base)) throw new Error(`the broker named no base offset for partition ${partition}`);
    const position = next.get(partition) ?? 0;
    next.set(partition, position + 1);
    const profileId = String(message.key);
    const { jobId, index, replayGeneration } = items[i]!;
    const key = `${jobId}/${partition}/${profileId}/${replayGeneration}`;
    let entry = placements.get(key);
    if (!entry) placements.set(key, (entry = { jobId, placement: { partition, profileId, offsets: [], indexes: [], replayGeneration } }));
    entry.placement.offsets.push(base + position);
    entry.placement.indexes.push(index);
  });
  const byJob = new Map<string, CommandPlacement[]>();
  for (const { jobId, placement } of placements.values()) {
    const list = byJob.get(jobId);
    if (list) list.push(placement);
    else byJob.set(jobId, [placement]);
  }
  return byJob;
}

/** The partition kafkajs's default (murmur2, as Java's) partitioner gives a key on this topic. */
export function partitionerFor(topic: Topics['itemCommands']): (key: string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: topic.partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
  // A job has far fewer profiles than items: each key is hashed once (the cache is bounded
  // for the rare job of very many profiles).
  const known = new Map<string, number>();
  return (key) => {
    let partition = known.get(key);
    if (partition === undefined) {
      partition = partitioner({ topic: topic.name, partitionMetadata, message: { key, value: null } });
      if (known.size >= 100_000) known.clear();
      known.set(key, partition);
    }
    return partition;
  };
}

/** One transactional id per job: whoever produces the job next fences whoever did before. */
const submitTransactionalId = (jobId: string) => `sluice-submit-${jobId}`;

/**
 * Whether the job's transaction committed, once that is settled. A produce that failed
 * may have failed after its commit (a broker restart during EndTxn, a connection lost
 * before the answer): a producer of the job's transactional id is initialised first,
 * which makes the broker finish a commit under way or abort what was never committed,
 * so the marker read after it is final.
 */
export async function settledCommit(kafka: Kafka, admin: Admin, topics: Topics, jobId: string, transactionTimeoutMs: number): Promise<boolean> {
  const producer = transactionalProducer(kafka, { transactionalId: submitTransactionalId(jobId), transactionTimeoutMs });
  await producer.connect();
  try {
    await (await producer.transaction()).abort(); // an empty transaction: only the fencing init matters
  } finally {
    await producer.disconnect();
  }
  return jobCommitted(admin, topics, jobId);
}

/** Whether a job's transaction committed, read from its commit marker. */
export async function jobCommitted(admin: Admin, topics: Topics, jobId: string): Promise<boolean> {
  const offsets = await admin.fetchOffsets({ groupId: commitMarkerGroup(topics, jobId), topics: [topics.jobEvents.name] });
  return offsets.some((t) => t.partitions.some((p) => p.offset !== '-1'));
}
