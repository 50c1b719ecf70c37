import { describe, expect, it } from 'vitest';
import { Counters } from '../../../src/simulator/counters.js';

describe('Counters', () => {
  it('takes the peak over any sliding one-second window, not calendar seconds', () => {
    const c = new Counters();
    // 3 calls late in one second and 3 early in the next: 6 within 1,000 ms.
    for (const t of [900, 950, 990, 1010, 1050, 1100, 2500]) c.admitted('p', t);
    expect(c.snapshot().profiles.p?.peakAdmittedPerSecond).toBe(6);
  });

  it('counts calls by status and 429s per profile', () => {
    const c = new Counters();
    c.call(207, 'a', 0);
    c.call(429, 'a', 10);
    c.call(429, 'b', 20);
    c.call(0, 'b', 1500);
    const s = c.snapshot();
    expect(s).toMatchObject({ calls: 4, throttled: 2, byStatus: { '207': 1, '429': 2, '0': 1 } });
    expect(s.profiles.a).toMatchObject({ calls: 2, throttled: 1, peakCallsPerSecond: 2, peakAdmittedPerSecond: 0 });
    expect(s.profiles.b).toMatchObject({ calls: 2, peakCallsPerSecond: 1 }); // 1,480 ms apart
  });
});
