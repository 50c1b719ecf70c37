// The Ads API surface of the simulator: profiles, and create/update/list/delete of
// Sponsored Products v3 entities, under /{na,eu,fe}/ to stand for the regional hosts.
// Every call passes the checks of SIMULATOR.md in Amazon's order, then the rate limiter,
// then the fault knobs, and only then reaches the entities.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Region } from './config.js';
import { ENTITY_META, ENTITY_TYPES, reaches, type EntityType } from './entities.js';
import type { EntityError } from './entity-rules.js';
import type { EntityStore, MutationAction } from './entity-store.js';
import type { Knobs } from './knobs.js';
import type { Counters } from './counters.js';
import type { TokenIssuer } from './lwa.js';
import type { RateLimiter } from './rate-limiter.js';

export interface SimulatorContext {
  store: EntityStore;
  knobs: Knobs;
  limiter: RateLimiter;
  counters: Counters;
  issuer: TokenIssuer;
  now: () => number;
  /** Tokens an extended-data list call costs. */
  extendedListCost: number;
}

type Call = { kind: 'mutate'; action: MutationAction } | { kind: 'list' } | { kind: 'profiles' };

const REGION_PATH: Record<string, Region> = { na: 'NA', eu: 'EU', fe: 'FE' };
const MAX_PAGE = 5000;

export function registerAdsRoutes(app: FastifyInstance, ctx: SimulatorContext): void {
  for (const type of ENTITY_TYPES) {
    const path = `/:region/sp/${type}`;
    app.post(path, (req, reply) => handle(ctx, req, reply, { kind: 'mutate', action: 'create' }, type));
    app.put(path, (req, reply) => handle(ctx, req, reply, { kind: 'mutate', action: 'update' }, type));
    app.post(`${path}/delete`, (req, reply) => handle(ctx, req, reply, { kind: 'mutate', action: 'delete' }, type));
    app.post(`${path}/list`, (req, reply) => handle(ctx, req, reply, { kind: 'list' }, type));
  }
  app.get('/:region/v2/profiles', (req, reply) => handle(ctx, req, reply, { kind: 'profiles' }));
}

async function handle(ctx: SimulatorContext, req: FastifyRequest, reply: FastifyReply, call: Call, type?: EntityType): Promise<void> {
  const region = REGION_PATH[(req.params as { region: string }).region];
  if (!region) return void reply.code(404).send({ code: 'NOT_FOUND', details: 'unknown region host' });
  const latency = ctx.knobs.latencyMs();
  if (latency > 0) await sleep(latency);

  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  let caller: string | undefined; // the client id, once its token checked out
  const respond = (status: number, body: unknown, profileId?: string, headers: Record<string, string> = {}) => {
    ctx.counters.call(status, profileId, ctx.now(), caller);
    return void reply.code(status).headers(headers).send(body);
  };

  // 1-2. Bearer token, then client id.
  const token = ctx.issuer.verify(header('authorization'), ctx.now());
  if (!token.ok) return respond(401, { code: 'UNAUTHORIZED', details: token.details });
  const clientId = header('amazon-advertising-api-clientid');
  if (!clientId || clientId !== token.clientId) return respond(401, { code: 'UNAUTHORIZED', details: 'Amazon-Advertising-API-ClientId header is missing or does not match the token' });
  caller = clientId;

  if (call.kind === 'profiles') {
    const profiles = ctx.store.profiles().filter((p) => p.region === region && reaches(p, clientId)).slice(0, 5000);
    return respond(200, profiles.map(profileBody));
  }

  // 3-4. Scope header, then a profile this region knows.
  const profileId = header('amazon-advertising-api-scope');
  if (!profileId) return respond(401, { code: 'UNAUTHORIZED', details: 'Scope header is missing' });
  const profile = ctx.store.profile(profileId);
  if (!profile || profile.region !== region || !reaches(profile, clientId)) return respond(401, { code: 'UNAUTHORIZED', details: `Not authorized to access scope ${profileId}` }, profileId);
  const faults = ctx.knobs.faultsFor(profileId);
  if (faults.revokedAuth) return respond(401, { code: 'UNAUTHORIZED', details: `Not authorized to access scope ${profileId}: access was revoked` }, profileId);

  // 5-6. Vendor media types.
  const mediaType = ENTITY_META[type!].mediaType;
  if (!header('content-type')?.startsWith(mediaType)) return respond(415, { code: 'UNSUPPORTED_MEDIA_TYPE', message: `Content-Type must be ${mediaType}` }, profileId);
  if (!header('accept')?.split(',').some((a) => a.trim().startsWith(mediaType))) return respond(406, { code: 'NOT_ACCEPTABLE', message: `Accept must be ${mediaType}` }, profileId);

  const body = parseJson(req.body);
  if (body === undefined) return respond(400, { code: 'INVALID_ARGUMENT', message: 'request body is not valid JSON', errors: [] }, profileId);

  // Throttling: sticky, then the buckets. Extended-data list calls cost more.
  const cost = call.kind === 'list' && (body as { includeExtendedDataFields?: unknown }).includeExtendedDataFields === true ? ctx.extendedListCost : 1;
  if (faults.stickyThrottle || !ctx.limiter.admit(clientId, profileId, cost, ctx.now())) {
    const { retryAfter, retryAfterSeconds } = ctx.knobs.current;
    const headers: Record<string, string> = { 'amazon-advertising-api-throttled': 'true' };
    if (retryAfter) headers['retry-after'] = String(retryAfterSeconds);
    return respond(429, { message: 'Too Many Requests' }, profileId, headers);
  }
  ctx.counters.admitted(profileId, ctx.now());

  const fault = ctx.knobs.callFault(faults);
  if (fault === 'reset') {
    ctx.counters.call(0, profileId, ctx.now(), caller);
    reply.hijack();
    req.raw.socket.resetAndDestroy();
    return;
  }
  if (fault === 'http500') return respond(500, { code: 'INTERNAL_ERROR', message: 'Service Error' }, profileId);
  if (fault === 'http502') return respond(502, { message: 'Bad Gateway' }, profileId);
  if (fault === 'http504') {
    await sleep(ctx.knobs.current.gatewayTimeoutDelayMs);
    return respond(504, { message: 'Endpoint request timed out' }, profileId);
  }

  const headers: Record<string, string> = { 'content-type': mediaType };
  if (call.kind === 'list') return respond(200, listPage(ctx, profileId, type!, body, faults.listDrift), profileId, headers);

  const items = mutationItems(type!, call.action, body);
  if (!Array.isArray(items)) return respond(400, { code: 'INVALID_ARGUMENT', message: items, errors: [] }, profileId);
  const max = ctx.knobs.current.maxEntitiesPerCall;
  if (items.length > max) {
    return respond(400, { code: 'INVALID_ARGUMENT', message: `at most ${max} entities per request`, errors: [{ errorType: 'tooManyEntities', errorValue: { rangeError: { reason: 'TOO_HIGH', message: `${items.length} > ${max}`, upperLimit: String(max) } } }] }, profileId);
  }
  const result = ctx.store.mutate(profileId, type!, call.action, items, () => ctx.knobs.entityFault(faults), ctx.now());
  ctx.counters.entitiesProcessed(profileId, items.length);

  if (ctx.knobs.chance(faults.timeoutAfterCommit)) {
    // The write has been applied; the caller never hears so.
    ctx.counters.call(0, profileId, ctx.now(), caller);
    reply.hijack();
    await sleep(ctx.knobs.current.timeoutAfterCommitDelayMs);
    req.raw.socket.destroy();
    return;
  }
  const representation = header('prefer')?.includes('return=representation') ?? false;
  if (representation) headers['preference-applied'] = 'return=representation';
  const idField = ENTITY_META[type!].idField;
  return respond(
    207,
    {
      [ENTITY_META[type!].bodyKey]: {
        success: result.success.map((s) => ({ index: s.index, [idField]: s.id, ...(representation ? { [singular(type!)]: s.entity } : {}) })),
        error: result.error.map((e) => ({ index: e.index, errors: [errorBody(e.error, ctx.knobs.current.errorTypeStyle)] })),
      },
    },
    profileId,
    headers,
  );
}

