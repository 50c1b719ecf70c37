// Checks each submitted item before anything is produced: its shape, its profile id, its
// operation (the item's own or the job's) and its payload against the catalogue, and the
// job's limits. Errors name the item's index, the field and the reason; all are counted,
// the first few listed.
import type { FieldValues } from '../domain/field-values.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { findUnstorable } from '../domain/storable-text.js';
import type { SourceItem } from './item-sources.js';

export interface SubmissionLimits {
  maxItems: number;
  maxItemBytes: number;
  /** Largest streamed (NDJSON, CSV) request body. */
  maxRequestBytes: number;
  /** Errors listed in one answer; the rest are only counted. */
  maxErrorsListed: number;
}

export const DEFAULT_LIMITS: SubmissionLimits = { maxItems: 1_000_000, maxItemBytes: 16 * 1024, maxRequestBytes: 1024 ** 3, maxErrorsListed: 100 };

export interface ItemError {
  index: number;
  field: string;
  reason: string;
}

export interface ValidItem {
  profileId: string;
  operation: string;
  /** The payload as the operation's schema parsed it. */
  payload: unknown;
  /** The values its submitter saw, for the stale-write guard. */
  expect?: FieldValues;
}

const ITEM_KEYS = new Set(['profileId', 'operation', 'payload', 'expect']);

export function validateItem(source: SourceItem, jobOperation: string | undefined, catalogue: OperationCatalogue, limits: SubmissionLimits): { ok: true; item: ValidItem } | { ok: false; errors: ItemError[] } {
  const at = (field: string, reason: string): ItemError => ({ index: source.index, field, reason });
  if (source.error) return { ok: false, errors: [at(source.error.field, source.error.reason)] };
  if (source.bytes > limits.maxItemBytes) return { ok: false, errors: [at('item', `${source.bytes} bytes is over the ${limits.maxItemBytes}-byte limit`)] };
  const v = source.value;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, errors: [at('item', 'must be an object {profileId, operation?, payload}')] };

  const unstorable = findUnstorable(v, '');
  if (unstorable) return { ok: false, errors: [at(unstorable.field || 'item', unstorable.reason)] };

  const item = v as Record<string, unknown>;
  const errors: ItemError[] = Object.keys(item)
    .filter((k) => !ITEM_KEYS.has(k))
    .map((k) => at(k, 'unknown field (an item has profileId, operation, payload and expect)'));
  const profileId = typeof item.profileId === 'number' && Number.isSafeInteger(item.profileId) ? String(item.profileId) : item.profileId;
  const profileProblem = typeof profileId === 'string' ? catalogue.profileIdProblem(profileId) : profileId === undefined ? 'is required' : `must match ${catalogue.profileIdPattern}`;
  if (profileProblem) errors.push(at('profileId', profileProblem));
  const operation = item.operation ?? jobOperation;
  if (typeof operation !== 'string') {
    errors.push(at('operation', operation === undefined ? 'is required (on the item or the job)' : 'must be a string'));
    return { ok: false, errors };
  }
  const check = catalogue.check(operation, item.payload);
  if (!check.ok) errors.push(...check.issues.map((i) => at(i.field, i.reason)));
  const expect = item.expect === undefined ? undefined : catalogue.checkExpect(operation, item.expect);
  if (expect && !expect.ok) errors.push(...expect.issues.map((i) => at(i.field, i.reason)));
  if (errors.length > 0 || !check.ok || (expect && !expect.ok)) return { ok: false, errors };
  return { ok: true, item: { profileId: profileId as string, operation, payload: check.value, ...(expect ? { expect: expect.value } : {}) } };
}

/** Keeps the first `listed` errors and counts them all. */
export class ErrorCollector {
  readonly errors: ItemError[] = [];
  count = 0;

  constructor(private readonly listed: number) {}

  add(errors: ItemError[]): void {
    this.count += errors.length;
    for (const e of errors) if (this.errors.length < this.listed) this.errors.push(e);
  }
}
