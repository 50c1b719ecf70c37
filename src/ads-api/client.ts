// The Amazon Ads API client: regional hosts, Login-with-Amazon tokens, the required
// headers and v3 media types, batch mutations (split at the per-call limit), paginated
// lists and profiles. Every answer becomes a typed outcome (classify.ts); nothing here
// retries except the one token refresh a 401 earns, because retry policy belongs to the
// caller (the executor), which knows the item's budget and the profile's limiter.
import type { ApiClient, BatchRequest, BatchResult, ItemOutcome, ReadResult } from '../domain/api-client.js';
import { Permanent, Throttled, Transient, type CallFailure } from '../domain/errors.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { classifyCall, classifyMultiStatus, type CallOutcome } from './classify.js';
import { createHttpTransport, DEFAULT_HTTP_OPTIONS, type HttpOptions, type HttpRequest, type HttpTransport } from './http-transport.js';
import type { AmazonOperation } from './operations.js';
import { AMAZON_HOSTS, AMAZON_TOKEN_URL, REGIONS, type ProfileBasics, type Region } from './regions.js';
import { ENTITY_META, type EntityType } from './sp-entities.js';
import { TokenProvider, type IssuedToken } from './token-provider.js';

export interface AdsApiClientOptions {
  credentials: { clientId: string; clientSecret: string; refreshToken: string };
  /** Base URL per region; Amazon's hosts by default. */
  hosts?: Record<Region, string>;
  tokenUrl?: string;
  http?: Partial<HttpOptions>;
  /** Refresh the access token this long before it expires. */
  tokenRefreshMarginMs?: number;
  /** Entities per mutation call; Amazon takes up to 1000. */
  maxEntitiesPerCall?: number;
  /** Ask for the full entity back (`Prefer: return=representation`). */
  returnRepresentation?: boolean;
  /** Known profile regions; others are found through GET /v2/profiles on each region. */
  profileRegions?: Record<string, Region>;
  catalogue: OperationCatalogue<AmazonOperation>;
}

export interface Profile extends ProfileBasics {
  accountInfo: { marketplaceStringId: string; id: string; type: string; name: string; validPaymentMethod?: boolean };
}

export type MutationAction = 'create' | 'update' | 'delete';

export interface ListOptions {
  ids?: string[];
  states?: string[];
  pageSize?: number;
  /** Extended data costs more of the rate limit (5 tokens a call). */
  extended?: boolean;
}

export interface ListResult<T> {
  items: T[];
  pages: number;
  /** Entities seen on more than one page (the data changed between pages). */
  duplicatesDropped: number;
  totalResults?: number;
  /** False when fewer distinct entities came back than the API said there were. */
  complete: boolean;
}

export interface AdsApiClient extends ApiClient {
  profiles(region: Region): Promise<Profile[]>;
  /** One mutation call of at most maxEntitiesPerCall entities. */
  call(profileId: string, entity: EntityType, action: MutationAction, entities: unknown[]): Promise<BatchResult>;
  /** Any number of entities, in calls of at most maxEntitiesPerCall, in order; one outcome per entity. */
  mutate(profileId: string, entity: EntityType, action: MutationAction, entities: unknown[]): Promise<ItemOutcome[]>;
  /** Every page of a list call; throws the call's failure if a page fails. */
  listAll<T = Record<string, unknown>>(profileId: string, entity: EntityType, options?: ListOptions): Promise<ListResult<T>>;
}

/** The most entities a v3 list page holds. */
const MAX_LIST_PAGE = 5000;

