// The contract between the executor and an external API: run one batch of items of one
// operation for one profile, and say what became of the call and of each item. The
// Amazon Ads client implements it; another API plugs in with its own implementation and
// operation catalogue.
import type { Permanent, Throttled, Transient } from './errors.js';
import type { FieldValues } from './field-values.js';

export interface BatchRequest {
  /** The tenant whose credentials the call carries (the install's own when absent). */
  tenantId?: string;
  profileId: string;
  /**
   * Items whose operations share one batch key in the catalogue, in order; each payload
   * is already valid for its operation.
   */
  items: { operation: string; payload: unknown }[];
}

export type ItemOutcome =
  | { type: 'succeeded'; id?: string; entity?: Record<string, unknown> }
  | { type: 'failed'; error: Throttled | Transient | Permanent; details?: Record<string, unknown> };

export type BatchResult =
  /** The API answered for each item, in request order. */
  | { type: 'answered'; items: ItemOutcome[]; latencyMs: number; httpStatus: number }
  /** The call as a whole failed; no item has an answer of its own. */
  | { type: 'failed'; error: Throttled | Transient | Permanent; latencyMs: number };

export type ReadResult =
  /** Per item, in request order: the current values of the fields it sets; null when its entity does not exist. */
  | { type: 'read'; values: (FieldValues | null)[]; latencyMs: number }
  | { type: 'failed'; error: Throttled | Transient | Permanent; latencyMs: number };

/** Any call's result: a write's or a read's. */
export type CallResult = BatchResult | ReadResult;

export interface ApiClient {
  execute(batch: BatchRequest): Promise<BatchResult>;
  /** Reads the entities a batch's items name, as one call (before-images, the stale-write guard, verification). */
  read(batch: BatchRequest): Promise<ReadResult>;
  close(): Promise<void>;
}