/** The entity array of a mutation body, or why there is none. */
function mutationItems(type: EntityType, action: MutationAction, body: unknown): unknown[] | string {
  const key = ENTITY_META[type].bodyKey;
  if (action === 'delete') {
    const include = (body as Record<string, { include?: unknown }>)[`${ENTITY_META[type].idField}Filter`]?.include;
    if (!Array.isArray(include)) return `${ENTITY_META[type].idField}Filter.include must be an array of ids`;
    return include.map((id) => ({ [ENTITY_META[type].idField]: id }));
  }
  const items = (body as Record<string, unknown>)[key];
  return Array.isArray(items) ? items : `body must be {"${key}": [ … ]}`;
}

function listPage(ctx: SimulatorContext, profileId: string, type: EntityType, body: unknown, drift: boolean): Record<string, unknown> {
  const b = body as { maxResults?: number; nextToken?: string; stateFilter?: { include?: string[] } } & Record<string, { include?: string[] } | undefined>;
  const limit = Math.min(Math.max(Number(b.maxResults) || 1000, 1), MAX_PAGE);
  let offset = b.nextToken ? decodeToken(b.nextToken) : 0;
  // Data "changing" between pages: the next page starts a little early or late.
  if (drift && b.nextToken) offset = Math.max(0, offset + (ctx.knobs.chance(0.5) ? -2 : 2));
  const page = ctx.store.list(profileId, type, { ids: b[`${ENTITY_META[type].idField}Filter`]?.include, states: b.stateFilter?.include }, offset, limit);
  const next = offset + page.items.length;
  return {
    [ENTITY_META[type].bodyKey]: page.items,
    totalResults: page.total,
    ...(next < page.total ? { nextToken: Buffer.from(JSON.stringify({ o: next })).toString('base64url') } : {}),
  };
}

function errorBody(error: EntityError, style: 'kind' | 'code'): Record<string, unknown> {
  const errorType = style === 'kind' ? error.kind : error.kind === 'throttledError' ? 'THROTTLED' : error.kind === 'internalServerError' ? 'INTERNAL_ERROR' : 'INVALID_ARGUMENT';
  return { errorType, errorValue: { [error.kind]: { reason: error.reason, message: error.message, ...error.details } } };
}

function profileBody(p: { profileId: string; countryCode: string; currencyCode: string; timezone: string; accountName: string }) {
  return {
    profileId: Number(p.profileId),
    countryCode: p.countryCode,
    currencyCode: p.currencyCode,
    timezone: p.timezone,
    accountInfo: { marketplaceStringId: `MKT${p.countryCode}`, id: `A${p.profileId}`, type: 'seller', name: p.accountName, validPaymentMethod: true },
  };
}

const singular = (type: EntityType) => (type === 'targets' ? 'targetingClause' : type.slice(0, -1));

function decodeToken(token: string): number {
  try {
    return Number(JSON.parse(Buffer.from(token, 'base64url').toString()).o) || 0;
  } catch {
    return 0;
  }
}

function parseJson(body: unknown): unknown {
  if (typeof body !== 'string' || body === '') return body === '' ? {} : body;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
