// The profiles the simulator serves, the marketplace bounds their entities obey, and how
// a fresh profile's campaigns, keywords and targeting clauses are made up.
import { entityIdOf, ENTITY_TYPES, type Campaign, type Entity, type EntityType, type Keyword, type Target } from '../ads-api/sp-entities.js';
import { boundsOf } from '../ads-api/marketplace-bounds.js';
import type { ProfileBasics } from '../ads-api/regions.js';
import type { ProfileConfig, Region, SimulatorConfig } from './config.js';
import { REGIONS } from './config.js';

export * from '../ads-api/sp-entities.js';

/** Bid and daily-budget bounds by marketplace (Amazon's published ranges; others as the US). */
const marketplace = (countryCode: string) => boundsOf(countryCode) ?? boundsOf('US')!;
export const bidBounds = (countryCode: string) => marketplace(countryCode).bid;
export const budgetBounds = (countryCode: string) => marketplace(countryCode).dailyBudget;

export interface Profile extends ProfileBasics {
  accountName: string;
  /** The clients that reach it; every client when absent. */
  clientIds?: string[];
}

/** Whether a caller with this client id may see and use the profile. */
export function reaches(profile: Profile, clientId: string): boolean {
  return profile.clientIds === undefined || profile.clientIds.includes(clientId);
}

/** The id of generated entity `ordinal` of a profile: profile id, a type digit, six digits. */
export function generatedEntityId(profileId: string, type: EntityType, ordinal: number): string {
  return `${profileId}${ENTITY_TYPES.indexOf(type) + 1}${String(ordinal).padStart(6, '0')}`;
}

/** Generated profiles: 1000000000001… in NA, 2000000000001… in EU, 3000000000001… in FE. */
export function generatedProfileId(region: Region, ordinal: number): string {
  return String((REGIONS.indexOf(region) + 1) * 1e12 + ordinal + 1);
}

/** Every profile the configuration declares or asks to generate, with its entity counts. */
export function resolveProfiles(config: SimulatorConfig): (Profile & { counts: Record<EntityType, number> })[] {
  const declared: ProfileConfig[] = [...config.profiles];
  for (const region of REGIONS) {
    for (let n = 0; n < config.generate.profilesPerRegion; n++) {
      const countryCode = config.generate.countryCodes[region];
      declared.push({ profileId: generatedProfileId(region, n), region, countryCode, currencyCode: CURRENCY[countryCode] ?? 'USD', timezone: 'UTC' });
    }
  }
  const seen = new Set<string>();
  return declared
    .filter((p) => !seen.has(p.profileId) && seen.add(p.profileId))
    .map((p) => ({
      profileId: p.profileId,
      region: p.region,
      countryCode: p.countryCode,
      currencyCode: p.currencyCode,
      timezone: p.timezone,
      accountName: p.accountName ?? `Seller ${p.profileId}`,
      ...(p.clientIds ? { clientIds: p.clientIds } : {}),
      counts: {
        campaigns: p.campaigns ?? config.entitiesPerProfile.campaigns,
        keywords: p.keywords ?? config.entitiesPerProfile.keywords,
        targets: p.targets ?? config.entitiesPerProfile.targets,
      },
    }));
}

const CURRENCY: Record<string, string> = { US: 'USD', CA: 'CAD', GB: 'GBP', DE: 'EUR', JP: 'JPY', IN: 'INR' };

/** A profile's starting entities: campaigns with budget 100, keywords and targets bid 0.5 (JP: 10). */
export function generateEntities(profile: Profile, counts: Record<EntityType, number>): Record<EntityType, Entity[]> {
  const startBid = bidBounds(profile.countryCode).lower > 1 ? 10 : 0.5;
  const campaignIds = Array.from({ length: Math.max(1, counts.campaigns) }, (_, i) => generatedEntityId(profile.profileId, 'campaigns', i));
  const parent = (i: number) => ({ campaignId: campaignIds[i % campaignIds.length]!, adGroupId: `${campaignIds[i % campaignIds.length]}-ag` });
  return {
    campaigns: campaignIds.map((campaignId, i) => ({ campaignId, name: `Campaign ${i}`, state: 'ENABLED', budget: { budget: 100, budgetType: 'DAILY' } })),
    keywords: Array.from({ length: counts.keywords }, (_, i) => ({
      keywordId: generatedEntityId(profile.profileId, 'keywords', i),
      ...parent(i),
      keywordText: `keyword ${i}`,
      matchType: 'EXACT',
      state: 'ENABLED',
      bid: startBid,
    })),
    targets: Array.from({ length: counts.targets }, (_, i) => ({
      targetId: generatedEntityId(profile.profileId, 'targets', i),
      ...parent(i),
      expression: [{ type: 'ASIN_SAME_AS', value: `B0${String(i).padStart(8, '0')}` }],
      state: 'ENABLED',
      bid: startBid,
    })),
  };
}
