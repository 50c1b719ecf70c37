// Isolation under skew (issue 15, guarantee 3): on one partition, a profile limited to
// 0.5 calls/s with 20,000 queued items and a profile whose breaker is open with 5,000
// do not slow 200 ordinary profiles by more than about a second. Before, their backlogs
// filled the partition's read-ahead (1,000 records for all its lanes) and the ordinary
// profiles waited behind them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ItemResult } from '../../../src/domain/events.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { outcomeOf } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const profile = (i: number) => generatedProfileId('NA', i);
const SLOW = profile(0);
const BROKEN = profile(1);
const ORDINARY = Array.from({ length: 200 }, (_, i) => profile(2 + i));
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 202 }, entitiesPerProfile: { keywords: 100, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 50, burst: 10 }, latency: { p50Ms: 2, p99Ms: 10 } },
    env: {
      SLUICE_ITEM_PARTITIONS: '1', // every profile on one partition
      SLUICE_PROFILE_RATE: '20',
      SLUICE_PROFILE_BURST: '5',
      SLUICE_MAX_BATCH_SIZE: '5',
      SLUICE_PROFILE_LIMITS: JSON.stringify({ [SLOW]: { ratePerSecond: 0.5, burst: 1, ceiling: 0.5 } }),
      SLUICE_BREAKER_VOLUME: '3',
      SLUICE_BREAKER_RESET_MS: '2000',
      SLUICE_MAX_ATTEMPTS: '1000',
    },
  });
}, 120_000);
afterAll(() => p?.close());

/** Milliseconds from submission to the ordinary profiles' last terminal result. */
async function ordinaryMakespan(bid: number): Promise<number> {
  const startedAt = Date.now();
  const jobId = await p.submit(ORDINARY.flatMap((id) => keywordUpdates(id, 10, () => bid)));
  const results = await p.outcomes.waitForTerminal(jobId, ORDINARY.length * 10, 60_000);
  expect([...results.values()].every((rs) => outcomeOf(rs[0]!) === 'ItemSucceeded')).toBe(true);
  return Math.max(...[...results.values()].map((rs: ItemResult[]) => rs[0]!.occurredAt)) - startedAt;
}

const backlog = (profileId: string, count: number) => Array.from({ length: count }, (_, i) => ({ profileId, payload: { keywordId: generatedEntityId(profileId, 'keywords', i % 100), bid: 1 + (i % 7) / 10 } }));

it('a 0.5 calls/s profile with 20,000 queued items and a breaker-open one with 5,000 hold up only themselves', async () => {
  await ordinaryMakespan(1.4); // warms the executor up: lanes, limiters, connections
  const alone = await ordinaryMakespan(1.5);

  await p.sim.admin.setKnobs({ profileFaults: { [BROKEN]: { http500: 1 } } });
  const slow = await p.submit(backlog(SLOW, 20_000));
  const broken = await p.submit(backlog(BROKEN, 5_000));
  // Both lanes at work: the slow one has made a call, the broken one's breaker is open.
  await p.outcomes.waitForTerminal(slow, 1, 30_000);
  const metrics = async () => (await fetch(p.executor!.metricsUrl)).text();
  for (let t = Date.now(); !/sluice_executor_breaker_state\{profile="\d+"\} 2/.test(await metrics()); ) {
    if (Date.now() - t > 30_000) throw new Error('the broken profile\'s breaker never opened');
    await new Promise((r) => setTimeout(r, 200));
  }

  const beside = await ordinaryMakespan(2.5);
  console.log(`skew-slow: ordinary profiles alone ${alone} ms, beside the slow and broken backlogs ${beside} ms`);
  expect(beside - alone).toBeLessThan(1_500);
  // The backlogs wait in Kafka, not in memory: far fewer than 25,000 records in work.
  const inWork = Number(/sluice_executor_records_in_work\{partition="0"\} (\d+)/.exec(await metrics())?.[1]);
  expect(inWork).toBeLessThan(1_000);
  expect(p.outcomes.terminalByItem(broken).size).toBe(0);
}, 240_000);
