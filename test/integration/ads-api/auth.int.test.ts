// Contract: Login-with-Amazon tokens are fetched once, shared, refreshed before expiry and
// once after a 401; bad credentials are a permanent failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Permanent } from '../../../src/domain/errors.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const profile = generatedProfileId('NA', 0);
const keyword = (i: number) => ({ keywordId: generatedEntityId(profile, 'keywords', i), bid: 0.75 });
let t: TestSimulator;

beforeAll(async () => {
  t = await startTestSimulator({ tokenTtlSeconds: 3, rateLimit: { ratePerSecond: 1000, burst: 1000 } });
});
afterAll(() => t.close());

describe('Login with Amazon', () => {
  it('fetches one token and shares it among concurrent callers', async () => {
    await t.admin.resetCounters();
    const client = t.client();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.call(profile, 'keywords', 'update', [keyword(i)])));
    expect(results.every((r) => r.type === 'answered')).toBe(true);
    expect((await t.admin.counters()).tokenCalls).toBe(1);
  });

  it('refreshes before the token expires', async () => {
    await t.admin.resetCounters();
    // Token lives 3 s; the margin is capped at half its life, so it is renewed at 1.5 s.
    const client = t.client({ tokenRefreshMarginMs: 2_500 });
    await client.call(profile, 'keywords', 'update', [keyword(0)]);
    await client.call(profile, 'keywords', 'update', [keyword(0)]);
    expect((await t.admin.counters()).tokenCalls).toBe(1);
    await new Promise((r) => setTimeout(r, 1_700));
    await client.call(profile, 'keywords', 'update', [keyword(0)]);
    const counters = await t.admin.counters();
    expect(counters.tokenCalls).toBe(2);
    expect(counters.byStatus['401'] ?? 0).toBe(0);
  });

  it('refreshes once on a 401 and the call then succeeds', async () => {
    const client = t.client();
    await client.call(profile, 'keywords', 'update', [keyword(1)]);
    await t.admin.expireTokens(); // every issued token is now refused
    await t.admin.resetCounters();
    const result = await client.call(profile, 'keywords', 'update', [keyword(1)]);
    expect(result.type).toBe('answered');
    const counters = await t.admin.counters();
    expect(counters.byStatus['401']).toBe(1);
    expect(counters.tokenCalls).toBe(1);
  });

  it('reports refused credentials as permanent, naming the grant error', async () => {
    const client = t.client({ credentials: { clientId: 'sluice-dev-client', clientSecret: 'sluice-dev-secret', refreshToken: 'revoked' } });
    const result = await client.call(profile, 'keywords', 'update', [keyword(2)]);
    expect(result.type).toBe('failed');
    if (result.type !== 'failed') return;
    expect(result.error).toBeInstanceOf(Permanent);
    expect((result.error as Permanent).reason).toBe('INVALID_GRANT');
  });
});
