// The projector: a consumer group on job-events, item-results and the DLQ that writes the
// Postgres projections. Each batch kafkajs hands over (one partition) becomes one
// Postgres transaction with the offset after it; on assignment the consumer seeks to the
// offsets stored there, so Postgres, not Kafka, says where each partition resumes.
// Kafka offsets are not committed at all.
import type { Batch, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool } from '../db/pool.js';
import type { TopicValues } from '../domain/events.js';
import { groupLiveness } from '../kafka/client.js';
import { ReadPositions } from '../kafka/read-positions.js';
import type { Serde } from '../kafka/serde.js';
import type { TopicRole, Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import { traceIdOf, traceparentIn } from '../telemetry/tracing.js';
import { isRefusedData, projectDeadLetters, projectItemResults, projectJobEvents, storedOffsets, type PartitionBatch, type ProjectedBatch, type QuarantinedRecord } from './projection-store.js';
import type { PartitionLag, ProjectorMetrics } from './projector-metrics.js';

export interface ProjectorOptions {
  kafka: Kafka;
  pool: Pool;
  serde: Serde;
  topics: Topics;
  /** The Kafka consumer group. */
  groupId: string;
  /** The group name its offsets are stored under in Postgres; the Kafka group's by default. */
  offsetsGroup?: string;
  sessionTimeoutMs: number;
  logger: Logger;
  /** After each batch is committed to Postgres (progress streams listen). */
  onProjected?: (role: TopicRole, batch: ProjectedBatch) => void;
  metrics?: ProjectorMetrics;
}

type ProjectedRole = 'jobEvents' | 'itemResults' | 'dlq';
const PROJECTIONS = { jobEvents: projectJobEvents, itemResults: projectItemResults, dlq: projectDeadLetters };
const ROLES = Object.keys(PROJECTIONS) as ProjectedRole[];

export class Projector {
  private readonly consumer: Consumer;
  private readonly roleOf: Map<string, ProjectedRole>;
  private readonly offsetsGroup: string;
  /** How far it has read (for a rebuild to know when it is at the end). */
  readonly positions: ReadPositions;
  private joined = false;

  constructor(private readonly o: ProjectorOptions) {
    this.consumer = o.kafka.consumer({ groupId: o.groupId, maxWaitTimeInMs: 250, ...groupLiveness(o.sessionTimeoutMs) });
    this.roleOf = new Map(ROLES.map((role) => [o.topics[role].name, role]));
    this.offsetsGroup = o.offsetsGroup ?? o.groupId;
    this.positions = new ReadPositions(this.consumer);
  }

  async start(): Promise<void> {
    const { consumer, o } = this;
    consumer.on(consumer.events.CRASH, () => (this.joined = false));
    // After each batch's Postgres commit (and past a fetch of nothing but transaction
    // markers) the position goes to Kafka too, so consumer-group lag tools see the
    // projector. Informational: on assignment it seeks to the offsets Postgres holds.
    if (this.offsetsGroup === o.groupId) {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const next = String(Number(payload.lastOffset) + 1);
        consumer.commitOffsets([{ topic: payload.topic, partition: payload.partition, offset: next }]).catch((error: unknown) => o.logger.debug({ err: error, topic: payload.topic, partition: payload.partition }, 'projector: offset not committed to Kafka (informational; Postgres holds the truth)'));
      });
    }
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      void this.seekToStored(payload.memberAssignment).catch((error: unknown) => o.logger.error({ err: error }, 'projector: seeking to stored offsets failed'));
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.roleOf.keys()], fromBeginning: true });
    await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: 4, eachBatch: (payload) => this.projectBatch(payload) });
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }

  /** Whether its group has given it partitions (and it has not crashed since): what /readyz asks. */
  get inGroup(): boolean {
    return this.joined;
  }

  /**
   * Each partition's lag against `ends` (committed end offsets): from what this projector
   * has read, or else from the offsets stored in Postgres (partitions another owns).
   */
  async lag(ends: Map<string, number>): Promise<PartitionLag[]> {
    const stored = new Map((await storedOffsets(this.o.pool, this.offsetsGroup)).map((s) => [`${s.topic}/${s.partition}`, s.nextOffset]));
    return [...ends].map(([key, end]) => {
      const slash = key.lastIndexOf('/');
      const [topic, partition] = [key.slice(0, slash), Number(key.slice(slash + 1))];
      const next = Math.max(this.positions.nextOffset(topic, partition) ?? 0, stored.get(key) ?? 0);
      return { topic, partition, lag: Math.max(0, end - next) };
    });
  }

  /** The topics it projects. */
  get topicNames(): string[] {
    return [...this.roleOf.keys()];
  }

  private async seekToStored(assignment: Record<string, number[]>): Promise<void> {
    for (const stored of await storedOffsets(this.o.pool, this.offsetsGroup)) {
      if (assignment[stored.topic]?.includes(stored.partition)) this.consumer.seek({ topic: stored.topic, partition: stored.partition, offset: String(stored.nextOffset) });
    }
  }

  private async projectBatch({ batch, heartbeat }: EachBatchPayload): Promise<void> {
    const role = this.roleOf.get(batch.topic)!;
    const started = Date.now();
    const { result, values } = await this.projectAs(role, batch);
    this.o.metrics?.records.inc({ topic_role: role }, batch.messages.length);
    this.o.metrics?.rows.inc({ topic_role: role }, result.applied);
    this.o.metrics?.batchSeconds.observe({ topic_role: role }, (Date.now() - started) / 1000);
    if (this.o.logger.isLevelEnabled('debug')) {
      // Built only when wanted: this runs for every batch.
      const jobs = values.map(jobOf);
      const distinct = (xs: (string | undefined)[]) => [...new Set(xs.filter((x) => x !== undefined))].slice(0, 20);
      this.o.logger.debug(
        { topic: batch.topic, partition: batch.partition, jobIds: distinct(jobs.map((j) => j?.jobId)), tenantIds: distinct(jobs.map((j) => j?.tenantId)), records: batch.messages.length, rows: result.applied, skipped: result.skipped, durationMs: Date.now() - started },
        'projected batch',
      );
    }
    this.o.onProjected?.(role, result);
    await heartbeat();
  }

  private async projectAs<R extends ProjectedRole>(role: R, batch: Batch): Promise<{ result: ProjectedBatch; values: TopicValues[R][] }> {
    type Entry = PartitionBatch<TopicValues[R]>['records'][number];
    const records: Entry[] = [];
    const quarantined: QuarantinedRecord[] = [];
    const raw = new Map<number, Buffer | null>();
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      raw.set(offset, message.value);
      try {
        records.push({ offset, value: await this.o.serde.decode(role, message.value!), traceId: traceIdOf(traceparentIn(message.headers)) });
      } catch (error) {
        // Nothing Sluice writes fails to decode; a foreign record is kept aside, counted and passed over.
        this.o.metrics?.undecodable.inc({ topic: batch.topic });
        this.o.logger.error({ err: error, topic: batch.topic, partition: batch.partition, offset: message.offset }, 'projector: undecodable record quarantined');
        quarantined.push({ offset, jobId: null, tenantId: null, errorCode: 'undecodable', errorMessage: (error as Error).message, rawValue: message.value });
      }
    }
    const project = PROJECTIONS[role] as (pool: Pool, b: PartitionBatch<TopicValues[R]>) => Promise<ProjectedBatch>;
    const partitionBatch = { group: this.offsetsGroup, topic: batch.topic, partition: batch.partition };
    let result: ProjectedBatch;
    try {
      result = await project(this.o.pool, { ...partitionBatch, records, quarantined });
    } catch (error) {
      if (!isRefusedData(error)) throw error; // transient: kafkajs hands the batch over again
      // Postgres refused something in the batch: one record at a time, in offset order, to
      // find which; those are quarantined and the partition goes on (guarantee 10).
      result = { applied: 0, skipped: 0 };
      const entries = [...records.map((r) => ({ offset: r.offset, record: r })), ...quarantined.map((q) => ({ offset: q.offset, quarantine: q }))].sort((a, b) => a.offset - b.offset);
      for (const entry of entries) {
        let one: ProjectedBatch;
        if ('quarantine' in entry) one = await project(this.o.pool, { ...partitionBatch, records: [], quarantined: [entry.quarantine] });
        else {
          try {
            one = await project(this.o.pool, { ...partitionBatch, records: [entry.record] });
          } catch (refused) {
            if (!isRefusedData(refused)) throw refused;
            one = await project(this.o.pool, { ...partitionBatch, records: [], quarantined: [this.quarantine(role, batch, entry.record, raw.get(entry.offset) ?? null, refused)] });
          }
        }
        result = { applied: result.applied + one.applied, skipped: result.skipped + one.skipped };
      }
    }
    return { result, values: records.map((r) => r.value) };
  }

  private quarantine(role: ProjectedRole, batch: Batch, record: { offset: number; value: TopicValues[ProjectedRole] }, rawValue: Buffer | null, error: Error & { code: string }): QuarantinedRecord {
    const job = jobOf(record.value);
    this.o.metrics?.quarantined.inc({ topic_role: role });
    this.o.logger.error({ err: error, topic: batch.topic, partition: batch.partition, offset: record.offset, jobId: job?.jobId, tenantId: job?.tenantId }, 'projector: record Postgres refused quarantined; the partition goes on');
    return { offset: record.offset, jobId: job?.jobId ?? null, tenantId: job?.tenantId ?? null, errorCode: error.code, errorMessage: error.message, rawValue };
  }
}

/** The job and tenant a projected record belongs to (a dead letter of an undecodable command has none). */
function jobOf(value: TopicValues[ProjectedRole]): { jobId: string; tenantId: string } | undefined {
  if ('deadLetterId' in value) return value.command ? { jobId: value.command.jobId, tenantId: value.command.tenantId } : undefined;
  return { jobId: value.jobId, tenantId: value.tenantId };
}
