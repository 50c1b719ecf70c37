// Submitting a bulk job (issue 4, guarantee 1): every item is validated first (nothing of
// a rejected job is produced), the job is produced in one Kafka transaction, and an
// Idempotency-Key returns the same job on a repeat, also across restarts and crashes.
// The one producer module behind HTTP, the CLI and the library call.
import { createHash, randomUUID } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import type { SubmittedJobs } from '../db/submitted-jobs.js';
import { autoPauseOption, type AutoPauseSettings } from '../domain/auto-pause.js';
import { canaryQuotas, canaryRequest, canarySize, type CanaryOption, type CanaryRequest } from '../domain/canary.js';
import { labelProblems } from '../domain/job-labels.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { findUnstorable } from '../domain/storable-text.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import { endSpan, startSpan, traceIdOf, traceparentOf } from '../telemetry/tracing.js';
import type { SourceItem } from './item-sources.js';
import { createItemSpool } from './item-spool.js';
import { ErrorCollector, validateItem, type ItemError, type SubmissionLimits } from './item-validation.js';
import type { SpooledRecord } from './item-spool.js';
import type { CommitMarkers } from './commit-markers.js';
import type { TenantProfiles } from './profile-ownership.js';
import { inCanarySlice, itemCommand, jobCommitted, produceJob, settledCommit, underJobId } from './job-transaction.js';

export interface JobRequest {
  tenantId: string;
  /** The operation of every item that does not name its own. */
  operation?: string;
  labels?: Record<string, string>;
  idempotencyKey?: string;
  submittedBy?: string;
  /** The caller's W3C trace context: the submission's span is its child. */
  traceparent?: string;
  /** Whether items read their entities' before-images (default true: the job can be reverted). */
  captureBefore?: boolean;
  /** The job this one reverts (set by the revert planner). */
  revertOf?: string;
  /** When Sluice pauses the job on its own (fields not given take their defaults; on by default). */
  autoPause?: Partial<AutoPauseSettings>;
  /** Run a first slice, then go on or pause by its failures. */
  canary?: CanaryRequest;
  /** Read every succeeded item back once the job has finished. */
  verifyAtEnd?: boolean;
}

export type SubmitResult =
  | { type: 'accepted'; jobId: string; itemCount: number; profileCount: number; traceId: string | null }
  | { type: 'duplicate'; jobId: string; itemCount: number }
  | { type: 'rejected'; errors: ItemError[]; errorCount: number }
  /** The key is in use: for different content, by a submission still under way, or by another submitter that took its job over. */
  | { type: 'conflict'; jobId: string; conflict: IdempotencyConflict; reason: string };

/** Why an Idempotency-Key cannot be used for this submission. */
export type IdempotencyConflict = 'different_job' | 'under_way' | 'taken_over';

export interface JobSubmitterOptions {
  kafka: Kafka;
  admin: Admin;
  serde: Serde;
  topics: Topics;
  catalogue: OperationCatalogue;
  jobs: SubmittedJobs;
  /** Each job's commit marker, dropped once Postgres records the commit. */
  markers: CommitMarkers;
  /** Which profiles a tenant may submit items for. */
  tenantProfiles: (tenantId: string) => Promise<TenantProfiles>;
  limits: SubmissionLimits;
  produceBatchSize: number;
  transactionTimeoutMs: number;
  logger: Logger;
  spoolDir?: string;
}

/** Items validated so far, or items produced so far out of `total`. */
export type SubmitProgress = (phase: 'validating' | 'producing', count: number, total?: number) => void;

export interface JobSubmitter {
  submitJob(request: JobRequest, items: AsyncIterable<SourceItem>, onProgress?: SubmitProgress): Promise<SubmitResult>;
}

/** What is wrong with a request's job-level fields (labels, operation, key, submitter), field by field. */
export function jobRequestProblems(request: JobRequest): { field: string; reason: string }[] {
  const problems = labelProblems(request.labels ?? {});
  const text = { labels: request.labels, operation: request.operation, idempotencyKey: request.idempotencyKey, submittedBy: request.submittedBy, tenantId: request.tenantId };
  const unstorable = findUnstorable(text, '');
  if (unstorable) problems.push(unstorable);
  const autoPause = autoPauseOption.safeParse(request.autoPause ?? {});
  if (!autoPause.success) problems.push(...autoPause.error.issues.map((i) => ({ field: ['autoPause', ...i.path].join('.'), reason: i.message })));
  const canary = request.canary === undefined ? undefined : canaryRequest.safeParse(request.canary);
  if (canary && !canary.success) problems.push(...canary.error.issues.map((i) => ({ field: ['canary', ...i.path].join('.'), reason: i.message })));
  return problems;
}

