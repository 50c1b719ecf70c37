// One profile's lane: its items in submission order, run one API call at a time, so the
// profile's order holds (a retry happens in place, before anything later of the lane).
// Many lanes run at once, so a throttled, slow or failing profile holds up only itself.
// Each turn the lane plans a batch (batch-planner), waits for any backoff, for an open
// breaker, for the rate limiter's token, for a place among the executor's calls in flight
// and, for a batch not yet full, a short linger; then makes the call and settles every item from the answer, by index. An item that
// reads its entity first (its before-image, its expect, or a verification) has that read
// as a call of its own, on the same limiter and breaker, batched like writes; what the
// read found decides whether the write still follows.
import type { ApiClient, BatchRequest, CallResult, ItemOutcome as ApiItemOutcome } from '../domain/api-client.js';
import { Permanent, Throttled, Transient, type CallFailure } from '../domain/errors.js';
import { BREAKER_OPEN, type ItemOutcome } from '../domain/events.js';
import { holdsValues, type FieldValues } from '../domain/field-values.js';
import type { Semaphore } from '../lib/semaphore.js';
import { Signal } from '../lib/signal.js';
import type { AdaptiveLimiter, ClientKey } from './adaptive-limiter.js';
import { isProfileAccessFailure, type ApiBreakers } from './api-breakers.js';
import { backoffMs, type BackoffPolicy } from './backoff.js';
import { planNext, writeLimit, type StateOf } from './batch-planner.js';
import type { ExecutorMetrics } from './executor-metrics.js';
import type { Diagnosis } from './outcome-records.js';
import type { WorkItem } from './work-item.js';
import type { Logger } from '../telemetry/logger.js';

export interface LanePolicy {
  /** Attempts an item may spend on transient failures (throttling spends none). */
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** How long a batch that is not full waits for more items of its kind. */
  lingerMs: number;
  /** Items per call at most (the operation's own limit may be lower). */
  maxBatchSize: number;
  /** Items the lane holds in memory at most; the rest wait in Kafka. */
  readAhead: number;
  /** A wait for the rate limiter at least this long makes the lane give back what its next call does not need. */
  longWaitMs: number;
  /** Write batches one read of before-images covers (reads share the profile's limit: fewer is cheaper). */
  readBatches: number;
  /** A read older than this when its item's write comes is made again (a stale guard protects nothing). */
  maxReadAgeMs: number;
}

export interface LaneOutput {
  /** An outcome after which the item will be tried again. */
  retrying(item: WorkItem, outcome: ItemOutcome, latencyMs: number | null): void;
  /** The item's last outcome; with a diagnosis, the item is dead-lettered too. */
  finished(item: WorkItem, outcome: ItemOutcome, latencyMs: number | null, deadLetter?: Diagnosis): void;
  /**
   * Items the lane gives back while it waits (its last ones): they leave memory and are
   * read from Kafka again once it has room. `untilControlChange`: they are all held by
   * paused jobs, and are worth reading again only once a job's control state changes.
   */
  gaveBack(lane: ProfileLane, items: WorkItem[], untilControlChange: boolean): void;
}

export interface LaneContext {
  api: ApiClient;
  /** Places among the executor's API calls in flight: a lane holds one for each call. */
  callSlots: Semaphore;
  limiter: AdaptiveLimiter;
  breakers: ApiBreakers;
  stateOf: StateOf;
  /** Whose Login-with-Amazon client a tenant's calls carry: the limiter keeps one bucket per (client, profile), as Amazon does. */
  clientOf: (tenantId: string) => ClientKey;
  /** Whether this executor may still act for its partitions (the group lease holds). */
  mayCall: () => boolean;
  policy: LanePolicy;
  output: LaneOutput;
  metrics: ExecutorMetrics;
  logger: Logger;
  now: () => number;
}

/** How long a lane with only paused items sleeps before it looks again (a control change wakes it sooner). */
const HELD_RECHECK_MS = 1_000;

