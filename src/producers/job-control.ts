// Pause, resume and cancel: the job's control event on sluice.job-events and its new state
// on the compacted sluice.job-control, produced in one transaction while the job's row is
// locked, so concurrent actions are applied one at a time with increasing versions.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { SubmittedJobs } from '../db/submitted-jobs.js';
import { controlEventBody, type ControlState } from '../domain/events.js';
import { decideControl, type ControlAction } from '../domain/job-control.js';
import type { Serde } from '../kafka/serde.js';
import { withTransaction } from '../kafka/transactions.js';
import type { Topics } from '../kafka/topics.js';

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
}

export function createJobControl({ kafka, serde, topics, jobs }: JobControlOptions) {
  return {
    async control(req: ControlRequest): Promise<ControlResult> {
      const result = await jobs.withControlLock<ControlResult>(req.tenantId, req.jobId, async (job) => {
        const decision = decideControl(job.controlState, req.action);
        if (!decision.ok) return { result: { type: 'refused', state: job.controlState, reason: decision.reason } };
        const version = job.controlVersion + 1;
        const now = Date.now();
        const action = { by: req.by ?? null, reason: req.reason ?? null };
        await withTransaction(kafka, { transactionalId: `sluice-control-${req.jobId}` }, async (txn) => {
          await txn.send({
            topic: topics.jobEvents.name,
            messages: [{ key: req.jobId, value: serde.encode('jobEvents', { eventId: randomUUID(), jobId: req.jobId, tenantId: req.tenantId, occurredAt: now, event: controlEventBody(decision.event, action) }) }],
          });
          await txn.send({
            topic: topics.jobControl.name,
            messages: [{ key: req.jobId, value: serde.encode('jobControl', { jobId: req.jobId, tenantId: req.tenantId, state: decision.next, version, updatedAt: now }) }],
          });
        });
        return { result: { type: 'applied', state: decision.next, version }, update: { state: decision.next, version } };
      });
      return result ?? { type: 'not-found' };
    },
  };
}

export type JobControl = ReturnType<typeof createJobControl>;
