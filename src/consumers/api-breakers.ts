// Circuit breakers (opossum): one per profile and one for the API as a whole. A call
// counts against them when it says something about the API's or the profile's health:
// transient failures (5xx, timeouts, connection errors) count against both, a profile's
// lost access (401/403) only against that profile. Throttling never counts: the limiter
// handles it. An open breaker only makes lanes wait; after its reset timeout one call
// goes through as a probe, and its outcome closes or reopens the breaker. The breakers
// never decide what becomes of an item.
import { EventEmitter, once } from 'node:events';
import CircuitBreaker from 'opossum';
import type { CallResult } from '../domain/api-client.js';
import { Permanent, Transient, type CallFailure } from '../domain/errors.js';

export interface BreakerSettings {
  /** Calls in the rolling window before the breaker may open. */
  volumeThreshold: number;
  /** Share of failed calls (percent) above which it opens. */
  errorThresholdPercentage: number;
  /** How long it stays open before a probe. */
  resetTimeoutMs: number;
  rollingWindowMs: number;
}

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export type GuardedCall<R extends CallResult = CallResult> =
  | { type: 'called'; result: R; /** The call was a half-open breaker's probe. */ probe: boolean }
  | { type: 'open'; scope: 'api' | 'profile' };

/** Kinds of call failure that mean the profile cannot be used at all right now. */
const PROFILE_ACCESS_KINDS = new Set(['unauthorized', 'forbidden']);

export function isProfileAccessFailure(result: CallResult): boolean {
  return result.type === 'failed' && result.error instanceof Permanent && PROFILE_ACCESS_KINDS.has(result.error.kind);
}

/** Carries a failed call's result through the breaker, which counts thrown errors. */
class UnhealthyCall extends Error {
  constructor(readonly result: CallResult) {
    super('unhealthy call');
  }
}

type Call = () => Promise<CallResult>;

/**
 * Slices of a profile breaker's rolling window. Ten thousand profiles each have one, and
 * opossum keeps a counts object (and a list of latencies) per slice: three slices keep
 * the window rolling at a tenth of the memory of its default ten.
 */
const PROFILE_WINDOW_BUCKETS = 3;

export class ApiBreakers {
  private readonly api: CircuitBreaker<[Call], CallResult>;
  private readonly profiles = new Map<string, CircuitBreaker<[Call], CallResult>>();
  private readonly lostAccess = new Map<string, CallFailure>();
  /** Turns every profile breaker's window on one timer, not one (or two) timers each. */
  private readonly windowTurns = new EventEmitter().setMaxListeners(0);
  private readonly windowTimer: NodeJS.Timeout;

  constructor(
    private readonly settings: { api: BreakerSettings; profile: BreakerSettings },
    private readonly onStateChange: (scope: string, state: BreakerState) => void = () => undefined,
  ) {
    // The API breaker wraps the profile breaker's fire: it ignores a profile's lost access
    // and a profile breaker that is open, and counts the rest.
    this.api = this.create('*', settings.api, (error) => !(error instanceof UnhealthyCall) || isProfileAccessFailure(error.result));
    this.windowTimer = setInterval(() => this.windowTurns.emit('rotate'), Math.floor(settings.profile.rollingWindowMs / PROFILE_WINDOW_BUCKETS)).unref();
  }

  // (the breakers hand back the result `call` made: R in, R out)
  async run<R extends CallResult>(profileId: string, call: () => Promise<R>): Promise<GuardedCall<R>> {
    const profile = this.profile(profileId);
    const probe = this.api.halfOpen || profile.halfOpen;
    try {
      return { type: 'called', result: (await this.api.fire(() => profile.fire(call))) as R, probe };
    } catch (error) {
      if (error instanceof UnhealthyCall) return { type: 'called', result: error.result as R, probe };
      if (isOpenBreaker(error)) return { type: 'open', scope: this.api.opened && !this.api.halfOpen ? 'api' : 'profile' };
      throw error;
    }
  }

  /**
   * A probe found the profile's access lost: until its breaker lets a call through again,
   * the profile's items fail with this, without a call (its lanes may come and go meanwhile).
   */
  accessLost(profileId: string, failure?: CallFailure): CallFailure | undefined {
    if (failure) this.lostAccess.set(profileId, failure);
    return this.blocked(profileId) ? this.lostAccess.get(profileId) : undefined;
  }

  /** Whether the API's or the profile's breaker is open (a call now would be refused). */
  blocked(profileId: string): boolean {
    return [this.api, this.profile(profileId)].some((breaker) => breaker.opened && !breaker.halfOpen);
  }

  /** Resolves once neither the API's nor the profile's breaker is open. */
  async callable(profileId: string, signal?: AbortSignal): Promise<void> {
    for (const breaker of [this.api, this.profile(profileId)]) {
      if (breaker.opened && !breaker.halfOpen) await once(breaker, 'halfOpen', { signal });
    }
  }

  state(profileId: string): BreakerState {
    return stateOf(this.profile(profileId));
  }

  /** Profiles with a breaker now. */
  get tracked(): number {
    return this.profiles.size;
  }

  /**
   * Drops an idle profile's breaker (and its timers) if it is closed: a closed breaker
   * with its counts forgotten is what a new one is. An open or half-open one stays: what
   * it knows (the profile is failing, or has lost its access) must not be forgotten.
   */
  release(profileId: string): boolean {
    const breaker = this.profiles.get(profileId);
    if (!breaker) return true;
    if (breaker.opened || breaker.halfOpen || this.lostAccess.has(profileId)) return false;
    breaker.shutdown();
    this.profiles.delete(profileId);
    return true;
  }

  shutdown(): void {
    clearInterval(this.windowTimer);
    this.api.shutdown();
    for (const b of this.profiles.values()) b.shutdown();
  }

  private profile(profileId: string): CircuitBreaker<[Call], CallResult> {
    let breaker = this.profiles.get(profileId);
    if (!breaker) {
      breaker = this.create(profileId, this.settings.profile, (error) => !(error instanceof UnhealthyCall), { rollingCountBuckets: PROFILE_WINDOW_BUCKETS, rotateBucketController: this.windowTurns });
      breaker.on('halfOpen', () => this.lostAccess.delete(profileId));
      this.profiles.set(profileId, breaker);
    }
    return breaker;
  }

  private create(scope: string, s: BreakerSettings, ignored: (error: unknown) => boolean, window: CircuitBreaker.Options = {}): CircuitBreaker<[Call], CallResult> {
    const breaker = new CircuitBreaker<[Call], CallResult>(
      async (call: Call) => {
        const result = await call();
        if (result.type === 'failed' && (result.error instanceof Transient || isProfileAccessFailure(result))) throw new UnhealthyCall(result);
        return result;
      },
      {
        timeout: false, // the HTTP client has its own timeouts
        volumeThreshold: s.volumeThreshold,
        errorThresholdPercentage: s.errorThresholdPercentage,
        resetTimeout: s.resetTimeoutMs,
        rollingCountTimeout: s.rollingWindowMs,
        errorFilter: ignored,
        // No percentiles and no snapshot events: nothing reads them (latency is our own histogram).
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
        ...window,
      },
    );
    const report = () => this.onStateChange(scope, stateOf(breaker));
    breaker.on('open', report);
    breaker.on('halfOpen', report);
    breaker.on('close', report);
    return breaker;
  }
}

function stateOf(breaker: CircuitBreaker): BreakerState {
  if (breaker.halfOpen) return 'halfOpen';
  return breaker.opened ? 'open' : 'closed';
}

function isOpenBreaker(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: string }).code === 'EOPENBREAKER';
}
