// An unexpected exception in a lane (issue 16 point 8) — here a client that throws instead
// of answering, as a bug would — never becomes an unhandled rejection that leaves the
// lane's items waiting forever: it is logged with the items, counted, and the batch is
// retried or dead-lettered by the normal rules, while the executor stays healthy.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configuredAdsApiClient } from '../../../src/app/ads-api-client.js';
import type { ApiClient } from '../../../src/domain/api-client.js';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { outcomeOf, startTestExecutor } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const [flaky, broken, healthy] = [0, 1, 2].map((i) => generatedProfileId('NA', i)) as [string, string, string];
let p: TestPipeline;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 3 }, entitiesPerProfile: { keywords: 30, campaigns: 1, targets: 0 } },
    env: { SLUICE_ITEM_PARTITIONS: '1', SLUICE_MAX_ATTEMPTS: '3', SLUICE_RETRY_BASE_MS: '20', SLUICE_RETRY_MAX_MS: '50', SLUICE_MAX_BATCH_SIZE: '10' },
    startExecutor: false,
  });
  const real = configuredAdsApiClient(p.config);
  let flakyCalls = 0;
  const misbehaving: ApiClient = {
    async execute(batch) {
      if (batch.profileId === broken) throw new TypeError('cannot read properties of undefined (a client bug)');
      if (batch.profileId === flaky && flakyCalls++ < 2) throw new Error('an answer of a shape nobody expected');
      return real.execute(batch);
    },
    read: (batch) => real.read(batch),
    close: () => real.close(),
  };
  p.executor = await startTestExecutor(p.config, misbehaving);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await p?.close();
});

it('retries or dead-letters the items of a lane that threw, by the normal rules, and goes on', async () => {
  const items = [...keywordUpdates(flaky, 20), ...keywordUpdates(broken, 5), ...keywordUpdates(healthy, 20)];
  const jobId = await p.submit(items);
  const terminal = await p.outcomes.waitForTerminal(jobId, items.length, 60_000);
  const byProfile = new Map<string, string[]>();
  for (const [, [result]] of terminal) byProfile.set(result!.profileId, [...(byProfile.get(result!.profileId) ?? []), outcomeOf(result!)]);
  expect(byProfile.get(flaky)).toEqual(Array(20).fill('ItemSucceeded'));
  expect(byProfile.get(healthy)).toEqual(Array(20).fill('ItemSucceeded'));
  expect(byProfile.get(broken)).toEqual(Array(5).fill('ItemFailed'));
  const brokenLetters = p.outcomes.deadLetters.filter((d) => d.command?.profileId === broken);
  expect(brokenLetters.map((d) => [d.reason, d.errorKind])).toEqual(Array(5).fill(['RETRIES_EXHAUSTED', 'unexpected']));
  expect(brokenLetters[0]!.attempts.length).toBe(3);

  const metrics = await (await fetch(p.executor!.metricsUrl)).text();
  // 2 for the flaky profile's first calls, and at least 3 for the broken one's (each item
  // spent its 3 attempts; how its 5 items were batched decides how many calls that took).
  expect(Number(metrics.match(/^sluice_executor_lane_errors_total (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(5);
  expect(unhandled).toEqual([]);

  // Healthy after it: a later job of the same profiles runs to its end.
  const again = keywordUpdates(flaky, 10, () => 3);
  const later = await p.submit(again);
  expect((await p.outcomes.waitForTerminal(later, again.length, 30_000)).size).toBe(10);
});
