// The events of DESIGN.md as TypeScript types, field for field the Avro records in
// schemas/. Unions of records are "wrapped" as Avro's JSON encoding does: the branch's
// full name is the single key, e.g. { 'sluice.JobPaused': { by, reason } }.
import type { AutoPauseSettings } from './auto-pause.js';
import type { CanaryOption } from './canary.js';

export interface JobSubmitted {
  operation: string | null;
  itemCount: number;
  profileCount: number;
  labels: Record<string, string>;
  submittedBy: string | null;
  idempotencyKey: string | null;
  /** Items per profile; empty when the job spans more than MAX_PROFILES_COUNTED profiles. */
  profileItemCounts: Record<string, number>;
  /** The job this one reverts. Absent on write means null (the schema's default). */
  revertOf?: string | null;
  /** Whether the job's items capture before-images; absent means true. */
  captureBefore?: boolean;
  /** When Sluice pauses the job on its own; absent or null: the defaults. */
  autoPause?: AutoPauseSettings | null;
  /** The job's canary, if any. */
  canary?: CanaryOption | null;
  /** Read its succeeded items back once it has finished. Absent: false. */
  verifyAtEnd?: boolean;
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

/** Where some commands of one profile landed: `offsets[i]` holds the command of item `indexes[i]`. */
export interface CommandPlacement {
  partition: number;
  profileId: string;
  offsets: number[];
  indexes: number[];
  /** The generation these commands run as: 0 as submitted, more when a replay sent them again. */
  replayGeneration: number;
}

/** Where the commands of one send of a job landed (in the job's transaction, right after them). */
export interface CommandsPlaced {
  placements: CommandPlacement[];
}

/** Offsets [fromOffset, toOffset) found gone; with a profile, only its commands there were still to run. */
export interface ExpiredRange {
  fromOffset: number;
  toOffset: number;
  profileId: string | null;
}

/** Commands an executor still had to run were gone from the topic (not one job's event: jobId is empty). */
export interface CommandsExpired {
  topic: string;
  partition: number;
  logStartOffset: number;
  ranges: ExpiredRange[];
}

export type JobEventBody =
  | { 'sluice.JobSubmitted': JobSubmitted }
  | { 'sluice.JobPaused': JobControlAction }
  | { 'sluice.JobResumed': JobControlAction }
  | { 'sluice.JobCancelled': JobControlAction }
  | { 'sluice.DeadLettersReplayed': DeadLettersReplayed }
  | { 'sluice.CommandsPlaced': CommandsPlaced }
  | { 'sluice.CommandsExpired': CommandsExpired };

export interface JobEvent {
  eventId: string;
  jobId: string;
  tenantId: string;
  /** Epoch milliseconds. */
  occurredAt: number;
  event: JobEventBody;
}

/** CANARY: only the job's canary slice runs; the rest waits for the verdict. */
export type ControlState = 'RUNNING' | 'PAUSED' | 'CANCELLED' | 'CANARY';

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
  /** JSON object: values the submitter saw; a differing entity is not written (conflict). Absent: null. */
  expect?: string | null;
  /** Read the entity before writing it, for the result's `previous`. Absent: true. */
  captureBefore?: boolean;
  /** In a job with a canary: whether the item is of its slice. Absent: the job has none. */
  canary?: boolean | null;
  /** VERIFY: read back and compare with `expect`, write nothing. Absent: WRITE. */
  purpose?: CommandPurpose;
}

export type CommandPurpose = 'WRITE' | 'VERIFY';

/** An ItemRetrying's reason when the call failed transiently and left the profile's (or the API's) breaker open: no call is made for the profile until a probe succeeds. Otherwise the reason is THROTTLED or the error's kind. */
export const BREAKER_OPEN = 'BREAKER_OPEN';

export type ItemOutcome =
  | { 'sluice.ItemSucceeded': { summary: string | null; previous?: string | null; applied?: string | null } }
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
  | { 'sluice.ItemSkipped': { reason: string } }
  | { 'sluice.ItemSuperseded': { reason: string; newerItemId: string | null } }
  | { 'sluice.ItemConflict': { expected: string; current: string | null } }
  | { 'sluice.ItemVerified': { drifted: boolean; current: string | null } };

export interface ItemResult extends ItemIdentity {
  attempt: number;
  replayGeneration: number;
  occurredAt: number;
  latencyMs: number | null;
  outcome: ItemOutcome;
  /** The item's payload (JSON) as run. Absent: null. */
  payload?: string | null;
  /** The outcome of a VERIFY command: it changes the item's verification, not its status. Absent: false. */
  verification?: boolean;
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
