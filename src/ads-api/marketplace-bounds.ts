// Sponsored Products bid and daily-budget bounds per marketplace, in the marketplace's
// currency, as Amazon's Ads API documentation tables them ("Sponsored Products bid and
// budget limits"). Used to refuse an item before it is sent (dry runs, submission) and
// by the simulator to answer as Amazon would. A marketplace not listed is checked
// against nothing here (the API still checks it).
export interface Bounds {
  lower: number;
  upper: number;
}

export interface MarketplaceBounds {
  currency: string;
  bid: Bounds;
  dailyBudget: Bounds;
}

const m = (currency: string, bid: [number, number], dailyBudget: [number, number]): MarketplaceBounds => ({
  currency,
  bid: { lower: bid[0], upper: bid[1] },
  dailyBudget: { lower: dailyBudget[0], upper: dailyBudget[1] },
});

/** By the profile's country code (GET /v2/profiles `countryCode`). */
export const MARKETPLACE_BOUNDS: Readonly<Record<string, MarketplaceBounds>> = {
  US: m('USD', [0.02, 1_000], [1, 1_000_000]),
  CA: m('CAD', [0.02, 1_000], [1, 1_000_000]),
  MX: m('MXN', [0.1, 20_000], [1, 21_000_000]),
  BR: m('BRL', [0.07, 3_700], [4, 5_100_000]),
  GB: m('GBP', [0.02, 1_000], [1, 1_000_000]),
  DE: m('EUR', [0.02, 1_000], [1, 1_000_000]),
  FR: m('EUR', [0.02, 1_000], [1, 1_000_000]),
  IT: m('EUR', [0.02, 1_000], [1, 1_000_000]),
  ES: m('EUR', [0.02, 1_000], [1, 1_000_000]),
  NL: m('EUR', [0.02, 1_000], [1, 1_000_000]),
  SE: m('SEK', [0.18, 9_300], [9, 9_300_000]),
  PL: m('PLN', [0.08, 4_700], [4, 4_700_000]),
  TR: m('TRY', [0.05, 2_500], [2, 2_500_000]),
  AE: m('AED', [0.24, 184], [4, 3_670_000]),
  SA: m('SAR', [0.1, 3_700], [4, 3_670_000]),
  IN: m('INR', [1, 5_000], [50, 21_000_000]),
  JP: m('JPY', [2, 100_000], [100, 21_000_000]),
  AU: m('AUD', [0.1, 1_410], [1.4, 1_500_000]),
  SG: m('SGD', [0.02, 1_410], [1, 1_300_000]),
};

export const boundsOf = (countryCode: string): MarketplaceBounds | undefined => MARKETPLACE_BOUNDS[countryCode];
