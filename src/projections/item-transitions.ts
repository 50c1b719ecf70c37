// How one item result changes an item's projected row (pure). Results can arrive twice
// (an executor re-ran a command after a crash, a batch was redelivered) and out of order
// across replays, so each row keeps what decides precedence: the replay generation, then
// whether the outcome is terminal, then the attempt. A result that is not newer than the
// row changes nothing, so applying a batch twice gives the same rows and counters.
import type { ItemResult } from '../domain/events.js';

export type ItemStatus = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'dead_lettered' | 'superseded' | 'expired';

// `expired`: the item's command was gone from the topic before it ran (retention). It is
// set by the projector, never by a result, with no attempts, so any result of the item's
// generation outranks it (it has at least one): a result committed before the gap was
// found is the truth, and a retrying one projected before the gap is overruled by it.
export const TERMINAL_STATUSES: readonly ItemStatus[] = ['succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded', 'expired'];

export interface ItemRow {
  jobId: string;
  index: number;
  itemId: string;
  profileId: string;
  operation: string;
  status: ItemStatus;
  attempts: number;
  replayGeneration: number;
  lastErrorKind: string | null;
  lastErrorReason: string | null;
  lastErrorMessage: string | null;
  latencyMs: number | null;
  updatedAt: number;
}

/** What decides whether a result is newer than the row. */
export type ItemStanding = Pick<ItemRow, 'status' | 'attempts' | 'replayGeneration'>;

export function statusOf(result: ItemResult): ItemStatus {
  const o = result.outcome;
  if ('sluice.ItemSucceeded' in o) return 'succeeded';
  if ('sluice.ItemRetrying' in o) return 'retrying';
  if ('sluice.ItemCancelled' in o) return 'cancelled';
  if ('sluice.ItemSkipped' in o) return 'skipped';
  if ('sluice.ItemSuperseded' in o) return 'superseded';
  return o['sluice.ItemFailed'].deadLettered ? 'dead_lettered' : 'failed';
}

const isTerminal = (s: ItemStatus) => TERMINAL_STATUSES.includes(s);

/** Negative: a is older than b; 0: the same standing; positive: a is newer. */
function precedence(a: ItemStanding, b: ItemStanding): number {
  return a.replayGeneration - b.replayGeneration || Number(isTerminal(a.status)) - Number(isTerminal(b.status)) || a.attempts - b.attempts;
}

/** The row after `result`, or undefined when the result is not newer than the row. */
export function applyResult(row: ItemStanding | undefined, result: ItemResult): ItemRow | undefined {
  const status = statusOf(result);
  const incoming = { replayGeneration: result.replayGeneration, status, attempts: result.attempt };
  if (row) {
    const order = precedence(incoming, row);
    // An equal retrying result (another throttle of the same attempt) refreshes the error;
    // an equal terminal one is a duplicate.
    if (order < 0 || (order === 0 && isTerminal(status))) return undefined;
  }
  const error = errorOf(result);
  return {
    jobId: result.jobId,
    index: result.index,
    itemId: result.itemId,
    profileId: result.profileId,
    operation: result.operation,
    status,
    attempts: result.attempt,
    replayGeneration: result.replayGeneration,
    lastErrorKind: error?.errorKind ?? null,
    lastErrorReason: error?.reason ?? null,
    lastErrorMessage: error?.message ?? null,
    latencyMs: result.latencyMs,
    updatedAt: result.occurredAt,
  };
}

function errorOf(result: ItemResult): { errorKind: string; reason: string; message: string } | undefined {
  const o = result.outcome;
  if ('sluice.ItemRetrying' in o) return o['sluice.ItemRetrying'];
  if ('sluice.ItemFailed' in o) return o['sluice.ItemFailed'];
  if ('sluice.ItemSuperseded' in o) return { errorKind: 'superseded', reason: 'SUPERSEDED', message: o['sluice.ItemSuperseded'].reason };
  return undefined;
}

/** Per job, how many items entered and left each status: the counters' changes. */
export type StatusDeltas = Map<string, Partial<Record<ItemStatus, number>>>;

export function addTransition(deltas: StatusDeltas, jobId: string, from: ItemStatus | undefined, to: ItemStatus): void {
  if (from === to) return;
  const d = deltas.get(jobId) ?? {};
  if (from) d[from] = (d[from] ?? 0) - 1;
  d[to] = (d[to] ?? 0) + 1;
  deltas.set(jobId, d);
}
