// A circuit breaker small enough to hold one per profile for ten thousand profiles.
// opossum's breaker (kept for the API as a whole) weighs about 4.7 KB with its emitter,
// semaphore, status window and listeners: 47 MB for 10,000 profiles. This one is a
// handful of numbers. Its rolling window is counted in slices found from the clock (the
// slice of a moment is floor(now / sliceMs)), so a closed breaker needs no timer at all;
// an open one holds a single unref'd timer until its probe.

export interface BreakerSettings {
  /** Calls in the rolling window before the breaker may open. */
  volumeThreshold: number;
  /** Share of failed calls (percent) above which it opens. */
  errorThresholdPercentage: number;
  /** How long it stays open before a probe (ms). */
  resetTimeoutMs: number;
  /** The window whose calls count (ms). */
  rollingWindowMs: number;
}

export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** What a breaker lets a caller do: call, call as the half-open breaker's probe, or nothing. */
export type Admission = 'call' | 'probe' | false;

/** Shared by every profile breaker: their settings and whom to tell of a change. */
export interface ProfileBreakerPolicy {
  settings: BreakerSettings;
  onChange: (profileId: string, state: BreakerState) => void;
}

/** Slices of the rolling window: the window rolls a third at a time. */
const WINDOW_SLICES = 3;

export class ProfileBreaker {
  private current: BreakerState = 'closed';
  /** Calls and failures per slice, as [calls, failures] pairs in ring order. */
  private readonly counts = new Array<number>(WINDOW_SLICES * 2).fill(0);
  /** The slice the newest counts belong to. */
  private newestSlice = 0;
  private probing = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> | undefined;

  constructor(
    readonly profileId: string,
    private readonly policy: ProfileBreakerPolicy,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Takes a place for one call: any while closed, the one probe while half-open, none while open. */
  admit(): Admission {
    if (this.current === 'closed') return 'call';
    if (this.current === 'open' || this.probing) return false;
    this.probing = true;
    return 'probe';
  }

  /**
   * Counts an admitted call's outcome. A probe decides alone: healthy closes the breaker
   * with a fresh window (opossum keeps the old counts; starting clean means one bad
   * slice after recovery does not reopen it at once), unhealthy opens it again. A call
   * admitted while closed that ends after the breaker opened tells nothing new.
   */
  settle(healthy: boolean, admission: Admission, now = Date.now()): void {
    if (admission === 'probe') {
      this.probing = false;
      if (healthy) this.close();
      else this.open();
      return;
    }
    if (this.current !== 'closed') return;
    const failures = this.record(healthy, now);
    const calls = this.sum(0);
    const { volumeThreshold, errorThresholdPercentage } = this.policy.settings;
    if (!healthy && calls >= volumeThreshold && (failures / calls) * 100 > errorThresholdPercentage) this.open();
  }

  /** Resolves once the breaker is not open (at once if it is not); rejects when the signal aborts. */
  whenCallable(signal?: AbortSignal): Promise<void> {
    if (this.current !== 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiters = (this.waiters ??= []);
      const onAbort = () => {
        waiters.splice(waiters.indexOf(wake), 1);
        reject(signal!.reason);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(wake);
    });
  }

  shutdown(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private open(): void {
    this.shutdown();
    this.current = 'open';
    this.probeTimer = setTimeout(() => this.halfOpen(), this.policy.settings.resetTimeoutMs).unref();
    this.policy.onChange(this.profileId, 'open');
  }

  private halfOpen(): void {
    this.probeTimer = undefined;
    this.current = 'halfOpen';
    const waiters = this.waiters ?? [];
    this.waiters = undefined;
    for (const wake of waiters) wake();
    this.policy.onChange(this.profileId, 'halfOpen');
  }

  private close(): void {
    this.current = 'closed';
    this.counts.fill(0);
    this.policy.onChange(this.profileId, 'closed');
  }

  /** Adds the call to its slice (clearing the slices passed since the newest) and returns the window's failures. */
  private record(healthy: boolean, now: number): number {
    const slice = Math.floor(now / (this.policy.settings.rollingWindowMs / WINDOW_SLICES));
    const passed = Math.min(slice - this.newestSlice, WINDOW_SLICES);
    for (let step = 1; step <= passed; step++) {
      const cleared = ringIndex(this.newestSlice + step);
      this.counts.fill(0, cleared, cleared + 2);
    }
    this.newestSlice = Math.max(slice, this.newestSlice);
    const at = ringIndex(this.newestSlice);
    this.counts[at]! += 1;
    if (!healthy) this.counts[at + 1]! += 1;
    return this.sum(1);
  }

  private sum(field: 0 | 1): number {
    let total = 0;
    for (let i = field; i < this.counts.length; i += 2) total += this.counts[i]!;
    return total;
  }
}

/** Where a slice's [calls, failures] pair sits in the ring. */
function ringIndex(slice: number): number {
  return (slice % WINDOW_SLICES) * 2;
}
