// One item command inside the executor: the decoded command, where it came from, and
// what has been tried so far. It lives in its profile's lane until it reaches a
// terminal outcome (or is abandoned on a rebalance and redelivered by Kafka).
import type { AttemptRecord, ItemRequested } from '../domain/events.js';
import type { FieldValues } from '../domain/field-values.js';
import type { ItemTrace } from './item-trace.js';

export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

export interface WorkItem {
  command: ItemRequested;
  /** The parsed payload (the producer validated it against the operation's schema). */
  payload: unknown;
  source: SourcePosition;
  /** Items with equal batch keys may share one API call. */
  batchKey: string;
  /** The entity the item changes: two items of one entity never share a call. */
  entityKey: string;
  maxBatchSize: number;
  /** The values the item sets ({"bid": 1.25}). */
  fieldsSet: FieldValues;
  /** The values its submitter saw (the stale-write guard), or for a verification the values the write set. */
  expect: FieldValues | undefined;
  /** Whether the item's entity is read first: for its before-image, its guard, or (verification) instead of a write. */
  reads: boolean;
  /** What that read found: undefined until it is made; null when the entity does not exist. */
  current: FieldValues | null | undefined;
  /** When that read was made (the lane's clock). */
  readAtMs: number;
  /** Whether a write of the item was attempted (then it is never read again). */
  writeTried: boolean;
  /** Attempts that spent retry budget (throttling does not). */
  attempts: number;
  /** Every call this item was part of, for the dead-letter diagnostics. */
  history: AttemptRecord[];
  /** A transient failure's backoff: not to be tried again before this clock reading. */
  notBeforeMs: number;
  /** The item's span here (each attempt an event on it; ended at its last outcome) and the headers its records carry. */
  trace: ItemTrace;
}
