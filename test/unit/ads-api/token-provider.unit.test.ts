import { describe, expect, it } from 'vitest';
import { TokenProvider } from '../../../src/ads-api/token-provider.js';

function provider(ttlSeconds = 3600, marginMs = 60_000) {
  let now = 0;
  let issued = 0;
  const tokens = new TokenProvider({
    fetchToken: async () => {
      issued++;
      await Promise.resolve();
      return { accessToken: `t${issued}`, expiresInSeconds: ttlSeconds };
    },
    refreshMarginMs: marginMs,
    now: () => now,
  });
  return { tokens, issued: () => issued, advance: (ms: number) => (now += ms) };
}

describe('TokenProvider', () => {
  it('shares one refresh among concurrent callers', async () => {
    const p = provider();
    expect(await Promise.all([p.tokens.get(), p.tokens.get(), p.tokens.get()])).toEqual(['t1', 't1', 't1']);
    expect(p.issued()).toBe(1);
  });

  it('refreshes a margin before expiry, not after', async () => {
    const p = provider(3600, 60_000);
    await p.tokens.get();
    p.advance(3_539_000);
    expect(await p.tokens.get()).toBe('t1');
    p.advance(2_000); // now inside the last minute
    expect(await p.tokens.get()).toBe('t2');
  });

  it('uses a short-lived token for at least half its life', async () => {
    const p = provider(10, 60_000);
    await p.tokens.get();
    p.advance(4_900);
    expect(await p.tokens.get()).toBe('t1');
    p.advance(200);
    expect(await p.tokens.get()).toBe('t2');
  });

  it('forgets a refused token, but not a newer one', async () => {
    const p = provider();
    await p.tokens.get();
    p.tokens.invalidate('t1');
    expect(await p.tokens.get()).toBe('t2');
    p.tokens.invalidate('t1'); // a late 401 for the old token
    expect(await p.tokens.get()).toBe('t2');
  });
});
