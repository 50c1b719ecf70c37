// Acceptance: 10,000 keyword bid updates across 10 profiles through the client leave every
// keyword at its new bid in the simulator's state, and no profile was ever admitted more
// calls in a second than its bucket allows (rate + burst). The driver here is the
// simplest correct one (per profile: send, and on a throttle wait and resend), not the
// executor.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AdsApiClient } from '../../../src/ads-api/client.js';
import { Throttled, Transient } from '../../../src/domain/errors.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const PROFILES = 10;
const KEYWORDS = 1000;
const BATCH = 50;
const RATE = { ratePerSecond: 5, burst: 5 };
let t: TestSimulator;

beforeAll(async () => {
  t = await startTestSimulator({
    generate: { profilesPerRegion: PROFILES },
    entitiesPerProfile: { keywords: KEYWORDS, campaigns: 10, targets: 0 },
    rateLimit: RATE,
    latency: { p50Ms: 5, p99Ms: 20 },
  });
});
afterAll(() => t.close());

const newBid = (profile: number, i: number) => Math.round((0.3 + ((profile * 7 + i) % 90) / 10) * 100) / 100;

async function updateProfile(client: AdsApiClient, profileId: string, entities: { keywordId: string; bid: number }[]) {
  for (let start = 0; start < entities.length; ) {
    const result = await client.call(profileId, 'keywords', 'update', entities.slice(start, start + BATCH));
    if (result.type === 'failed') {
      if (!(result.error instanceof Throttled || result.error instanceof Transient)) throw result.error;
      await sleep(result.error instanceof Throttled ? (result.error.retryAfterMs ?? 1000 / RATE.ratePerSecond) : 100);
      continue;
    }
    const failed = result.items.filter((o) => o.type === 'failed');
    if (failed.length) throw new Error(`${profileId}: ${failed.length} entities failed`);
    start += BATCH;
  }
}

it('updates 10,000 keywords: every keyword ends at its new bid, no profile above its limit', async () => {
  const client = t.client();
  const profiles = Array.from({ length: PROFILES }, (_, p) => generatedProfileId('NA', p));
  const wanted = profiles.map((profileId, p) => Array.from({ length: KEYWORDS }, (_, i) => ({ keywordId: generatedEntityId(profileId, 'keywords', i), bid: newBid(p, i) })));
  await t.admin.resetCounters();

  await Promise.all(profiles.map((profileId, p) => updateProfile(client, profileId, wanted[p]!)));

  let checked = 0;
  for (const [p, profileId] of profiles.entries()) {
    const state = new Map((await t.admin.entities<Keyword>(profileId, 'keywords')).map((k) => [k.keywordId, k.bid]));
    for (const { keywordId, bid } of wanted[p]!) {
      expect(state.get(keywordId), keywordId).toBe(bid);
      checked++;
    }
  }
  expect(checked).toBe(10_000);

  const counters = await t.admin.counters();
  expect(counters.entities).toBe(10_000);
  for (const profileId of profiles) {
    expect(counters.profiles[profileId]?.admitted, profileId).toBe(KEYWORDS / BATCH);
    expect(counters.profiles[profileId]?.peakAdmittedPerSecond, profileId).toBeLessThanOrEqual(RATE.ratePerSecond + RATE.burst);
  }
});
