// Volume through one partition: one profile's 8,000 items fail in eight calls, and all
// their results (keyed by the one job) and dead letters (keyed by the one profile) reach
// the topics. How a flush stays under the broker's record-batch limit however much it
// holds is the unit test of chunksOf.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { outcomeOf } from '../../helpers/executor.js';
import { openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const PROFILE = generatedProfileId('NA', 0);
const ITEMS = 8_000;
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 1 }, entitiesPerProfile: { keywords: 1, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 1_000, burst: 1_000 } },
    env: { SLUICE_PROFILE_RATE: '1000' },
  });
});
afterAll(() => p?.close());

it('writes every result and dead letter of a large burst', async () => {
  const items = Array.from({ length: ITEMS }, (_, i) => ({ profileId: PROFILE, payload: { keywordId: `${PROFILE}9${String(i).padStart(6, '0')}`, bid: 1 } }));
  const jobId = await p.submit(items);
  const results = await p.outcomes.waitForTerminal(jobId, ITEMS, 60_000);
  expect([...results.values()].filter((rs) => outcomeOf(rs[0]!) !== 'ItemFailed')).toEqual([]);
  for (let tries = 0; tries < 50 && p.outcomes.deadLetters.length < ITEMS; tries++) await new Promise((r) => setTimeout(r, 100));
  expect(p.outcomes.deadLetters.filter((d) => d.command?.jobId === jobId)).toHaveLength(ITEMS);
});
