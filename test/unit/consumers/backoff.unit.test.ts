import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../src/consumers/backoff.js';

describe('backoffMs', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };
  it('doubles its cap per retry up to the maximum, and jitters below it', () => {
    expect([1, 2, 3, 4, 5].map((r) => backoffMs(policy, r, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffMs(policy, 3, () => 0.5)).toBe(200);
    expect(backoffMs(policy, 3, () => 0)).toBe(0);
  });
});
