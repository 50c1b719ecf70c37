import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter } from '../../../src/consumers/adaptive-limiter.js';
import { TokenBucket } from '../../../src/lib/token-bucket.js';

/** Drives a limiter against an API bucket of `limit` calls/s; returns calls made and 429s. */
function simulate(limiter: AdaptiveLimiter, limit: number, seconds: number) {
  const api = new TokenBucket(limit, limit, 0);
  let calls = 0;
  let throttled = 0;
  const admitted: number[] = [];
  for (let now = 0; now < seconds * 1000; now += 1) {
    if (limiter.reserve('p', now) !== 0) continue;
    calls++;
    if (api.tryTake(now)) {
      admitted.push(now);
      limiter.onSucceeded('p', now);
    } else {
      throttled++;
      limiter.onThrottled('p', now);
    }
  }
  return { calls, throttled, admitted };
}

describe('AdaptiveLimiter', () => {
  it('gives each profile its own bucket at the configured rate and burst', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 2, burst: 2, ceiling: 2 } });
    expect([l.reserve('a', 0), l.reserve('a', 0), l.reserve('b', 0)]).toEqual([0, 0, 0]);
    expect(l.reserve('a', 0)).toBe(500);
    expect(l.reserve('a', 500)).toBe(0);
  });

  it('takes per-profile settings over the defaults', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 2, burst: 1, ceiling: 2 }, perProfile: { fast: { ratePerSecond: 100, ceiling: 100 } } });
    expect(l.rate('fast')).toBeUndefined();
    l.reserve('fast', 0);
    expect(l.rate('fast')).toBe(100);
  });

  it('holds a throttled profile back for Retry-After and cuts its rate', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 10, burst: 10, ceiling: 10 } });
    l.reserve('p', 0);
    l.onThrottled('p', 0, 3_000);
    expect(l.reserve('p', 1_000)).toBe(2_000);
    expect(l.rate('p')).toBe(9);
  });

  it('starting far above an unknown limit, converges on it: under 1% 429s after the first minute', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 20, burst: 20, ceiling: 20 } });
    const warmUp = simulate(l, 4, 60);
    expect(warmUp.throttled).toBeGreaterThan(0);
    const after = simulate(l, 4, 600);
    expect(after.throttled / after.calls).toBeLessThan(0.01);
    expect(after.admitted.length / (4 * 600)).toBeGreaterThan(0.9); // uses the capacity
  });

  it('grows back to its ceiling after a throttling spell, never beyond it', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 5, burst: 5, ceiling: 5 } });
    for (let i = 0; i < 5; i++) l.onThrottled('p', i);
    expect(l.rate('p')).toBeLessThan(3.5);
    simulate(l, 100, 600);
    expect(l.rate('p')).toBe(5);
  });
});

describe('AdaptiveLimiter at its ceiling', () => {
  it('takes an isolated 429 for jitter: holds back without cutting the rate; a second soon after cuts it', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 2, burst: 1, ceiling: 2 } });
    for (let i = 0; i < 60; i++) l.onSucceeded('p', i * 500);
    l.onThrottled('p', 30_000);
    expect(l.rate('p')).toBe(2);
    expect(l.reserve('p', 30_100)).toBe(400);
    l.onSucceeded('p', 30_500);
    l.onThrottled('p', 31_000);
    expect(l.rate('p')).toBe(1.8);
  });
  it('releases idle profiles and keeps only what they learned: a throttled one starts again at its learned rate', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 20, burst: 1, ceiling: 20 } });
    const learned = simulate(l, 5, 30); // the API allows 5 calls/s: the limiter learns about that
    expect(learned.throttled).toBeGreaterThan(0);
    const rate = l.rate('p')!;
    expect(rate).toBeLessThan(7);
    l.reserve('quiet', 0); // used once at the start, never since
    expect([...l.idleSince(29_000)]).toEqual(['quiet']);
    for (const id of ['p', 'quiet']) l.release(id);
    expect([l.tracked, l.remembered]).toEqual([0, 1]); // 'quiet' learned nothing: nothing kept
    expect(l.rate('p')).toBeUndefined();
    // Back after the release: at the learned rate, not at 20 calls/s with a burst of 429s.
    const again = simulate(l, 5, 10);
    expect(again.throttled / again.calls).toBeLessThan(0.02);
    expect([l.tracked, l.remembered]).toEqual([1, 0]);
  });

  it('keeps one bucket per (client, profile), as Amazon does: two apps reaching one profile each get their whole rate', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 2, burst: 2, ceiling: 2 } });
    expect([l.reserve('p', 0, 'acme-app'), l.reserve('p', 0, 'acme-app')]).toEqual([0, 0]);
    expect(l.reserve('p', 0, 'acme-app')).toBe(500);
    // Another client's bucket of the same profile is untouched, and so is the install's.
    expect([l.reserve('p', 0, 'globex-app'), l.reserve('p', 0, 'globex-app'), l.reserve('p', 0)]).toEqual([0, 0, 0]);
    expect(l.tracked).toBe(3);
    // A 429 on one client's bucket slows that one only.
    l.onThrottled('p', 10, 2_000, 'globex-app');
    expect(l.reserve('p', 600, 'acme-app')).toBe(0);
    expect(l.reserve('p', 600, 'globex-app')).toBeGreaterThan(1_000);
    expect(l.rate('p', 'globex-app')).toBeLessThan(l.rate('p', 'acme-app')!);
  });

  it('releases a profile with all its clients, each remembering what it learned', () => {
    const l = new AdaptiveLimiter({ defaults: { ratePerSecond: 2, burst: 2, ceiling: 2 } });
    l.onThrottled('p', 0, undefined, 'globex-app');
    l.reserve('p', 0, 'acme-app');
    const cut = l.rate('p', 'globex-app')!;
    expect([...l.idleSince(1_000)]).toEqual(['p']);
    l.release('p');
    expect(l.tracked).toBe(0);
    l.reserve('p', 5_000, 'globex-app');
    l.reserve('p', 5_000, 'acme-app');
    expect([l.rate('p', 'globex-app'), l.rate('p', 'acme-app')]).toEqual([cut, 2]);
  });
});
