// The executor: a consumer group on item-commands that hands every command to its
// profile's lane and commits, per partition, only up to the lowest offset not finished.
// Kafka delivers in batches per partition; the handler only takes records into work
// (decoding them and queueing them on lanes) and returns, so the next batch is fetched
// while lanes call the API. Read-ahead is bounded per partition: when a partition has
// `readAhead` records in work, it is paused until half of them are finished.
// On a rebalance the lanes stop (finishing the calls in flight), what is done is flushed
// and committed, and everything else is dropped for Kafka to redeliver to whoever owns
// the partition now. On stop the same, then the consumer leaves the group.
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { ApiClient } from '../domain/api-client.js';
import type { ItemOutcome, ItemRequested } from '../domain/events.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { groupLiveness } from '../kafka/client.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import { endSpan, startSpan, traceHeaders, traceparentIn, traceparentOf } from '../telemetry/tracing.js';
import { AdaptiveLimiter, type AdaptiveLimiterOptions } from './adaptive-limiter.js';
import { ApiBreakers, type BreakerSettings } from './api-breakers.js';
import type { ExecutorMetrics } from './executor-metrics.js';
import type { JobControlView } from './job-control-view.js';
import { deadLetter, itemResult, poisonDeadLetter, type Diagnosis } from './outcome-records.js';
import { PartitionOffsets } from './partition-offsets.js';
import { ProfileLane, type LaneContext, type LaneOutput, type LanePolicy } from './profile-lane.js';
import { ResultSink, type OutRecord } from './result-sink.js';
import type { ItemTrace, SourcePosition, WorkItem } from './work-item.js';

export interface ExecutorSettings {
  groupId: string;
  /** Unique per executor process: names its transactional producer. */
  instanceId: string;
  sessionTimeoutMs: number;
  readAhead: number;
  laneScope: 'profile' | 'partition';
  lane: LanePolicy;
  limits: AdaptiveLimiterOptions;
  breakers: { api: BreakerSettings; profile: BreakerSettings };
  flushIntervalMs: number;
}

export interface ExecutorDeps {
  kafka: Kafka;
  admin: Admin;
  serde: Serde;
  topics: Topics;
  catalogue: OperationCatalogue;
  api: ApiClient;
  control: JobControlView;
  metrics: ExecutorMetrics;
  logger: Logger;
  settings: ExecutorSettings;
}

export class Executor {
  private readonly consumer: Consumer;
  private readonly sink: ResultSink;
  private readonly limiter: AdaptiveLimiter;
  private readonly breakers: ApiBreakers;
  private readonly lanes = new Map<string, ProfileLane>();
  /** What every lane shares: one object, built once. */
  private readonly laneContext: LaneContext;
  private readonly partitions = new Map<number, PartitionOffsets>();
  /** Partitions paused because their read-ahead is full, with the function that resumes each. */
  private readonly paused = new Map<number, () => void>();
  private readonly highWatermarks = new Map<number, number>();
  /** Bumped on every rebalance: a batch handler of an older generation stops taking records. */
  private generation = 0;
  private ready: Promise<void> = Promise.resolve();
  /** The group's committed offsets as this generation began (read once per generation). */
  private committedOffsets: ReturnType<Admin['fetchOffsets']> | undefined;
  private stopping = false;

  constructor(private readonly deps: ExecutorDeps) {
    const { kafka, settings, metrics } = deps;
    this.consumer = kafka.consumer({
      groupId: settings.groupId,
      readUncommitted: false,
      maxBytesPerPartition: 1024 * 1024,
      // A fetch waits at most this long for records: a partition resumed after a pause is
      // fetched again within it (and leaving the group waits for it).
      maxWaitTimeInMs: 100,
      ...groupLiveness(settings.sessionTimeoutMs),
    });
    this.limiter = new AdaptiveLimiter(settings.limits);
    this.breakers = new ApiBreakers(settings.breakers, (scope, state) => {
      metrics.breaker(scope, state);
      deps.logger.warn({ profileId: scope, state }, 'circuit breaker changed state');
    });
    this.sink = new ResultSink({
      kafka,
      transactionalId: `${settings.groupId}.${settings.instanceId}`,
      consumerGroupId: settings.groupId,
      committableOffsets: () => [
        {
          topic: deps.topics.itemCommands.name,
          partitions: [...this.partitions].map(([partition, o]) => {
            const point = o.commitPoint();
            return { partition, offset: String(point.offset), metadata: point.metadata };
          }),
        },
      ],
      flushIntervalMs: settings.flushIntervalMs,
      maxBuffered: 5_000,
      logger: deps.logger,
      onFlushed: (_records, ms) => metrics.flushSeconds.observe(ms / 1000),
    });
    metrics.partitionSource = () =>
      new Map([...this.partitions].map(([partition, offsets]) => [partition, { lag: Math.max(0, (this.highWatermarks.get(partition) ?? 0) - offsets.committable()), inWork: offsets.inFlight }]));
    this.laneContext = {
      api: deps.api,
      limiter: this.limiter,
      breakers: this.breakers,
      stateOf: (jobId) => deps.control.stateOf(jobId),
      policy: settings.lane,
      output: this.output,
      metrics,
      logger: deps.logger,
      now: () => Date.now(),
    };
    deps.control.onChange(() => {
      for (const lane of this.lanes.values()) lane.nudge();
    });
  }

