// Login with Amazon, as the simulator plays it: refresh tokens of the configured clients
// are exchanged for bearer tokens that expire after tokenTtlSeconds.
import { randomBytes } from 'node:crypto';

export interface LwaClient {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export type TokenCheck = { ok: true; clientId: string } | { ok: false; details: string };

export class TokenIssuer {
  private readonly tokens = new Map<string, { clientId: string; expiresAtMs: number }>();

  private readonly clients: LwaClient[];

  constructor(
    clients: LwaClient[],
    private readonly ttlSeconds: number,
  ) {
    this.clients = clients.map((c) => ({ ...c })); // revoke() changes its own copy
  }

  /** POST /auth/o2/token with a form body: the status and JSON body to answer. */
  exchange(form: URLSearchParams, nowMs: number): { status: number; body: Record<string, unknown> } {
    if (form.get('grant_type') !== 'refresh_token') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant_type must be refresh_token' } };
    }
    const client = this.clients.find((c) => c.clientId === form.get('client_id'));
    if (!client || client.clientSecret !== form.get('client_secret')) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed' } };
    }
    if (client.refreshToken !== form.get('refresh_token')) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'The request has an invalid grant parameter : refresh_token' } };
    }
    const accessToken = `Atza|${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { clientId: client.clientId, expiresAtMs: nowMs + this.ttlSeconds * 1000 });
    return {
      status: 200,
      body: { access_token: accessToken, token_type: 'bearer', expires_in: this.ttlSeconds, refresh_token: client.refreshToken },
    };
  }

  verify(authorization: string | undefined, nowMs: number): TokenCheck {
    const token = authorization?.match(/^Bearer (.+)$/i)?.[1];
    if (!token) return { ok: false, details: 'Authorization header is missing or malformed' };
    const issued = this.tokens.get(token);
    if (!issued) return { ok: false, details: 'Access token is invalid' };
    if (issued.expiresAtMs <= nowMs) return { ok: false, details: 'Access token has expired' };
    return { ok: true, clientId: issued.clientId };
  }

  /** Makes every issued token invalid at once, as a key rotation would. */
  expireAll(): void {
    this.tokens.clear();
  }

  /**
   * The advertiser took the app's access away: its refresh token is refused from now on
   * (invalid_grant) and its access tokens stop working. False for an unknown client.
   */
  revoke(clientId: string): boolean {
    const client = this.clients.find((c) => c.clientId === clientId);
    if (!client) return false;
    client.refreshToken = `revoked-${randomBytes(8).toString('hex')}`;
    for (const [token, issued] of this.tokens) if (issued.clientId === clientId) this.tokens.delete(token);
    return true;
  }
}
