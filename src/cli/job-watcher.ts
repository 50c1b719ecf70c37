// Follows a job's projected progress with a live bar (percent, rate, ETA, failures) until
// it reaches a final status, and says how it ended. Used by `sluice watch` and the demo.
import cliProgress from 'cli-progress';
import { setTimeout as sleep } from 'node:timers/promises';
import { FINAL_STATUSES, type JobProgress, type ProgressReader } from '../projections/job-progress.js';

const POLL_MS = 500;

/** The process exit code a job's final status maps to: 0 all succeeded, 1 some did not, 2 cancelled. */
export function exitCodeOf(progress: JobProgress): number {
  if (progress.status === 'completed') return 0;
  return progress.status === 'cancelled' ? 2 : 1;
}

export async function watchJob(read: ProgressReader, tenantId: string, jobId: string, options: { timeoutMs?: number } = {}): Promise<JobProgress> {
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  let progress = await read(tenantId, jobId);
  while (!progress) {
    if (Date.now() > deadline) throw new Error(`job ${jobId} was not found for tenant ${tenantId}`);
    await sleep(POLL_MS); // a job just submitted appears once the projector has seen it
    progress = await read(tenantId, jobId);
  }
  const bar = new cliProgress.SingleBar(
    { format: ' {status} [{bar}] {percentage}% | {value}/{total} items | {rate} items/s | ETA {eta_text} | {failures} failed', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(progress.totalItems, progress.done, fields(progress));
  while (!FINAL_STATUSES.includes(progress.status)) {
    if (Date.now() > deadline) break;
    await sleep(POLL_MS);
    progress = (await read(tenantId, jobId)) ?? progress;
    bar.setTotal(progress.totalItems);
    bar.update(progress.done, fields(progress));
  }
  bar.stop();
  return progress;
}

function fields(p: JobProgress) {
  return {
    status: p.status.padEnd(21),
    rate: p.throughputPerS,
    eta_text: p.etaSeconds === null ? '-' : `${p.etaSeconds}s`,
    failures: p.counts.failed + p.counts.deadLettered,
  };
}

export function summaryLines(p: JobProgress): string[] {
  const c = p.counts;
  return [
    `job ${p.jobId}: ${p.status}`,
    `  ${p.totalItems} items: ${c.succeeded} succeeded, ${c.deadLettered} dead-lettered, ${c.failed} failed, ${c.cancelled} cancelled, ${c.skipped} skipped, ${c.superseded} superseded${c.expired > 0 ? `, ${c.expired} EXPIRED (their commands were gone from Kafka)` : ''}${c.conflict > 0 ? `, ${c.conflict} in conflict (changed since submitted: not written)` : ''}`,
    `  submitted ${p.submittedAt}, finished ${p.finishedAt ?? '-'}${p.revertOf ? `; reverts job ${p.revertOf}` : ''}`,
    ...(p.verification.verified + p.verification.drifted + p.verification.unreadable > 0
      ? [`  verified: ${p.verification.verified} hold what was written, ${p.verification.drifted} DRIFTED (not applied, or changed since)${p.verification.unreadable > 0 ? `, ${p.verification.unreadable} could not be read` : ''}`]
      : []),
    ...(p.canary ? [`  canary of ${p.canary.items} items (at most ${p.canary.maxFailureRate * 100}% may fail): ${p.canary.phase}`] : []),
    ...(p.pause?.reason ? [`  paused by ${p.pause.by ?? 'someone'}: ${p.pause.reason}`] : []),
    ...(p.pausedSince ? [`  paused since ${p.pausedSince}${p.pauseOverdue ? ': OVERDUE, resume or cancel it before item-commands retention removes its commands' : ''}`] : []),
  ];
}
