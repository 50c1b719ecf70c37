// Memory that is given back (issue 15 point 3): a fleet of profiles comes and goes, and an
// executor must not keep a lane, a limiter, a circuit breaker (with its timers) and metric
// series for every profile it ever served. Idle for SLUICE_PROFILE_RELEASE_MS, a profile
// gives them back; what its limiter learned is kept in a few numbers, so a throttled
// profile that comes back starts at its learned rate instead of a new burst of 429s.
// Before, all of it stayed for the process's life: 400 profiles served once left 400
// limiters, 400 breakers and 400 rate series behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const PROFILES = Array.from({ length: 400 }, (_, i) => generatedProfileId('NA', i));
const LIMITED = PROFILES[0]!;
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: {
      generate: { profilesPerRegion: PROFILES.length },
      entitiesPerProfile: { keywords: 60, campaigns: 1, targets: 0 },
      rateLimit: { ratePerSecond: 100, burst: 20 },
      // One profile the API holds to 4 calls/s: the executor, starting at 20, must learn it.
      profiles: [{ profileId: LIMITED, region: 'NA', keywords: 60, campaigns: 1, targets: 0, rateLimit: { ratePerSecond: 4, burst: 1 } }],
      latency: { p50Ms: 2, p99Ms: 10 },
    },
    env: { SLUICE_PROFILE_RATE: '20', SLUICE_PROFILE_BURST: '1', SLUICE_MAX_BATCH_SIZE: '1', SLUICE_PROFILE_RELEASE_MS: '1000' },
  });
}, 120_000);
afterAll(() => p?.close());

async function metrics(): Promise<string> {
  return (await fetch(p.executor!.metricsUrl)).text();
}
const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
const series = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{profile="`)).length;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('gives back every idle profile\'s lane, limiter, breaker and metric series, and keeps what a throttled one learned', async () => {
  const job = await p.submit([...PROFILES.flatMap((id) => keywordUpdates(id, 3, () => 1.5)), ...keywordUpdates(LIMITED, 57, (i) => 1.6 + i / 1000)]);
  await p.outcomes.waitForTerminal(job, PROFILES.length * 3 + 57, 90_000);
  const busy = await metrics();
  expect(gauge(busy, 'sluice_executor_profiles_tracked')).toBeGreaterThan(0);
  const learnedWith = (await p.sim.admin.counters()).profiles[LIMITED]!.throttled;
  expect(learnedWith).toBeGreaterThan(0); // it did start above the limit

  await until('every profile released', async () => gauge(await metrics(), 'sluice_executor_profiles_tracked') === 0);
  const idle = await metrics();
  expect(gauge(idle, 'sluice_executor_lanes')).toBe(0);
  expect(gauge(idle, 'sluice_executor_breakers_tracked')).toBe(0);
  expect(series(idle, 'sluice_executor_profile_rate')).toBe(0);
  expect(series(idle, 'sluice_executor_breaker_state')).toBe(0);
  expect(gauge(idle, 'sluice_executor_profiles_remembered')).toBeGreaterThanOrEqual(1); // the limited profile's rate

  // Back after its release: at its learned rate, so (almost) no 429s this time.
  await p.sim.admin.resetCounters();
  const again = await p.submit(keywordUpdates(LIMITED, 40, (i) => 2.6 + i / 1000));
  await p.outcomes.waitForTerminal(again, 40, 60_000);
  const throttledAgain = (await p.sim.admin.counters()).profiles[LIMITED]?.throttled ?? 0;
  console.log(`profile-release: the limited profile was throttled ${learnedWith} times learning its limit, ${throttledAgain} times after its release`);
  expect(throttledAgain).toBeLessThanOrEqual(Math.max(1, learnedWith / 4));
}, 180_000);
