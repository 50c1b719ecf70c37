// One profile's lane: its items in submission order, run one API call at a time, so the
// profile's order holds (a retry happens in place, before anything later of the lane).
// Many lanes run at once, so a throttled, slow or failing profile holds up only itself.
// Each turn the lane plans a batch (batch-planner), waits for any backoff, for an open
// breaker, for the rate limiter's token and, for a batch not yet full, a short linger;
// then makes the call and settles every item from the answer, by index.
import type { ApiClient, BatchResult, ItemOutcome as ApiItemOutcome } from '../domain/api-client.js';
import { Permanent, Throttled, type CallFailure } from '../domain/errors.js';
import type { ControlState, ItemOutcome } from '../domain/events.js';
import { Signal } from '../lib/signal.js';
import type { AdaptiveLimiter } from './adaptive-limiter.js';
import { isProfileAccessFailure, type ApiBreakers } from './api-breakers.js';
import { backoffMs, type BackoffPolicy } from './backoff.js';
import { planNext } from './batch-planner.js';
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
}

export interface LaneOutput {
  /** An outcome after which the item will be tried again. */
  retrying(item: WorkItem, outcome: ItemOutcome, latencyMs: number | null): void;
  /** The item's last outcome; with a diagnosis, the item is dead-lettered too. */
  finished(item: WorkItem, outcome: ItemOutcome, latencyMs: number | null, deadLetter?: Diagnosis): void;
}

export interface LaneContext {
  api: ApiClient;
  limiter: AdaptiveLimiter;
  breakers: ApiBreakers;
  stateOf: (jobId: string) => ControlState;
  policy: LanePolicy;
  output: LaneOutput;
  metrics: ExecutorMetrics;
  logger: Logger;
  now: () => number;
}

/** How long a lane with only paused items sleeps before it looks again (a control change wakes it sooner). */
const HELD_RECHECK_MS = 1_000;

/** Attempt records kept per item (the latest ones), so a long throttled stretch stays small. */
const MAX_HISTORY = 20;

export class ProfileLane {
  private queue: WorkItem[] = [];
  private readonly wake = new Signal();
  private readonly abort = new AbortController();
  private stopping = false;
  private running: Promise<void> | undefined;
  private lingerUntilMs: number | undefined;

