import { describe, expect, it } from 'vitest';
import { amazonCatalogue } from '../../../src/ads-api/operations.js';

const catalogue = amazonCatalogue();

describe('the Amazon operation catalogue', () => {
  it('has the operations Sluice promises', () => {
    expect(catalogue.names()).toEqual(expect.arrayContaining(['keyword.setBid', 'keyword.setState', 'target.setBid', 'campaign.setBudget', 'campaign.setState']));
  });

  it('names every bad field of a payload', () => {
    const check = catalogue.check('keyword.setBid', { keywordId: 'abc', bid: -1, extra: true });
    expect(check.ok).toBe(false);
    const fields = check.ok ? [] : check.issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['payload.keywordId', 'payload.bid', 'payload']));
  });

  it('refuses an unknown operation, listing the known ones', () => {
    const check = catalogue.check('keyword.setBidd', { keywordId: '1', bid: 1 });
    expect(!check.ok && check.issues[0]).toMatchObject({ field: 'operation', reason: expect.stringContaining('keyword.setBid') });
  });

  it('builds the v3 request entity with absolute values', () => {
    const budget = catalogue.get('campaign.setBudget')!;
    expect(budget.toRequestEntity({ campaignId: '5', budget: 20 })).toEqual({ campaignId: '5', budget: { budget: 20, budgetType: 'DAILY' } });
    expect(budget.batchKey).toBe('campaigns:update');
    expect(catalogue.get('campaign.setState')!.batchKey).toBe(budget.batchKey);
    expect(catalogue.get('keyword.setBid')!.entityKey({ keywordId: '9', bid: 1 })).toBe('keywords:9');
  });
});
