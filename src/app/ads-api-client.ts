// The Ads API client the configuration names (Amazon's regional hosts or a simulator's
// base URL), and the marketplace of each profile its credentials reach: shared by the
// executor (its calls) and the producer side (dry runs).
import type { Config } from '../config.js';
import type { AdsCredentials, TenantCredentials } from '../db/tenant-credentials.js';
import type { ApiClient } from '../domain/api-client.js';
import type { Logger } from '../telemetry/logger.js';
import { createTenantApiClients } from './tenant-api-clients.js';
import { createAdsApiClient, type AdsApiClient } from '../ads-api/client.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { amazonCatalogue, type AmazonOperation } from '../ads-api/operations.js';
import { REGIONS, type Region } from '../ads-api/regions.js';

/** The Ads API client the configuration names: Amazon's regional hosts, or a simulator's base URL. */
export function configuredAdsApiClient(config: Config, catalogue: OperationCatalogue<AmazonOperation> = amazonCatalogue(), credentials: AdsCredentials = config.adsApi.credentials): AdsApiClient {
  const base = config.adsApi.url;
  return createAdsApiClient({
    credentials,
    catalogue,
    ...(base === 'amazon' ? {} : { hosts: Object.fromEntries(REGIONS.map((r) => [r, `${base}/${r.toLowerCase()}`])) as Record<Region, string>, tokenUrl: `${base}/auth/o2/token` }),
    maxEntitiesPerCall: config.executor.maxBatchSize,
    http: { connectionsPerOrigin: config.adsApi.connections, requestTimeoutMs: config.adsApi.requestTimeoutMs },
  });
}

/** Each reachable profile's country code, from GET /v2/profiles of every region, kept for `ttlMs`. */
export function profileMarketplaces(client: AdsApiClient, ttlMs = 5 * 60_000): () => Promise<Map<string, string>> {
  let cached: { at: number; map: Promise<Map<string, string>> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > ttlMs) {
      const map = (async () => new Map((await Promise.all(REGIONS.map((region) => client.profiles(region)))).flat().map((p) => [p.profileId, p.countryCode])))();
      cached = { at: Date.now(), map };
      map.catch(() => (cached = undefined)); // a failed lookup is tried again next time
    }
    return cached.map;
  };
}

/** How soon new tenant credentials reach the calls and the limiter. */
export const TENANT_CREDENTIALS_REFRESH_MS = 60_000;

/** The client the executor calls through: each tenant's own credentials, else (when allowed) the install's. */
export function tenantRoutedApiClient(config: Config, credentials: TenantCredentials, catalogue: OperationCatalogue<AmazonOperation>, deps: { onRejected: () => void; logger: Logger }): ApiClient {
  return createTenantApiClients({
    credentials,
    clientFor: (c) => configuredAdsApiClient(config, catalogue, c),
    shared: config.adsApi.sharedCredentials ? configuredAdsApiClient(config, catalogue) : undefined,
    refreshMs: TENANT_CREDENTIALS_REFRESH_MS,
    ...deps,
  });
}
