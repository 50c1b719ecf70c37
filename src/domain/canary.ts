// Canary (pure): a job's first slice runs while the rest waits, spread across its profiles
// so one profile's bad data shows; its verdict decides whether the job goes on or is
// paused. Only permanent failures count, as for the automatic pause.
import { z } from 'zod';

export interface CanaryOption {
  /** Items in the slice. */
  items: number;
  /** Share (0-1) of the slice that may fail permanently for the job to go on. */
  maxFailureRate: number;
}

/** A job's `canary` option as submitted: a number of items or a percent of the job, and the share that may fail. */
export const canaryRequest = z
  .object({
    items: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
    percent: z.number().gt(0, 'must be above 0').max(100, 'must be at most 100').optional(),
    maxFailureRate: z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').default(0.05),
  })
  .strict()
  .refine((c) => (c.items === undefined) !== (c.percent === undefined), { message: 'give items or percent, one of them', path: ['items'] });

export type CanaryRequest = z.input<typeof canaryRequest>;

/** The slice's size for a job of `total` items: at least one item, at most the job. */
export function canarySize(request: z.output<typeof canaryRequest>, total: number): number {
  const wanted = request.items ?? Math.ceil((total * request.percent!) / 100);
  return Math.max(1, Math.min(total, wanted));
}

/**
 * How many of each profile's items are in the slice: the slice shared out in proportion
 * to the profiles' items (largest remainders), every profile getting one while the slice
 * has one for each, so a profile whose items all fail is in the slice whatever its size.
 */
export function canaryQuotas(itemsPerProfile: ReadonlyMap<string, number>, size: number): Map<string, number> {
  const profiles = [...itemsPerProfile].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = profiles.reduce((sum, [, n]) => sum + n, 0);
  let left = Math.min(size, total);
  const base = left >= profiles.length ? 1 : 0;
  left -= base * profiles.length;
  const roomTotal = total - base * profiles.length;
  const shares = profiles.map(([p, n]) => ({ p, exact: roomTotal > 0 ? (left * (n - base)) / roomTotal : 0 }));
  const quotas = new Map(shares.map(({ p, exact }) => [p, base + Math.floor(exact)]));
  let rest = left - shares.reduce((sum, s) => sum + Math.floor(s.exact), 0);
  // (each share is at most its room, so one more on a fractional share still fits)
  for (const { p } of [...shares].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)))) {
    if (rest <= 0) break;
    quotas.set(p, quotas.get(p)! + 1);
    rest--;
  }
  return quotas;
}

export interface CanaryVerdict {
  passed: boolean;
  reason: string;
}

/** The slice's verdict from its ended items' permanent failures and their reasons. */
export function canaryVerdict(option: CanaryOption, ended: number, failures: { reason: string; count: number }[]): CanaryVerdict {
  const failed = failures.reduce((sum, f) => sum + f.count, 0);
  const share = ended > 0 ? failed / ended : 0;
  const breakdown = failures.length > 0 ? `: ${failures.map((f) => `${f.reason} ×${f.count}`).join(', ')}` : '';
  const numbers = `${failed} of ${ended} canary items failed permanently (${(share * 100).toFixed(1)}%, at most ${(option.maxFailureRate * 100).toFixed(1)}%)`;
  return share <= option.maxFailureRate ? { passed: true, reason: `canary passed: ${numbers}` } : { passed: false, reason: `canary_failed: ${numbers}${breakdown}` };
}
