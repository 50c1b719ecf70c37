// Revert: a new job, linked to the original (`revertOf`), that puts back each succeeded
// item's before-image, guarded by `expect` = the value the original job set. An entity
// someone changed since is therefore reported `conflict` and keeps that person's value;
// items that never succeeded are left alone. The revert is an ordinary job (validated,
// produced in one transaction, run on the limiters, itself capturing before-images), so
// a revert of a revert restores the original job's values. Its idempotency key is the
// original job and filter: asking twice gives the same revert job.
import { createHash } from 'node:crypto';
import type { Pool } from '../db/pool.js';
import { ownsJob } from '../projections/job-queries.js';
import { countWrittenItems, writtenItems, type WrittenItemFilter } from '../projections/written-items.js';
import type { SourceItem } from './item-sources.js';
import type { JobSubmitter, SubmitResult } from './job-submitter.js';

export interface RevertRequest {
  tenantId: string;
  jobId: string;
  filter?: WrittenItemFilter;
  requestedBy?: string;
  /** Count what would be reverted; submit nothing. */
  dryRun?: boolean;
}

export type RevertAnswer =
  | { type: 'not_found'; jobId: string }
  /** Nothing of the job can be reverted: nothing succeeded, or nothing captured a before-image. */
  | { type: 'nothing'; jobId: string; reason: string }
  | { type: 'planned'; jobId: string; items: number; withoutBeforeImage: number }
  | { type: 'submitted'; revertOf: string; items: number; withoutBeforeImage: number; result: SubmitResult };

export interface JobReverter {
  revert(request: RevertRequest): Promise<RevertAnswer>;
}

export function createJobReverter(o: { pool: Pool; submitter: JobSubmitter }): JobReverter {
  async function* restoring(tenantId: string, jobId: string, filter: WrittenItemFilter): AsyncGenerator<SourceItem> {
    let index = 0;
    for await (const item of writtenItems(o.pool, tenantId, jobId, filter)) {
      if (item.previous === null) continue;
      const value = { profileId: item.profileId, operation: item.operation, payload: { ...item.payload, ...item.previous }, expect: item.applied };
      yield { index: index++, value, bytes: JSON.stringify(value).length };
    }
  }

  return {
    async revert({ tenantId, jobId, filter = {}, requestedBy, dryRun }) {
      if (!(await ownsJob(o.pool, tenantId, jobId))) return { type: 'not_found', jobId };
      const written = await countWrittenItems(o.pool, tenantId, jobId, filter);
      const planned = { items: written.items - written.withoutBeforeImage, withoutBeforeImage: written.withoutBeforeImage };
      if (planned.items === 0) {
        const reason = planned.withoutBeforeImage > 0 ? `none of its ${planned.withoutBeforeImage} succeeded items captured a before-image` : 'none of its items succeeded';
        return { type: 'nothing', jobId, reason };
      }
      if (dryRun) return { type: 'planned', jobId, ...planned };
      const idempotencyKey = `revert:${jobId}:${createHash('sha256').update(JSON.stringify(filter)).digest('hex').slice(0, 16)}`;
      const result = await o.submitter.submitJob({ tenantId, revertOf: jobId, idempotencyKey, ...(requestedBy ? { submittedBy: requestedBy } : {}) }, restoring(tenantId, jobId, filter));
      return { type: 'submitted', revertOf: jobId, ...planned, result };
    },
  };
}
