// Secrets at rest (a tenant's Amazon client secret and refresh token): AES-256-GCM under
// a key from the environment, each sealed value naming the key it was sealed with, so a
// rotation can run while old values are still readable (the new key seals, every listed
// key opens; `sluice tenants ads-auth reseal` moves every value to the new key).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface SecretKey {
  /** A short fingerprint of the key (never the key): which key sealed a value. */
  id: string;
  key: Buffer;
}

export interface SecretKeys {
  current: SecretKey;
  previous: SecretKey[];
}

const VERSION = 'v1';

/** A key from its base64 text: 32 bytes. */
export function secretKey(base64: string): SecretKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error(`a key is 32 bytes in base64 (this one is ${key.length}); make one with: openssl rand -base64 32`);
  return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
}

/** `v1.<key id>.<iv>.<tag>.<ciphertext>`, base64url parts. */
export function seal(plaintext: string, keys: SecretKeys): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.current.key, iv);
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, keys.current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
}

export function keyIdOf(sealed: string): string {
  return sealed.split('.')[1] ?? '';
}

export function unseal(sealed: string, keys: SecretKeys): string {
  const [version, keyId, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || !keyId || iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed secret');
  const key = [keys.current, ...keys.previous].find((k) => k.id === keyId);
  if (!key) throw new Error(`sealed with key ${keyId}, which is neither SLUICE_SECRETS_KEY nor one of SLUICE_SECRETS_PREVIOUS_KEYS`);
  const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
