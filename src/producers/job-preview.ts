// The impact preview of a job (a dry run): every item validated as a submission would be,
// plus what only the API's side can say — each item's bid or budget against its
// profile's marketplace bounds, and (with `withCurrent`) each entity's current value, so
// the answer shows the deltas and the items already at their value — and how long the
// job will take at each profile's known limit (the slowest profile bounds it). Nothing is
// produced or written anywhere.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../domain/api-client.js';
import { holdsValues, type FieldValues } from '../domain/field-values.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { boundsOf, type Bounds } from '../ads-api/marketplace-bounds.js';
import type { SourceItem } from './item-sources.js';
import { ErrorCollector, validateItem, type ItemError, type SubmissionLimits, type ValidItem } from './item-validation.js';
import { jobRequestProblems, type JobRequest } from './job-submitter.js';

export interface JobPreview {
  /** Whether a submission of it would be accepted (no errors). */
  valid: boolean;
  itemCount: number;
  errorCount: number;
  /** The first errors, each naming the item (index) and field; bounds errors name the bound and the marketplace. */
  errors: ItemError[];
  /** Valid items per operation, and per profile and operation. */
  operations: Record<string, number>;
  profiles: { profileId: string; operation: string; items: number }[];
  outOfBounds: number;
  estimate: { seconds: number; calls: number; slowestProfile: { profileId: string; items: number; calls: number; ratePerSecond: number } | null };
  /** With `withCurrent`: what the entities hold now. */
  current?: CurrentValues;
}

export interface CurrentValues {
  read: number;
  notFound: number;
  /** Items whose entity already holds the requested values. */
  noOps: number;
  /** Sum of requested minus current daily budgets, per currency. */
  dailyBudgetChange: Record<string, number>;
  /** Bid changes by percent of the current bid. */
  bidChanges: { bucket: string; items: number }[];
}

export interface PreviewDeps {
  catalogue: OperationCatalogue;
  limits: SubmissionLimits;
  /** Each known profile's country code (its marketplace), from the API's profile list. */
  marketplaces: () => Promise<Map<string, string>>;
  /** The profile's rate (calls per second) and burst as the executors start with it. */
  rateOf: (profileId: string) => { ratePerSecond: number; burst: number };
  maxBatchSize: number;
  /** Write batches one read of before-images covers (its calls count in the estimate). */
  readBatches: number;
  /** Reads current values (`withCurrent`). */
  api: ApiClient;
}

export interface JobPreviewer {
  preview(request: JobRequest, items: AsyncIterable<SourceItem>, options?: { withCurrent?: boolean }): Promise<JobPreview>;
}

/** The payload fields checked against the marketplace, and which bound each has. */
const BOUNDED_FIELDS: Record<string, 'bid' | 'dailyBudget'> = { bid: 'bid', budget: 'dailyBudget' };
const BID_BUCKETS: { bucket: string; upTo: number }[] = [
  { bucket: '< -50%', upTo: -50 },
  { bucket: '-50% to -10%', upTo: -10 },
  { bucket: '-10% to 0%', upTo: -1e-9 },
  { bucket: '0%', upTo: 1e-9 },
  { bucket: '0% to +10%', upTo: 10 },
  { bucket: '+10% to +50%', upTo: 50 },
  { bucket: '> +50%', upTo: Infinity },
];

export function createJobPreviewer(deps: PreviewDeps): JobPreviewer {
  return {
    async preview(request, items, options = {}) {
      const errors = new ErrorCollector(deps.limits.maxErrorsListed);
      errors.add(jobRequestProblems(request).map((p) => ({ index: -1, ...p })));
      const marketplaces = await deps.marketplaces();
      const valid: { index: number; item: ValidItem }[] = [];
      let itemCount = 0;
      let outOfBounds = 0;
      for await (const source of items) {
        itemCount++;
        const checked = validateItem(source, request.operation, deps.catalogue, deps.limits);
        if (!checked.ok) {
          errors.add(checked.errors);
          continue;
        }
        const country = marketplaces.get(checked.item.profileId);
        const problems = country === undefined ? [{ index: source.index, field: 'profileId', reason: 'is not a profile these credentials reach (GET /v2/profiles)' }] : boundsProblems(source.index, checked.item, country);
        outOfBounds += country === undefined ? 0 : problems.length;
        if (problems.length > 0) errors.add(problems);
        else valid.push({ index: source.index, item: checked.item });
      }
      if (itemCount === 0) errors.add([{ index: -1, field: 'items', reason: 'a job needs at least one item' }]);
      const preview: JobPreview = {
        valid: errors.count === 0,
        itemCount,
        errorCount: errors.count,
        errors: errors.errors,
        ...tally(valid.map((v) => v.item)),
        outOfBounds,
        estimate: estimate(valid.map((v) => v.item), deps, request.captureBefore ?? true),
      };
      if (options.withCurrent) preview.current = await currentValues(request.tenantId, valid.map((v) => v.item), marketplaces, deps);
      return preview;
    },
  };
}

function boundsProblems(index: number, item: ValidItem, country: string): ItemError[] {
  const bounds = boundsOf(country);
  if (!bounds) return [];
  const payload = item.payload as Record<string, unknown>;
  return Object.entries(BOUNDED_FIELDS).flatMap(([field, kind]) => {
    const value = payload[field];
    const bound: Bounds = bounds[kind];
    if (typeof value !== 'number' || (value >= bound.lower && value <= bound.upper)) return [];
    const side = value < bound.lower ? `below the minimum ${kind === 'bid' ? 'bid' : 'daily budget'} of ${bound.lower}` : `above the maximum ${kind === 'bid' ? 'bid' : 'daily budget'} of ${bound.upper}`;
    return [{ index, field: `payload.${field}`, reason: `${value} is ${side} ${bounds.currency} in marketplace ${country}` }];
  });
}

