// What before-images cost in calls: one read covers several write batches, and in whole
// batches. A lane holding 68 items reads 65 of them (13 writes of 5), not 68: 68 would end
// in a write of 3 (the other 2 of its batch not read yet), one call more per read. Whole
// outcome: every item succeeded with the value it replaced, the simulator holds every new
// bid, and the executor's read and write calls are counted by kind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const PROFILE = generatedProfileId('NA', 0);
const ITEMS = 2_000;
const PER_CALL = 5;
/** Not a multiple of PER_CALL, so what a lane holds when it reads is not either. */
const LANE_READ_AHEAD = 68;
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 1 }, entitiesPerProfile: { keywords: ITEMS, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 100, burst: 100 }, latency: { p50Ms: 5, p99Ms: 10 } },
    env: { SLUICE_ITEM_PARTITIONS: '1', SLUICE_PROFILE_RATE: '50', SLUICE_MAX_BATCH_SIZE: String(PER_CALL), SLUICE_LANE_READ_AHEAD: String(LANE_READ_AHEAD), SLUICE_READ_BATCHES: '20' },
  });
});
afterAll(() => p?.close());

function callsOfKind(metrics: string, kind: 'read' | 'write'): number {
  const pattern = new RegExp(`^sluice_executor_api_calls_total\\{[^}]*kind="${kind}"[^}]*\\} (\\d+)$`, 'gm');
  return [...metrics.matchAll(pattern)].reduce((n, m) => n + Number(m[1]), 0);
}

it('reads before-images in whole write batches: no write is cut short by a read, every item has its before-image', async () => {
  const items = keywordUpdates(PROFILE, ITEMS, (i) => 2 + (i % 40) / 100);
  const before = await p.sim.admin.entities<Keyword>(PROFILE, 'keywords');
  const jobId = await p.submit(items);
  const outcomes = await p.outcomes.waitForTerminal(jobId, ITEMS);

  const finals = [...outcomes.values()].map((results) => results.at(-1)!);
  expect(finals.filter((r) => 'sluice.ItemSucceeded' in r.outcome)).toHaveLength(ITEMS);
  const previousBids = new Map(before.map((k) => [String(k.keywordId), k.bid]));
  for (const result of finals) {
    const succeeded = (result.outcome as { 'sluice.ItemSucceeded': { previous: string | null } })['sluice.ItemSucceeded'];
    const keywordId = String((JSON.parse(result.payload ?? '{}') as { keywordId?: string }).keywordId);
    expect(JSON.parse(succeeded.previous ?? 'null')).toMatchObject({ bid: previousBids.get(keywordId) });
  }
  const after = new Map((await p.sim.admin.entities<Keyword>(PROFILE, 'keywords')).map((k) => [String(k.keywordId), k.bid]));
  for (const item of items) expect(after.get(item.payload.keywordId)).toBe(item.payload.bid);

  const metrics = await (await fetch(p.executor!.metricsUrl)).text();
  const writes = callsOfKind(metrics, 'write');
  const reads = callsOfKind(metrics, 'read');
  // Full writes but for the few that reads of a lane just starting (fewer than 5 arrived)
  // leave: a handful, however long the job (a read not in whole batches costs one per read).
  expect(writes).toBeLessThanOrEqual(ITEMS / PER_CALL + 10);
  // A read covers what the lane holds (it is refilled from half full, so 34 to 68), in whole batches.
  expect(reads).toBeLessThanOrEqual(ITEMS / 25);
  console.log(`before-image reads: ${reads} reads and ${writes} writes for ${ITEMS} items at ${PER_CALL} per write`);
});
