// Contract: every throttling and fault mode of SIMULATOR.md reaches the client as the right
// typed outcome, and the simulator really enforces its limits and keeps its writes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Permanent, Throttled, Transient } from '../../../src/domain/errors.js';
import type { BatchResult } from '../../../src/domain/api-client.js';
import { faultKnobsSchema } from '../../../src/simulator/config.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const p0 = generatedProfileId('NA', 0);
const p1 = generatedProfileId('NA', 1);
const kw = (profile: string, i: number) => generatedEntityId(profile, 'keywords', i);
let t: TestSimulator;

beforeAll(async () => {
  t = await startTestSimulator({
    generate: { profilesPerRegion: 2 },
    rateLimit: { ratePerSecond: 1000, burst: 1000 },
    gatewayTimeoutDelayMs: 300,
    timeoutAfterCommitDelayMs: 3_000,
  });
});
afterEach(async () => {
  // Every knob back to its default, for both profiles.
  await t.admin.setKnobs({ faults: faultKnobsSchema.parse({}), profileFaults: { [p0]: null, [p1]: null }, rateLimit: { ratePerSecond: 1000, burst: 1000 }, retryAfter: false, latency: { p50Ms: 0, p99Ms: 0 } });
});
afterAll(() => t.close());

const errorOf = (r: BatchResult) => (r.type === 'failed' ? r.error : undefined);
const update = (profile: string, i: number, bid: number) => t.client().call(profile, 'keywords', 'update', [{ keywordId: kw(profile, i), bid }]);

describe('throttling', () => {
  it('answers 429 once the bucket is empty, with Retry-After when switched on', async () => {
    await t.admin.setKnobs({ rateLimit: { ratePerSecond: 1, burst: 1 }, retryAfter: true, retryAfterSeconds: 2 });
    const client = t.client();
    expect((await client.call(p0, 'keywords', 'update', [{ keywordId: kw(p0, 0), bid: 1 }])).type).toBe('answered');
    const throttled = errorOf(await client.call(p0, 'keywords', 'update', [{ keywordId: kw(p0, 0), bid: 1 }]));
    expect(throttled).toBeInstanceOf(Throttled);
    expect((throttled as Throttled).retryAfterMs).toBe(2000);

    await t.admin.setKnobs({ retryAfter: false });
    const bare = errorOf(await client.call(p0, 'keywords', 'update', [{ keywordId: kw(p0, 0), bid: 1 }]));
    expect(bare).toBeInstanceOf(Throttled);
    expect((bare as Throttled).retryAfterMs).toBeUndefined();
  });

  it('admits no more than rate + burst calls in any second, however hard it is pushed', async () => {
    await t.admin.setKnobs({ rateLimit: { ratePerSecond: 5, burst: 5 } });
    await t.admin.resetCounters();
    const client = t.client();
    const started = Date.now();
    const results: BatchResult[] = [];
    while (Date.now() - started < 2_000) {
      results.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => client.call(p1, 'keywords', 'update', [{ keywordId: kw(p1, i), bid: 1 }])))));
    }
    const counters = await t.admin.counters();
    const answered = results.filter((r) => r.type === 'answered').length;
    expect(counters.profiles[p1]?.admitted).toBe(answered);
    expect(counters.profiles[p1]?.throttled).toBe(results.length - answered);
    expect(counters.profiles[p1]?.peakAdmittedPerSecond).toBeLessThanOrEqual(5 + 5);
    expect(answered).toBeLessThanOrEqual(5 + 5 * 2 + 1); // burst + 2 s of refill
    expect(answered).toBeGreaterThanOrEqual(10);
  });

  it('applies the optional global bucket of a client id across all its profiles', async () => {
    await t.admin.setKnobs({ globalRateLimit: { ratePerSecond: 0.01, burst: 2 } });
    try {
      expect((await update(p0, 7, 1)).type).toBe('answered');
      expect((await update(p1, 7, 1)).type).toBe('answered');
      expect(errorOf(await update(p1, 8, 1))).toBeInstanceOf(Throttled); // p1's own bucket is far from empty
    } finally {
      await t.admin.setKnobs({ globalRateLimit: null });
    }
    expect((await update(p1, 8, 1)).type).toBe('answered');
  });

  it('keeps one profile throttled under a sticky throttle while others are served', async () => {
    await t.admin.setKnobs({ profileFaults: { [p0]: { stickyThrottle: true } } });
    expect(errorOf(await update(p0, 1, 1))).toBeInstanceOf(Throttled);
    expect(errorOf(await update(p0, 1, 1))).toBeInstanceOf(Throttled);
    expect((await update(p1, 1, 1)).type).toBe('answered');
  });
});

describe('faults', () => {
  it('revoked auth for one profile is permanent after one token refresh; other profiles are served', async () => {
    await t.admin.setKnobs({ profileFaults: { [p0]: { revokedAuth: true } } });
    const error = errorOf(await update(p0, 2, 1));
    expect(error).toBeInstanceOf(Permanent);
    expect(error).toMatchObject({ kind: 'unauthorized', httpStatus: 401 });
    expect((await update(p1, 2, 1)).type).toBe('answered');
  });

  it.each([
    ['http500', 500],
    ['http502', 502],
    ['http504', 504],
  ] as const)('%s is transient', async (knob, status) => {
    await t.admin.setKnobs({ faults: { [knob]: 1 } });
    const error = errorOf(await update(p0, 3, 1));
    expect(error).toBeInstanceOf(Transient);
    expect(error).toMatchObject({ httpStatus: status, kind: `http${status}` });
  });

  it('a connection reset is transient (connection)', async () => {
    await t.admin.setKnobs({ faults: { connectionReset: 1 } });
    expect(errorOf(await update(p0, 4, 1))).toMatchObject({ name: 'Transient', kind: 'connection' });
  });

  it('timeout-after-commit: the caller sees a timeout, the write is applied, and a retry is harmless', async () => {
    await t.admin.setKnobs({ faults: { timeoutAfterCommit: 1 } });
    const client = t.client({ http: { requestTimeoutMs: 500 } });
    const first = await client.call(p0, 'keywords', 'update', [{ keywordId: kw(p0, 5), bid: 3.21 }]);
    expect(errorOf(first)).toMatchObject({ name: 'Transient', kind: 'timeout' });
    expect((await t.admin.entities<Keyword>(p0, 'keywords', [kw(p0, 5)]))[0]?.bid).toBe(3.21);

    await t.admin.setKnobs({ faults: { timeoutAfterCommit: 0 } });
    const retry = await client.call(p0, 'keywords', 'update', [{ keywordId: kw(p0, 5), bid: 3.21 }]);
    expect(retry.type === 'answered' && retry.items[0]?.type).toBe('succeeded');
    expect((await t.admin.entities<Keyword>(p0, 'keywords', [kw(p0, 5)]))[0]?.bid).toBe(3.21);
  });

  it('draws latency from the configured distribution (p50 and p99)', async () => {
    await t.admin.setKnobs({ latency: { p50Ms: 20, p99Ms: 80 } });
    const client = t.client();
    const latencies: number[] = [];
    for (let i = 0; i < 150; i++) latencies.push((await client.call(p1, 'keywords', 'update', [{ keywordId: kw(p1, 6), bid: 1 }])).latencyMs);
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length * 0.5)]!;
    expect(p50).toBeGreaterThanOrEqual(14);
    expect(p50).toBeLessThanOrEqual(35);
    expect(latencies[latencies.length - 1]!).toBeGreaterThan(p50 * 1.5);
  });
});
