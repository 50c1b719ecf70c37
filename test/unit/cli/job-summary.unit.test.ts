import { describe, expect, it } from 'vitest';
import { summaryLines } from '../../../src/cli/job-watcher.js';
import type { JobProgress } from '../../../src/projections/job-progress.js';

const counts = { pending: 0, retrying: 0, succeeded: 0, failed: 0, deadLettered: 0, cancelled: 0, skipped: 0, superseded: 0, expired: 0, conflict: 0 };
const job = (over: Partial<JobProgress>): JobProgress => ({
  jobId: 'j1', tenantId: 't1', status: 'running', operation: 'keyword.setBid', labels: {}, totalItems: 10, counts, verification: { verified: 0, drifted: 0, unreadable: 0 }, revertOf: null, captureBefore: true, done: 0, percent: 0,
  throughputPerS: 0, etaSeconds: null, slowestProfile: null, submittedAt: '2026-12-01T00:00:00.000Z', firstActivityAt: null,
  lastActivityAt: null, finishedAt: null, pausedSince: null, pause: null, canary: null, pauseOverdue: false, projectedAt: null, ...over,
});

describe("a job's summary in the CLI", () => {
  it('names expired items and says nothing of them when there are none', () => {
    expect(summaryLines(job({}))[1]).not.toMatch(/EXPIRED/);
    expect(summaryLines(job({ status: 'completed_with_errors', counts: { ...counts, succeeded: 6, expired: 4 } }))[1]).toMatch(/6 succeeded.*4 EXPIRED/);
  });

  it('names conflicts, drift and the job a revert reverts, and nothing of them when there are none', () => {
    expect(summaryLines(job({})).join('\n')).not.toMatch(/conflict|DRIFTED|reverts/);
    const lines = summaryLines(job({ status: 'completed_with_errors', revertOf: 'j0', counts: { ...counts, succeeded: 7, conflict: 3 }, verification: { verified: 5, drifted: 2, unreadable: 1 } }));
    expect(lines[1]).toMatch(/7 succeeded.*3 in conflict/);
    expect(lines[2]).toMatch(/reverts job j0$/);
    expect(lines[3]).toBe('  verified: 5 hold what was written, 2 DRIFTED (not applied, or changed since), 1 could not be read');
  });

  it('says since when a job is paused, and when the pause is overdue', () => {
    expect(summaryLines(job({}))).toHaveLength(3);
    expect(summaryLines(job({ status: 'paused', pausedSince: '2026-12-01T01:00:00.000Z' })).at(-1)).toBe('  paused since 2026-12-01T01:00:00.000Z');
    expect(summaryLines(job({ status: 'paused', pausedSince: '2026-12-01T01:00:00.000Z', pauseOverdue: true })).at(-1)).toMatch(/OVERDUE, resume or cancel it/);
  });
});
