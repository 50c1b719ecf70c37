// Every job leaves a record on the compacted job-control topic (its state, written with its
// items), and every executor holds all of them in memory: a fleet that runs jobs for
// months would hold every job it ever ran. Once a job has finished, its state is no longer
// needed — its items have all ended, a job that has finished takes no control action, and
// once all its commands lie below the executors' committed offsets no executor reads one
// again (not even after a restart) — so a tombstone removes it: compaction drops the
// record and each executor forgets the job. Each tombstone is produced under the job's control lock and
// with its control transactional id, so it cannot land between a control action's
// decision and its record; a job that runs again meanwhile (a replay) is left alone.
import type { Admin, Kafka } from 'kafkajs';
import type { SubmittedJobs } from '../db/submitted-jobs.js';
import { withTransaction } from '../kafka/transactions.js';
import type { Topics } from '../kafka/topics.js';
import type { JobStatus } from '../projections/job-progress.js';
import type { Logger } from '../telemetry/logger.js';
import { controlTransactionalId } from './job-control.js';

export interface ControlReleaseOptions {
  kafka: Kafka;
  admin: Admin;
  /** The executors' consumer group. */
  executorGroup: string;
  topics: Topics;
  jobs: SubmittedJobs;
  /** The job's projected status once all its items have ended. */
  finishedStatus: (jobId: string) => Promise<JobStatus | undefined>;
  logger: Logger;
}

export interface ControlRelease {
  /** Removes the control state of jobs finished at least `finishedForMs` ago (at most `limit`); returns how many. */
  releaseFinished(finishedForMs: number, limit?: number): Promise<number>;
}

export function createControlRelease({ kafka, admin, executorGroup, topics, jobs, finishedStatus, logger }: ControlReleaseOptions): ControlRelease {
  const committedOffsets = async () => {
    const [offsets] = await admin.fetchOffsets({ groupId: executorGroup, topics: [topics.itemCommands.name] });
    return new Map((offsets?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, Number(p.offset)]));
  };
  return {
    async releaseFinished(finishedForMs, limit = 500) {
      let released = 0;
      for (const { tenantId, jobId } of await jobs.finishedUnreleased(Date.now() - finishedForMs, await committedOffsets(), limit)) {
        const done = await jobs.withControlLock(tenantId, jobId, async () => {
          if (!(await finishedStatus(jobId))) return { result: false }; // running again (a replay)
          await withTransaction(kafka, { transactionalId: controlTransactionalId(jobId) }, (txn) => txn.send({ topic: topics.jobControl.name, messages: [{ key: jobId, value: null }] }));
          return { result: true, released: true };
        });
        if (done) released++;
      }
      if (released > 0) logger.info({ released }, 'control state of finished jobs removed from the control topic');
      return released;
    },
  };
}
