// The adaptive per-profile rate limiter. Each profile has a token bucket whose rate moves
// the way TCP's congestion window does, adjusted to what an API limit looks like:
// - a 429 (or a THROTTLED entity) cuts the rate by a tenth, remembers the rate that was
//   too fast, empties the profile's bucket (the API's is empty: a burst saved up here
//   would only be throttled too) and holds the profile back for Retry-After (or one
//   token's time without it); at the ceiling, an isolated 429 only holds the profile
//   back, because calls sent at exactly the API's rate reach it with some jitter;
// - sustained success grows the rate back: slowly (×1.03 every hundred calls) near the last
//   rate that was throttled, so probing for spare capacity there costs under 1% of calls
//   in 429s, and quickly (×1.1 every five calls) away from it: well below it (recovering
//   from a cut) or well above it (that limit is gone);
// - never above the profile's ceiling, never below its floor.
// Pure: every method takes the clock reading, so tests drive time.
import { TokenBucket } from '../lib/token-bucket.js';

export interface ProfileRate {
  /** Calls per second to start at. */
  ratePerSecond: number;
  burst: number;
  /** The rate never grows above this (the limit the API documents, or an operator's cap). */
  ceiling: number;
}

export interface AdaptiveLimiterOptions {
  defaults: ProfileRate;
  perProfile?: Record<string, Partial<ProfileRate>>;
  /** Never slower than this many calls per second. */
  floor?: number;
}

const CUT = 0.9;
const FAST_GROWTH = { factor: 1.1, afterSuccesses: 5 };
const SLOW_GROWTH = { factor: 1.03, afterSuccesses: 100 };
/**
 * At the ceiling (the documented limit), a 429 after this many calls without one is taken
 * for jitter (a call that reached the API a little early), not for a lower limit: it
 * holds the profile back, nothing more.
 */
const ISOLATED_AFTER = 50;
/** Between these shares of the last throttled rate, growth is slow. */
const NEAR_LIMIT = { from: 0.85, to: 1.1 };

interface ProfileState {
  settings: ProfileRate;
  bucket: TokenBucket;
  blockedUntilMs: number;
  successStreak: number;
  /** Calls answered without a 429 since the last one. */
  sinceThrottle: number;
  /** The rate at which the API last said "slow down"; during a run of 429s, the first one's. */
  lastThrottledRate: number;
  throttledSinceSuccess: boolean;
  /** The last time the profile asked for a call or reported one. */
  lastUsedMs: number;
}

/** What the limiter learned of a released profile: enough to start it again where it was. */
interface Learned {
  rate: number;
  lastThrottledRate: number;
}

/** A Login-with-Amazon client's share of a profile: Amazon keeps one bucket per (client, profile). The install's own client is ''. */
export type ClientKey = string;

const bucketKey = (profileId: string, client: ClientKey) => (client === '' ? profileId : `${client}\u0000${profileId}`);

export class AdaptiveLimiter {
  /** Bucket state by profile, then by client. */
  private readonly profiles = new Map<string, Map<ClientKey, ProfileState>>();
  /** Released profiles whose rate the API had moved: a few numbers each, instead of a bucket and its state. */
  private readonly learned = new Map<string, Learned>();
  private readonly floor: number;

  constructor(private readonly options: AdaptiveLimiterOptions) {
    this.floor = options.floor ?? 0.05;
  }

  /** Takes a call's token and returns 0, or returns how long to wait before asking again. */
  reserve(profileId: string, nowMs: number, client: ClientKey = ''): number {
    const p = this.state(profileId, client, nowMs);
    if (nowMs < p.blockedUntilMs) return p.blockedUntilMs - nowMs;
    if (p.bucket.tryTake(nowMs)) return 0;
    return Math.max(1, p.bucket.waitMs(nowMs));
  }

  onThrottled(profileId: string, nowMs: number, retryAfterMs?: number, client: ClientKey = ''): void {
    const p = this.state(profileId, client, nowMs);
    const isolated = p.sinceThrottle >= ISOLATED_AFTER && p.bucket.rate >= p.settings.ceiling;
    p.sinceThrottle = 0;
    p.bucket.drain(nowMs);
    p.blockedUntilMs = Math.max(p.blockedUntilMs, nowMs + (retryAfterMs ?? 1000 / p.bucket.rate));
    if (isolated) return;
    p.lastThrottledRate = p.throttledSinceSuccess ? Math.max(p.lastThrottledRate, p.bucket.rate) : p.bucket.rate;
    p.throttledSinceSuccess = true;
    this.setRate(p, nowMs, Math.max(this.floor, p.bucket.rate * CUT));
    p.successStreak = 0;
  }

