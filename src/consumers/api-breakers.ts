// Circuit breakers: one per profile and one for the API as a whole. A call counts
// against them when it says something about the API's or the profile's health: transient
// failures (5xx, timeouts, connection errors) count against both, a profile's lost access
// (401/403) only against that profile. Throttling never counts: the limiter handles it.
// An open breaker only makes lanes wait; after its reset timeout one call goes through as
// a probe, and its outcome closes or reopens the breaker. The breakers never decide what
// becomes of an item. The API's breaker is opossum's; a profile's is our own compact one
// (profile-breaker.ts), since ten thousand of opossum's would weigh 47 MB.
import { once } from 'node:events';
import CircuitBreaker from 'opossum';
import type { CallResult } from '../domain/api-client.js';
import { Permanent, Transient, type CallFailure } from '../domain/errors.js';
import { ProfileBreaker, type Admission, type BreakerSettings, type BreakerState, type ProfileBreakerPolicy } from './profile-breaker.js';

export type { BreakerSettings, BreakerState } from './profile-breaker.js';

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

/** The profile's breaker refused the call (it is open, or half-open with its probe out). */
class ProfileOpen extends Error {
  constructor() {
    super('profile breaker open');
  }
}

type Call = () => Promise<CallResult>;

/** What the breakers count against a profile (and, but for lost access, the API). */
function isUnhealthy(result: CallResult): boolean {
  return result.type === 'failed' && (result.error instanceof Transient || isProfileAccessFailure(result));
}

export class ApiBreakers {
  private readonly api: CircuitBreaker<[Call], CallResult>;
  private readonly profiles = new Map<string, ProfileBreaker>();
  private readonly lostAccess = new Map<string, CallFailure>();
  private readonly profilePolicy: ProfileBreakerPolicy;

  constructor(
    settings: { api: BreakerSettings; profile: BreakerSettings },
    onStateChange: (scope: string, state: BreakerState) => void = () => undefined,
  ) {
    this.api = new CircuitBreaker<[Call], CallResult>((call: Call) => call(), {
      timeout: false, // the HTTP client has its own timeouts
      volumeThreshold: settings.api.volumeThreshold,
      errorThresholdPercentage: settings.api.errorThresholdPercentage,
      resetTimeout: settings.api.resetTimeoutMs,
      rollingCountTimeout: settings.api.rollingWindowMs,
      // The API breaker wraps the profile's: it ignores a profile's lost access and a
      // profile breaker that refused, and counts the rest.
      errorFilter: (error: unknown) => !(error instanceof UnhealthyCall) || isProfileAccessFailure(error.result),
      // No percentiles and no snapshot events: nothing reads them (latency is our own histogram).
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    const report = () => onStateChange('*', this.apiState());
    this.api.on('open', report);
    this.api.on('halfOpen', report);
    this.api.on('close', report);
    this.profilePolicy = {
      settings: settings.profile,
      onChange: (profileId, state) => {
        // A probe is due: it finds out whether the profile's access is back.
        if (state === 'halfOpen') this.lostAccess.delete(profileId);
        onStateChange(profileId, state);
      },
    };
  }

  // (the breakers hand back the result `call` made: R in, R out)
  async run<R extends CallResult>(profileId: string, call: () => Promise<R>): Promise<GuardedCall<R>> {
    const profile = this.profile(profileId);
    const apiProbe = this.api.halfOpen;
    // (set inside the API breaker's call, read after it)
    let admission = false as Admission;
    try {
      const result = await this.api.fire(async () => {
        admission = profile.admit();
        if (!admission) throw new ProfileOpen();
        let outcome: CallResult;
        try {
          outcome = await call();
        } catch (error) {
          // Not the API's answer (a bug of ours): it says nothing about the profile's health.
          profile.settle(true, admission);
          throw error;
        }
        profile.settle(!isUnhealthy(outcome), admission);
        if (isUnhealthy(outcome)) throw new UnhealthyCall(outcome);
        return outcome;
      });
      return { type: 'called', result: result as R, probe: apiProbe || admission === 'probe' };
    } catch (error) {
      if (error instanceof UnhealthyCall) return { type: 'called', result: error.result as R, probe: apiProbe || admission === 'probe' };
      if (error instanceof ProfileOpen) return { type: 'open', scope: 'profile' };
      if (isOpenBreaker(error)) return { type: 'open', scope: 'api' };
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
    return this.apiState() === 'open' || this.state(profileId) === 'open';
  }

  /** Resolves once neither the API's nor the profile's breaker is open. */
  async callable(profileId: string, signal?: AbortSignal): Promise<void> {
    if (this.apiState() === 'open') await once(this.api, 'halfOpen', { signal });
    await this.profiles.get(profileId)?.whenCallable(signal);
  }

  state(profileId: string): BreakerState {
    return this.profiles.get(profileId)?.state ?? 'closed';
  }

  /** Profiles with a breaker now. */
  get tracked(): number {
    return this.profiles.size;
  }

  /**
   * Drops an idle profile's breaker (and its timer) if it is closed: a closed breaker
   * with its counts forgotten is what a new one is. An open or half-open one stays: what
   * it knows (the profile is failing, or has lost its access) must not be forgotten.
   */
  release(profileId: string): boolean {
    const breaker = this.profiles.get(profileId);
    if (!breaker) return true;
    if (breaker.state !== 'closed' || this.lostAccess.has(profileId)) return false;
    breaker.shutdown();
    this.profiles.delete(profileId);
    return true;
  }

  shutdown(): void {
    this.api.shutdown();
    for (const breaker of this.profiles.values()) breaker.shutdown();
  }

  private profile(profileId: string): ProfileBreaker {
    let breaker = this.profiles.get(profileId);
    if (!breaker) {
      breaker = new ProfileBreaker(profileId, this.profilePolicy);
      this.profiles.set(profileId, breaker);
    }
    return breaker;
  }

  private apiState(): BreakerState {
    if (this.api.halfOpen) return 'halfOpen';
    return this.api.opened ? 'open' : 'closed';
  }
}

function isOpenBreaker(error: unknown): boolean {
  return error instanceof Error && (error as Error & { code?: string }).code === 'EOPENBREAKER';
}
