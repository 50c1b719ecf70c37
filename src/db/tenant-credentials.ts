// Tenants' own Amazon Ads credentials (sealed at rest) and the advertiser profiles bound to
// each tenant: what the submitter checks items against and what the executor calls with.
import type { Pool } from './pool.js';
import { inTransaction } from './pool.js';
import { keyIdOf, seal, unseal, type SecretKeys } from '../lib/sealed-secrets.js';

export interface AdsCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface BoundProfile {
  profileId: string;
  region: string;
  countryCode: string;
}

export type TenantCredentialState = { state: 'active'; credentials: AdsCredentials } | { state: 'rejected'; reason: string };

export interface TenantCredentials {
  /** Stores a tenant's credentials and binds exactly `profiles` to it (what they reach now). */
  set(tenantId: string, credentials: AdsCredentials, profiles: BoundProfile[], by: string): Promise<void>;
  /** The tenant's credentials, opened; undefined when it has none of its own. */
  of(tenantId: string): Promise<TenantCredentialState | undefined>;
  /** Login with Amazon refused the tenant's refresh token: kept until new credentials are set. */
  markRejected(tenantId: string, reason: string): Promise<void>;
  /**
   * Which profiles the tenant may submit items for: with its own credentials, the ones
   * bound to it; without, any profile not bound to another tenant.
   */
  profileAccess(tenantId: string): Promise<ProfileAccess>;
  /** Seals every stored secret with the current key (after a rotation); returns how many rows moved. */
  reseal(): Promise<number>;
  /** Tenants with their own credentials (or only `tenantId`): client id, state and how many profiles are bound (never a secret). */
  list(tenantId?: string): Promise<{ tenantId: string; clientId: string; state: string; profiles: number; updatedAt: Date }[]>;
  /** Each tenant with credentials of its own, by the client id its calls carry. */
  clientIds(): Promise<Map<string, string>>;
}

export type ProfileAccess = { own: true; profiles: Set<string> } | { own: false; boundElsewhere: Set<string> };

export function createTenantCredentials(pool: Pool, keys: SecretKeys | undefined): TenantCredentials {
  const keysOrFail = (): SecretKeys => {
    if (!keys) throw new Error('no secrets key is configured: set SLUICE_SECRETS_KEY (32 bytes, base64: openssl rand -base64 32) to store or read tenants\' Amazon credentials');
    return keys;
  };
  return {
    async set(tenantId, credentials, profiles, by) {
      const k = keysOrFail();
      await inTransaction(pool, async (client) => {
        await client.query(
          `INSERT INTO tenant_ads_credentials (tenant_id, client_id, client_secret_sealed, refresh_token_sealed, updated_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant_id) DO UPDATE SET client_id = EXCLUDED.client_id, client_secret_sealed = EXCLUDED.client_secret_sealed,
             refresh_token_sealed = EXCLUDED.refresh_token_sealed, state = 'active', rejected_reason = NULL, rejected_at = NULL,
             updated_by = EXCLUDED.updated_by, updated_at = now()`,
          [tenantId, credentials.clientId, seal(credentials.clientSecret, k), seal(credentials.refreshToken, k), by],
        );
        await client.query('DELETE FROM tenant_profiles WHERE tenant_id = $1', [tenantId]);
        await client.query(
          `INSERT INTO tenant_profiles (tenant_id, profile_id, region, country_code)
           SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])`,
          [tenantId, profiles.map((p) => p.profileId), profiles.map((p) => p.region), profiles.map((p) => p.countryCode)],
        );
      });
    },
    async of(tenantId) {
      const { rows } = await pool.query<{ client_id: string; client_secret_sealed: string; refresh_token_sealed: string; state: string; rejected_reason: string | null }>(
        'SELECT client_id, client_secret_sealed, refresh_token_sealed, state, rejected_reason FROM tenant_ads_credentials WHERE tenant_id = $1',
        [tenantId],
      );
      const row = rows[0];
      if (!row) return undefined;
      if (row.state === 'rejected') return { state: 'rejected', reason: row.rejected_reason ?? 'refused by Login with Amazon' };
      const k = keysOrFail();
      return { state: 'active', credentials: { clientId: row.client_id, clientSecret: unseal(row.client_secret_sealed, k), refreshToken: unseal(row.refresh_token_sealed, k) } };
    },
    async markRejected(tenantId, reason) {
      await pool.query(`UPDATE tenant_ads_credentials SET state = 'rejected', rejected_reason = $2, rejected_at = now() WHERE tenant_id = $1 AND state = 'active'`, [tenantId, reason]);
    },
    async profileAccess(tenantId) {
      const own = await pool.query('SELECT 1 FROM tenant_ads_credentials WHERE tenant_id = $1', [tenantId]);
      if (own.rowCount === 1) {
        const { rows } = await pool.query<{ profile_id: string }>('SELECT profile_id FROM tenant_profiles WHERE tenant_id = $1', [tenantId]);
        return { own: true, profiles: new Set(rows.map((r) => r.profile_id)) };
      }
      const { rows } = await pool.query<{ profile_id: string }>('SELECT DISTINCT profile_id FROM tenant_profiles WHERE tenant_id <> $1', [tenantId]);
      return { own: false, boundElsewhere: new Set(rows.map((r) => r.profile_id)) };
    },
    async clientIds() {
      const { rows } = await pool.query<{ tenant_id: string; client_id: string }>('SELECT tenant_id, client_id FROM tenant_ads_credentials');
      return new Map(rows.map((r) => [r.tenant_id, r.client_id]));
    },
    async reseal() {
      const k = keysOrFail();
      const { rows } = await pool.query<{ tenant_id: string; client_secret_sealed: string; refresh_token_sealed: string }>('SELECT tenant_id, client_secret_sealed, refresh_token_sealed FROM tenant_ads_credentials');
      let moved = 0;
      for (const row of rows) {
        if (keyIdOf(row.client_secret_sealed) === k.current.id && keyIdOf(row.refresh_token_sealed) === k.current.id) continue;
        await pool.query('UPDATE tenant_ads_credentials SET client_secret_sealed = $2, refresh_token_sealed = $3 WHERE tenant_id = $1', [
          row.tenant_id,
          seal(unseal(row.client_secret_sealed, k), k),
          seal(unseal(row.refresh_token_sealed, k), k),
        ]);
        moved++;
      }
      return moved;
    },
    async list(tenantId) {
      const { rows } = await pool.query<{ tenant_id: string; client_id: string; state: string; profiles: string; updated_at: Date }>(
        `SELECT c.tenant_id, c.client_id, c.state, c.updated_at, count(p.profile_id) AS profiles
         FROM tenant_ads_credentials c LEFT JOIN tenant_profiles p USING (tenant_id)
         WHERE $1::text IS NULL OR c.tenant_id = $1 GROUP BY c.tenant_id ORDER BY c.tenant_id`,
        [tenantId ?? null],
      );
      return rows.map((r) => ({ tenantId: r.tenant_id, clientId: r.client_id, state: r.state, profiles: Number(r.profiles), updatedAt: r.updated_at }));
    },
  };
}
