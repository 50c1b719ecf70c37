// API tokens (migration 1700000000007): made, looked up, listed and revoked. A token is
// `sluice_` and 32 random bytes in base64url: with that much entropy one SHA-256 is the
// right hash (a slow password hash would only slow every request), and only the hash is
// stored. The prefix lets secret scanners recognise a leaked token.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from './pool.js';

export const TOKEN_SCOPES = ['admin', 'read', 'job'] as const;
/** admin: everything in the tenant; read: every read in the tenant; job: reads of one job. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const TOKEN_SHAPE = /^sluice_[A-Za-z0-9_-]{43}$/;

/** Who a valid token speaks for. */
export interface Principal {
  tokenId: string;
  tenantId: string;
  scope: TokenScope;
  /** The one job a `job` token may read. */
  jobId: string | null;
  name: string;
}

export interface TokenInfo extends Principal {
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export interface NewToken {
  tenantId: string;
  scope: TokenScope;
  jobId?: string;
  name: string;
  /** Seconds from now; none means it lasts until revoked. */
  expiresInSeconds?: number;
  createdBy: string;
}

/** Why a presented token is not accepted; the API answers all of them the same 401. */
export type TokenCheck = { type: 'valid'; principal: Principal } | { type: 'unknown' } | { type: 'expired'; principal: Principal } | { type: 'revoked'; principal: Principal };

export interface ApiTokens {
  /** Makes a token; the secret is in the answer and nowhere else, ever. */
  create(token: NewToken): Promise<{ token: string; info: TokenInfo }>;
  check(secret: string): Promise<TokenCheck>;
  /** Whether a token that was valid is still: not revoked, not expired (long streams ask again). */
  stillValid(tokenId: string): Promise<boolean>;
  list(tenantId: string): Promise<TokenInfo[]>;
  /** Revokes a token of the tenant (any tenant when `tenantId` is null: the operator's CLI). Undefined if there is no such token. */
  revoke(tenantId: string | null, tokenId: string, revokedBy: string): Promise<TokenInfo | undefined>;
}

const COLUMNS = `token_id AS "tokenId", tenant_id AS "tenantId", scope, job_id AS "jobId", name, created_by AS "createdBy",
  created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", revoked_by AS "revokedBy"`;

export function hashToken(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export function createApiTokens(pool: Pool): ApiTokens {
  return {
    async create({ tenantId, scope, jobId, name, expiresInSeconds, createdBy }) {
      const token = `sluice_${randomBytes(32).toString('base64url')}`;
      const { rows } = await pool.query<TokenInfo>(
        `INSERT INTO api_tokens (token_id, tenant_id, scope, job_id, name, secret_hash, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $8::float8) END)
         RETURNING ${COLUMNS}`,
        [randomUUID(), tenantId, scope, scope === 'job' ? jobId : null, name, hashToken(token), createdBy, expiresInSeconds ?? null],
      );
      return { token, info: rows[0]! };
    },

    async check(secret) {
      if (!TOKEN_SHAPE.test(secret)) return { type: 'unknown' };
      const { rows } = await pool.query<TokenInfo & { expired: boolean }>(
        `SELECT ${COLUMNS}, expires_at IS NOT NULL AND expires_at <= now() AS expired FROM api_tokens WHERE secret_hash = $1`,
        [hashToken(secret)],
      );
      const row = rows[0];
      if (!row) return { type: 'unknown' };
      const principal: Principal = { tokenId: row.tokenId, tenantId: row.tenantId, scope: row.scope, jobId: row.jobId, name: row.name };
      if (row.revokedAt) return { type: 'revoked', principal };
      if (row.expired) return { type: 'expired', principal };
      return { type: 'valid', principal };
    },

    async stillValid(tokenId) {
      const { rowCount } = await pool.query(`SELECT 1 FROM api_tokens WHERE token_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`, [tokenId]);
      return rowCount === 1;
    },

    async list(tenantId) {
      const { rows } = await pool.query<TokenInfo>(`SELECT ${COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, token_id`, [tenantId]);
      return rows;
    },

    async revoke(tenantId, tokenId, revokedBy) {
      // A second revoke keeps the first one's time and author.
      const { rows } = await pool.query<TokenInfo>(
        `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()), revoked_by = COALESCE(revoked_by, $3)
         WHERE token_id = $1 AND ($2::text IS NULL OR tenant_id = $2) RETURNING ${COLUMNS}`,
        [tokenId, tenantId, revokedBy],
      );
      return rows[0];
    },
  };
}
