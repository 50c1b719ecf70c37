// The simulator's configuration: accounts, profiles per region, generated entities,
// rate limits and fault knobs. Read from a JSON file (SIMULATOR_CONFIG) or built by
// tests; validated here so a typo fails at start-up with the field's name.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

import { REGIONS, type Region } from '../ads-api/regions.js';

export { REGIONS, type Region };

const rate = z.object({
  ratePerSecond: z.number().positive(),
  burst: z.number().min(1),
});
export type RateLimit = z.infer<typeof rate>;

const probability = z.number().min(0).max(1);

/** Each knob is a probability per call (or per entity), or a switch, or a delay. */
export const faultKnobsSchema = z.object({
  http500: probability.default(0),
  http502: probability.default(0),
  /** 504 `Endpoint request timed out`, answered after gatewayTimeoutDelayMs. */
  http504: probability.default(0),
  connectionReset: probability.default(0),
  /** The write is applied, then the answer is held for timeoutAfterCommitDelayMs. */
  timeoutAfterCommit: probability.default(0),
  /** Per entity in a mutation: THROTTLED / INTERNAL_ERROR in the 207 body. */
  entityThrottled: probability.default(0),
  entityInternalError: probability.default(0),
  /** Per entity in an update: the 207 reports success and nothing changes (ads-advanced-tools-docs#160). */
  acknowledgedNotApplied: probability.default(0),
  /** Every call of the profile answers 429 while this is on. */
  stickyThrottle: z.boolean().default(false),
  /** The profile's access was revoked: every call answers 401. */
  revokedAuth: z.boolean().default(false),
  /** List pages shift as if data changed between pages: duplicates and gaps appear. */
  listDrift: z.boolean().default(false),
});
export type FaultKnobs = z.infer<typeof faultKnobsSchema>;

const profileSchema = z.object({
  profileId: z.string().regex(/^\d+$/, 'digits only'),
  region: z.enum(REGIONS),
  countryCode: z.string().length(2).default('US'),
  currencyCode: z.string().length(3).default('USD'),
  timezone: z.string().default('America/Los_Angeles'),
  accountName: z.string().optional(),
  keywords: z.number().int().min(0).optional(),
  campaigns: z.number().int().min(0).optional(),
  targets: z.number().int().min(0).optional(),
  rateLimit: rate.optional(),
  faults: faultKnobsSchema.partial().optional(),
  /** The Login-with-Amazon clients that reach this profile (one advertiser's, another's); every client when absent. */
  clientIds: z.array(z.string()).min(1).optional(),
});
export type ProfileConfig = z.infer<typeof profileSchema>;

export const simulatorConfigSchema = z.object({
  port: z.number().int().min(0).max(65535).default(8787),
  host: z.string().default('127.0.0.1'),
  clients: z
    .array(z.object({ clientId: z.string(), clientSecret: z.string(), refreshToken: z.string() }))
    .min(1)
    .default([{ clientId: 'sluice-dev-client', clientSecret: 'sluice-dev-secret', refreshToken: 'sluice-dev-refresh-token' }]),
  tokenTtlSeconds: z.number().int().positive().default(3600),
  profiles: z.array(profileSchema).default([]),
  /** Profiles made up on start-up in addition to `profiles`. */
  generate: z
    .object({
      profilesPerRegion: z.number().int().min(0).default(3),
      countryCodes: z.object({ NA: z.string(), EU: z.string(), FE: z.string() }).default({ NA: 'US', EU: 'GB', FE: 'JP' }),
    })
    .default({ profilesPerRegion: 3, countryCodes: { NA: 'US', EU: 'GB', FE: 'JP' } }),
  entitiesPerProfile: z
    .object({ keywords: z.number().int().min(0), campaigns: z.number().int().min(1), targets: z.number().int().min(0) })
    .default({ keywords: 100, campaigns: 5, targets: 20 }),
  rateLimit: rate.default({ ratePerSecond: 10, burst: 10 }),
  /** Optional limit over all profiles of one client id. */
  globalRateLimit: rate.optional(),
  /** Ask for the token cost of extended-data list calls. */
  extendedListCost: z.number().int().min(1).default(5),
  maxEntitiesPerCall: z.number().int().min(1).default(1000),
  /** Whether a 429 carries Retry-After (documented, often absent in practice). */
  retryAfter: z.boolean().default(false),
  retryAfterSeconds: z.number().int().min(1).default(1),
  /** `kind`: errorType is the kind name (entityNotFoundError); `code`: a code (INVALID_ARGUMENT). */
  errorTypeStyle: z.enum(['kind', 'code']).default('kind'),
  latency: z.object({ p50Ms: z.number().min(0), p99Ms: z.number().min(0) }).default({ p50Ms: 0, p99Ms: 0 }),
  gatewayTimeoutDelayMs: z.number().int().min(0).default(29_000),
  timeoutAfterCommitDelayMs: z.number().int().min(0).default(65_000),
  faults: faultKnobsSchema.default(faultKnobsSchema.parse({})),
  /** Seed of every random decision, so a run can be repeated exactly. */
  seed: z.number().int().default(1),
  /** Keep every applied update in order (for per-profile order checks); capped. */
  updateLogLimit: z.number().int().min(0).default(2_000_000),
});

export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;
export type SimulatorConfigInput = z.input<typeof simulatorConfigSchema>;

export function parseSimulatorConfig(input: unknown): SimulatorConfig {
  const parsed = simulatorConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid simulator configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

export function loadSimulatorConfigFile(path: string): SimulatorConfig {
  return parseSimulatorConfig(JSON.parse(readFileSync(path, 'utf8')));
}
