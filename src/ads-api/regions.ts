// The Ads API's regions and their hosts. A profile belongs to exactly one region; the
// other regions' hosts do not know it.

export const REGIONS = ['NA', 'EU', 'FE'] as const;
export type Region = (typeof REGIONS)[number];

export const AMAZON_HOSTS: Record<Region, string> = {
  NA: 'https://advertising-api.amazon.com',
  EU: 'https://advertising-api-eu.amazon.com',
  FE: 'https://advertising-api-fe.amazon.com',
};

/** Login with Amazon's token endpoint (the same for every region). */
export const AMAZON_TOKEN_URL = 'https://api.amazon.com/auth/o2/token';

/** What every advertiser profile has, in the API's answers and in the simulator alike. */
export interface ProfileBasics {
  profileId: string;
  region: Region;
  countryCode: string;
  currencyCode: string;
  timezone: string;
}
