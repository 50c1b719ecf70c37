// The executor's view of every job's control state, read whole from the compacted
// `job-control` topic before the executor takes any item, then followed live. Each
// executor reads all of it (a group of its own that commits nothing), because any job's
// items can be on any of its partitions. A job not seen yet is running: its control
// record is committed in the same transaction as its items, so it can only be late here,
// never missing.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { ControlState, JobControlState } from '../domain/events.js';
import { committedEnds, ReadPositions } from '../kafka/read-positions.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';

export interface JobControlView {
  /** The job's control state; `whenUnknown` (RUNNING by default) for a job it has no record of. */
  stateOf(jobId: string, whenUnknown?: ControlState): ControlState;
  /** Called after any job's state changes. */
  onChange(listener: (jobId: string) => void): void;
  /** Jobs whose state is held (a finished job's is removed by a tombstone). */
  readonly size: number;
  close(): Promise<void>;
}

export async function openJobControlView(deps: { kafka: Kafka; admin: Admin; serde: Serde; topics: Topics; logger: Logger; groupPrefix: string }): Promise<JobControlView> {
  const { kafka, admin, serde, topics, logger } = deps;
  const topic = topics.jobControl.name;
  const states = new Map<string, JobControlState>();
  const changes = new EventEmitter();
  const consumer: Consumer = kafka.consumer({ groupId: `${deps.groupPrefix}.control.${randomUUID()}`, maxWaitTimeInMs: 1_000 });
  const positions = new ReadPositions(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (!message.value) {
        // A tombstone: the job has finished and its state was released (control-release).
        if (message.key && states.delete(message.key.toString())) changes.emit('change', message.key.toString());
        return;
      }
      try {
        const next = await serde.decode('jobControl', message.value);
        const known = states.get(next.jobId);
        // A cancel is final: nothing after it (a stale producer's pause) brings the job back.
        if (known && (known.version > next.version || known.state === 'CANCELLED')) return;
        states.set(next.jobId, next);
        changes.emit('change', next.jobId);
      } catch (error) {
        logger.error({ err: error, partition, offset: message.offset }, 'undecodable job-control record skipped');
      }
    },
  });
  await caughtUp(admin, topic, positions);
  logger.info({ jobs: states.size }, 'job control state read');
  return {
    get size() {
      return states.size;
    },
    stateOf: (jobId, whenUnknown = 'RUNNING') => states.get(jobId)?.state ?? whenUnknown,
    onChange: (listener) => void changes.on('change', listener),
    close: () => consumer.disconnect(),
  };
}

/** Waits until every partition has been read up to the offset it had committed when this began. */
async function caughtUp(admin: Admin, topic: string, positions: ReadPositions, timeoutMs = 60_000): Promise<void> {
  const ends = await committedEnds(admin, [topic]);
  const deadline = Date.now() + timeoutMs;
  while (positions.behind(ends) > 0) {
    if (Date.now() > deadline) throw new Error(`job-control: not caught up after ${timeoutMs} ms (${positions.behind(ends)} partitions behind)`);
    await sleep(50);
  }
}