  async start(): Promise<void> {
    const { consumer, deps } = this;
    // A fetch of nothing but transaction markers never reaches takeBatch; its end still counts.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) this.partitions.get(payload.partition)?.passed(Number(payload.lastOffset));
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.generation++;
      deps.logger.info({ generation: this.generation, assignment: payload.memberAssignment }, 'executor joined its group');
      this.ready = this.ready.then(() => this.dropAllWork());
    });
    await consumer.connect();
    await consumer.subscribe({ topic: deps.topics.itemCommands.name, fromBeginning: true });
    this.sink.start();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: deps.topics.itemCommands.partitions,
      eachBatch: (payload) => this.takeBatch(payload),
    });
  }

  /** Stops taking work, settles the calls in flight, commits what is done, leaves the group. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.stopLanes();
    await this.sink.close();
    await this.consumer.disconnect();
    this.breakers.shutdown();
  }

  get laneCount(): number {
    return this.lanes.size;
  }

  // Never waits for room: a handler that waits holds up the fetches of every partition
  // on the same broker. A partition whose read-ahead is full is paused instead, its
  // records not taken are fetched again once it resumes (at half the read-ahead).
  private async takeBatch({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }: EachBatchPayload): Promise<void> {
    await this.ready;
    const generation = this.generation;
    const taking = () => !this.stopping && generation === this.generation && isRunning() && !isStale();
    const { partition } = batch;
    for (const message of batch.messages) {
      if (!taking()) return;
      const offset = Number(message.offset);
      const offsets = this.partitions.get(partition) ?? (await this.resumePartition(partition, offset));
      if (generation !== this.generation) return;
      if (offsets.inFlight >= this.deps.settings.readAhead) {
        this.paused.set(partition, pause());
        return;
      }
      if (offsets.take(offset)) await this.accept(message, { topic: batch.topic, partition, offset });
      resolveOffset(message.offset);
    }
    this.partitions.get(partition)?.passed(Number(batch.lastOffset()));
    this.highWatermarks.set(partition, Number(batch.highWatermark));
    await heartbeat();
  }

  // Where the group's last commit left this partition: the offset and the records
  // finished above it, which must not run again.
  private async resumePartition(partition: number, firstOffset: number): Promise<PartitionOffsets> {
    this.committedOffsets ??= this.deps.admin.fetchOffsets({ groupId: this.deps.settings.groupId, topics: [this.deps.topics.itemCommands.name] });
    const committed = (await this.committedOffsets)[0]?.partitions.find((p) => p.partition === partition);
    const offsets = committed && Number(committed.offset) >= 0 ? PartitionOffsets.restore(Number(committed.offset), committed.metadata) : new PartitionOffsets(firstOffset);
    this.partitions.set(partition, offsets);
    return offsets;
  }

  /** Decodes a record and queues it on its lane, or dead-letters what cannot run at all. */
  private async accept(message: KafkaMessage, source: SourcePosition): Promise<void> {
    let command: ItemRequested;
    try {
      if (!message.value) throw new Error('the record has no value');
      command = await this.deps.serde.decode('itemCommands', message.value);
    } catch (error) {
      this.deps.metrics.items.inc({ outcome: 'poison' });
      this.deps.logger.error({ err: error, ...source }, 'undecodable item command dead-lettered');
      const record = poisonDeadLetter(message.key, message.value, source, error as Error, Date.now());
      this.complete(source, [this.dlqRecord(record.command?.profileId ?? String(message.key ?? ''), record, traceHeaders(traceparentIn(message.headers)))]);
      return;
    }
    const trace = itemTrace(command, traceparentIn(message.headers));
    const item = this.workItem(command, source, trace);
    if ('problem' in item) {
      const stub = this.workItemStub(command, source, trace);
      this.output.finished(stub, { 'sluice.ItemFailed': { failureClass: 'PERMANENT', ...item.problem, deadLettered: true } }, null, item.problem);
      return;
    }
    const key = this.deps.settings.laneScope === 'profile' ? command.profileId : `partition-${source.partition}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = new ProfileLane(key, this.laneContext, (idle) => {
        if (idle.size === 0 && this.lanes.get(idle.key) === idle) this.lanes.delete(idle.key);
        this.deps.metrics.lanes.set(this.lanes.size);
      });
      this.lanes.set(key, lane);
      this.deps.metrics.lanes.set(this.lanes.size);
    }
    lane.push(item);
  }

  private workItemStub(command: ItemRequested, source: SourcePosition, trace: ItemTrace): WorkItem {
    return { command, payload: null, source, batchKey: '', entityKey: '', maxBatchSize: 1, attempts: 0, history: [], notBeforeMs: 0, trace };
  }

  // The producer validated every payload, but a command may come from elsewhere (an older
  // producer, a replay tool, a hand-written record): what cannot run is dead-lettered.
  private workItem(command: ItemRequested, source: SourcePosition, trace: ItemTrace): WorkItem | { problem: Diagnosis } {
    const op = this.deps.catalogue.get(command.operation);
    if (!op) return { problem: { errorKind: 'unknownOperation', reason: 'UNKNOWN_OPERATION', message: `operation "${command.operation}" is not in the catalogue` } };
    let payload: unknown;
    try {
      payload = JSON.parse(command.payload);
    } catch (error) {
      return { problem: { errorKind: 'invalidPayload', reason: 'INVALID_PAYLOAD', message: `payload is not JSON: ${(error as Error).message}` } };
    }
    const check = this.deps.catalogue.check(command.operation, payload);
    if (!check.ok) return { problem: { errorKind: 'invalidPayload', reason: 'INVALID_PAYLOAD', message: check.issues.map((i) => `${i.field}: ${i.reason}`).join('; ') } };
    return { ...this.workItemStub(command, source, trace), payload: check.value, batchKey: op.batchKey, entityKey: op.entityKey(check.value), maxBatchSize: op.maxBatchSize };
  }

  private readonly output: LaneOutput = {
    retrying: (item, outcome, latencyMs) => {
      this.sink.add([this.resultRecord(itemResult(item, outcome, Date.now(), latencyMs), item.trace.headers)]);
    },
    finished: (item, outcome: ItemOutcome, latencyMs, diagnosis) => {
      const now = Date.now();
      const { span, headers } = item.trace;
      const records = [this.resultRecord(itemResult(item, outcome, now, latencyMs), headers)];
      if (diagnosis) records.push(this.dlqRecord(item.command.profileId, deadLetter(item, diagnosis, now), headers));
      span.setAttribute('sluice.outcome', Object.keys(outcome)[0] ?? 'unknown');
      if (diagnosis) span.setAttributes({ 'sluice.dead_lettered': true, 'sluice.reason': diagnosis.reason });
      endSpan(span);
      this.complete(item.source, records);
    },
  };

  /** An item's last records go to the sink and its offset is finished, in one step. */
  private complete(source: SourcePosition, records: OutRecord[]): void {
    this.sink.add(records);
    const offsets = this.partitions.get(source.partition);
    offsets?.finish(source.offset);
    const resume = this.paused.get(source.partition);
    if (resume && (offsets?.inFlight ?? 0) <= this.deps.settings.readAhead / 2) {
      this.paused.delete(source.partition);
      resume();
    }
  }

  private resultRecord(result: ReturnType<typeof itemResult>, headers: OutRecord['headers']): OutRecord {
    return { topic: this.deps.topics.itemResults.name, key: result.jobId, value: this.deps.serde.encode('itemResults', result), headers };
  }

  private dlqRecord(profileId: string, record: ReturnType<typeof deadLetter>, headers: OutRecord['headers']): OutRecord {
    return { topic: this.deps.topics.dlq.name, key: profileId, value: this.deps.serde.encode('dlq', record), headers };
  }

  private async stopLanes(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.stop()));
  }

  // After a rebalance the group's committed offsets are where Kafka redelivers from, for
  // every partition this executor now owns: what is done is committed first, the rest
  // is dropped and comes again.
  private async dropAllWork(): Promise<void> {
    await this.stopLanes();
    await this.sink.flush().catch((error) => this.deps.logger.error({ err: error }, 'flush after rebalance failed; its records are kept'));
    this.lanes.clear();
    this.partitions.clear();
    for (const resume of this.paused.values()) resume();
    this.paused.clear();
    this.highWatermarks.clear();
    this.committedOffsets = undefined;
    this.sink.forgetCommitted();
    this.deps.metrics.lanes.set(0);
  }
}

/** The item's span, under the trace its command carries; its records carry the span's context. */
function itemTrace(command: ItemRequested, parent: string | undefined): ItemTrace {
  // The item id says the rest (job, index); profile and operation are on the attempts' API-call logs.
  const span = startSpan('sluice.item', parent, { 'sluice.item_id': command.itemId, 'sluice.replay_generation': command.replayGeneration });
  return { span, headers: traceHeaders(traceparentOf(span)) };
}
