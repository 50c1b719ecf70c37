// What the bench process and a baseline's worker process agree on: the queue, how many
// jobs run at once, how failures are retried, and (for the rate-limited fleet) the
// per-profile limit each queue library is given in its own way.

/** One queue job: one item of the bulk job, as both queue libraries recommend. */
export interface BaselineJob {
  runId: string;
  index: number;
  profileId: string;
  operation: string;
  payload: unknown;
}

export type BaselineKind = 'bullmq' | 'pgboss';

export interface BaselineSpec {
  kind: BaselineKind;
  queue: string;
  /** Items in the job: the worker says "finished" once it has stored a result for each. */
  itemCount: number;
  /** Jobs in flight in the worker process (for BullMQ with per-profile queues: per queue). */
  concurrency: number;
  /** Attempts per job, the first included, and the delay before a retry (pg-boss rounds it up to whole seconds). */
  retry: { attempts: number; delayMs: number; exponential: boolean };
  /**
   * The API's per-profile call rate. Neither library's free version limits by key: BullMQ
   * gets a queue per profile with its limiter set to this rate, pg-boss defers each job to
   * its profile's next slot at this rate and runs one job per profile at a time.
   */
  perProfile?: { ratePerSecond: number; profiles: string[] };
}

/** The queue that holds a profile's jobs when BullMQ limits per profile. */
export function profileQueueName(spec: BaselineSpec, profileId: string): string {
  return `${spec.queue}.${profileId}`;
}
