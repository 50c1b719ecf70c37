import { describe, expect, it } from 'vitest';
import { amazonCatalogue } from '../../../src/ads-api/operations.js';
import { DEFAULT_LIMITS, ErrorCollector, validateItem } from '../../../src/producers/item-validation.js';

const catalogue = amazonCatalogue();
const check = (value: unknown, jobOperation?: string, bytes = 100) => validateItem({ index: 4, value, bytes }, jobOperation, catalogue, DEFAULT_LIMITS);

describe('validateItem', () => {
  it("refuses a profile id beyond Amazon's int64, and text Postgres cannot store, naming the field", () => {
    const bid = { keywordId: '5', bid: 1 };
    expect(check({ profileId: '9223372036854775807', payload: bid }, 'keyword.setBid')).toMatchObject({ ok: true });
    expect(check({ profileId: '9223372036854775808', payload: bid }, 'keyword.setBid')).toMatchObject({ ok: false, errors: [{ index: 4, field: 'profileId', reason: 'is out of the range of profile ids' }] });
    expect(check({ profileId: '99999999999999999999', payload: bid }, 'keyword.setBid')).toMatchObject({ ok: false, errors: [{ field: 'profileId' }] });
    expect(check({ profileId: '1', payload: { keywordId: '5\u0000', bid: 1 } }, 'keyword.setBid')).toMatchObject({ ok: false, errors: [{ field: 'payload.keywordId', reason: expect.stringContaining('U+0000') }] });
    const deep = JSON.parse(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`) as unknown;
    expect(check({ profileId: '1', payload: deep }, 'keyword.setBid')).toMatchObject({ ok: false, errors: [{ reason: expect.stringContaining('nested more than') }] });
  });

  it('accepts an item with the job operation, a numeric profile id given as a number', () => {
    expect(check({ profileId: 1000000000001, payload: { keywordId: '5', bid: 1 } }, 'keyword.setBid')).toEqual({
      ok: true,
      item: { profileId: '1000000000001', operation: 'keyword.setBid', payload: { keywordId: '5', bid: 1 } },
    });
  });

  it('names every bad field with the item index', () => {
    const result = check({ profileId: 'abc', operation: 'campaign.setBudget', payload: { campaignId: 5, budget: 0 }, extra: 1 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => `${e.index}:${e.field}`).sort()).toEqual(['4:extra', '4:payload.budget', '4:payload.campaignId', '4:profileId']);
  });

  it('needs an operation from the item or the job', () => {
    expect(check({ profileId: '1', payload: {} })).toMatchObject({ ok: false, errors: [{ field: 'operation', reason: expect.stringContaining('required') }] });
  });

  it('refuses an item over the byte limit and a non-object item', () => {
    expect(check({ profileId: '1' }, 'keyword.setBid', DEFAULT_LIMITS.maxItemBytes + 1)).toMatchObject({ ok: false, errors: [{ field: 'item' }] });
    expect(check([1, 2], 'keyword.setBid')).toMatchObject({ ok: false, errors: [{ field: 'item' }] });
  });
});

describe('ErrorCollector', () => {
  it('lists the first errors and counts them all', () => {
    const c = new ErrorCollector(2);
    c.add([{ index: 0, field: 'a', reason: 'x' }]);
    c.add([{ index: 1, field: 'b', reason: 'x' }, { index: 1, field: 'c', reason: 'x' }]);
    expect(c.count).toBe(3);
    expect(c.errors.map((e) => e.field)).toEqual(['a', 'b']);
  });
});
