// The circuit breakers (profile-breaker, api-breakers): a profile's breaker opens when
// enough of its recent calls failed, counts only its rolling window, lets exactly one
// probe through after its reset timeout and is closed or reopened by it; the API's
// breaker opens for transient failures across profiles but not for one profile's lost
// access; lanes waiting on an open breaker wake when its probe is due; a closed, idle
// breaker can be released and an open one cannot.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiBreakers, type BreakerSettings, type BreakerState } from '../../../src/consumers/api-breakers.js';
import { ProfileBreaker } from '../../../src/consumers/profile-breaker.js';
import type { CallResult } from '../../../src/domain/api-client.js';
import { Permanent, Throttled, Transient } from '../../../src/domain/errors.js';

const settings: BreakerSettings = { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeoutMs: 1_000, rollingWindowMs: 3_000 };

const ok: CallResult = { type: 'answered', items: [], latencyMs: 1, httpStatus: 207 };
const down: CallResult = { type: 'failed', error: new Transient('503', 'http5xx', 503), latencyMs: 1 };
const revoked: CallResult = { type: 'failed', error: new Permanent('401', 'unauthorized', 'UNAUTHORIZED', 401), latencyMs: 1 };
const throttled: CallResult = { type: 'failed', error: new Throttled('429'), latencyMs: 1 };

beforeEach(() => void vi.useFakeTimers({ now: 0 }));
afterEach(() => void vi.useRealTimers());

function breaker(): { breaker: ProfileBreaker; changes: BreakerState[] } {
  const changes: BreakerState[] = [];
  return { breaker: new ProfileBreaker('p1', { settings, onChange: (_id, state) => changes.push(state) }), changes };
}

function calls(b: ProfileBreaker, outcomes: boolean[]): void {
  for (const healthy of outcomes) b.settle(healthy, b.admit());
}

