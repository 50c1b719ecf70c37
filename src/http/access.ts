// Who may call what, and the audit record of every call. Each route that touches a
// tenant's data declares its `access` (which tokens may call it, the action's name in the
// audit log, the path parameter naming its target). A request to such a route must carry
// `Authorization: Bearer <token>`; the token decides the tenant. What another tenant owns
// is answered 404 by the queries themselves (they are all scoped by tenant), and a job
// token asking for another job gets the same 404: never a hint that it exists.
// Every such request, allowed or not, leaves one row in the audit log.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashToken, type ApiTokens, type Principal, type TokenScope } from '../db/api-tokens.js';
import type { AuditLog, AuditOutcome } from '../db/audit-log.js';
import type { Logger } from '../telemetry/logger.js';
import { toStorable } from '../domain/storable-text.js';
import { AddressFailures, BoundedSet } from './address-failures.js';
import { header } from './request-context.js';

export interface RouteAccess {
  /** admin: admin tokens; read: admin and read tokens; job-read: those and the job's own job token; any: every valid token. */
  allow: 'admin' | 'read' | 'job-read' | 'any';
  /** The action's name in the audit log. */
  action: string;
  /** The path parameter naming the target (a job, dead letter, replay or token id). */
  target?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** What the handler learned that the audit row should say: the job it made, a filter. */
    audit?: { target?: string; detail?: Record<string, unknown> };
  }
  interface FastifyReply {
    /** Writes the audit row now: for replies that take over the socket (streams). */
    recordAccess(status: number): Promise<void>;
  }
}

const ALLOWED: Record<RouteAccess['allow'], readonly TokenScope[]> = { admin: ['admin'], read: ['admin', 'read'], 'job-read': ['admin', 'read'], any: ['admin', 'read', 'job'] };

export interface AccessOptions {
  tokens: ApiTokens;
  audit: AuditLog;
  logger: Logger;
  /** Counts audit writes that failed (the request was answered; the row is missing). */
  onAuditFailure: () => void;
  /** Failed authentications a minute per client address before 429s (0: no limit). */
  authFailuresPerMinute: number;
}

/** Who made an authenticated request (only routes with `access` have one). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error(`${req.url}: a route without access rules asked who is calling`);
  return req.principal;
}

export function tenantOf(req: FastifyRequest): string {
  return principalOf(req).tenantId;
}

/** How the audit log, replays and token records name a token's holder. */
export function actorOf(principal: Principal): string {
  return `token:${principal.name}`;
}

export function registerAccessControl(app: FastifyInstance, { tokens, audit, logger, onAuditFailure, authFailuresPerMinute }: AccessOptions): void {
  const failures = new AddressFailures(authFailuresPerMinute);
  // Tokens that passed lately: their holders are not shut out with an address that also
  // sends bad ones (one NAT, one office). Hashed, bounded.
  const recentlyValid = new BoundedSet(10_000);
  app.addHook('onRequest', async (req, reply) => {
    const access = req.routeOptions.config.access;
    if (!access) return;
    const address = req.ip ?? 'unknown';
    const presented = bearerToken(req);
    const presentedHash = presented === undefined ? undefined : hashToken(presented).toString('base64url');
    if (failures.exceeded(address) && !(presentedHash && recentlyValid.has(presentedHash))) {
      return reply
        .code(429)
        .header('retry-after', String(failures.retryAfterS()))
        .send({ error: 'rate_limited', message: `more than ${authFailuresPerMinute} requests a minute from this address without a valid token; retry in ${failures.retryAfterS()} s` });
    }
    const check = presented === undefined ? undefined : await tokens.check(presented);
    if (check?.type !== 'valid') {
      failures.record(address);
      if (presentedHash) recentlyValid.delete(presentedHash);
      const why = check === undefined ? 'no bearer token' : check.type === 'unknown' ? 'unknown token' : `${check.type} token`;
      req.audit = { detail: { reason: why, ...(check && check.type !== 'unknown' ? { tokenId: check.principal.tokenId } : {}) } };
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="sluice"')
        .send({ error: 'unauthenticated', message: `${why}: send "Authorization: Bearer <token>" with a valid, unexpired, unrevoked Sluice API token` });
    }
    const principal = check.principal;
    req.principal = principal;
    recentlyValid.add(presentedHash!);
    if (ALLOWED[access.allow].includes(principal.scope)) return;
    if (access.allow === 'job-read' && principal.scope === 'job') {
      const jobId = (req.params as Record<string, string | undefined>).jobId;
      if (jobId === principal.jobId) return;
      return reply.code(404).send({ error: 'not_found', message: `no job ${jobId}` });
    }
    return reply.code(403).send({ error: 'forbidden', message: `a ${principal.scope} token may not ${access.action}` });
  });

  app.addHook('onSend', async (req, reply) => {
    // A throttled request costs no database write: that is what throttling protects.
    if (req.routeOptions.config.access && reply.statusCode !== 429) await recordAccess(req, reply.statusCode);
  });

  /**
   * One audit row for the request; a failed write is logged and counted, never hidden.
   * A request refused for its token is counted per address and minute instead: anyone
   * can send those, and a row each would let anonymous traffic grow the log without bound.
   */
  async function recordAccess(req: FastifyRequest, status: number): Promise<void> {
    const access = req.routeOptions.config.access!;
    const p = req.principal;
    try {
      if (status === 401) {
        await audit.recordAuthFailure({ source: req.ip ?? 'unknown', reason: String(req.audit?.detail?.reason ?? 'unauthenticated'), userAgent: printable(header(req, 'user-agent')) });
        return;
      }
      await audit.record({
        tokenId: p?.tokenId ?? null,
        actor: p ? actorOf(p) : 'anonymous',
        tenantId: p?.tenantId ?? null,
        action: access.action,
        target: printable(req.audit?.target ?? (access.target ? (req.params as Record<string, string | undefined>)[access.target] : undefined)),
        outcome: outcomeOf(status),
        status,
        source: req.ip ?? 'unknown', // unknown once the client hung up
        userAgent: printable(header(req, 'user-agent')),
        detail: req.audit?.detail,
      });
    } catch (error) {
      onAuditFailure();
      logger.error({ err: error, action: access.action, url: req.url }, 'audit write failed');
    }
  }

  // Streams (Server-Sent Events) take the reply over, so onSend never runs for them.
  app.decorateReply('recordAccess', function (this: FastifyReply, status: number) {
    return recordAccess(this.request, status);
  });
}

/**
 * What was asked for is recorded even when it is hostile (that is when it matters most),
 * so it is cut to a length and freed of what Postgres text cannot hold.
 */
function printable(value: string | undefined): string | null {
  return value === undefined ? null : toStorable(value.slice(0, 256));
}

function bearerToken(req: FastifyRequest): string | undefined {
  const m = header(req, 'authorization')?.match(/^Bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

function outcomeOf(status: number): AuditOutcome {
  if (status < 300) return 'ok';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'denied';
  if (status === 404) return 'not_found';
  if (status === 409) return 'refused';
  if (status >= 500) return 'failed';
  return 'invalid';
}
