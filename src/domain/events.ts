// The events of DESIGN.md as TypeScript types, field for field the Avro records in
// schemas/. Unions of records are "wrapped" as Avro's JSON encoding does: the branch's
// full name is the single key, e.g. { 'sluice.JobPaused': { by, reason } }.

export interface JobSubmitted {
  operation: string | null;
  itemCount: number;
  profileCount: number;
  labels: Record<string, string>;
  submittedBy: string | null;
  idempotencyKey: string | null;
  /** Items per profile; empty when the job spans more than MAX_PROFILES_COUNTED profiles. */
  profileItemCounts: Record<string, number>;
}

/** Above this many profiles a JobSubmitted carries no per-profile counts (the record would grow too big). */
export const MAX_PROFILES_COUNTED = 10_000;

export interface JobControlAction {
  by: string | null;
  reason: string | null;
}

export interface ReplayedItem {
  deadLetterId: string;
  index: number;
  profileId: string;
  /** The generation the item now runs as: its dead letter's generation + 1. */
  replayGeneration: number;
}

/** Dead letters of one job sent back to the item commands by one replay. */
export interface DeadLettersReplayed {
  replayId: string;
  requestedBy: string | null;
  /** The replay's filter as JSON. */
  selection: string;
  /** JSON object merged into every replayed payload, when given. */
  patch: string | null;
  items: ReplayedItem[];
}

export type JobEventBody =
  | { 'sluice.JobSubmitted': JobSubmitted }
  | { 'sluice.JobPaused': JobControlAction }
  | { 'sluice.JobResumed': JobControlAction }
  | { 'sluice.JobCancelled': JobControlAction }
  | { 'sluice.DeadLettersReplayed': DeadLettersReplayed };

export interface JobEvent {
  eventId: string;
  jobId: string;
  tenantId: string;
  /** Epoch milliseconds. */
  occurredAt: number;
  event: JobEventBody;
}

export type ControlState = 'RUNNING' | 'PAUSED' | 'CANCELLED';

export interface JobControlState {
  jobId: string;
  tenantId: string;
  state: ControlState;
  version: number;
  updatedAt: number;
}

/** What names one item of one job, on every item command and result. */
export interface ItemIdentity {
  jobId: string;
  /** Stable: `${jobId}:${index}`. */
  itemId: string;
  index: number;
  tenantId: string;
  profileId: string;
  operation: string;
}

export interface ItemRequested extends ItemIdentity {
  /** The operation's parameters as a JSON object string. */
  payload: string;
  attempt: number;
  replayGeneration: number;
  requestedAt: number;
}

export type ItemOutcome =
  | { 'sluice.ItemSucceeded': { summary: string | null } }
  | { 'sluice.ItemRetrying': { errorKind: string; reason: string; message: string; retryInMs: number } }
  | {
      'sluice.ItemFailed': {
        failureClass: 'PERMANENT' | 'RETRIES_EXHAUSTED';
        errorKind: string;
        reason: string;
        message: string;
        deadLettered: boolean;
      };
    }
  | { 'sluice.ItemCancelled': { reason: string | null } }
  | { 'sluice.ItemSkipped': { reason: string } };

export interface ItemResult extends ItemIdentity {
  attempt: number;
  replayGeneration: number;
  occurredAt: number;
  latencyMs: number | null;
  outcome: ItemOutcome;
}

export interface AttemptRecord {
  attempt: number;
  at: number;
  outcome: 'succeeded' | 'throttled' | 'transient' | 'permanent';
  errorKind: string | null;
  reason: string | null;
  message: string | null;
  httpStatus: number | null;
}

export interface DeadLettered {
  deadLetterId: string;
  occurredAt: number;
  command: ItemRequested | null;
  rawKey: Buffer | null;
  rawValue: Buffer | null;
  errorKind: string;
  reason: string;
  message: string;
  attempts: AttemptRecord[];
  source: { topic: string; partition: number; offset: number };
}

/** The value type each topic carries. */
export interface TopicValues {
  jobEvents: JobEvent;
  jobControl: JobControlState;
  itemCommands: ItemRequested;
  itemResults: ItemResult;
  dlq: DeadLettered;
}

/** The job event that records a control action. */
export function controlEventBody(event: 'sluice.JobPaused' | 'sluice.JobResumed' | 'sluice.JobCancelled', action: JobControlAction): JobEventBody {
  if (event === 'sluice.JobPaused') return { 'sluice.JobPaused': action };
  if (event === 'sluice.JobResumed') return { 'sluice.JobResumed': action };
  return { 'sluice.JobCancelled': action };
}