function tally(items: ValidItem[]): Pick<JobPreview, 'operations' | 'profiles'> {
  const operations: Record<string, number> = {};
  const perProfile = new Map<string, { profileId: string; operation: string; items: number }>();
  for (const item of items) {
    operations[item.operation] = (operations[item.operation] ?? 0) + 1;
    const key = `${item.profileId}\u0000${item.operation}`;
    const row = perProfile.get(key) ?? { profileId: item.profileId, operation: item.operation, items: 0 };
    row.items++;
    perProfile.set(key, row);
  }
  return { operations, profiles: [...perProfile.values()].sort((a, b) => b.items - a.items || a.profileId.localeCompare(b.profileId)) };
}

// Calls per profile: its items in write calls of at most maxBatchSize per batch key, plus
// the reads of before-images; the profile takes (calls - burst) / rate seconds.
function estimate(items: ValidItem[], deps: PreviewDeps, captureBefore: boolean): JobPreview['estimate'] {
  const perKey = new Map<string, { profileId: string; items: number }>();
  for (const item of items) {
    const op = deps.catalogue.get(item.operation)!;
    const key = `${item.profileId}\u0000${op.batchKey}`;
    perKey.set(key, { profileId: item.profileId, items: (perKey.get(key)?.items ?? 0) + 1 });
  }
  const perProfile = new Map<string, { items: number; calls: number }>();
  for (const { profileId, items: n } of perKey.values()) {
    const writes = Math.ceil(n / deps.maxBatchSize);
    const calls = writes + (captureBefore ? Math.ceil(writes / deps.readBatches) : 0);
    const p = perProfile.get(profileId) ?? { items: 0, calls: 0 };
    perProfile.set(profileId, { items: p.items + n, calls: p.calls + calls });
  }
  let slowest: JobPreview['estimate']['slowestProfile'] = null;
  let seconds = 0;
  let calls = 0;
  for (const [profileId, p] of perProfile) {
    const { ratePerSecond, burst } = deps.rateOf(profileId);
    const s = Math.max(0, p.calls - burst) / ratePerSecond;
    calls += p.calls;
    if (!slowest || s > seconds) [slowest, seconds] = [{ profileId, items: p.items, calls: p.calls, ratePerSecond }, s];
  }
  return { seconds: Math.ceil(seconds), calls, slowestProfile: slowest };
}

// Reads each profile's entities in calls of maxBatchSize ids (one batch key each), each
// profile's calls paced at its rate so a preview never takes the room a running job needs;
// a few profiles at a time (the pace is per profile: one after another, a 900-profile
// preview would wait 900 paces).
async function currentValues(tenantId: string, items: ValidItem[], marketplaces: Map<string, string>, deps: PreviewDeps): Promise<CurrentValues> {
  const groups = new Map<string, ValidItem[]>();
  for (const item of items) {
    const key = `${item.profileId}\u0000${deps.catalogue.get(item.operation)!.batchKey}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const result: CurrentValues = { read: 0, notFound: 0, noOps: 0, dailyBudgetChange: {}, bidChanges: BID_BUCKETS.map((b) => ({ bucket: b.bucket, items: 0 })) };
  const readGroup = async (group: ValidItem[]) => {
    const { profileId } = group[0]!;
    const pace = 1000 / deps.rateOf(profileId).ratePerSecond;
    for (let start = 0; start < group.length; start += deps.maxBatchSize) {
      if (start > 0) await sleep(pace);
      const chunk = group.slice(start, start + deps.maxBatchSize);
      const read = await deps.api.read({ tenantId, profileId, items: chunk.map((i) => ({ operation: i.operation, payload: i.payload })) });
      if (read.type === 'failed') throw read.error;
      read.values.forEach((current, i) => count(result, deps.catalogue.get(chunk[i]!.operation)!.fieldsSet(chunk[i]!.payload), current, boundsOf(marketplaces.get(profileId) ?? '')?.currency ?? '?'));
    }
  };
  const queue = [...groups.values()];
  await Promise.all(Array.from({ length: Math.min(PROFILES_READ_AT_ONCE, queue.length) }, async () => {
    for (let group = queue.shift(); group; group = queue.shift()) await readGroup(group);
  }));
  return result;
}

function count(result: CurrentValues, wanted: FieldValues, current: FieldValues | null, currency: string): void {
  result.read++;
  if (current === null) return void result.notFound++;
  if (holdsValues(current, wanted)) result.noOps++;
  if (typeof wanted.budget === 'number' && typeof current.budget === 'number') result.dailyBudgetChange[currency] = round((result.dailyBudgetChange[currency] ?? 0) + wanted.budget - current.budget);
  if (typeof wanted.bid === 'number' && typeof current.bid === 'number' && current.bid > 0) {
    const percent = ((wanted.bid - current.bid) / current.bid) * 100;
    result.bidChanges[BID_BUCKETS.findIndex((b) => percent <= b.upTo)]!.items++;
  }
}

/** Profiles whose current values a preview reads at the same time. */
const PROFILES_READ_AT_ONCE = 8;

const round = (n: number) => Math.round(n * 100) / 100;
