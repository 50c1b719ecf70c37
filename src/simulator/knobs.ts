// The settings a running simulator can be changed through (PUT /_admin/knobs): fault
// knobs globally and per profile, rate limits, Retry-After, latency, batch limit and
// error style. Every random fault decision is drawn here from the seeded generator.
import { z } from 'zod';
import { faultKnobsSchema, simulatorConfigSchema, type FaultKnobs, type RateLimit, type SimulatorConfig } from './config.js';
import type { EntityFault } from './entity-store.js';
import { latencySampler, seededRandom } from './random.js';

const rate = simulatorConfigSchema.shape.rateLimit.unwrap();

/** A change to the knobs; absent fields stay as they are, `null` clears an override. */
export const knobsPatchSchema = z
  .object({
    faults: faultKnobsSchema.partial(),
    profileFaults: z.record(z.string(), faultKnobsSchema.partial().nullable()),
    rateLimit: rate,
    profileRateLimits: z.record(z.string(), rate.nullable()),
    globalRateLimit: rate.nullable(),
    retryAfter: z.boolean(),
    retryAfterSeconds: z.number().int().min(1),
    latency: z.object({ p50Ms: z.number().min(0), p99Ms: z.number().min(0) }),
    maxEntitiesPerCall: z.number().int().min(1),
    errorTypeStyle: z.enum(['kind', 'code']),
    gatewayTimeoutDelayMs: z.number().int().min(0),
    timeoutAfterCommitDelayMs: z.number().int().min(0),
  })
  .partial()
  .strict();
export type KnobsPatch = z.infer<typeof knobsPatchSchema>;

export interface KnobsView {
  faults: FaultKnobs;
  profileFaults: Record<string, Partial<FaultKnobs>>;
  rateLimit: RateLimit;
  profileRateLimits: Record<string, RateLimit>;
  globalRateLimit: RateLimit | null;
  retryAfter: boolean;
  retryAfterSeconds: number;
  latency: { p50Ms: number; p99Ms: number };
  maxEntitiesPerCall: number;
  errorTypeStyle: 'kind' | 'code';
  gatewayTimeoutDelayMs: number;
  timeoutAfterCommitDelayMs: number;
}

/** What happens to one call before it reaches the entities, decided by the fault knobs. */
export type CallFault = 'reset' | 'http500' | 'http502' | 'http504' | undefined;

export class Knobs {
  private view: KnobsView;
  private readonly random: () => number;
  private sampleLatency: () => number;
  /** Bumped on every rate-limit change, so the limiter knows to rebuild its buckets. */
  rateLimitVersion = 0;

  constructor(config: SimulatorConfig) {
    this.random = seededRandom(config.seed);
    this.view = {
      faults: config.faults,
      profileFaults: Object.fromEntries(config.profiles.filter((p) => p.faults).map((p) => [p.profileId, p.faults!])),
      rateLimit: config.rateLimit,
      profileRateLimits: Object.fromEntries(config.profiles.filter((p) => p.rateLimit).map((p) => [p.profileId, p.rateLimit!])),
      globalRateLimit: config.globalRateLimit ?? null,
      retryAfter: config.retryAfter,
      retryAfterSeconds: config.retryAfterSeconds,
      latency: config.latency,
      maxEntitiesPerCall: config.maxEntitiesPerCall,
      errorTypeStyle: config.errorTypeStyle,
      gatewayTimeoutDelayMs: config.gatewayTimeoutDelayMs,
      timeoutAfterCommitDelayMs: config.timeoutAfterCommitDelayMs,
    };
    this.sampleLatency = latencySampler(this.random, config.latency.p50Ms, config.latency.p99Ms);
  }

  get current(): Readonly<KnobsView> {
    return this.view;
  }

  apply(patch: KnobsPatch): void {
    const v = this.view;
    if (patch.faults) v.faults = { ...v.faults, ...patch.faults };
    if (patch.profileFaults) v.profileFaults = mergeOverrides(v.profileFaults, patch.profileFaults, (old, next) => ({ ...old, ...next }));
    if (patch.profileRateLimits) v.profileRateLimits = mergeOverrides(v.profileRateLimits, patch.profileRateLimits, (_old, next) => next);
    if (patch.rateLimit) v.rateLimit = patch.rateLimit;
    if (patch.globalRateLimit !== undefined) v.globalRateLimit = patch.globalRateLimit;
    if (patch.rateLimit || patch.profileRateLimits || patch.globalRateLimit !== undefined) this.rateLimitVersion++;
    for (const key of ['retryAfter', 'retryAfterSeconds', 'maxEntitiesPerCall', 'errorTypeStyle', 'gatewayTimeoutDelayMs', 'timeoutAfterCommitDelayMs'] as const) {
      if (patch[key] !== undefined) (v as unknown as Record<string, unknown>)[key] = patch[key];
    }
    if (patch.latency) {
      v.latency = patch.latency;
      this.sampleLatency = latencySampler(this.random, patch.latency.p50Ms, patch.latency.p99Ms);
    }
  }

  /** The profile's fault knobs: its overrides over the global ones. */
  faultsFor(profileId: string | undefined): FaultKnobs {
    const own = profileId ? this.view.profileFaults[profileId] : undefined;
    return own ? { ...this.view.faults, ...own } : this.view.faults;
  }

  rateLimitFor(profileId: string): RateLimit {
    return this.view.profileRateLimits[profileId] ?? this.view.rateLimit;
  }

  latencyMs(): number {
    return this.sampleLatency();
  }

  callFault(knobs: FaultKnobs): CallFault {
    if (this.chance(knobs.connectionReset)) return 'reset';
    if (this.chance(knobs.http500)) return 'http500';
    if (this.chance(knobs.http502)) return 'http502';
    if (this.chance(knobs.http504)) return 'http504';
    return undefined;
  }

  entityFault(knobs: FaultKnobs): EntityFault {
    if (this.chance(knobs.entityThrottled)) return 'throttled';
    if (this.chance(knobs.entityInternalError)) return 'internal';
    if (this.chance(knobs.acknowledgedNotApplied)) return 'ignored';
    return undefined;
  }

  chance(probability: number): boolean {
    return probability > 0 && (probability >= 1 || this.random() < probability);
  }
}

function mergeOverrides<T, P>(current: Record<string, T>, patch: Record<string, P | null>, merge: (old: T | undefined, next: P) => T): Record<string, T> {
  const out = { ...current };
  for (const [id, next] of Object.entries(patch)) {
    if (next === null) delete out[id];
    else out[id] = merge(out[id], next);
  }
  return out;
}
