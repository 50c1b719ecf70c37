// The short chaos run of `npm test` (the full one is `npm run chaos`): kill -9 of
// executors (three of them), the projector and the api, two of each, at random moments
// while a 1,200-item job is submitted in three parts and run; nothing may be lost and
// the counts must be exact.
import { expect, it } from 'vitest';
import { runKillStorm } from '../../chaos/kill-storm.js';
import { testConfig } from '../../helpers/services.js';
import { createTestDatabase } from '../../helpers/services.js';

it('loses nothing and counts exactly through kill -9 of executors, the projector and the api', async () => {
  const config = testConfig({ SLUICE_ITEM_PARTITIONS: '6' });
  const db = await createTestDatabase(config);
  try {
    const report = await runKillStorm({
      config,
      profiles: 20,
      keywordsPerProfile: 60,
      itemsPerCall: 2,
      callsPerSecond: 1, // 40 items/s at most: the job outlasts the kills
      parts: 3,
      partEveryMs: 1_500,
      executors: 3,
      killsPerRole: 2,
      killEveryMs: [1_000, 2_500],
      seed: 7,
      settleTimeoutMs: 150_000,
    });
    console.log(`chaos (short): ${JSON.stringify(report)}`);
    expect(report.kills).toEqual({ executor: 2, projector: 2, api: 2 });
    expect(report.killsBeforeLastResult.executor + report.killsBeforeLastResult.projector).toBeGreaterThanOrEqual(3); // the kills hit the running job
    expect(report).toMatchObject({ jobs: 3, items: 1_200, lost: 0, unfinished: 0, notSucceeded: 0, countMismatches: [], wrongEntities: 0, ok: true });
  } finally {
    await db.drop();
  }
}, 300_000);
