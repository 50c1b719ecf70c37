import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../../src/lib/semaphore.js';

describe('Semaphore', () => {
  it('lets at most `limit` hold a place, and the waiters in in the order they came', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    const releases = await Promise.all([s.acquire(), s.acquire()]);
    const later = [3, 4, 5].map((n) => s.acquire().then((release) => (order.push(n), release)));
    await Promise.resolve();
    expect([s.inUse, s.waiting, order]).toEqual([2, 3, []]);
    releases[0]!();
    releases[0]!(); // a second call gives nothing back twice
    const third = await later[0]!;
    expect([s.inUse, s.waiting, order]).toEqual([2, 2, [3]]);
    releases[1]!();
    third();
    await Promise.all(later.slice(1));
    expect(order).toEqual([3, 4, 5]);
  });

  it('a waiter whose signal aborts leaves the line without taking a place', async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    const abort = new AbortController();
    const gone = s.acquire(abort.signal);
    const next = s.acquire();
    abort.abort(new Error('stopping'));
    await expect(gone).rejects.toThrow('stopping');
    release();
    (await next)();
    expect([s.inUse, s.waiting]).toEqual([0, 0]);
  });
});

describe('Semaphore under a line that never empties', () => {
  it('keeps no reference to the waiters it has let through', async () => {
    const s = new Semaphore(1);
    let release = await s.acquire();
    let queued = [s.acquire(), s.acquire()];
    for (let i = 0; i < 5_000; i++) {
      release();
      release = await queued[0]!;
      queued = [queued[1]!, s.acquire()]; // two always waiting
    }
    const line = (s as unknown as { waiters: unknown[] }).waiters;
    expect(s.waiting).toBe(2);
    expect(line.filter((w) => w !== undefined)).toHaveLength(2);
    expect(line.length).toBeLessThan(2_100);
  });
});
