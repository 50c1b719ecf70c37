import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/lib/token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at its rate', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(0), b.tryTake(0)]).toEqual([true, true, true, false]);
    expect(b.waitMs(0)).toBe(500);
    expect(b.tryTake(499)).toBe(false);
    expect(b.tryTake(500)).toBe(true);
  });

  it('never holds more than its burst, however long it rests', () => {
    const b = new TokenBucket(10, 2, 0);
    b.tryTake(0);
    expect([b.tryTake(60_000), b.tryTake(60_000), b.tryTake(60_000)]).toEqual([true, true, false]);
  });

  it('takes nothing when a multi-token cost does not fit', () => {
    const b = new TokenBucket(1, 6, 0);
    expect(b.tryTake(0, 5)).toBe(true);
    expect(b.tryTake(0, 5)).toBe(false);
    expect(b.tryTake(0, 1)).toBe(true);
  });

  it('reconfigures from now on, capping tokens at the new burst', () => {
    const b = new TokenBucket(1, 10, 0);
    b.reconfigure(0, 5, 2);
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(0)]).toEqual([true, true, false]);
    expect(b.waitMs(0)).toBe(200);
  });

  it('refuses a meaningless configuration', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, 0, 0)).toThrow(RangeError);
  });
});
