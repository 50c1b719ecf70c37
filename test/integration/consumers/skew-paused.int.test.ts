// Isolation under skew (issue 15, guarantee 3): a paused job's backlog on a partition never
// holds up another profile's items there, however large it is, and nothing of it is lost:
// once resumed, every item runs, each entity ends at its last submitted value. Before,
// the partition's read-ahead (1,000 records across all its lanes) filled with the paused
// job's items and the partition stopped: with one partition, job B made no progress at
// all until A was resumed; with twelve, the same once a paused job had more than 1,000
// items on a partition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlAction } from '../../../src/domain/job-control.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { outcomeOf, startTestExecutor } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const profile = (i: number) => generatedProfileId('NA', i);

async function control(p: TestPipeline, jobId: string, action: ControlAction): Promise<void> {
  expect((await p.producer.control.control({ tenantId: 't1', jobId, action })).type).toBe('applied');
}

/** When the job's last item reached a terminal result (epoch ms). */
async function finishedAt(p: TestPipeline, jobId: string, count: number, timeoutMs = 30_000): Promise<number> {
  const results = await p.outcomes.waitForTerminal(jobId, count, timeoutMs);
  expect([...results.values()].every((rs) => outcomeOf(rs[0]!) === 'ItemSucceeded')).toBe(true);
  return Math.max(...[...results.values()].map((rs) => rs[0]!.occurredAt));
}

// The paused job's profiles are 0..pausedProfiles-1; the others' come after them.
function scenario(partitions: number, pausedProfiles: number, pausedPerProfile: number, otherProfiles: number) {
  let p: TestPipeline;
  beforeAll(async () => {
    p = await openTestPipeline({
      simulator: { generate: { profilesPerRegion: pausedProfiles + otherProfiles + 1 }, entitiesPerProfile: { keywords: pausedPerProfile, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 50, burst: 10 }, latency: { p50Ms: 2, p99Ms: 10 } },
      env: { SLUICE_ITEM_PARTITIONS: String(partitions), SLUICE_PROFILE_RATE: '20', SLUICE_PROFILE_BURST: '5', SLUICE_MAX_BATCH_SIZE: '50' },
      startExecutor: false,
    });
  }, 120_000);
  afterAll(() => p?.close());

  it(`job B finishes about as soon as a job beside it while job A (${pausedProfiles * pausedPerProfile} items) is paused, and A runs whole once resumed`, async () => {
    const others = Array.from({ length: otherProfiles }, (_, i) => profile(pausedProfiles + i));
    // A marker job submitted before A: how soon the executor finishes anything at all.
    const marker = await p.submit([{ profileId: profile(pausedProfiles + otherProfiles), payload: { keywordId: generatedEntityId(profile(pausedProfiles + otherProfiles), 'keywords', 0), bid: 0.5 } }]);
    const paused = await p.submit(Array.from({ length: pausedProfiles }, (_, i) => keywordUpdates(profile(i), pausedPerProfile, (k) => 1 + k / 1000)).flat());
    await control(p, paused, 'pause');
    const b = await p.submit(others.flatMap((id) => keywordUpdates(id, 20, (k) => 2 + k / 100)));

    p.executor = await startTestExecutor(p.config);
    const markerDone = await finishedAt(p, marker, 1);
    const bDone = await finishedAt(p, b, others.length * 20);
    console.log(`skew-paused (${partitions} partitions): B finished ${bDone - markerDone} ms after the marker`);
    expect(bDone - markerDone).toBeLessThan(1_500);
    expect(p.outcomes.terminalByItem(paused).size).toBe(0);

    await control(p, paused, 'resume');
    await finishedAt(p, paused, pausedProfiles * pausedPerProfile, 120_000);
    // Nothing lost or run out of order: each keyword of A at its own bid, and every
    // item exactly one terminal result.
    for (const i of [0, pausedProfiles - 1]) {
      const keywords = await p.sim.admin.entities<Keyword>(profile(i), 'keywords');
      expect(keywords.map((k) => k.bid)).toEqual(Array.from({ length: pausedPerProfile }, (_, k) => 1 + k / 1000));
    }
    expect([...p.outcomes.terminalByItem(paused).values()].every((rs) => rs.length === 1)).toBe(true);
  }, 240_000);
}

describe('one partition: 3,000 paused items of one profile, 20 of another', () => scenario(1, 1, 3_000, 1));
describe('twelve partitions: a paused job with about 2,000 items on each, 20 items of each of 12 other profiles', () => scenario(12, 120, 200, 12));
