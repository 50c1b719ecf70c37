// Pause, resume and cancel: the job's control event on sluice.job-events and its new state
// on the compacted sluice.job-control, produced in one transaction while the job's row is
// locked, so concurrent actions are applied one at a time with increasing versions.
// A cancel is final (issue 16 point 4): Kafka commits before Postgres does, so each action
// is written ahead (an intent, committed first) and an action found still pending — one
// that may have reached Kafka when its process died before Postgres stored it — is
// finished before the next one is decided. No ordering of crashes brings a cancelled job
// back. A job whose items have all ended takes no control action at all.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { ControlIntent, SubmittedJobs } from '../db/submitted-jobs.js';
import { controlEventBody, type ControlState } from '../domain/events.js';
import { decideControl, type ControlAction } from '../domain/job-control.js';
import type { Serde } from '../kafka/serde.js';
import { withTransaction } from '../kafka/transactions.js';
import type { Topics } from '../kafka/topics.js';
import type { JobStatus } from '../projections/job-progress.js';

export interface ControlRequest {
  tenantId: string;
  jobId: string;
  action: ControlAction;
  by?: string;
  reason?: string;
}

export type ControlResult =
  | { type: 'applied'; state: ControlState; version: number }
  | { type: 'refused'; state: ControlState; reason: string }
  | { type: 'not-found' };

export interface JobControlOptions {
  kafka: Kafka;
  serde: Serde;
  topics: Topics;
  jobs: SubmittedJobs;
  /** The job's projected status once all its items have ended. */
  finishedStatus: (jobId: string) => Promise<JobStatus | undefined>;
}

/** The transactional id of a job's control records: one writer at a time per job. */
export const controlTransactionalId = (jobId: string) => `sluice-control-${jobId}`;

export function createJobControl({ kafka, serde, topics, jobs, finishedStatus }: JobControlOptions) {
  /** The action's event and state, in one transaction (repeating one is harmless: same state, same version). */
  const produce = (intent: ControlIntent) =>
    withTransaction(kafka, { transactionalId: controlTransactionalId(intent.jobId) }, async (txn) => {
      const now = Date.now();
      const action = { by: intent.requestedBy, reason: intent.reason };
      await txn.send({
        topic: topics.jobEvents.name,
        messages: [{ key: intent.jobId, value: serde.encode('jobEvents', { eventId: randomUUID(), jobId: intent.jobId, tenantId: intent.tenantId, occurredAt: now, event: controlEventBody(intent.event, action) }) }],
      });
      await txn.send({
        topic: topics.jobControl.name,
        messages: [{ key: intent.jobId, value: serde.encode('jobControl', { jobId: intent.jobId, tenantId: intent.tenantId, state: intent.state, version: intent.version, updatedAt: now }) }],
      });
    });

  return {
    async control(req: ControlRequest): Promise<ControlResult> {
      const result = await jobs.withControlLock<ControlResult>(req.tenantId, req.jobId, async (job) => {
        let current = { state: job.controlState, version: job.controlVersion };
        const pending = await jobs.pendingIntent(req.jobId);
        const rolledForward = pending !== undefined && pending.version > current.version;
        if (rolledForward) {
          await produce(pending);
          current = { state: pending.state, version: pending.version };
        }
        const keep = rolledForward ? current : undefined;
        const decision = decideControl(current.state, req.action);
        if (!decision.ok) return { result: { type: 'refused', state: current.state, reason: decision.reason }, update: keep };
        const finished = await finishedStatus(req.jobId);
        if (finished) return { result: { type: 'refused', state: current.state, reason: `cannot ${req.action} a job that has finished (${finished.replaceAll('_', ' ')})` }, update: keep };
        const intent: ControlIntent = { jobId: req.jobId, tenantId: req.tenantId, state: decision.next, version: current.version + 1, event: decision.event, requestedBy: req.by ?? null, reason: req.reason ?? null };
        await jobs.recordIntent(intent);
        await produce(intent);
        return { result: { type: 'applied', state: intent.state, version: intent.version }, update: { state: intent.state, version: intent.version } };
      });
      return result ?? { type: 'not-found' };
    },
  };
}

export type JobControl = ReturnType<typeof createJobControl>;