export function createJobSubmitter(options: JobSubmitterOptions): JobSubmitter {
  const { jobs, limits, logger } = options;
  // Postgres holds the answer from here on: the marker is dropped.
  const recordCommit = async (jobId: string) => {
    await jobs.markCommitted(jobId);
    await options.markers.drop(jobId);
  };
  // A pending reservation older than this belongs to a submitter that died: by then the
  // broker has committed or aborted its transaction.
  const staleAfterMs = options.transactionTimeoutMs + Math.max(5_000, options.transactionTimeoutMs / 10);

  return {
    async submitJob(request, items, onProgress) {
      const started = Date.now();
      const span = startSpan('sluice.submit', request.traceparent, { 'sluice.tenant': request.tenantId });
      const spool = await createItemSpool(options.spoolDir);
      let failure: unknown;
      try {
        const errors = new ErrorCollector(limits.maxErrorsListed);
        // The job's own fields first: a job refused for its labels reads none of its items.
        errors.add(jobRequestProblems(request).map((p) => ({ index: -1, ...p })));
        if (errors.count > 0) return { type: 'rejected', errors: errors.errors, errorCount: errors.count };
        const owned = await options.tenantProfiles(request.tenantId);
        if (owned.type === 'refused') return { type: 'rejected', errors: [{ index: -1, field: 'tenantId', reason: owned.reason }], errorCount: 1 };
        const captureBefore = request.captureBefore ?? true;
        const autoPause = autoPauseOption.parse(request.autoPause ?? {});
        const canaryAsked = request.canary === undefined ? undefined : canaryRequest.parse(request.canary);
        const hash = createHash('sha256').update(JSON.stringify([request.operation ?? null, request.labels ?? {}, captureBefore, request.revertOf ?? null, autoPause, canaryAsked ?? null, request.verifyAtEnd ?? false]));
        const profiles = new Map<string, number>(); // items per profile
        // Items are encoded as they are validated, under a fresh job id (see takeover below).
        let jobId: string = randomUUID();
        const requestedAt = Date.now();
        let itemCount = 0;
        for await (const source of items) {
          itemCount++;
          if (itemCount > limits.maxItems) {
            errors.add([{ index: source.index, field: 'items', reason: `a job has at most ${limits.maxItems} items` }]);
            break;
          }
          const checked = validateItem(source, request.operation, options.catalogue, limits);
          if (!checked.ok) {
            errors.add(checked.errors);
            continue;
          }
          const notOwned = owned.refusal(checked.item.profileId);
          if (notOwned) {
            errors.add([{ index: source.index, field: 'profileId', reason: notOwned }]);
            continue;
          }
          if (errors.count === 0) {
            const command = itemCommand({ jobId, tenantId: request.tenantId, captureBefore }, source.index, checked.item, requestedAt);
            const writing = spool.append({ key: command.profileId, value: options.serde.encode('itemCommands', command), index: source.index });
            if (writing) await writing;
            hash.update(`${command.profileId}\u0000${command.operation}\u0000${command.payload}\u0000${command.expect ?? ''}\n`);
            profiles.set(checked.item.profileId, (profiles.get(checked.item.profileId) ?? 0) + 1);
          }
          if (itemCount % 10_000 === 0) onProgress?.('validating', itemCount);
          // Items already in memory come without a pause: let other requests in every so often.
          if (itemCount % 1_000 === 0) await setImmediate();
        }
        if (itemCount === 0) errors.add([{ index: -1, field: 'items', reason: 'a job needs at least one item' }]);
        if (errors.count > 0) return { type: 'rejected', errors: errors.errors, errorCount: errors.count };
        await spool.seal();

        const requestHash = hash.digest('hex');
        const canary: CanaryOption | null = canaryAsked ? { items: canarySize(canaryAsked, itemCount), maxFailureRate: canaryAsked.maxFailureRate } : null;
        const slice = (chunks: AsyncIterable<SpooledRecord[]>) => (canary ? inCanarySlice(chunks, options.serde, canaryQuotas(profiles, canary.items)) : chunks);
        let records = slice(spool.records());
        const reservation = await jobs.reserve({ jobId, tenantId: request.tenantId, idempotencyKey: request.idempotencyKey ?? null, requestHash, itemCount, canary: canary !== null });
        let attemptId = reservation.type === 'reserved' ? reservation.attemptId : '';
        if (reservation.type === 'exists') {
          const existing = reservation.job;
          if (existing.requestHash !== requestHash) return { type: 'conflict', jobId: existing.jobId, conflict: 'different_job', reason: 'this Idempotency-Key was used for a different job' };
          if (existing.submission === 'committed') return { type: 'duplicate', jobId: existing.jobId, itemCount: existing.itemCount };
          if (Date.now() - existing.createdAt.getTime() < staleAfterMs) return { type: 'conflict', jobId: existing.jobId, conflict: 'under_way', reason: 'a submission with this Idempotency-Key is still under way' };
          if (await jobCommitted(options.admin, options.topics, existing.jobId)) {
            await recordCommit(existing.jobId);
            return { type: 'duplicate', jobId: existing.jobId, itemCount: existing.itemCount };
          }
          const takeover = await jobs.takeOver(existing.jobId, staleAfterMs);
          if (!takeover) return { type: 'conflict', jobId: existing.jobId, conflict: 'taken_over', reason: 'another submitter took this job over' };
          attemptId = takeover.attemptId;
          logger.warn({ jobId: existing.jobId, tenantId: request.tenantId }, 'resubmitting a job whose submitter died before committing');
          jobId = existing.jobId;
          records = slice(underJobId(spool.records(), options.serde, jobId));
        }

        const profileCount = profiles.size;
        span.setAttributes({ 'sluice.job_id': jobId, 'sluice.items': itemCount, 'sluice.profiles': profileCount });
        const traceparent = traceparentOf(span);
        logger.info({ jobId, tenantId: request.tenantId, items: itemCount, profiles: profileCount }, 'producing job');
        try {
          await produceJob(
            {
              kafka: options.kafka,
              serde: options.serde,
              topics: options.topics,
              batchSize: options.produceBatchSize,
              transactionTimeoutMs: options.transactionTimeoutMs,
              onProgress: (produced) => {
                logger.debug({ jobId, produced }, 'producing items');
                onProgress?.('producing', produced, itemCount);
              },
            },
            { jobId, tenantId: request.tenantId, operation: request.operation ?? null, labels: request.labels ?? {}, submittedBy: request.submittedBy ?? null, idempotencyKey: request.idempotencyKey ?? null, itemCount, profileItems: profiles, traceparent, revertOf: request.revertOf ?? null, captureBefore, autoPause, canary, verifyAtEnd: request.verifyAtEnd ?? false },
            records,
          );
        } catch (error) {
          // The api's marker sweep may have recorded this attempt's commit first (its answer
          // lost here) and dropped the marker: then the job stands, whatever Kafka says now.
          const recordedBySweep = () => jobs.committedAttempt(jobId, attemptId).catch(() => false);
          // Taken over (or about to be): the taker owns the outcome now; touch nothing of it.
          if (!(await jobs.stillHolds(jobId, attemptId, staleAfterMs).catch(() => false)) && !(await recordedBySweep())) throw error;
          // The commit's answer may be what was lost: ask Kafka before letting the key go.
          const committed = await settledCommit(options.kafka, options.admin, options.topics, jobId, options.transactionTimeoutMs)
            .then(async (marked) => marked || (await recordedBySweep()))
            .catch((checkError: unknown) => {
              logger.warn({ err: checkError, jobId }, 'could not tell whether the failed submission committed; its reservation is kept for a repeat to settle');
              return undefined;
            });
          if (committed === true) {
            logger.warn({ err: error, jobId, tenantId: request.tenantId }, 'the submission failed after its transaction committed; the job stands');
            await recordCommit(jobId);
            return { type: 'accepted', jobId, itemCount, profileCount, traceId: traceIdOf(traceparent) };
          }
          if (committed === false) await jobs.release(jobId, attemptId);
          throw error;
        }
        await recordCommit(jobId);
        logger.info({ jobId, tenantId: request.tenantId, items: itemCount, profiles: profileCount, durationMs: Date.now() - started }, 'job submitted');
        return { type: 'accepted', jobId, itemCount, profileCount, traceId: traceIdOf(traceparent) };
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        endSpan(span, failure);
        await spool.remove();
      }
    },
  };
}
