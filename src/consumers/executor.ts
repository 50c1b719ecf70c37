// The executor: a consumer group on item-commands that hands every command to its
// profile's lane and commits, per partition, only up to the lowest offset not finished.
// Kafka delivers in batches per partition; the handler only takes records into work
// (decoding them and queueing them on lanes) and returns, so the next batch is fetched
// while lanes call the API. Memory is bounded per lane and per partition, and the reader
// never waits for a lane: a record whose lane has no room is left in Kafka, and the lane
// reads it again once it has room (partition-ledger says how). So a paused, throttled or
// breaker-open profile, or one enormous job, holds up only its own lane.
// On a rebalance the lanes stop (finishing the calls in flight), what is done is flushed
// and committed, and everything else is dropped for Kafka to redeliver to whoever owns
// the partition now. On stop the same, then the consumer leaves the group.
// Fencing: each partition's output goes through its own transactional producer, which
// the partition's next owner fences (result-sink); and lanes call the API only while the
// group lease holds (group-lease), so a zombie woken after its session timed out neither
// calls the API nor commits anything for the partitions it lost.
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { ApiClient } from '../domain/api-client.js';
import type { ItemOutcome, ItemRequested } from '../domain/events.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { groupLiveness } from '../kafka/client.js';
import type { Serde } from '../kafka/serde.js';
import { jobIn } from '../kafka/command-headers.js';
import type { Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import { endSpan, traceHeaders, traceparentIn } from '../telemetry/tracing.js';
import { AdaptiveLimiter, type AdaptiveLimiterOptions, type ClientKey } from './adaptive-limiter.js';
import { ApiBreakers, type BreakerSettings } from './api-breakers.js';
import type { ExecutorMetrics } from './executor-metrics.js';
import type { JobControlView } from './job-control-view.js';
import { deadLetter, itemResult, poisonDeadLetter, type Diagnosis } from './outcome-records.js';
import { ExpiredCommands } from './expired-commands.js';
import { GroupLease, leaseFor } from './group-lease.js';
import type { OutRecord } from './out-records.js';
import type { CommitPoint, PartitionLost } from './partition-channel.js';
import { PartitionLedger } from './partition-ledger.js';
import { ProfileLane, type LaneContext, type LaneOutput, type LanePolicy } from './profile-lane.js';
import { ResultSink } from './result-sink.js';
import { workItemOf, workItemStub } from './command-items.js';
import { Semaphore } from '../lib/semaphore.js';
import { StringPool } from '../lib/string-pool.js';
import { ItemTrace } from './item-trace.js';
import type { SourcePosition } from './work-item.js';

export interface ExecutorSettings {
  groupId: string;
  /** Unique per executor process: names it in logs. */
  instanceId: string;
  sessionTimeoutMs: number;
  /** Records of one partition in memory at most (across its lanes; each lane has its own bound, `lane.readAhead`). */
  readAhead: number;
  /** API calls in flight at most, across every lane. */
  maxCallsInFlight: number;
  laneScope: 'profile' | 'partition';
  lane: LanePolicy;
  limits: AdaptiveLimiterOptions;
  breakers: { api: BreakerSettings; profile: BreakerSettings };
  flushIntervalMs: number;
  /** How often each owned partition's log start is compared with what its ledger still needs. */
  retentionCheckMs: number;
  /** A profile idle this long gives back its limiter state, breaker and metric series. */
  profileReleaseMs: number;
}

export interface ExecutorDeps {
  kafka: Kafka;
  admin: Admin;
  serde: Serde;
  topics: Topics;
  catalogue: OperationCatalogue;
  api: ApiClient;
  /** Whose Login-with-Amazon client a tenant's calls carry ('' for the install's): one limiter bucket per (client, profile). */
  clientOf: (tenantId: string) => ClientKey;
  control: JobControlView;
  metrics: ExecutorMetrics;
  logger: Logger;
  settings: ExecutorSettings;
}

/** How often lanes with records left in Kafka are checked for room. */
const REFILL_CHECK_MS = 100;

/** Distinct shared strings kept (about a megabyte): well above the profiles and jobs one executor has in memory at once. */
const STRING_POOL_SIZE = 20_000;

export class Executor {
  private readonly consumer: Consumer;
  private readonly sink: ResultSink;
  private readonly limiter: AdaptiveLimiter;
  private readonly breakers: ApiBreakers;
  private readonly lanes = new Map<string, ProfileLane>();
  /** The partition each lane's records come from (a lane's key maps to one partition). */
  private readonly lanePartitions = new Map<string, number>();
  private readonly lease: GroupLease;
  /** This generation's partitions, taken over (their predecessors fenced), with the offsets committed then. */
  private owned: Promise<Map<number, CommitPoint | undefined>> | undefined;
  /** Partitions lost to another executor during this generation: not read until the next one. */
  private readonly lost = new Set<number>();
  /** What every lane shares: one object, built once. */
  private readonly laneContext: LaneContext;
  private readonly partitions = new Map<number, PartitionLedger>();
  /** Ledgers being made (a batch and the retention check may both want one): one each. */
  private readonly resuming = new Map<number, Promise<PartitionLedger | undefined>>();
  /** The item-commands partitions this generation was given. */
  private assigned: number[] = [];
  /** Partitions this executor has asked Kafka to seek, and to where, until a batch shows the seek applied (kept for a rebalance). */
  private readonly seeking = new Map<number, number>();
  /**
   * Partitions whose seek may still be pending from before a rebalance: kafkajs keeps a
   * seek across generations and would apply it to the position the new one starts from.
   */
  private readonly staleSeeks = new Set<number>();
  private refillTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private joined = false;
  private readonly expired: ExpiredCommands;
  private readonly highWatermarks = new Map<number, number>();
  /** Bumped on every rebalance: a batch handler of an older generation stops taking records. */
  private generation = 0;
  private ready: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Job ids, tenants, profiles, operations and trace parents: one copy each for every item in memory. */
  private readonly strings = new StringPool(STRING_POOL_SIZE);

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
    this.lease = new GroupLease(leaseFor(settings.sessionTimeoutMs));
    this.sink = new ResultSink({
      kafka,
      consumerGroupId: settings.groupId,
      topic: deps.topics.itemCommands.name,
      commitPoint: (partition) => this.partitions.get(partition)?.commitPoint(),
      committedNow: (partition) => this.committedOffset(partition),
      onLost: (lost) => void this.losePartition(lost),
      flushIntervalMs: settings.flushIntervalMs,
      maxBuffered: 5_000,
      logger: deps.logger,
      onFlushed: (_records, ms) => metrics.flushSeconds.observe(ms / 1000),
    });
    metrics.profileSource = () => ({ tracked: this.limiter.tracked, remembered: this.limiter.remembered, breakers: this.breakers.tracked, controlJobs: deps.control.size });
    metrics.partitionSource = () =>
      new Map(
        [...this.partitions].map(([partition, ledger]) => [
          partition,
          { lag: Math.max(0, (this.highWatermarks.get(partition) ?? 0) - ledger.committable()), inWork: ledger.inMemory, leftLanes: ledger.leftLanes },
        ]),
      );
    this.expired = new ExpiredCommands({
      admin: deps.admin,
      serde: deps.serde,
      topics: deps.topics,
      lanesAreProfiles: settings.laneScope === 'profile',
      emit: (partition, records) => this.sink.add(partition, records),
      metrics,
      logger: deps.logger,
    });
    const callSlots = new Semaphore(settings.maxCallsInFlight);
    metrics.callSource = () => ({ inFlight: callSlots.inUse, waiting: callSlots.waiting });
    this.laneContext = {
      api: deps.api,
      callSlots,
      limiter: this.limiter,
      breakers: this.breakers,
      stateOf: (jobId, whenUnknown) => deps.control.stateOf(jobId, whenUnknown),
      clientOf: deps.clientOf,
      mayCall: () => this.lease.held,
      policy: settings.lane,
      output: this.output,
      metrics,
      logger: deps.logger,
      now: () => Date.now(),
    };
    deps.control.onChange((jobId) => {
      for (const lane of this.lanes.values()) lane.nudge();
      for (const ledger of this.partitions.values()) ledger.wakeFor(jobId);
    });
  }

  /** Whether its group has given it partitions (and it has not crashed since): what /readyz asks. */
  get inGroup(): boolean {
    return this.joined;
  }

  async start(): Promise<void> {
    const { consumer, deps } = this;
    // A fetch of nothing but transaction markers never reaches takeBatch; its end still counts.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) this.partitions.get(payload.partition)?.passedMarkers(Number(payload.firstOffset), Number(payload.lastOffset));
    });
    // The lease: renewed by every answered heartbeat, given up as soon as a rebalance starts.
    consumer.on(consumer.events.HEARTBEAT, () => this.lease.renew());
    consumer.on(consumer.events.REBALANCING, () => this.lease.giveUp());
    consumer.on(consumer.events.CRASH, () => (this.joined = false));
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      // Renewed only once the old generation's lanes have stopped: a zombie's rejoin must
      // not let the lanes of the generation it lost call the API again.
      this.lease.suspend();
      this.generation++;
      this.assigned = payload.memberAssignment[deps.topics.itemCommands.name] ?? [];
      deps.logger.info({ generation: this.generation, assignment: payload.memberAssignment }, 'executor joined its group');
      // Never left rejected: every later batch awaits it, and a rejected one would stop the executor for good.
      this.ready = this.ready
        .then(() => this.dropAllWork())
        .catch((error: unknown) => deps.logger.error({ err: error }, 'dropping work after a rebalance failed'))
        .then(() => this.lease.resume());
    });
    await consumer.connect();
    await consumer.subscribe({ topic: deps.topics.itemCommands.name, fromBeginning: true });
    this.sink.start();
    this.refillTimer = setInterval(() => this.refillLanes(), REFILL_CHECK_MS);
    this.retentionTimer = setInterval(() => void this.checkRetention(), deps.settings.retentionCheckMs);
    this.releaseTimer = setInterval(() => this.releaseIdleProfiles(), Math.min(5_000, deps.settings.profileReleaseMs / 2));
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
    clearInterval(this.refillTimer);
    clearInterval(this.retentionTimer);
    clearInterval(this.releaseTimer);
    await this.stopLanes();
    await this.sink.close();
    await this.consumer.disconnect();
    this.breakers.shutdown();
  }

  get laneCount(): number {
    return this.lanes.size;
  }

  // Never waits for room: a handler that waits holds up the fetches of every partition on
  // the same broker. A record whose lane has no room is left in Kafka instead (the ledger
  // remembers where), and the reader goes on with the other lanes.
  private async takeBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    await this.ready;
    const generation = this.generation;
    const taking = () => !this.stopping && generation === this.generation && isRunning() && !isStale();
    const { partition } = batch;
    if (this.lost.has(partition)) return;
    // kafkajs holds a partition's batches back while a seek is pending: a batch that is not stale shows it applied.
    const seekTarget = isStale() ? undefined : this.seeking.get(partition);
    if (!isStale()) this.seeking.delete(partition);
    const ledger = this.partitions.get(partition) ?? (await this.resumeOnce(partition, Number(batch.firstOffset())));
    if (!ledger || generation !== this.generation) return;
    // A seek that lands past its target may have met an offset out of range (kafkajs then
    // moves to the log start, saying nothing): what the ledger needed below it is gone.
    if (seekTarget !== undefined && Number(batch.firstOffset()) > seekTarget) {
      const starts = await this.expired.logStarts();
      if (generation !== this.generation || this.partitions.get(partition) !== ledger) return;
      this.expired.check(partition, ledger, starts.get(partition));
    }
    for (const message of batch.messages) {
      if (!taking()) return;
      const offset = Number(message.offset);
      const lane = this.laneKeyOf(message.key, partition);
      const firstRead = offset >= ledger.frontier;
      const job = jobIn(message.headers);
      const intake = ledger.consider(offset, lane, this.lanes.get(lane)?.hasRoom ?? true, job);
      const source = { topic: batch.topic, partition, offset };
      if (intake === 'take') await this.accept(message, source, lane);
      else if (intake === 'leave' && firstRead && !ledger.mayRefill(lane)) await this.wakeForRunningJob(ledger, lane, message, job);
      resolveOffset(message.offset);
      if (ledger.rewindSpent) {
        // The lanes being refilled are full again: back to where the reader was.
        ledger.abandonRefill();
        this.seek(partition, ledger.frontier);
        return;
      }
    }
    ledger.passed(Number(batch.lastOffset()));
    this.highWatermarks.set(partition, Number(batch.highWatermark));
    await heartbeat();
  }

  /** The lane a record belongs to, from its key alone (no decoding: most records are skipped or left). */
  private laneKeyOf(key: Buffer | null, partition: number): string {
    return this.deps.settings.laneScope === 'profile' ? String(key ?? '') : `partition-${partition}`;
  }

  // A lane left in Kafka because all it had was held by paused jobs waits for a control
  // change. A record of a running job for it (a later job of the same profile) wakes it now.
  // The record's header names its job; one written before the header is decoded.
  private async wakeForRunningJob(ledger: PartitionLedger, lane: string, message: KafkaMessage, job: string | undefined): Promise<void> {
    const jobId = job ?? (message.value ? (await this.deps.serde.decode('itemCommands', message.value).catch(() => undefined))?.jobId : undefined);
    if (jobId !== undefined && this.deps.control.stateOf(jobId) === 'RUNNING') ledger.wake(lane);
  }

  // Lanes with records left in Kafka that have room again are read again: the partition's
  // reader is wound back to the first of their left records (one refill at a time).
  private refillLanes(): void {
    for (const [partition, ledger] of this.partitions) {
      if (ledger.rewinding) continue;
      const wanting: string[] = [];
      for (const [lane, untilControlChange] of ledger.leftLaneKeys()) {
        const current = this.lanes.get(lane);
        if (!untilControlChange && (!current || current.wantsMore)) wanting.push(lane);
      }
      const from = ledger.startRefill(wanting);
      if (from === undefined) continue;
      this.deps.metrics.refills.inc();
      this.seek(partition, from);
    }
  }

  // Ten thousand profiles come and go: one idle for profileReleaseMs, with no lane and a
  // closed breaker, gives back its limiter state (but what it learned), its breaker (and
  // the breaker's timers) and its metric series.
  private releaseIdleProfiles(): void {
    const idle = [...this.limiter.idleSince(Date.now() - this.deps.settings.profileReleaseMs)];
    for (const profileId of idle) {
      if (this.lanes.has(profileId) || !this.breakers.release(profileId)) continue;
      this.limiter.release(profileId);
      this.deps.metrics.forgetProfile(profileId);
    }
  }

  private seek(partition: number, offset: number): void {
    this.seeking.set(partition, offset);
    this.consumer.seek({ topic: this.deps.topics.itemCommands.name, partition, offset: String(offset) });
  }

  // Where the group's last commit left this partition: the offset and the records above it
  // that still have to run. Undefined when a seek of an earlier generation moved the
  // reader away from there: it is sent back, and this batch is not taken.
  private async resumePartition(partition: number, firstOffset: number): Promise<PartitionLedger | undefined> {
    const generation = this.generation;
    const owned = await this.ownAssigned();
    if (!owned || generation !== this.generation) return undefined;
    const committed = owned.get(partition);
    const hasCommit = committed !== undefined;
    if (this.staleSeeks.delete(partition)) {
      const start = hasCommit ? Number(committed.offset) : ((await this.expired.logStarts()).get(partition) ?? 0);
      if (firstOffset !== start) {
        this.seek(partition, start);
        return undefined;
      }
    }
    const capacity = this.deps.settings.readAhead;
    // A group without a commit starts at the log start; from 0 as far as the ledger knows,
    // so records removed before it ever ran count as gone, not as never there. So does one
    // whose offset was below the log start: kafkajs then commits "earliest" (-2) over it,
    // losing its metadata, so all below the log start is reported (the projector expires
    // only items with no outcome) and what was done above it runs again (at least once).
    const ledger = hasCommit ? PartitionLedger.resume(committed.offset, committed.metadata, capacity) : PartitionLedger.fresh(0, capacity);
    // Kafka starting past where the group left off may mean the offset was below the log
    // start (kafkajs moves there without a word): what was still to run there is gone.
    if (firstOffset > (hasCommit ? Number(committed.offset) : 0)) {
      const starts = await this.expired.logStarts();
      if (generation !== this.generation) return undefined;
      this.expired.check(partition, ledger, starts.get(partition));
    }
    // A rebalance while the offsets were read: this ledger belongs to no generation now.
    if (generation !== this.generation) return undefined;
    this.partitions.set(partition, ledger);
    return ledger;
  }

  // Every partition of this generation is taken over before any is read: its producer is
  // initialised, fencing the one of any earlier owner, so the offset committed then is
  // final. Undefined (and tried again with the next batch) when the broker did not answer.
  private async ownAssigned(): Promise<Map<number, CommitPoint | undefined> | undefined> {
    const owning = (this.owned ??= this.sink.own(this.assigned));
    try {
      return await owning;
    } catch (error) {
      if (this.owned === owning) this.owned = undefined;
      this.deps.logger.warn({ err: error }, 'could not take the assigned partitions over yet; trying again');
      return undefined;
    }
  }

  /** The group's committed offset of an item-commands partition, with its metadata; undefined without one. */
  private async committedOffset(partition: number): Promise<CommitPoint | undefined> {
    const topic = this.deps.topics.itemCommands.name;
    const [offsets] = await this.deps.admin.fetchOffsets({ groupId: this.deps.settings.groupId, topics: [topic] });
    const committed = offsets?.partitions.find((p) => p.partition === partition);
    if (!committed || Number(committed.offset) < 0) return undefined;
    return { offset: Number(committed.offset), metadata: committed.metadata ?? '' };
  }

  // Another executor owns the partition now (it fenced this one's producer, or committed):
  // this executor is a zombie for it. Its lanes stop at once (their last results are
  // dropped: not committed, the new owner runs them), and it is not read again until the
  // next generation, which the group coordinator is about to start.
  private async losePartition(lost: PartitionLost): Promise<void> {
    const { partition } = lost;
    this.lost.add(partition);
    this.partitions.delete(partition);
    this.deps.metrics.partitionsLost.inc();
    this.deps.logger.warn({ err: lost.cause, partition }, 'another executor owns this partition now: its work here stops');
    this.consumer.pause([{ topic: this.deps.topics.itemCommands.name, partitions: [partition] }]);
    const stopping: Promise<unknown>[] = [];
    for (const [key, lanePartition] of this.lanePartitions) {
      const lane = this.lanes.get(key);
      if (lanePartition !== partition || !lane) continue;
      this.lanes.delete(key);
      this.lanePartitions.delete(key);
      stopping.push(lane.stop());
    }
    this.deps.metrics.lanes.set(this.lanes.size);
    await Promise.all(stopping);
  }

  private resumeOnce(partition: number, firstOffset: number): Promise<PartitionLedger | undefined> {
    let resuming = this.resuming.get(partition);
    if (!resuming) {
      resuming = this.resumePartition(partition, firstOffset).finally(() => this.resuming.delete(partition));
      this.resuming.set(partition, resuming);
    }
    return resuming;
  }

  // Retention runs while records wait (a paused job's, a slow profile's backlog): each
  // owned partition's log start is compared, now and then, with what its ledger needs.
  // A partition with nothing left to read gets no batch, so no ledger from one: it is
  // resumed here, from its log start, so a gap below it is found all the same.
  private async checkRetention(): Promise<void> {
    await this.ready;
    if (this.assigned.length === 0 || this.stopping) return;
    const generation = this.generation;
    try {
      const starts = await this.expired.logStarts();
      if (generation !== this.generation) return;
      for (const partition of this.assigned) {
        const start = starts.get(partition);
        if (!this.partitions.has(partition) && !this.staleSeeks.has(partition) && start !== undefined) await this.resumeOnce(partition, start);
      }
      if (generation !== this.generation) return;
      for (const [partition, ledger] of this.partitions) this.expired.check(partition, ledger, starts.get(partition));
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'could not read the log starts of item-commands; checked again later');
    }
  }

  /** Decodes a record and queues it on its lane, or dead-letters what cannot run at all. */
  private async accept(message: KafkaMessage, source: SourcePosition, laneKey: string): Promise<void> {
    let command: ItemRequested;
    try {
      if (!message.value) throw new Error('the record has no value');
      command = this.shared(await this.deps.serde.decode('itemCommands', message.value));
    } catch (error) {
      this.deps.metrics.items.inc({ outcome: 'poison' });
      this.deps.logger.error({ err: error, ...source }, 'undecodable item command dead-lettered');
      const record = poisonDeadLetter(message.key, message.value, source, error as Error, Date.now());
      this.complete(source, [this.dlqRecord(record.command?.profileId ?? String(message.key ?? ''), record, traceHeaders(traceparentIn(message.headers)))]);
      return;
    }
    const parent = traceparentIn(message.headers);
    const trace = new ItemTrace(command, parent === undefined ? undefined : this.strings.intern(parent), Date.now());
    const item = workItemOf(command, source, trace, this.deps.catalogue);
    if ('problem' in item) {
      const stub = workItemStub(command, source, trace);
      this.output.finished(stub, { 'sluice.ItemFailed': { failureClass: 'PERMANENT', ...item.problem, deadLettered: true } }, null, item.problem);
      return;
    }
    let lane = this.lanes.get(laneKey);
    if (!lane) {
      lane = new ProfileLane(laneKey, this.laneContext, (idle) => {
        if (idle.size > 0 || this.lanes.get(idle.key) !== idle) return;
        this.lanes.delete(idle.key);
        this.lanePartitions.delete(idle.key);
        this.deps.metrics.lanes.set(this.lanes.size);
      });
      this.lanes.set(laneKey, lane);
      this.lanePartitions.set(laneKey, source.partition);
      this.deps.metrics.lanes.set(this.lanes.size);
    }
    lane.push(item);
  }

  // The strings a command shares with the rest of its job, as the pool's one copy.
  private shared(command: ItemRequested): ItemRequested {
    const { strings } = this;
    command.jobId = strings.intern(command.jobId);
    command.tenantId = strings.intern(command.tenantId);
    command.profileId = strings.intern(command.profileId);
    command.operation = strings.intern(command.operation);
    return command;
  }

  private readonly output: LaneOutput = {
    retrying: (item, outcome, latencyMs) => {
      this.sink.add(item.source.partition, [this.resultRecord(itemResult(item, outcome, Date.now(), latencyMs), item.trace.headers)]);
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
    gaveBack: (lane, items, untilControlChange) => {
      const partition = items[0]?.source.partition;
      if (partition === undefined) return;
      const ledger = this.partitions.get(partition);
      ledger?.leave(lane.key, items.map((i) => ({ offset: i.source.offset, job: i.command.jobId })), untilControlChange);
      // Records of a running job it had left for room, behind the held ones, may run now.
      const leftJobs = ledger?.leftJobs(lane.key);
      if (untilControlChange && leftJobs && [...leftJobs].some((job) => this.deps.control.stateOf(job) === 'RUNNING')) ledger!.wake(lane.key);
      this.deps.metrics.givenBack.inc(items.length);
      for (const item of items) item.trace.givenBack();
    },
  };

  /** An item's last records go to the sink and its offset is finished, in one step. */
  private complete(source: SourcePosition, records: OutRecord[]): void {
    this.sink.add(source.partition, records);
    this.partitions.get(source.partition)?.finish(source.offset);
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
    await this.sink.releaseAll();
    this.lanes.clear();
    this.lanePartitions.clear();
    this.partitions.clear();
    this.owned = undefined;
    if (this.lost.size > 0) this.consumer.resume([{ topic: this.deps.topics.itemCommands.name, partitions: [...this.lost] }]);
    this.lost.clear();
    for (const partition of this.seeking.keys()) this.staleSeeks.add(partition);
    this.seeking.clear();
    this.highWatermarks.clear();
    this.deps.metrics.lanes.set(0);
  }
}
