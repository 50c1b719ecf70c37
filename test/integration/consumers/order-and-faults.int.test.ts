// Per-profile order under transient faults, against the real stack and the simulator:
// every item reaches exactly one terminal result, every keyword ends at the last bid
// submitted for it, and the simulator's update log shows each profile's updates in
// submission order (call-level faults) or each entity's (per-entity faults, where a
// retried entity may land after other entities of its batch).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import type { KnobsPatch } from '../../../src/simulator/knobs.js';
import { outcomeOf } from '../../helpers/executor.js';
import { openTestPipeline, type KeywordUpdate, type TestPipeline } from '../../helpers/pipeline.js';

const PROFILES = Array.from({ length: 4 }, (_, i) => generatedProfileId('NA', i));
const KEYWORDS = 40;
const ROUNDS = 3;
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 4 }, entitiesPerProfile: { keywords: KEYWORDS, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 50, burst: 50 }, latency: { p50Ms: 2, p99Ms: 10 } },
    env: {
      SLUICE_ITEM_PARTITIONS: '2',
      SLUICE_PROFILE_RATE: '40',
      SLUICE_MAX_BATCH_SIZE: '10',
      SLUICE_RETRY_BASE_MS: '20',
      SLUICE_RETRY_MAX_MS: '200',
      SLUICE_MAX_ATTEMPTS: '30',
      SLUICE_BREAKER_VOLUME: '1000',
      SLUICE_BREAKER_API_VOLUME: '1000',
    },
  });
});
afterAll(() => p?.close());

/** Round r's bid for keyword k: distinct per round, so the log shows which round applied. */
const bidOf = (round: number, k: number) => Math.round((1 + round + k / 100) * 100) / 100;

function roundsOfUpdates(): KeywordUpdate[] {
  const items: KeywordUpdate[] = [];
  for (let round = 0; round < ROUNDS; round++)
    for (let k = 0; k < KEYWORDS; k++) for (const profileId of PROFILES) items.push({ profileId, payload: { keywordId: generatedEntityId(profileId, 'keywords', k), bid: bidOf(round, k) } });
  return items;
}

async function runJob(faults: KnobsPatch['faults']) {
  await p.sim.admin.setKnobs({ faults });
  const sinceSeq = Math.max(0, ...(await p.sim.admin.updates()).map((u) => u.seq));
  const items = roundsOfUpdates();
  const jobId = await p.submit(items);
  const terminal = await p.outcomes.waitForTerminal(jobId, items.length);
  await p.sim.admin.setKnobs({ faults: { http500: 0, connectionReset: 0, entityInternalError: 0 } });
  const updates = (await p.sim.admin.updates({ sinceSeq })).filter((u) => u.seq > sinceSeq);
  return { items, terminal, updates, jobId };
}

async function expectEveryKeywordAtItsLastBid() {
  for (const profileId of PROFILES) {
    const state = new Map((await p.sim.admin.entities<Keyword>(profileId, 'keywords')).map((k) => [k.keywordId, k.bid]));
    for (let k = 0; k < KEYWORDS; k++) expect(state.get(generatedEntityId(profileId, 'keywords', k))).toBe(bidOf(ROUNDS - 1, k));
  }
}

describe('the executor under transient faults', () => {
  it('call-level faults (500s, resets): each profile updated in submission order, each item succeeded once', async () => {
    const { items, terminal, updates } = await runJob({ http500: 0.1, connectionReset: 0.05 });
    expect(terminal.size).toBe(items.length);
    expect([...terminal.values()].filter((rs) => rs.length !== 1)).toEqual([]);
    expect([...terminal.values()].map((rs) => outcomeOf(rs[0]!)).filter((o) => o !== 'ItemSucceeded')).toEqual([]);
    for (const profileId of PROFILES) {
      const applied = updates.filter((u) => u.profileId === profileId).map((u) => `${u.id}=${u.fields.bid}`);
      const submitted = items.filter((i) => i.profileId === profileId).map((i) => `${i.payload.keywordId}=${i.payload.bid}`);
      expect(applied).toEqual(submitted);
    }
    await expectEveryKeywordAtItsLastBid();
    const retried = p.outcomes.results.filter((r) => 'sluice.ItemRetrying' in r.outcome).length;
    expect(retried).toBeGreaterThan(0); // the faults really happened
  });

  it('per-entity faults: each keyword updated in submission order and left at its last bid', async () => {
    const { items, terminal, updates } = await runJob({ entityInternalError: 0.1 });
    expect(terminal.size).toBe(items.length);
    expect([...terminal.values()].filter((rs) => rs.length !== 1)).toEqual([]);
    const byEntity = new Map<string, number[]>();
    for (const u of updates) byEntity.set(u.id, [...(byEntity.get(u.id) ?? []), u.fields.bid as number]);
    for (const [keywordId, bids] of byEntity) {
      const k = Number(keywordId.slice(-6));
      expect(bids, keywordId).toEqual(Array.from({ length: ROUNDS }, (_, round) => bidOf(round, k)));
    }
    expect(byEntity.size).toBe(PROFILES.length * KEYWORDS);
    await expectEveryKeywordAtItsLastBid();
  });
});
