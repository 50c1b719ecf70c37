// A job's transaction carries a commit marker: an offset of a consumer group of its own,
// sent with the transaction, so it is there exactly when the transaction committed. It
// answers one question, "did a submitter whose commit answer was lost commit?", and only
// until Postgres records the answer (submitted_jobs.submission = committed). After that it
// is dropped: a group per job left behind would pile up by the thousand in every
// consumer-group listing and lag tool. A marker a dead submitter left (it committed, then
// died before recording it) is found by the sweep, which records the commit and drops it.
import type { Admin } from 'kafkajs';
import type { SubmittedJobs } from '../db/submitted-jobs.js';
import type { Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import { commitMarkerGroup, jobCommitted } from './job-transaction.js';

export interface CommitMarkers {
  /** Drops a job's marker once its commit is recorded in Postgres (a failure is left to the sweep). */
  drop(jobId: string): Promise<void>;
  /** Records the commit of every job whose marker is still there, and drops the marker; returns how many. */
  sweep(): Promise<number>;
}

export interface CommitMarkerOptions {
  admin: Admin;
  topics: Topics;
  jobs: Pick<SubmittedJobs, 'markCommitted'>;
  logger: Logger;
}

export function createCommitMarkers({ admin, topics, jobs, logger }: CommitMarkerOptions): CommitMarkers {
  const prefix = commitMarkerGroup(topics, '');
  const drop = async (jobId: string) => {
    try {
      await admin.deleteGroups([commitMarkerGroup(topics, jobId)]);
    } catch (error) {
      logger.debug({ err: error, jobId }, 'commit marker not dropped now; the sweep drops it');
    }
  };
  return {
    drop,
    async sweep() {
      const { groups } = await admin.listGroups();
      let swept = 0;
      for (const { groupId } of groups) {
        if (!groupId.startsWith(prefix)) continue;
        const jobId = groupId.slice(prefix.length);
        // No offset: its transaction never committed (an aborted attempt); nothing to record.
        if (await jobCommitted(admin, topics, jobId)) await jobs.markCommitted(jobId);
        await drop(jobId);
        swept++;
      }
      if (swept > 0) logger.info({ swept }, 'commit markers left by submitters swept');
      return swept;
    },
  };
}
