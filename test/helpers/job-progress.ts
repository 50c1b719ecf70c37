// Waits on a job's projected progress, as the tests that follow a job end to end do: the
// deadline holds whatever is read, and a wait that fails says what it saw last.
import type { JobProgress, ProgressReader } from '../../src/projections/job-progress.js';

export async function waitForProgress(read: ProgressReader, tenantId: string, jobId: string, done: (j: JobProgress) => boolean, timeoutMs = 90_000): Promise<JobProgress> {
  const deadline = Date.now() + timeoutMs;
  let last: JobProgress | undefined;
  for (;;) {
    last = await read(tenantId, jobId);
    if (last && done(last)) return last;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
