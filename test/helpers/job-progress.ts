// Following a job end to end: waiting on its projected progress (the deadline holds
// whatever is read, and a wait that fails says what it saw last), and a pipeline with the
// projector and the job guard running.
import { openProjectorRuntime, type ProjectorRuntime } from '../../src/app/projector-runtime.js';
import type { JobProgress, ProgressReader } from '../../src/projections/job-progress.js';
import { openTestPipeline, type TestPipeline } from './pipeline.js';
import { testLogger } from './services.js';

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

/**
 * A test pipeline with a projector and the api's job guard running (every 250 ms), as the
 * canary and auto-pause tests need: `close` stops all three.
 */
export async function openGuardedPipeline(opts: Parameters<typeof openTestPipeline>[0]): Promise<{ p: TestPipeline; projector: ProjectorRuntime; close(): Promise<void> }> {
  const p = await openTestPipeline(opts);
  const projector = await openProjectorRuntime(p.config, testLogger());
  p.producer.guard.start(250);
  return {
    p,
    projector,
    async close() {
      await p.producer.guard.stop();
      await projector.close();
      await p.close();
    },
  };
}
