import { describe, expect, it } from 'vitest';
import { canaryQuotas, canaryRequest, canarySize, canaryVerdict } from '../../../src/domain/canary.js';

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('canary', () => {
  it('given a skewed job, shares the slice out by items, one for every profile first, never more than a profile has', () => {
    const job = new Map([['big', 9_000], ['mid', 900], ['small', 100], ['one', 1]]);
    const quotas = canaryQuotas(job, 200);
    expect(sum(quotas)).toBe(200);
    expect(quotas.get('one')).toBe(1);
    expect(quotas.get('small')).toBeGreaterThanOrEqual(1);
    expect(quotas.get('big')).toBeGreaterThan(quotas.get('mid')!);
    for (const [p, n] of job) expect(quotas.get(p)!).toBeLessThanOrEqual(n);
  });

  it('given a slice smaller than the profiles, takes it in proportion; given one larger than the job, takes the job', () => {
    expect(sum(canaryQuotas(new Map([['a', 10], ['b', 10], ['c', 10]]), 2))).toBe(2);
    expect(canaryQuotas(new Map([['a', 3], ['b', 2]]), 50)).toEqual(new Map([['a', 3], ['b', 2]]));
  });

  it('sizes the slice by items or percent, at least one item', () => {
    expect(canarySize(canaryRequest.parse({ items: 200 }), 10_000)).toBe(200);
    expect(canarySize(canaryRequest.parse({ percent: 0.001 }), 10_000)).toBe(1);
    expect(canarySize(canaryRequest.parse({ percent: 5 }), 10_000)).toBe(500);
    expect(canaryRequest.safeParse({ items: 10, percent: 5 }).success).toBe(false);
    expect(canaryRequest.safeParse({}).success).toBe(false);
  });

  it('passes at the share, fails above it with the breakdown by reason', () => {
    expect(canaryVerdict({ items: 100, maxFailureRate: 0.05 }, 100, [{ reason: 'X', count: 5 }])).toMatchObject({ passed: true });
    const failed = canaryVerdict({ items: 100, maxFailureRate: 0.05 }, 100, [{ reason: 'BID_TOO_HIGH', count: 5 }, { reason: 'X', count: 1 }]);
    expect(failed).toEqual({ passed: false, reason: 'canary_failed: 6 of 100 canary items failed permanently (6.0%, at most 5.0%): BID_TOO_HIGH ×5, X ×1' });
  });
});
