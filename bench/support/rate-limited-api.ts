// The rate-limited Ads API of the `ratelimit` and `fleet` scenarios: each profile may make
// 2 calls/s (burst 2) of up to 5 entities, 20 ms latency, and a 429 carries no
// Retry-After (as the real API's often does not), so a caller has to find its own pace.
import { benchProfiles } from './pipeline-run.js';

export const RATE = { ratePerSecond: 2, burst: 2 };
export const ENTITIES_PER_CALL = 5;

export function rateLimitedSimulator(profiles: number, perProfile: number) {
  return {
    profiles: benchProfiles(profiles, perProfile),
    generate: { profilesPerRegion: 0 },
    rateLimit: RATE,
    maxEntitiesPerCall: ENTITIES_PER_CALL,
    latency: { p50Ms: 20, p99Ms: 20 },
    retryAfter: false,
  };
}

/**
 * Sluice's executor is told the documented rate and a burst of 1: one token of the API's
 * bucket kept in reserve absorbs calls that arrive a little early.
 */
export const SLUICE_EXECUTOR_ENV = { SLUICE_PROFILE_RATE: String(RATE.ratePerSecond), SLUICE_PROFILE_BURST: String(RATE.burst - 1), SLUICE_MAX_BATCH_SIZE: String(ENTITIES_PER_CALL) };

/** The shortest makespan a profile's calls allow: a burst, then the rest at the rate. */
export function idealMakespanS(perProfile: number, itemsPerCall: number): number {
  return (perProfile / itemsPerCall - RATE.burst) / RATE.ratePerSecond;
}
