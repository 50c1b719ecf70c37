// Given an entity state, when an update arrives, then this outcome (one row per rule).
import { describe, expect, it } from 'vitest';
import type { Campaign, Entity, EntityType, Keyword, Target } from '../../../src/simulator/entities.js';
import { checkCreate, checkUpdate, type EntityLookup } from '../../../src/simulator/entity-rules.js';

const campaign: Campaign = { campaignId: '10', name: 'C', state: 'ENABLED', budget: { budget: 50, budgetType: 'DAILY' } };
const archivedCampaign: Campaign = { ...campaign, campaignId: '11', state: 'ARCHIVED' };
const keyword: Keyword = { keywordId: '20', campaignId: '10', adGroupId: '10-ag', keywordText: 'shoes', matchType: 'EXACT', state: 'ENABLED', bid: 1 };
const orphan: Keyword = { ...keyword, keywordId: '21', campaignId: '11' };
const target: Target = { targetId: '30', campaignId: '10', adGroupId: '10-ag', expression: [{ type: 'ASIN_SAME_AS', value: 'B0' }], state: 'ENABLED', bid: 1 };

function lookup(countryCode = 'US'): EntityLookup {
  const all: Record<string, Entity> = { '10': campaign, '11': archivedCampaign, '20': keyword, '21': orphan, '30': target };
  return {
    profile: { profileId: '1', region: 'NA', countryCode, currencyCode: 'USD', timezone: 'UTC', accountName: 'x' },
    get: (_type, id) => all[id],
    hasNaturalKey: (type, key) => type === 'keywords' && key === '10-ag|shoes|EXACT',
  };
}

const outcome = (type: EntityType, raw: unknown, country?: string) => {
  const r = checkUpdate(type, raw, 0, lookup(country));
  return r.ok ? 'ok' : `${r.error.kind}/${r.error.reason}`;
};

describe('update rules', () => {
  it.each([
    ['keywords', { keywordId: '20', bid: 2 }, 'ok'],
    ['keywords', { keywordId: '20', state: 'PAUSED' }, 'ok'],
    ['keywords', { keywordId: '99', bid: 2 }, 'entityNotFoundError/ENTITY_NOT_FOUND'],
    ['keywords', { bid: 2 }, 'missingValueError/MISSING_VALUE'],
    ['keywords', { keywordId: 20, bid: 2 }, 'malformedValueError/MALFORMED_VALUE'],
    ['keywords', { keywordId: '20', bid: '2' }, 'malformedValueError/MALFORMED_VALUE'],
    ['keywords', { keywordId: '20', state: 'DELETED' }, 'malformedValueError/MALFORMED_VALUE'],
    ['keywords', { keywordId: '20', bid: 0.01 }, 'rangeError/TOO_LOW'],
    ['keywords', { keywordId: '20', bid: 1001 }, 'rangeError/TOO_HIGH'],
    ['keywords', { keywordId: '20', bid: 60 }, 'biddingError/BID_GT_BUDGET'],
    ['keywords', { keywordId: '21', bid: 2 }, 'parentEntityError/PARENT_ENTITY_ARCHIVED'],
    ['targets', { targetId: '30', bid: 0.001 }, 'biddingError/BID_OUT_OF_MARKET_PLACE_RANGE'],
    ['campaigns', { campaignId: '10', budget: { budget: 0.5 } }, 'rangeError/TOO_LOW'],
    ['campaigns', { campaignId: '10', budget: { budget: 75, budgetType: 'DAILY' } }, 'ok'],
    ['campaigns', { campaignId: '11', state: 'ENABLED' }, 'entityStateError/ARCHIVED_ENTITY_CANNOT_BE_MODIFIED'],
    ['campaigns', 'not an object', 'malformedValueError/MALFORMED_VALUE'],
  ] as const)('%s %j → %s', (type, raw, expected) => {
    expect(outcome(type, raw)).toBe(expected);
  });

  it('uses the marketplace of the profile (JP bids start at 2)', () => {
    expect(outcome('keywords', { keywordId: '20', bid: 1 }, 'JP')).toBe('rangeError/TOO_LOW');
  });

  it('keeps absent fields as they are', () => {
    const r = checkUpdate('keywords', { keywordId: '20', state: 'PAUSED' }, 0, lookup());
    expect(r.ok && r.entity).toMatchObject({ bid: 1, state: 'PAUSED', keywordText: 'shoes' });
  });
});

describe('create rules', () => {
  it('refuses a duplicate of a live entity and a missing required field', () => {
    const dup = checkCreate('keywords', { campaignId: '10', keywordText: 'shoes', matchType: 'EXACT', bid: 1 }, 0, lookup(), '22');
    expect(!dup.ok && dup.error.kind).toBe('duplicateValueError');
    const missing = checkCreate('keywords', { campaignId: '10', matchType: 'EXACT', bid: 1 }, 0, lookup(), '22');
    expect(!missing.ok && missing.error).toMatchObject({ kind: 'missingValueError', details: { cause: { location: '$[0].keywordText' } } });
    const fine = checkCreate('keywords', { campaignId: '10', keywordText: 'boots', matchType: 'EXACT', bid: 1 }, 0, lookup(), '22');
    expect(fine.ok && fine.entity).toMatchObject({ keywordId: '22', adGroupId: '10-ag', state: 'ENABLED' });
  });
});
