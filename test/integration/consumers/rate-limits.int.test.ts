// The adaptive limiter against the simulator's real buckets: an executor that believes
// each profile may make 30 calls/s, against an API that allows 20, learns the limit
// from the 429s of a first job; through a second job it keeps under 1% of its calls
// throttled, never attempts more calls in a second than the bucket holds, and
// the capacity is used (makespan close to the ideal). Meanwhile no partition ever has
// more records in work than the read-ahead allows (memory stays flat for any job size).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const PROFILES = [0, 1, 2].map((i) => generatedProfileId('NA', i));
const LIMIT = { ratePerSecond: 20, burst: 20 };
const CALLS = 200;
const READ_AHEAD = 50;
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 3 }, entitiesPerProfile: { keywords: CALLS, campaigns: 1, targets: 0 }, rateLimit: LIMIT, latency: { p50Ms: 5, p99Ms: 15 } },
    env: { SLUICE_PROFILE_RATE: '30', SLUICE_PROFILE_BURST: '30', SLUICE_MAX_BATCH_SIZE: '1', SLUICE_ITEM_PARTITIONS: '3', SLUICE_READ_AHEAD: String(READ_AHEAD) },
  });
});
afterAll(() => p?.close());

async function runJob(calls: number, bid: number) {
  const startedAt = Date.now();
  // Profiles interleaved, as in a real bulk job: every read-ahead window holds work of each.
  const perProfile = PROFILES.map((id) => keywordUpdates(id, calls, (i) => bid + i / 1000));
  const jobId = await p.submit(perProfile[0]!.flatMap((_, i) => perProfile.map((items) => items[i]!)));
  await p.outcomes.waitForTerminal(jobId, PROFILES.length * calls);
  return (Date.now() - startedAt) / 1000;
}

it('learns each profile limit from 429s, then stays under it: <1% throttled, no more calls attempted than the limit, capacity used', async () => {
  await runJob(100, 1); // adaptation
  const learned = await p.sim.admin.counters();
  expect(learned.throttled).toBeGreaterThan(0); // it did start above the limit

  await p.sim.admin.resetCounters();
  const inWork: number[] = [];
  const sampling = setInterval(() => {
    void fetch(p.executor!.metricsUrl)
      .then((r) => r.text())
      .then((text) => inWork.push(...[...text.matchAll(/^sluice_executor_records_in_work\{partition="\d+"\} (\d+)$/gm)].map((m) => Number(m[1]))));
  }, 100);
  const makespan = await runJob(CALLS, 2).finally(() => clearInterval(sampling));
  // Never more in work than the read-ahead; and the job is bigger than the window, which
  // fills. A partition sits exactly full only until its first item finishes after a
  // refill (tens of ms at 20 calls/s), which 100 ms samples can miss, so "fills" is
  // checked as reaching the last tenth of the window.
  expect(Math.max(...inWork)).toBeLessThanOrEqual(READ_AHEAD);
  expect(Math.max(...inWork)).toBeGreaterThanOrEqual(READ_AHEAD * 0.9);
  expect(inWork.length).toBeGreaterThan(20);
  const counters = await p.sim.admin.counters();
  const calls = PROFILES.reduce((n, id) => n + counters.profiles[id]!.calls, 0);
  const throttled = PROFILES.reduce((n, id) => n + counters.profiles[id]!.throttled, 0);
  expect(throttled / calls).toBeLessThan(0.01);
  // What the executor attempted, throttled calls included (the simulator's own limiter
  // caps what it admits, so only this says the executor kept to the limit itself).
  const peaks = PROFILES.map((id) => counters.profiles[id]!.peakCallsPerSecond);
  for (const peak of peaks) expect(peak).toBeLessThanOrEqual(LIMIT.ratePerSecond + LIMIT.burst);
  // The calls the job took (its writes and the reads of its before-images) at the limit.
  const jobCalls = Math.max(...PROFILES.map((id) => counters.profiles[id]!.calls));
  const ideal = (jobCalls - LIMIT.burst) / LIMIT.ratePerSecond;
  expect(ideal / makespan).toBeGreaterThan(0.8);
  console.log(`rate limits: ${throttled}/${calls} calls throttled once adapted; peak attempted calls/s ${peaks.join(', ')}; makespan ${makespan.toFixed(1)} s vs ideal ${ideal.toFixed(1)} s`);
});
