// The Ads API's throttling as the simulator models it: a token bucket per (client id,
// profile) and, optionally, one per client id over all its profiles.
import { TokenBucket } from '../lib/token-bucket.js';
import type { Knobs } from './knobs.js';

export class RateLimiter {
  private buckets = new Map<string, TokenBucket>();
  private version = -1;

  constructor(private readonly knobs: Knobs) {}

  /** Whether the call may proceed; it costs `cost` tokens of both buckets if so. */
  admit(clientId: string, profileId: string, cost: number, nowMs: number): boolean {
    if (this.version !== this.knobs.rateLimitVersion) {
      this.buckets.clear(); // limits changed: start every bucket afresh
      this.version = this.knobs.rateLimitVersion;
    }
    const profileBucket = this.bucket(`${clientId}|${profileId}`, () => this.knobs.rateLimitFor(profileId), nowMs);
    const global = this.knobs.current.globalRateLimit;
    const clientBucket = global ? this.bucket(clientId, () => global, nowMs) : undefined;
    if (profileBucket.waitMs(nowMs, cost) > 0 || (clientBucket && clientBucket.waitMs(nowMs, cost) > 0)) return false;
    profileBucket.tryTake(nowMs, cost);
    clientBucket?.tryTake(nowMs, cost);
    return true;
  }

  private bucket(key: string, limit: () => { ratePerSecond: number; burst: number }, nowMs: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const { ratePerSecond, burst } = limit();
      bucket = new TokenBucket(ratePerSecond, burst, nowMs);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
