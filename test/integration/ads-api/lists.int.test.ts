// Contract: list calls page with nextToken until it is absent; when the data drifts between
// pages the client drops duplicates and says the listing is incomplete if there were gaps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const profile = generatedProfileId('EU', 0);
let t: TestSimulator;

beforeAll(async () => {
  t = await startTestSimulator({ entitiesPerProfile: { keywords: 2345, campaigns: 3, targets: 0 }, generate: { profilesPerRegion: 1 }, rateLimit: { ratePerSecond: 100, burst: 100 } });
});
afterAll(() => t.close());

describe('lists', () => {
  it('returns every entity exactly once across pages', async () => {
    const result = await t.client().listAll<Keyword>(profile, 'keywords', { pageSize: 1000 });
    expect(result.pages).toBe(3);
    expect(result.items).toHaveLength(2345);
    expect(new Set(result.items.map((k) => k.keywordId)).size).toBe(2345);
    expect(result).toMatchObject({ totalResults: 2345, duplicatesDropped: 0, complete: true });
  });

  it('filters by id and state', async () => {
    const ids = [0, 7, 99].map((i) => generatedEntityId(profile, 'keywords', i));
    const byId = await t.client().listAll<Keyword>(profile, 'keywords', { ids });
    expect(byId.items.map((k) => k.keywordId).sort()).toEqual(ids.sort());
    const paused = await t.client().listAll<Keyword>(profile, 'keywords', { states: ['PAUSED'] });
    expect(paused.items).toEqual([]);
  });

  it('drops duplicates and reports gaps when pages drift', async () => {
    await t.admin.setKnobs({ profileFaults: { [profile]: { listDrift: true } } });
    try {
      const result = await t.client().listAll<Keyword>(profile, 'keywords', { pageSize: 100 });
      expect(new Set(result.items.map((k) => k.keywordId)).size).toBe(result.items.length);
      expect(result.duplicatesDropped + (2345 - result.items.length)).toBeGreaterThan(0);
      expect(result.complete).toBe(result.items.length === 2345);
    } finally {
      await t.admin.setKnobs({ profileFaults: { [profile]: null } });
    }
  });

  it('charges extended-data list calls five tokens', async () => {
    await t.admin.setKnobs({ profileRateLimits: { [profile]: { ratePerSecond: 0.01, burst: 6 } } });
    const client = t.client();
    await client.listAll(profile, 'keywords', { ids: [generatedEntityId(profile, 'keywords', 1)], extended: true }); // 5 of 6
    await expect(client.listAll(profile, 'keywords', { ids: [generatedEntityId(profile, 'keywords', 1)], extended: true })).rejects.toMatchObject({ name: 'Throttled' });
    await client.listAll(profile, 'keywords', { ids: [generatedEntityId(profile, 'keywords', 1)] }); // the 6th token
    await t.admin.setKnobs({ profileRateLimits: { [profile]: null } });
  });
});