describe('ProfileBreaker', () => {
  it('stays closed below the volume threshold and opens above the failure share', () => {
    const { breaker: b, changes } = breaker();
    calls(b, [false, false, false]); // 3 calls: under the volume of 4
    expect(b.state).toBe('closed');
    calls(b, [true]); // 4 calls, 3 failed: only a failure can open it
    expect(b.state).toBe('closed');
    calls(b, [false]); // 5 calls, 4 failed (80% > 50%)
    expect(b.state).toBe('open');
    expect(b.admit()).toBe(false);
    expect(changes).toEqual(['open']);
  });

  it('does not open at exactly the threshold share', () => {
    const { breaker: b } = breaker();
    calls(b, [true, true, false, false]); // 50%, not above it
    expect(b.state).toBe('closed');
  });

  it('forgets calls older than its window, a slice at a time', () => {
    const { breaker: b } = breaker();
    calls(b, [false, false, false]); // slice 0 (0–999 ms)
    vi.setSystemTime(3_000); // slice 3: slice 0 has left the window
    calls(b, [false]);
    expect(b.state).toBe('closed'); // 1 call in the window, under the volume
    vi.setSystemTime(4_000); // slice 4: slice 3 still counts
    calls(b, [false, false, false]);
    expect(b.state).toBe('open'); // 4 calls, all failed
  });

  it('still counts the calls of the slices within the window', () => {
    const { breaker: b } = breaker();
    calls(b, [false, false]);
    vi.setSystemTime(2_500); // slice 2: slice 0 is still in a 3-slice window
    calls(b, [false, false]);
    expect(b.state).toBe('open');
  });

  it('admits one probe after the reset timeout; a healthy probe closes it with a fresh window', () => {
    const { breaker: b, changes } = breaker();
    calls(b, [false, false, false, false]);
    vi.advanceTimersByTime(999);
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(1);
    expect(b.state).toBe('halfOpen');
    const probe = b.admit();
    expect(probe).toBe('probe');
    expect(b.admit()).toBe(false); // the probe is out: nobody else
    b.settle(true, probe);
    expect(b.state).toBe('closed');
    calls(b, [false, false, false]); // the old failures do not count any more
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open', 'halfOpen', 'closed']);
  });

  it('opens again when the probe fails, and probes again after another reset timeout', () => {
    const { breaker: b, changes } = breaker();
    calls(b, [false, false, false, false]);
    vi.advanceTimersByTime(1_000);
    b.settle(false, b.admit());
    expect(b.state).toBe('open');
    vi.advanceTimersByTime(1_000);
    expect(b.state).toBe('halfOpen');
    expect(changes).toEqual(['open', 'halfOpen', 'open', 'halfOpen']);
  });

  it('ignores the outcome of a call admitted while closed that ends after it opened', () => {
    const { breaker: b } = breaker();
    const late = b.admit();
    calls(b, [false, false, false, false]);
    b.settle(true, late);
    expect(b.state).toBe('open');
  });

  it('wakes its waiters when the probe is due, and lets an aborted waiter go', async () => {
    const { breaker: b } = breaker();
    await b.whenCallable(); // closed: at once
    calls(b, [false, false, false, false]);
    let woke = false;
    const waiting = b.whenCallable().then(() => (woke = true));
    const abort = new AbortController();
    const aborted = b.whenCallable(abort.signal);
    abort.abort();
    await expect(aborted).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(999);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(woke).toBe(true);
  });

  it('holds no timer once shut down', () => {
    const { breaker: b } = breaker();
    calls(b, [false, false, false, false]);
    b.shutdown();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('ApiBreakers', () => {
  function breakers(): { breakers: ApiBreakers; changes: string[] } {
    const changes: string[] = [];
    return { breakers: new ApiBreakers({ api: { ...settings, volumeThreshold: 8 }, profile: settings }, (scope, state) => changes.push(`${scope}:${state}`)), changes };
  }

  it('opens a failing profile without stopping the others, and reports its probe', async () => {
    const { breakers: b, changes } = breakers();
    for (let i = 0; i < 4; i++) await b.run('p1', async () => down);
    for (let i = 0; i < 4; i++) await b.run('p2', async () => ok);
    expect(b.blocked('p1')).toBe(true);
    expect(b.blocked('p2')).toBe(false);
    expect(await b.run('p1', async () => ok)).toEqual({ type: 'open', scope: 'profile' });
    expect(await b.run('p2', async () => ok)).toMatchObject({ type: 'called', probe: false });
    vi.advanceTimersByTime(1_000);
    expect(await b.run('p1', async () => ok)).toMatchObject({ type: 'called', probe: true });
    expect(b.state('p1')).toBe('closed');
    expect(changes).toEqual(['p1:open', 'p1:halfOpen', 'p1:closed']);
  });

  it('opens the API breaker for transient failures across profiles, not for lost access or throttling', async () => {
    const { breakers: b } = breakers();
    // 8 calls, the API's volume: had they counted as failures, it would open
    for (let i = 0; i < 4; i++) await b.run(`revoked${i}`, async () => revoked);
    for (let i = 0; i < 4; i++) await b.run(`busy${i}`, async () => throttled);
    expect(b.blocked('fresh')).toBe(false);
    for (let i = 0; i < 10; i++) await b.run(`p${i}`, async () => down); // 10 of 18 failed
    expect(b.blocked('fresh')).toBe(true);
    expect(await b.run('fresh', async () => ok)).toEqual({ type: 'open', scope: 'api' });
  });

  it('keeps a profile whose access was lost failing fast until its probe, then forgets it', async () => {
    const { breakers: b } = breakers();
    for (let i = 0; i < 4; i++) await b.run('p1', async () => revoked);
    const failure = (revoked as Extract<CallResult, { type: 'failed' }>).error;
    expect(b.accessLost('p1', failure)).toBe(failure);
    expect(b.release('p1')).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(b.accessLost('p1')).toBeUndefined();
  });

  it('releases a closed breaker and holds on to an open one', async () => {
    const { breakers: b } = breakers();
    await b.run('idle', async () => ok);
    for (let i = 0; i < 4; i++) await b.run('failing', async () => down);
    expect(b.tracked).toBe(2);
    expect(b.release('idle')).toBe(true);
    expect(b.release('failing')).toBe(false);
    expect(b.tracked).toBe(1);
  });

  it('counts an exception thrown by the call as no verdict on the profile and passes it on', async () => {
    const { breakers: b } = breakers();
    for (let i = 0; i < 4; i++) await b.run('p1', async () => down);
    vi.advanceTimersByTime(1_000);
    await expect(b.run('p1', async () => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
    expect(b.state('p1')).toBe('closed');
  });
});
