// The short chaos runs of `npm test` (the full ones are `npm run chaos`): a 1,200-item
// job over 20 profiles, submitted in three parts and run by three executor processes,
// through (1) kill -9 of the executors, the projector and the api, two of each, at
// random moments, and (2) a misbehaving API: 500s, writes that time out after they
// landed, a profile throttled on every call until lifted, a profile whose access was
// revoked. Nothing may be lost and the counts must be exact.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ChaosShape } from '../../chaos/chaos-run.js';
import { apiFaults, killStorm } from '../../chaos/scenarios.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../../helpers/services.js';

let shape: ChaosShape;
let db: TestDatabase;
beforeEach(async () => {
  const config = testConfig({ SLUICE_ITEM_PARTITIONS: '6' });
  db = await createTestDatabase(config);
  shape = { config, profiles: 20, keywordsPerProfile: 60, itemsPerCall: 2, callsPerSecond: 1, parts: 3, partEveryMs: 1_500, executors: 3, settleTimeoutMs: 150_000 };
});
afterEach(async () => {
  await db?.drop();
});

const exact = { jobs: 3, items: 1_200, lost: 0, unfinished: 0, unexpectedStatus: 0, countMismatches: [], wrongEntities: 0, ok: true };

it('kill -9 of executors, the projector and the api: nothing lost, counts exact', async () => {
  const report = await killStorm(shape, { killsPerRole: 2, killEveryMs: [1_000, 2_500], seed: 7 });
  console.log(`chaos kill-storm (short): ${JSON.stringify(report)}`);
  expect(report.disruption.kills).toEqual({ executor: 2, projector: 2, api: 2 });
  const hits = report.disruption.killsBeforeLastResult as Record<string, number>;
  // The kills hit the running job: at least one of each role's two, before its last result
  // (each kill waits for the replacement to be ready, so the later ones may come after it).
  expect(hits.executor).toBeGreaterThanOrEqual(1);
  expect(hits.projector).toBeGreaterThanOrEqual(1);
  expect(report).toMatchObject(exact);
}, 300_000);

it('500s, timeouts after commit, a sticky-throttled and a revoked profile: nothing lost, only the revoked profile dead-lettered', async () => {
  const report = await apiFaults({ ...shape, callsPerSecond: 4 }, { throttledForMs: 8_000 });
  console.log(`chaos api-faults (short): ${JSON.stringify(report)}`);
  expect(report).toMatchObject(exact);
}, 300_000);