  onSucceeded(profileId: string, nowMs: number, client: ClientKey = ''): void {
    const p = this.state(profileId, client, nowMs);
    p.throttledSinceSuccess = false;
    p.sinceThrottle++;
    const rate = p.bucket.rate;
    if (rate >= p.settings.ceiling) return;
    const near = rate >= NEAR_LIMIT.from * p.lastThrottledRate && rate < NEAR_LIMIT.to * p.lastThrottledRate;
    const growth = near ? SLOW_GROWTH : FAST_GROWTH;
    if (++p.successStreak < growth.afterSuccesses) return;
    p.successStreak = 0;
    this.setRate(p, nowMs, Math.min(p.settings.ceiling, rate * growth.factor));
  }

  /** The profile's current rate (calls per second), for metrics. */
  rate(profileId: string, client: ClientKey = ''): number | undefined {
    return this.profiles.get(profileId)?.get(client)?.bucket.rate;
  }

  /** (client, profile) buckets with full state now. */
  get tracked(): number {
    let n = 0;
    for (const clients of this.profiles.values()) n += clients.size;
    return n;
  }

  /** Released profiles remembered by what they learned. */
  get remembered(): number {
    return this.learned.size;
  }

  /** Profiles neither asked for nor heard of since `sinceMs`, nor held back (Retry-After) past it. */
  *idleSince(sinceMs: number): Generator<string> {
    for (const [profileId, clients] of this.profiles) if ([...clients.values()].every((p) => p.lastUsedMs < sinceMs && p.blockedUntilMs < sinceMs)) yield profileId;
  }

  /**
   * Drops the profile's state. A rate the API moved (a learned limit, or one still held
   * back below its start) is kept, with the rate that was last throttled, so the profile
   * starts again there rather than learning its limit again with a burst of 429s.
   */
  release(profileId: string): void {
    const clients = this.profiles.get(profileId);
    if (!clients) return;
    this.profiles.delete(profileId);
    for (const [client, p] of clients) {
      const start = Math.min(p.settings.ratePerSecond, p.settings.ceiling);
      if (p.bucket.rate !== start || Number.isFinite(p.lastThrottledRate)) this.learned.set(bucketKey(profileId, client), { rate: p.bucket.rate, lastThrottledRate: p.lastThrottledRate });
    }
  }

  private state(profileId: string, client: ClientKey, nowMs: number): ProfileState {
    let clients = this.profiles.get(profileId);
    if (!clients) this.profiles.set(profileId, (clients = new Map()));
    let p = clients.get(client);
    if (!p) {
      const settings = { ...this.options.defaults, ...this.options.perProfile?.[profileId] };
      const key = bucketKey(profileId, client);
      const learned = this.learned.get(key);
      this.learned.delete(key);
      const rate = Math.min(learned?.rate ?? settings.ratePerSecond, settings.ceiling);
      p = {
        settings,
        bucket: new TokenBucket(rate, settings.burst, nowMs),
        blockedUntilMs: 0,
        successStreak: 0,
        sinceThrottle: 0,
        lastThrottledRate: learned?.lastThrottledRate ?? Infinity,
        throttledSinceSuccess: false,
        lastUsedMs: nowMs,
      };
      if (learned) this.setRate(p, nowMs, rate);
      clients.set(client, p);
    }
    p.lastUsedMs = Math.max(p.lastUsedMs, nowMs);
    return p;
  }

  // The burst shrinks with the rate: a profile cut to half its rate must not keep the
  // full burst, or its first second after a pause would be throttled again.
  private setRate(p: ProfileState, nowMs: number, rate: number): void {
    const burst = Math.max(1, Math.min(p.settings.burst, p.settings.burst * (rate / p.settings.ceiling)));
    p.bucket.reconfigure(nowMs, rate, burst);
  }
}
