// The Ads API as the executor calls it: each call with the credentials of the tenant whose
// items it carries (one Amazon client per tenant, each with its own Login-with-Amazon
// token), or the install's own for tenants without theirs when that is allowed. A refresh
// token Login with Amazon rejects (invalid_grant) ends that tenant's calls at once, with a
// reason that says what to do, until new credentials are set; other tenants go on.
import type { ApiClient, BatchRequest, BatchResult, ReadResult } from '../domain/api-client.js';
import { Permanent } from '../domain/errors.js';
import type { AdsCredentials, TenantCredentials } from '../db/tenant-credentials.js';
import type { Logger } from '../telemetry/logger.js';

export interface TenantApiClientsOptions {
  credentials: Pick<TenantCredentials, 'of' | 'markRejected'>;
  /** A client calling with these credentials. */
  clientFor: (credentials: AdsCredentials) => ApiClient;
  /** The install's own client, for tenants without credentials of their own; undefined when they may not call. */
  shared: ApiClient | undefined;
  /** How long a tenant's credentials are trusted before they are looked up again (new ones may have been set). */
  refreshMs: number;
  /** Counts a tenant's credentials Login with Amazon refused (an operator pages on it). */
  onRejected: () => void;
  logger: Logger;
}

// Login with Amazon's answers that mean the tenant's credentials will not work until replaced.
const REFUSED_CREDENTIALS = new Set(['INVALID_GRANT', 'INVALID_CLIENT', 'UNAUTHORIZED_CLIENT']);

/** `credentials`: what the client was made with (undefined: the install's own). */
type Route = { type: 'client'; client: ApiClient; credentials: AdsCredentials | undefined } | { type: 'refused'; error: Permanent };

export function createTenantApiClients(o: TenantApiClientsOptions): ApiClient {
  const routes = new Map<string, { route: Promise<Route>; at: number }>();
  const opened = new Set<ApiClient>();

  const routeFor = (tenantId: string | undefined): Promise<Route> => {
    const key = tenantId ?? '';
    const cached = routes.get(key);
    if (cached && Date.now() - cached.at < o.refreshMs) return cached.route;
    const route = lookUp(tenantId, cached?.route);
    routes.set(key, { route, at: Date.now() });
    route.catch(() => routes.delete(key)); // a failed lookup (Postgres away) is tried again by the next call
    return route;
  };

  async function lookUp(tenantId: string | undefined, previous: Promise<Route> | undefined): Promise<Route> {
    const found = tenantId === undefined ? undefined : await o.credentials.of(tenantId);
    if (found?.state === 'rejected') return refused(`tenant ${tenantId}'s Amazon credentials were refused (${found.reason}): set new ones with \`sluice tenants ads-auth set\``);
    if (found === undefined) {
      if (!o.shared) return refused(`tenant ${tenantId ?? '(none)'} has no Amazon Ads credentials of its own: set them with \`sluice tenants ads-auth set\``);
      return { type: 'client', client: o.shared, credentials: undefined };
    }
    const before = await previous?.catch(() => undefined);
    // The same credentials as before: the same client (its token stays good).
    if (before?.type === 'client' && before.credentials && sameCredentials(before.credentials, found.credentials)) return before;
    if (before?.type === 'client' && before.client !== o.shared) {
      opened.delete(before.client);
      void before.client.close(); // its calls under way finish on their own connections
    }
    const client = o.clientFor(found.credentials);
    opened.add(client);
    return { type: 'client', client, credentials: found.credentials };
  }

  const refused = (message: string): Route => ({ type: 'refused', error: new Permanent(message, 'authError', 'CREDENTIALS_REFUSED') });

  async function call<R extends BatchResult | ReadResult>(batch: BatchRequest, send: (client: ApiClient) => Promise<R>): Promise<R> {
    const route = await routeFor(batch.tenantId).catch((error: unknown) => refused(`tenant ${batch.tenantId}'s Amazon credentials could not be read: ${(error as Error).message}`));
    if (route.type === 'refused') return { type: 'failed', error: route.error, latencyMs: 0 } as R;
    const result = await send(route.client);
    if (result.type === 'failed' && route.credentials && batch.tenantId && isRefusedCredentials(result.error)) await rejected(batch.tenantId, result.error.message);
    return result;
  }

  async function rejected(tenantId: string, reason: string): Promise<void> {
    o.onRejected();
    o.logger.error({ tenantId, reason }, 'Login with Amazon refused a tenant\'s credentials: its items are dead-lettered until it sets new ones');
    await o.credentials.markRejected(tenantId, reason).catch((error: unknown) => o.logger.warn({ err: error, tenantId }, 'could not record refused credentials'));
    routes.delete(tenantId);
  }

  return {
    execute: (batch) => call(batch, (client) => client.execute(batch)),
    read: (batch) => call(batch, (client) => client.read(batch)),
    async close() {
      await Promise.all([...opened].map((client) => client.close()));
      await o.shared?.close();
    },
  };
}

function sameCredentials(a: AdsCredentials, b: AdsCredentials): boolean {
  return a.clientId === b.clientId && a.clientSecret === b.clientSecret && a.refreshToken === b.refreshToken;
}

function isRefusedCredentials(error: unknown): boolean {
  return error instanceof Permanent && error.kind === 'authError' && REFUSED_CREDENTIALS.has(error.reason);
}
