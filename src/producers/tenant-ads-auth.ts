// A tenant registers its own Login-with-Amazon client and refresh token: Sluice tries them
// at once (the profiles of every region, GET /v2/profiles), and stores them sealed only if
// Amazon accepts them, binding to the tenant exactly the advertiser profiles they reach.
import type { AdsApiClient } from '../ads-api/client.js';
import { REGIONS } from '../ads-api/regions.js';
import type { AdsCredentials, BoundProfile, TenantCredentials } from '../db/tenant-credentials.js';

export type AdsAuthResult = { type: 'registered'; profiles: BoundProfile[] } | { type: 'refused'; reason: string };

export interface TenantAdsAuth {
  register(tenantId: string, credentials: AdsCredentials, by: string): Promise<AdsAuthResult>;
}

export function createTenantAdsAuth({ credentials, clientFor }: { credentials: Pick<TenantCredentials, 'set'>; clientFor: (c: AdsCredentials) => AdsApiClient }): TenantAdsAuth {
  return {
    async register(tenantId, given, by) {
      const client = clientFor(given);
      let profiles: BoundProfile[];
      try {
        const perRegion = await Promise.all(REGIONS.map((region) => client.profiles(region)));
        profiles = perRegion.flat().map((p) => ({ profileId: p.profileId, region: p.region, countryCode: p.countryCode }));
      } catch (error) {
        return { type: 'refused', reason: `Amazon did not accept these credentials: ${(error as Error).message}` };
      } finally {
        await client.close();
      }
      await credentials.set(tenantId, given, profiles, by);
      return { type: 'registered', profiles };
    },
  };
}