/** How long a lane whose executor's group lease lapsed waits before it looks again. */
const LEASE_RECHECK_MS = 100;

/** How long a lane waits after an unexpected error outside a call before its next turn. */
const UNEXPECTED_PAUSE_MS = 1_000;

/** Ids one read asks for at most: a v3 list page. */
const MAX_READ_IDS = 5_000;

/** Attempt records kept per item (the latest ones), so a long throttled stretch stays small. */
const MAX_HISTORY = 20;

export class ProfileLane {
  private queue: WorkItem[] = [];
  private readonly wake = new Signal();
  private readonly abort = new AbortController();
  private stopping = false;
  private running: Promise<void> | undefined;
  private lingerUntilMs: number | undefined;
  /** The batch whose call is under way: what an unexpected error counts against. */
  private inCall: WorkItem[] | undefined;
  /** How many items the lane wants in memory: its read-ahead, or only its next call's while it waits. */
  private wanted: number;
  /** Since when everything the lane holds has been held by paused jobs. */
  private heldSinceMs: number | undefined;
  /** The highest offset the lane has settled: items below it were overtaken, and stay in memory. */
  private lastSettledOffset = -1;

  constructor(
    /** The profile id (or, in partition scope, the partition) whose items the lane runs. */
    readonly key: string,
    private readonly ctx: LaneContext,
    /** Called when the lane has run out of work (the executor then drops it). */
    private readonly onIdle: (lane: ProfileLane) => void,
  ) {
    this.wanted = ctx.policy.readAhead;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Whether the lane takes one more item now. */
  get hasRoom(): boolean {
    return this.queue.length < this.wanted;
  }

  /** Whether the lane has used up half of what it wants, so reading its records again is worth a seek. */
  get wantsMore(): boolean {
    return this.queue.length <= Math.floor(this.wanted / 2);
  }

  push(item: WorkItem): void {
    this.queue.push(item);
    this.wake.notify();
    this.ensureRunning();
  }

  // An item pushed between the loop's end and its settling would find the lane still
  // running and never be run: so the lane looks at its queue again once the loop settles.
  private ensureRunning(): void {
    if (this.running || this.stopping) return;
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.queue.length > 0 && !this.stopping) this.ensureRunning();
      else this.onIdle(this);
    });
  }

  /** A job's control state changed: look at held items again. */
  nudge(): void {
    this.wake.notify();
  }

  /** Stops before the next call and resolves once the call in flight (if any) is settled. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.wake.notify();
    await this.running;
  }

  /** After stop(): the items never finished, for Kafka to redeliver. */
  abandon(): WorkItem[] {
    const left = this.queue;
    this.queue = [];
    return left;
  }

  private async run(): Promise<void> {
    while (!this.stopping && this.queue.length > 0) {
      try {
        await this.turn();
      } catch (error) {
        await this.survive(error);
      }
    }
  }

  /** One step: settle what is cancelled, wait for whatever holds the next batch up, or call. */
  private async turn(): Promise<void> {
    const { ctx } = this;
    const plan = planNext(this.queue, ctx.stateOf, ctx.policy.maxBatchSize);
    for (const item of plan.cancelled) this.settle(item, { 'sluice.ItemCancelled': { reason: 'job cancelled' } }, null);
    const batch = plan.batch;
    const head = batch[0];
    if (!head) {
      if (plan.held === 0) return;
      // Everything is held by paused jobs: after a moment (the records of a running job
      // may still be coming in) it waits in Kafka, not in memory.
      const now = ctx.now();
      this.heldSinceMs ??= now;
      if (now - this.heldSinceMs >= HELD_RECHECK_MS) this.giveBack(0, true);
      if (this.queue.length > 0) await this.wake.wait(HELD_RECHECK_MS);
      return;
    }
    this.heldSinceMs = undefined;
    const now = ctx.now();
    if (head.notBeforeMs > now) return void (await this.wake.wait(head.notBeforeMs - now));
    if (this.shouldLinger(batch, now)) return void (await this.wake.wait(this.lingerUntilMs! - now));
    const profileId = head.command.profileId;
    const lost = ctx.breakers.accessLost(profileId);
    if (lost) return this.failRunnable(profileId, lost, 0, []);
    if (ctx.breakers.blocked(profileId)) this.giveBack(batch.length, false);
    await this.whenBreakersAllow(profileId);
    if (this.stopping) return;
    // (a batch is one tenant's: its batch key carries the tenant)
    const client = ctx.clientOf(head.command.tenantId);
    const waitMs = ctx.limiter.reserve(profileId, ctx.now(), client);
    if (waitMs >= ctx.policy.longWaitMs) this.giveBack(batch.length, false);
    if (waitMs > 0) return void (await this.wake.wait(waitMs));
    const release = await ctx.callSlots.acquire(this.abort.signal).catch(() => undefined);
    if (!release) return; // stopping
    // A lapsed lease: a rebalance is under way or this executor was frozen past its
    // session; either way another may own the partition now. The next turn looks again.
    if (!ctx.mayCall()) {
      release();
      ctx.metrics.callsHeld.inc();
      return void (await this.wake.wait(LEASE_RECHECK_MS));
    }
    try {
      this.wanted = ctx.policy.readAhead;
      this.lingerUntilMs = undefined;
      // The head decides: its read first (of as many write batches as a read may cover), or
      // the write of everything already read.
      const reading = this.awaitsRead(head, now);
      this.inCall = reading ? this.readBatch(now) : batch.filter((item) => !this.awaitsRead(item, now));
      if (reading) await this.read(profileId, this.inCall);
      else await this.call(profileId, this.inCall);
      this.inCall = undefined;
    } finally {
      release();
    }
    ctx.metrics.profileRate.set({ profile: profileId }, ctx.limiter.rate(profileId, client) ?? 0);
  }

  /**
   * Whether the item's entity is still to be read: it reads and has not been read, or its
   * read is older than maxReadAgeMs (a guard checked long before the write guards
   * nothing). Never once its write was tried: a write that may have landed would be read
   * back as its own before-image.
   */
  private awaitsRead(item: WorkItem, now: number): boolean {
    if (!item.reads || item.writeTried) return false;
    return item.current === undefined || now - item.readAtMs > this.ctx.policy.maxReadAgeMs;
  }

  /**
   * The items one read covers: the next write batches' worth, one call of up to
   * MAX_READ_IDS ids, in whole write batches. A read of 68 items at 5 a call would end in a
   * write of 3 (the other 2 of its batch not read yet): one call more per read. The 3 wait
   * for the next read instead, with what arrives meanwhile.
   */
  private readBatch(now: number): WorkItem[] {
    const { policy } = this.ctx;
    const limit = Math.min(MAX_READ_IDS, policy.maxBatchSize * policy.readBatches);
    const unread = planNext(this.queue, this.ctx.stateOf, policy.maxBatchSize, () => limit).batch.filter((item) => this.awaitsRead(item, now));
    const perWrite = unread[0] ? writeLimit(unread[0], policy.maxBatchSize) : policy.maxBatchSize;
    return unread.length > perWrite ? unread.slice(0, unread.length - (unread.length % perWrite)) : unread;
  }

  // A lane that waits long (a paused job, an open breaker, a slow limit) keeps only what its
  // next call needs and gives the rest back to Kafka, so its backlog never takes the room
  // its partition's other lanes need. Kept: the first `keep` items, every item the lane
  // has tried already (its attempts would be lost) and every item it overtook (a settled
  // item above them would otherwise be read again and run twice).
  private giveBack(keep: number, untilControlChange: boolean): void {
    let cut = keep;
    this.queue.forEach((item, i) => {
      if (item.history.length > 0 || item.source.offset < this.lastSettledOffset) cut = Math.max(cut, i + 1);
    });
    this.wanted = Math.max(1, keep);
    if (cut >= this.queue.length) return;
    const given = this.queue.splice(cut);
    this.ctx.output.gaveBack(this, given, untilControlChange);
  }

  // Something threw that no rule expects (a client bug, an answer of the wrong shape): the
  // lane must not end with it, or its items would wait forever and the rejection would go
  // unheard. The batch it was calling counts it as a transient failure, so the normal
  // rules retry or dead-letter each item; the lane goes on.
  private async survive(error: unknown): Promise<void> {
    const batch = (this.inCall ?? []).filter((item) => this.queue.includes(item));
    this.inCall = undefined;
    this.ctx.metrics.laneErrors.inc();
    this.ctx.logger.error({ err: error, profileId: this.key, itemIds: batch.map((i) => i.command.itemId).slice(0, 20), batchSize: batch.length }, 'unexpected error in a lane; its batch is retried by the normal rules');
    const failure = new Transient(`unexpected error: ${(error as Error)?.message ?? String(error)}`, 'unexpected');
    for (const item of batch) this.failed(item, failure, 0, true);
    // Outside a call nothing moved: wait a moment rather than meet the same error at once.
    if (batch.length === 0) await this.wake.wait(UNEXPECTED_PAUSE_MS);
  }

  // A first try that is not full waits a moment for more of its kind; a retry never does.
  private shouldLinger(batch: WorkItem[], now: number): boolean {
    const head = batch[0]!;
    const limit = writeLimit(head, this.ctx.policy.maxBatchSize);
    // (an item already read lingered before its read)
    if (batch.length >= limit || head.history.length > 0 || head.current !== undefined || this.ctx.policy.lingerMs <= 0) return false;
    this.lingerUntilMs ??= now + this.ctx.policy.lingerMs;
    return now < this.lingerUntilMs;
  }

  private async whenBreakersAllow(profileId: string): Promise<void> {
    try {
      await this.ctx.breakers.callable(profileId, this.abort.signal);
    } catch (error) {
      if (!this.abort.signal.aborted) throw error;
    }
  }

  /** One API call for the batch (a read or a write), behind the breaker, observed; undefined while the breaker is open. */
  private async guardedCall<R extends CallResult>(profileId: string, batch: WorkItem[], kind: 'read' | 'write', send: (request: BatchRequest) => Promise<R>): Promise<{ result: R; probe: boolean } | undefined> {
    const { ctx } = this;
    const operation = batch[0]!.command.operation;
    const guarded = await ctx.breakers.run(profileId, () => send({ tenantId: batch[0]!.command.tenantId, profileId, items: batch.map((i) => ({ operation: i.command.operation, payload: i.payload })) }));
    if (guarded.type === 'open') return undefined; // the next turn waits for the breaker
    const { result } = guarded;
    if (ctx.logger.isLevelEnabled('debug')) {
      // Built only when wanted: this runs for every API call.
      ctx.logger.debug(
        { jobIds: [...new Set(batch.map((i) => i.command.jobId))], tenantId: batch[0]!.command.tenantId, profileId, operation, kind, batchSize: batch.length, result: callResultLabel(result), durationMs: result.latencyMs },
        'api call',
      );
    }
    ctx.metrics.callSeconds.observe({ operation, kind }, result.latencyMs / 1000);
    ctx.metrics.calls.inc({ operation, kind, result: callResultLabel(result) });
    if (result.type === 'failed') {
      this.callFailed(profileId, batch, result, guarded.probe);
      return undefined;
    }
    return guarded;
  }

  private callFailed(profileId: string, batch: WorkItem[], result: Extract<CallResult, { type: 'failed' }>, probe: boolean): void {
    if (probe && isProfileAccessFailure(result)) {
      // The probe confirmed the profile cannot be used: every runnable item of the lane
      // would fail the same way, so they are dead-lettered now, not one call each; so
      // are those read again from Kafka while the breaker stays open.
      this.ctx.breakers.accessLost(profileId, result.error);
      this.failRunnable(profileId, result.error, result.latencyMs, batch);
      return;
    }
    for (const item of batch) this.failed(item, result.error, result.latencyMs, true);
    if (result.error instanceof Throttled) this.throttled(profileId, batch, result.error);
  }

  private async read(profileId: string, batch: WorkItem[]): Promise<void> {
    const answer = await this.guardedCall(profileId, batch, 'read', (request) => this.ctx.api.read(request));
    if (!answer) return;
    const { result } = answer;
    if (result.type !== 'read') return;
    result.values.forEach((current, i) => this.judge(batch[i]!, current, result.latencyMs));
    this.ctx.limiter.onSucceeded(profileId, this.ctx.now(), this.clientOf(batch));
  }

  /**
   * What the read decides: a verification ends verified or drifted; an entity already at
   * the requested values needs no write (also the case of a write that landed before a
   * crash: its re-run is no conflict); one that differs from the item's expect is not
   * written (conflict). Anything else is written by a later turn.
   */
  private judge(item: WorkItem, current: FieldValues | null, latencyMs: number): void {
    item.current = current;
    item.readAtMs = this.ctx.now();
    const found = current === null ? null : JSON.stringify(current);
    if (item.command.purpose === 'VERIFY') {
      this.settle(item, { 'sluice.ItemVerified': { drifted: !holdsValues(current, item.expect ?? {}), current: found } }, latencyMs);
    } else if (holdsValues(current, item.fieldsSet)) {
      item.attempts++;
      this.settle(item, { 'sluice.ItemSucceeded': { summary: 'already at the requested values', previous: found, applied: JSON.stringify(item.fieldsSet) } }, latencyMs);
    } else if (item.expect && !holdsValues(current, item.expect)) {
      this.settle(item, { 'sluice.ItemConflict': { expected: JSON.stringify(item.expect), current: found } }, latencyMs);
    }
  }

  private async call(profileId: string, batch: WorkItem[]): Promise<void> {
    const { ctx } = this;
    for (const item of batch) item.writeTried = true;
    const answer = await this.guardedCall(profileId, batch, 'write', (request) => ctx.api.execute(request));
    if (!answer) return;
    const { result } = answer;
    if (result.type !== 'answered') return;
    let throttle: Throttled | undefined;
    result.items.forEach((outcome: ApiItemOutcome, i) => {
      const item = batch[i]!;
      if (outcome.type === 'succeeded') {
        item.attempts++;
        this.record(item, 'succeeded');
        const previous = item.current === undefined ? null : JSON.stringify(item.current);
        this.settle(item, { 'sluice.ItemSucceeded': { summary: outcome.id ?? null, previous, applied: JSON.stringify(item.fieldsSet) } }, result.latencyMs);
      } else {
        this.failed(item, outcome.error, result.latencyMs, true);
        if (outcome.error instanceof Throttled) throttle ??= outcome.error;
      }
    });
    if (throttle) this.throttled(profileId, batch, throttle);
    else ctx.limiter.onSucceeded(profileId, ctx.now(), this.clientOf(batch));
  }

  private failRunnable(profileId: string, error: CallFailure, latencyMs: number, inCall: WorkItem[]): void {
    const runnable = this.queue.filter((i) => i.command.profileId === profileId && this.ctx.stateOf(i.command.jobId) === 'RUNNING');
    for (const item of runnable) this.failed(item, error, latencyMs, inCall.includes(item));
  }

  private throttled(profileId: string, batch: WorkItem[], error: Throttled): void {
    this.ctx.metrics.throttled.inc();
    this.ctx.limiter.onThrottled(profileId, this.ctx.now(), error.retryAfterMs, this.clientOf(batch));
  }

  private clientOf(batch: WorkItem[]): ClientKey {
    return this.ctx.clientOf(batch[0]!.command.tenantId);
  }

  /** One failure of one item: wait and retry in place, or give up and dead-letter it. */
  private failed(item: WorkItem, error: CallFailure, latencyMs: number, wasInCall: boolean): void {
    const now = this.ctx.now();
    if (error instanceof Throttled) {
      this.record(item, 'throttled', error);
      this.retrying(item, error, 'THROTTLED', error.retryAfterMs ?? 0, latencyMs);
      return;
    }
    if (wasInCall) item.attempts++;
    if (error instanceof Permanent) {
      this.record(item, 'permanent', error);
      this.deadLetter(item, 'PERMANENT', { errorKind: error.kind, reason: error.reason, message: error.message }, latencyMs);
      return;
    }
    this.record(item, 'transient', error);
    if (item.attempts >= this.ctx.policy.maxAttempts) {
      this.deadLetter(item, 'RETRIES_EXHAUSTED', { errorKind: error.kind, reason: 'RETRIES_EXHAUSTED', message: `${item.attempts} attempts; last: ${error.message}` }, latencyMs);
      return;
    }
    const waitMs = backoffMs(this.ctx.policy.backoff, item.attempts);
    item.notBeforeMs = now + waitMs;
    // Why it waits: its own backoff, or a breaker this failure left open (then no call is
    // made for the profile until a probe succeeds; the job's profile view marks it).
    const reason = this.ctx.breakers.blocked(item.command.profileId) ? BREAKER_OPEN : error.kind;
    this.retrying(item, error, reason, waitMs, latencyMs);
  }

  private retrying(item: WorkItem, error: CallFailure, reason: string, retryInMs: number, latencyMs: number): void {
    const errorKind = error instanceof Throttled ? 'throttled' : (error as { kind: string }).kind;
    this.ctx.metrics.items.inc({ outcome: 'retrying' });
    this.ctx.output.retrying(item, { 'sluice.ItemRetrying': { errorKind, reason, message: error.message, retryInMs } }, latencyMs);
  }

  private deadLetter(item: WorkItem, failureClass: 'PERMANENT' | 'RETRIES_EXHAUSTED', diagnosis: Diagnosis, latencyMs: number): void {
    // A verification that cannot read its entity leaves it unread: nothing to replay.
    if (item.command.purpose === 'VERIFY') return this.settle(item, { 'sluice.ItemFailed': { failureClass, ...diagnosis, deadLettered: false } }, latencyMs);
    this.ctx.metrics.items.inc({ outcome: 'dead_lettered' });
    this.settle(item, { 'sluice.ItemFailed': { failureClass, ...diagnosis, deadLettered: true } }, latencyMs, diagnosis);
  }

  /** The item is done: out of the lane, its last outcome to the output. */
  private settle(item: WorkItem, outcome: ItemOutcome, latencyMs: number | null, deadLetter?: Diagnosis): void {
    this.queue.splice(this.queue.indexOf(item), 1);
    this.lastSettledOffset = Math.max(this.lastSettledOffset, item.source.offset);
    if (!deadLetter) this.ctx.metrics.items.inc({ outcome: 'sluice.ItemCancelled' in outcome ? 'cancelled' : 'succeeded' });
    this.ctx.output.finished(item, outcome, latencyMs, deadLetter);
  }

  private record(item: WorkItem, outcome: 'succeeded' | 'throttled' | 'transient' | 'permanent', error?: CallFailure): void {
    if (item.history.length >= MAX_HISTORY) item.history.shift();
    item.trace.span.addEvent('attempt', { attempt: Math.max(1, item.attempts), outcome, ...(error ? { error: error.message } : {}) });
    item.history.push({
      attempt: Math.max(1, item.attempts),
      at: this.ctx.now(),
      outcome,
      errorKind: error ? (error instanceof Throttled ? 'throttled' : error.kind) : null,
      reason: error instanceof Permanent ? error.reason : null,
      message: error?.message ?? null,
      httpStatus: error && !(error instanceof Throttled) ? (error.httpStatus ?? null) : null,
    });
  }
}

function callResultLabel(result: CallResult): string {
  if (result.type !== 'failed') return 'answered';
  if (result.error instanceof Throttled) return 'throttled';
  return result.error instanceof Permanent ? 'permanent' : 'transient';
}
