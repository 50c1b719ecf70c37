import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/telemetry/logger.js';

describe('the logger', () => {
  it('redacts credentials wherever the configuration nests them, and Authorization headers', () => {
    let out = '';
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => ((out += chunk.toString()), done()) });
    const logger = createLogger({ level: 'debug', service: 'test', destination });
    logger.info({ config: { adsApi: { credentials: { clientId: 'id-1', clientSecret: 'secret-1', refreshToken: 'refresh-1' } } } }, 'config');
    logger.info({ req: { headers: { authorization: 'Bearer token-1' } }, body: { access_token: 'token-2', refresh_token: 'refresh-2' } }, 'request');
    logger.info({ accessToken: 'token-3' }, 'token');
    expect(out).toContain('id-1'); // what is not a credential stays
    for (const secret of ['secret-1', 'refresh-1', 'token-1', 'token-2', 'refresh-2', 'token-3']) expect(out).not.toContain(secret);
  });
});
