// How one item result changes an item's projected row (pure). Results can arrive twice
// (an executor re-ran a command after a crash, a batch was redelivered) and out of order
// across replays, so each row keeps what decides precedence: the replay generation, then
// whether the outcome is terminal, then the attempt. A result that is not newer than the
// row changes nothing, so applying a batch twice gives the same rows and counters.
import type { ItemResult } from '../domain/events.js';

export type ItemStatus = 'pending' | 'retrying' | 'succeeded' | 'failed' | 'cancelled' | 'skipped' | 'dead_lettered' | 'superseded' | 'expired' | 'conflict';

// `expired`: the item's command was gone from the topic before it ran (retention). It is
// set by the projector, never by a result, with no attempts, so any result of the item's
// generation outranks it (it has at least one): a result committed before the gap was
// found is the truth, and a retrying one projected before the gap is overruled by it.
// `conflict`: the stale-write guard found the entity changed since its submitter saw it,
// and the item was not written.
export const TERMINAL_STATUSES: readonly ItemStatus[] = ['succeeded', 'failed', 'cancelled', 'skipped', 'dead_lettered', 'superseded', 'expired', 'conflict'];

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
  /** The payload as run (JSON); its ids name the entity. */
  payload: string | null;
  /** Values of the fields the item sets, before its write, as acknowledged, and as found by a read that stopped it (JSON). */
  previousValues: string | null;
  appliedValues: string | null;
  currentValues: string | null;
}

/** What decides whether a result is newer than the row. */
export type ItemStanding = Pick<ItemRow, 'status' | 'attempts' | 'replayGeneration'>;

/** A result of a verification: it changes the item's verification, never its status. */
export const isVerification = (result: ItemResult): boolean => result.verification === true || 'sluice.ItemVerified' in result.outcome;

export type Verdict = 'verified' | 'drifted' | 'unreadable';

/** What a verification's result says of the entity; undefined while it is still being tried. */
export function verdictOf(result: ItemResult): { verdict: Verdict; found: string | null } | undefined {
  const o = result.outcome;
  if ('sluice.ItemVerified' in o) return { verdict: o['sluice.ItemVerified'].drifted ? 'drifted' : 'verified', found: o['sluice.ItemVerified'].current };
  if ('sluice.ItemFailed' in o) return { verdict: 'unreadable', found: null };
  return undefined;
}

export function statusOf(result: ItemResult): Exclude<ItemStatus, 'pending' | 'expired'> {
  const o = result.outcome;
  if ('sluice.ItemVerified' in o) throw new Error('a verification has no status: see isVerification');
  if ('sluice.ItemConflict' in o) return 'conflict';
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
  const o = result.outcome;
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
    payload: result.payload ?? null,
    previousValues: 'sluice.ItemSucceeded' in o ? (o['sluice.ItemSucceeded'].previous ?? null) : null,
    appliedValues: 'sluice.ItemSucceeded' in o ? (o['sluice.ItemSucceeded'].applied ?? null) : null,
    currentValues: 'sluice.ItemConflict' in o ? o['sluice.ItemConflict'].current : null,
  };
}

function errorOf(result: ItemResult): { errorKind: string; reason: string; message: string } | undefined {
  const o = result.outcome;
  if ('sluice.ItemRetrying' in o) return o['sluice.ItemRetrying'];
  if ('sluice.ItemFailed' in o) return o['sluice.ItemFailed'];
  if ('sluice.ItemSuperseded' in o) return { errorKind: 'superseded', reason: 'SUPERSEDED', message: o['sluice.ItemSuperseded'].reason };
  if ('sluice.ItemConflict' in o) {
    const { expected, current } = o['sluice.ItemConflict'];
    return { errorKind: 'conflict', reason: 'CONFLICT', message: `expected ${expected}, found ${current ?? 'no such entity'}: not written` };
  }
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
