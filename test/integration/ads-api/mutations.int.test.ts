// Contract: multi-status (207) answers are mapped back to request entities by index, with
// every per-entity error kind of SIMULATOR.md; large inputs are split at the call limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemOutcome } from '../../../src/domain/api-client.js';
import { Permanent, Throttled, Transient } from '../../../src/domain/errors.js';
import { generatedEntityId, generatedProfileId, type Campaign, type Keyword } from '../../../src/simulator/entities.js';
import { startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const profile = generatedProfileId('NA', 0);
const kw = (i: number) => generatedEntityId(profile, 'keywords', i);
const campaign = (i: number) => generatedEntityId(profile, 'campaigns', i);
let t: TestSimulator;

beforeAll(async () => {
  t = await startTestSimulator({
    rateLimit: { ratePerSecond: 1000, burst: 1000 },
    entitiesPerProfile: { keywords: 3000, campaigns: 4, targets: 10 },
    generate: { profilesPerRegion: 2 },
  });
});
afterAll(() => t.close());

const failure = (o: ItemOutcome | undefined) => (o?.type === 'failed' ? o : undefined);
const permanent = (o: ItemOutcome | undefined) => {
  const f = failure(o);
  expect(f?.error, JSON.stringify(o)).toBeInstanceOf(Permanent);
  return { kind: (f!.error as Permanent).kind, reason: (f!.error as Permanent).reason, details: f!.details };
};

describe('per-entity outcomes', () => {
  it('maps every error kind to its request index and applies only the valid entities', async () => {
    // Campaign 3 is archived, so keywords under it (i % 4 === 3) meet PARENT_ENTITY_ARCHIVED.
    const [archived] = await t.admin.entities<Campaign>(profile, 'campaigns', [campaign(3)]);
    await t.admin.putEntity(profile, 'campaigns', { ...archived!, state: 'ARCHIVED' });
    const [k5] = await t.admin.entities<Keyword>(profile, 'keywords', [kw(5)]);
    await t.admin.putEntity(profile, 'keywords', { ...k5!, state: 'ARCHIVED' });

    const request = [
      { keywordId: kw(0), bid: 1.11 }, // 0 ok
      { keywordId: '999999', bid: 1 }, // 1 not found
      { keywordId: kw(1), bid: 0.001 }, // 2 too low
      { keywordId: kw(2), bid: 5000 }, // 3 too high (US upper 1000)
      { keywordId: kw(4), bid: 150 }, // 4 above campaign budget 100
      { keywordId: kw(5), bid: 1 }, // 5 archived entity
      { keywordId: kw(3), bid: 1 }, // 6 parent campaign archived
      { bid: 1 }, // 7 missing id
      { keywordId: kw(6), bid: 'high' }, // 8 malformed
      { keywordId: kw(8), state: 'PAUSED' }, // 9 ok (state only)
    ];
    const result = await t.client().call(profile, 'keywords', 'update', request);
    expect(result.type).toBe('answered');
    if (result.type !== 'answered') return;
    const o = result.items;
    expect(o).toHaveLength(request.length);
    expect(o[0]).toMatchObject({ type: 'succeeded', id: kw(0) });
    expect(permanent(o[1])).toMatchObject({ kind: 'entityNotFoundError', reason: 'ENTITY_NOT_FOUND', details: { entityType: 'KEYWORD', entityId: '999999' } });
    expect(permanent(o[2])).toMatchObject({ kind: 'rangeError', reason: 'TOO_LOW', details: { lowerLimit: '0.02', upperLimit: '1000' } });
    expect(permanent(o[3])).toMatchObject({ kind: 'rangeError', reason: 'TOO_HIGH' });
    expect(permanent(o[4])).toMatchObject({ kind: 'biddingError', reason: 'BID_GT_BUDGET' });
    expect(permanent(o[5])).toMatchObject({ kind: 'entityStateError', reason: 'ARCHIVED_ENTITY_CANNOT_BE_MODIFIED' });
    expect(permanent(o[6])).toMatchObject({ kind: 'parentEntityError', reason: 'PARENT_ENTITY_ARCHIVED' });
    expect(permanent(o[7])).toMatchObject({ kind: 'missingValueError' });
    expect(permanent(o[8])).toMatchObject({ kind: 'malformedValueError', details: { cause: { location: '$[8].bid' } } });
    expect(o[9]).toMatchObject({ type: 'succeeded', id: kw(8) });

    // The simulator's state agrees: only indexes 0 and 9 changed anything.
    const after = await t.admin.entities<Keyword>(profile, 'keywords', [kw(0), kw(1), kw(2), kw(4), kw(8)]);
    const byId = Object.fromEntries(after.map((k) => [k.keywordId, k]));
    expect(byId[kw(0)]?.bid).toBe(1.11);
    expect(byId[kw(8)]?.state).toBe('PAUSED');
    expect([byId[kw(1)]?.bid, byId[kw(2)]?.bid, byId[kw(4)]?.bid]).toEqual([0.5, 0.5, 0.5]);
  });

  it('reads the error kind from errorValue even when errorType carries a code', async () => {
    await t.admin.setKnobs({ errorTypeStyle: 'code' });
    try {
      const result = await t.client().call(profile, 'keywords', 'update', [{ keywordId: '4242', bid: 1 }]);
      if (result.type !== 'answered') throw new Error('expected an answer');
      expect(permanent(result.items[0])).toMatchObject({ kind: 'entityNotFoundError', reason: 'ENTITY_NOT_FOUND' });
    } finally {
      await t.admin.setKnobs({ errorTypeStyle: 'kind' });
    }
  });

  it('marks per-entity THROTTLED and INTERNAL_ERROR as retryable for that entity alone', async () => {
    await t.admin.setKnobs({ faults: { entityThrottled: 1 } });
    const throttled = await t.client().call(profile, 'keywords', 'update', [{ keywordId: kw(10), bid: 1 }]);
    await t.admin.setKnobs({ faults: { entityThrottled: 0, entityInternalError: 1 } });
    const internal = await t.client().call(profile, 'keywords', 'update', [{ keywordId: kw(10), bid: 1 }]);
    await t.admin.setKnobs({ faults: { entityInternalError: 0 } });
    expect(throttled.type === 'answered' && failure(throttled.items[0])?.error).toBeInstanceOf(Throttled);
    expect(internal.type === 'answered' && failure(internal.items[0])?.error).toBeInstanceOf(Transient);
    expect((await t.admin.entities<Keyword>(profile, 'keywords', [kw(10)]))[0]?.bid).toBe(0.5);
  });

  it('returns the full entity with Prefer: return=representation', async () => {
    const result = await t.client({ returnRepresentation: true }).call(profile, 'keywords', 'update', [{ keywordId: kw(13), bid: 2.5 }]);
    expect(result.type === 'answered' && result.items[0]).toMatchObject({ type: 'succeeded', entity: { keywordId: kw(13), bid: 2.5, state: 'ENABLED' } });
  });

  it('fails a duplicate create and creates a new entity once', async () => {
    const entity = { campaignId: campaign(0), keywordText: 'blue shoes', matchType: 'EXACT', bid: 0.8 };
    const [first] = await t.client().mutate(profile, 'keywords', 'create', [entity]);
    const [second] = await t.client().mutate(profile, 'keywords', 'create', [entity]);
    expect(first).toMatchObject({ type: 'succeeded' });
    expect(permanent(second)).toMatchObject({ kind: 'duplicateValueError' });
  });

  it('archives through the delete endpoint, by id filter', async () => {
    const [outcome] = await t.client().mutate(profile, 'keywords', 'delete', [{ keywordId: kw(12) }]);
    expect(outcome).toMatchObject({ type: 'succeeded', id: kw(12) });
    expect((await t.admin.entities<Keyword>(profile, 'keywords', [kw(12)]))[0]?.state).toBe('ARCHIVED');
  });
});

describe('batch splitting', () => {
  // A profile of its own: the one above has an archived campaign.
  const other = generatedProfileId('NA', 1);
  const kw = (i: number) => generatedEntityId(other, 'keywords', i);

  it('sends 2,500 updates as three calls of at most 1,000 and maps all back in order', async () => {
    await t.admin.resetCounters();
    const entities = Array.from({ length: 2500 }, (_, i) => ({ keywordId: kw(100 + (i % 2800)), bid: 0.1 + ((i % 50) + 1) / 100 }));
    entities[1700] = { keywordId: '31337', bid: 1 }; // one bad entity deep in the second call
    const outcomes = await t.client().mutate(other, 'keywords', 'update', entities);
    const counters = await t.admin.counters();
    expect(counters.profiles[other]?.admitted).toBe(3);
    expect(counters.entities).toBe(2500);
    expect(outcomes).toHaveLength(2500);
    expect(outcomes.filter((o) => o.type === 'failed').length).toBe(1);
    expect(permanent(outcomes[1700])).toMatchObject({ reason: 'ENTITY_NOT_FOUND', details: { entityId: '31337' } });
    const sample = await t.admin.entities<Keyword>(other, 'keywords', [kw(100), kw(100 + 2499)]);
    expect(sample.map((k) => k.bid)).toEqual([entities[0]!.bid, entities[2499]!.bid]);
  });

  it('is refused by the API above 1,000 entities in one call (400 INVALID_ARGUMENT)', async () => {
    const client = t.client({ maxEntitiesPerCall: 1001 });
    const result = await client.call(other, 'keywords', 'update', Array.from({ length: 1001 }, (_, i) => ({ keywordId: kw(i), bid: 1 })));
    expect(result.type).toBe('failed');
    expect(result.type === 'failed' && result.error).toMatchObject({ reason: 'INVALID_ARGUMENT', httpStatus: 400 });
  });
});
