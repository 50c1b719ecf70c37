// Which advertiser profiles a tenant may change: with Amazon credentials of its own, the
// profiles those credentials reached when it registered them; without (an install whose
// own credentials serve every tenant), any profile no other tenant has bound. A tenant
// can never write another tenant's advertiser, whoever's credentials would reach it.
import type { TenantCredentials } from '../db/tenant-credentials.js';

/** Why the tenant may not submit items for this profile; undefined when it may. */
export type ProfileRefusal = (profileId: string) => string | undefined;

export type TenantProfiles = { type: 'checked'; refusal: ProfileRefusal } | { type: 'refused'; reason: string };

export function profileOwnership(credentials: Pick<TenantCredentials, 'profileAccess'>, sharedCredentials: boolean): (tenantId: string) => Promise<TenantProfiles> {
  return async (tenantId) => {
    const access = await credentials.profileAccess(tenantId);
    if (access.own) {
      return { type: 'checked', refusal: (p) => (access.profiles.has(p) ? undefined : `profile ${p} is not one of tenant ${tenantId}'s advertiser profiles (its Amazon credentials reach ${access.profiles.size}; after granting access, run \`sluice tenants ads-auth set\` again)`) };
    }
    if (!sharedCredentials) return { type: 'refused', reason: `tenant ${tenantId} has no Amazon Ads credentials of its own: set them with \`sluice tenants ads-auth set\` (or PUT /v1/tenant/ads-auth)` };
    return { type: 'checked', refusal: (p) => (access.boundElsewhere.has(p) ? `profile ${p} is not one of tenant ${tenantId}'s advertiser profiles` : undefined) };
  };
}
