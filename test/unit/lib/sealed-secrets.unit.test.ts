// Secrets at rest: sealed under the current key, readable under any listed key while a
// rotation runs, tamper-evident, and a key that is gone is named, never guessed around.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, seal, secretKey, unseal } from '../../../src/lib/sealed-secrets.js';

const key = () => secretKey(randomBytes(32).toString('base64'));

describe('sealed secrets', () => {
  it('round-trips, hides the plaintext, and seals the same text differently each time', () => {
    const keys = { current: key(), previous: [] };
    const a = seal('refresh-token-123', keys);
    expect(unseal(a, keys)).toBe('refresh-token-123');
    expect(a).not.toContain('refresh-token-123');
    expect(seal('refresh-token-123', keys)).not.toBe(a);
    expect(keyIdOf(a)).toBe(keys.current.id);
  });

  it('opens a value sealed under a previous key during a rotation, and names a key that is gone', () => {
    const old = key();
    const sealed = seal('s3cret', { current: old, previous: [] });
    const rotated = { current: key(), previous: [old] };
    expect(unseal(sealed, rotated)).toBe('s3cret');
    expect(() => unseal(sealed, { current: rotated.current, previous: [] })).toThrow(new RegExp(`sealed with key ${old.id}`));
  });

  it('refuses a tampered value and a key of the wrong size', () => {
    const keys = { current: key(), previous: [] };
    const parts = seal('s3cret', keys).split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => unseal(parts.join('.'), keys)).toThrow();
    expect(() => secretKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