export function createAdsApiClient(options: AdsApiClientOptions): AdsApiClient {
  const hosts = options.hosts ?? AMAZON_HOSTS;
  const maxPerCall = options.maxEntitiesPerCall ?? 1000;
  const transport: HttpTransport = createHttpTransport({ ...DEFAULT_HTTP_OPTIONS, ...options.http });
  const { clientId } = options.credentials;
  const tokens = new TokenProvider({
    fetchToken: () => fetchToken(transport, options.tokenUrl ?? AMAZON_TOKEN_URL, options.credentials),
    refreshMarginMs: options.tokenRefreshMarginMs ?? 60_000,
  });
  const regions = new Map<string, Region>(Object.entries(options.profileRegions ?? {}));
  let regionDiscovery: Promise<void> | undefined;

  /** Sends a request built around the current token; on 401, once more with a fresh one. */
  async function authorized(build: (token: string) => HttpRequest): Promise<CallOutcome> {
    try {
      for (let attempt = 1; ; attempt++) {
        const token = await tokens.get();
        const outcome = classifyCall(await transport.send(build(token)));
        if (outcome.type !== 'unauthorized') return outcome;
        tokens.invalidate(token);
        if (attempt === 2) return { type: 'failed', error: new Permanent(outcome.details, 'unauthorized', 'UNAUTHORIZED', 401) };
      }
    } catch (error) {
      if (error instanceof Throttled || error instanceof Transient || error instanceof Permanent) return { type: 'failed', error };
      throw error;
    }
  }

  async function profiles(region: Region): Promise<Profile[]> {
    const outcome = await authorized((token) => ({
      method: 'GET',
      url: `${hosts[region]}/v2/profiles`,
      headers: { authorization: `Bearer ${token}`, 'amazon-advertising-api-clientid': clientId, accept: 'application/json' },
    }));
    if (outcome.type === 'failed') throw outcome.error;
    const list = Array.isArray(outcome.type === 'ok' ? outcome.json : undefined) ? (outcome as { json: Record<string, unknown>[] }).json : [];
    return list.map((p) => ({ ...(p as unknown as Profile), profileId: String(p.profileId), region }));
  }

  async function regionOf(profileId: string): Promise<Region> {
    if (!regions.has(profileId)) {
      regionDiscovery ??= (async () => {
        for (const region of REGIONS) for (const p of await profiles(region)) regions.set(p.profileId, region);
      })().finally(() => {
        regionDiscovery = undefined;
      });
      await regionDiscovery;
    }
    const region = regions.get(profileId);
    if (!region) throw new Permanent(`profile ${profileId} is not known in any region`, 'unknownProfile', 'PROFILE_NOT_FOUND');
    return region;
  }

  function scoped(token: string, profileId: string, entity: EntityType, extra: Record<string, string> = {}): Record<string, string> {
    const media = ENTITY_META[entity].mediaType;
    return {
      authorization: `Bearer ${token}`,
      'amazon-advertising-api-clientid': clientId,
      'amazon-advertising-api-scope': profileId,
      'content-type': media,
      accept: media,
      ...extra,
    };
  }

  async function call(profileId: string, entity: EntityType, action: MutationAction, entities: unknown[]): Promise<BatchResult> {
    if (entities.length > maxPerCall) throw new RangeError(`at most ${maxPerCall} entities per call (got ${entities.length}); use mutate()`);
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    let region: Region;
    try {
      region = await regionOf(profileId);
    } catch (error) {
      if (error instanceof Permanent || error instanceof Transient || error instanceof Throttled) return { type: 'failed', error, latencyMs: latency() };
      throw error;
    }
    const meta = ENTITY_META[entity];
    const path = action === 'update' || action === 'create' ? `/sp/${entity}` : `/sp/${entity}/delete`;
    const body =
      action === 'delete'
        ? { [`${meta.idField}Filter`]: { include: entities.map((e) => (e as Record<string, unknown>)[meta.idField]) } }
        : { [meta.bodyKey]: entities };
    const prefer = options.returnRepresentation ? { prefer: 'return=representation' } : undefined;
    const outcome = await authorized((token) => ({
      method: action === 'update' ? 'PUT' : 'POST',
      url: `${hosts[region]}${path}`,
      headers: scoped(token, profileId, entity, prefer),
      body: JSON.stringify(body),
    }));
    if (outcome.type === 'failed') return { type: 'failed', error: outcome.error, latencyMs: latency() };
    if (outcome.type !== 'ok') throw new Error('unreachable: unauthorized is resolved in authorized()');
    return { type: 'answered', items: classifyMultiStatus(outcome.json, meta.bodyKey, meta.idField, entities.length), latencyMs: latency(), httpStatus: 207 };
  }

  async function mutate(profileId: string, entity: EntityType, action: MutationAction, entities: unknown[]): Promise<ItemOutcome[]> {
    const outcomes: ItemOutcome[] = [];
    for (let start = 0; start < entities.length; start += maxPerCall) {
      const chunk = entities.slice(start, start + maxPerCall);
      const result = await call(profileId, entity, action, chunk);
      outcomes.push(...(result.type === 'answered' ? result.items : chunk.map(() => ({ type: 'failed' as const, error: result.error }))));
    }
    return outcomes;
  }

  async function listAll<T>(profileId: string, entity: EntityType, opts: ListOptions = {}): Promise<ListResult<T>> {
    const region = await regionOf(profileId);
    const meta = ENTITY_META[entity];
    const seen = new Map<string, T>();
    let nextToken: string | undefined;
    let pages = 0;
    let duplicatesDropped = 0;
    let totalResults: number | undefined;
    do {
      const body = {
        maxResults: opts.pageSize ?? 1000,
        ...(nextToken ? { nextToken } : {}),
        ...(opts.ids ? { [`${meta.idField}Filter`]: { include: opts.ids } } : {}),
        ...(opts.states ? { stateFilter: { include: opts.states } } : {}),
        ...(opts.extended ? { includeExtendedDataFields: true } : {}),
      };
      const outcome = await authorized((token) => ({ method: 'POST', url: `${hosts[region]}/sp/${entity}/list`, headers: scoped(token, profileId, entity), body: JSON.stringify(body) }));
      if (outcome.type === 'failed') throw outcome.error;
      const page = (outcome.type === 'ok' ? outcome.json : {}) as Record<string, unknown>;
      pages++;
      for (const item of (page[meta.bodyKey] as Record<string, unknown>[] | undefined) ?? []) {
        const id = String(item[meta.idField]);
        if (seen.has(id)) duplicatesDropped++;
        else seen.set(id, item as T);
      }
      totalResults = typeof page.totalResults === 'number' ? page.totalResults : totalResults;
      nextToken = typeof page.nextToken === 'string' && page.nextToken ? page.nextToken : undefined;
    } while (nextToken);
    return { items: [...seen.values()], pages, duplicatesDropped, totalResults, complete: totalResults === undefined || seen.size >= totalResults };
  }

  /** Each item's catalogue entry; they share one batch key, so one call takes them all. */
  function operationsOf(batch: BatchRequest): [AmazonOperation, ...AmazonOperation[]] {
    const ops = batch.items.map(({ operation }) => {
      const op = options.catalogue.get(operation);
      if (!op) throw new Error(`operation ${operation} is not in this client's catalogue`);
      return op;
    });
    const first = ops[0];
    if (!first) throw new Error('an empty batch');
    if (ops.some((op) => op.batchKey !== first.batchKey)) throw new Error(`operations of one call must share a batch key (${first.batchKey})`);
    return [first, ...ops.slice(1)];
  }

  async function execute(batch: BatchRequest): Promise<BatchResult> {
    const ops = operationsOf(batch);
    return call(batch.profileId, ops[0].entity, ops[0].action, batch.items.map(({ payload }, i) => ops[i]!.toRequestEntity(payload)));
  }

  // One list call filtered by the items' ids (more pages only past the page size).
  async function read(batch: BatchRequest): Promise<ReadResult> {
    const ops = operationsOf(batch);
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    const ids = batch.items.map(({ payload }, i) => ops[i]!.entityId(payload));
    const unique = [...new Set(ids)];
    try {
      const listed = await listAll<Record<string, unknown>>(batch.profileId, ops[0].entity, { ids: unique, pageSize: Math.min(unique.length, MAX_LIST_PAGE) });
      const idField = ENTITY_META[ops[0].entity].idField;
      const byId = new Map(listed.items.map((entity) => [String(entity[idField]), entity]));
      return { type: 'read', values: ids.map((id, i) => { const entity = byId.get(id); return entity ? ops[i]!.currentValues(entity) : null; }), latencyMs: latencyMs() };
    } catch (error) {
      if (error instanceof Throttled || error instanceof Transient || error instanceof Permanent) return { type: 'failed', error, latencyMs: latencyMs() };
      throw error;
    }
  }

  return { profiles, call, mutate, listAll, execute, read, close: () => transport.close() };
}

/** Login with Amazon: exchanges the refresh token for an access token. */
async function fetchToken(transport: HttpTransport, tokenUrl: string, credentials: AdsApiClientOptions['credentials']): Promise<IssuedToken> {
  const res = await transport.send({
    method: 'POST',
    url: tokenUrl,
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: credentials.refreshToken,
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    }).toString(),
  });
  const json = safeJson(res.body) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (res.status === 200 && json.access_token) return { accessToken: json.access_token, expiresInSeconds: json.expires_in ?? 3600 };
  if (res.status === 429 || res.status >= 500) throw failureOfTokenCall(res.status, json);
  throw new Permanent(`Login with Amazon refused the credentials: ${json.error_description ?? json.error ?? res.status}`, 'authError', (json.error ?? 'invalid_request').toUpperCase(), res.status);
}

function failureOfTokenCall(status: number, json: { error_description?: string }): CallFailure {
  const message = `Login with Amazon answered ${status}: ${json.error_description ?? ''}`.trim();
  return status === 429 ? new Throttled(message) : new Transient(message, `http${status}`, status);
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}