  constructor(
    /** The profile id (or, in partition scope, the partition) whose items the lane runs. */
    readonly key: string,
    private readonly ctx: LaneContext,
    /** Called when the lane has run out of work (the executor then drops it). */
    private readonly onIdle: (lane: ProfileLane) => void,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  push(item: WorkItem): void {
    this.queue.push(item);
    this.wake.notify();
    if (!this.running && !this.stopping) {
      this.running = this.run().finally(() => {
        this.running = undefined;
        this.onIdle(this);
      });
    }
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
    const { ctx } = this;
    while (!this.stopping && this.queue.length > 0) {
      const plan = planNext(this.queue, ctx.stateOf, ctx.policy.maxBatchSize);
      for (const item of plan.cancelled) this.settle(item, { 'sluice.ItemCancelled': { reason: 'job cancelled' } }, null);
      const batch = plan.batch;
      const head = batch[0];
      if (!head) {
        if (plan.held > 0) await this.wake.wait(HELD_RECHECK_MS);
        continue;
      }
      const now = ctx.now();
      if (head.notBeforeMs > now) {
        await this.wake.wait(head.notBeforeMs - now);
        continue;
      }
      if (this.shouldLinger(batch, now)) {
        await this.wake.wait(this.lingerUntilMs! - now);
        continue;
      }
      const profileId = head.command.profileId;
      await this.whenBreakersAllow(profileId);
      if (this.stopping) break;
      const waitMs = ctx.limiter.reserve(profileId, ctx.now());
      if (waitMs > 0) {
        await this.wake.wait(waitMs);
        continue;
      }
      this.lingerUntilMs = undefined;
      await this.call(profileId, batch);
      ctx.metrics.profileRate.set({ profile: profileId }, ctx.limiter.rate(profileId) ?? 0);
    }
  }

  // A first try that is not full waits a moment for more of its kind; a retry never does.
  private shouldLinger(batch: WorkItem[], now: number): boolean {
    const head = batch[0]!;
    const limit = Math.min(this.ctx.policy.maxBatchSize, head.maxBatchSize);
    if (batch.length >= limit || head.history.length > 0 || this.ctx.policy.lingerMs <= 0) return false;
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

  private async call(profileId: string, batch: WorkItem[]): Promise<void> {
    const { ctx } = this;
    const operation = batch[0]!.command.operation;
    const guarded = await ctx.breakers.run(profileId, () =>
      ctx.api.execute({ profileId, items: batch.map((i) => ({ operation: i.command.operation, payload: i.payload })) }),
    );
    if (guarded.type === 'open') return; // the next turn waits for the breaker
    const { result, probe } = guarded;
    if (ctx.logger.isLevelEnabled('debug')) {
      // Built only when wanted: this runs for every API call.
      ctx.logger.debug(
        { jobIds: [...new Set(batch.map((i) => i.command.jobId))], tenantId: batch[0]!.command.tenantId, profileId, operation, batchSize: batch.length, result: callResultLabel(result), durationMs: result.latencyMs },
        'api call',
      );
    }
    ctx.metrics.callSeconds.observe({ operation }, result.latencyMs / 1000);
    ctx.metrics.calls.inc({ operation, result: callResultLabel(result) });
    if (result.type === 'failed') {
      if (probe && isProfileAccessFailure(result)) {
        // The probe confirmed the profile cannot be used: every runnable item of the lane
        // would fail the same way, so they are dead-lettered now, not one call each.
        const runnable = this.queue.filter((i) => i.command.profileId === profileId && ctx.stateOf(i.command.jobId) === 'RUNNING');
        for (const item of runnable) this.failed(item, result.error, result.latencyMs, batch.includes(item));
        return;
      }
      for (const item of batch) this.failed(item, result.error, result.latencyMs, true);
      if (result.error instanceof Throttled) this.throttled(profileId, result.error);
      return;
    }
    let throttle: Throttled | undefined;
    result.items.forEach((outcome: ApiItemOutcome, i) => {
      const item = batch[i]!;
      if (outcome.type === 'succeeded') {
        item.attempts++;
        this.record(item, 'succeeded');
        this.settle(item, { 'sluice.ItemSucceeded': { summary: outcome.id ?? null } }, result.latencyMs);
      } else {
        this.failed(item, outcome.error, result.latencyMs, true);
        if (outcome.error instanceof Throttled) throttle ??= outcome.error;
      }
    });
    if (throttle) this.throttled(profileId, throttle);
    else ctx.limiter.onSucceeded(profileId, ctx.now());
  }

  private throttled(profileId: string, error: Throttled): void {
    this.ctx.metrics.throttled.inc();
    this.ctx.limiter.onThrottled(profileId, this.ctx.now(), error.retryAfterMs);
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
    this.retrying(item, error, error.kind, waitMs, latencyMs);
  }

  private retrying(item: WorkItem, error: CallFailure, reason: string, retryInMs: number, latencyMs: number): void {
    const errorKind = error instanceof Throttled ? 'throttled' : (error as { kind: string }).kind;
    this.ctx.metrics.items.inc({ outcome: 'retrying' });
    this.ctx.output.retrying(item, { 'sluice.ItemRetrying': { errorKind, reason, message: error.message, retryInMs } }, latencyMs);
  }

  private deadLetter(item: WorkItem, failureClass: 'PERMANENT' | 'RETRIES_EXHAUSTED', diagnosis: Diagnosis, latencyMs: number): void {
    this.ctx.metrics.items.inc({ outcome: 'dead_lettered' });
    this.settle(item, { 'sluice.ItemFailed': { failureClass, ...diagnosis, deadLettered: true } }, latencyMs, diagnosis);
  }

  /** The item is done: out of the lane, its last outcome to the output. */
  private settle(item: WorkItem, outcome: ItemOutcome, latencyMs: number | null, deadLetter?: Diagnosis): void {
    this.queue.splice(this.queue.indexOf(item), 1);
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

function callResultLabel(result: BatchResult): string {
  if (result.type === 'answered') return 'answered';
  if (result.error instanceof Throttled) return 'throttled';
  return result.error instanceof Permanent ? 'permanent' : 'transient';
}
