// Memory that is given back (issue 15 point 3): every job leaves its state on the compacted
// job-control topic and every executor holds all of it, so a fleet running jobs for months
// would hold every job it ever ran. A finished job's state is removed with a tombstone —
// but only once every command of the job lies below the executors' committed offset of its
// partition, since an executor that reads one again (after a restart) must still know the
// job was cancelled. Before, the state of every job stayed on the topic and in every
// executor for good.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { openJobControlView } from '../../../src/consumers/job-control-view.js';
import type { ControlAction } from '../../../src/domain/job-control.js';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { startTestExecutor } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { testLogger } from '../../helpers/services.js';

const profile = (i: number) => generatedProfileId('NA', i);
let p: TestPipeline;
let projector: ProjectorRuntime;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 3 }, entitiesPerProfile: { keywords: 20, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 50, burst: 10 }, latency: { p50Ms: 2, p99Ms: 10 } },
    env: { SLUICE_ITEM_PARTITIONS: '1', SLUICE_PROFILE_RATE: '20', SLUICE_PROFILE_BURST: '5' },
    startExecutor: false,
  });
  projector = await openProjectorRuntime(p.config, testLogger());
}, 120_000);
afterAll(async () => {
  await projector?.close();
  await p?.close();
});

async function control(jobId: string, action: ControlAction): Promise<void> {
  expect((await p.producer.control.control({ tenantId: 't1', jobId, action })).type).toBe('applied');
}

async function finished(jobId: string): Promise<void> {
  for (const deadline = Date.now() + 60_000; !(await p.producer.queries.finishedStatus(jobId)); ) {
    if (Date.now() > deadline) throw new Error(`job ${jobId} not finished in the projection`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** How many jobs an executor starting now would hold, read from the control topic. */
async function heldByANewExecutor(): Promise<number> {
  const view = await openJobControlView({ kafka: p.reader.kafka, admin: p.reader.admin, serde: p.reader.serde, topics: p.producer.topics, logger: testLogger(), groupPrefix: 'control-release-test' });
  const size = view.size;
  await view.close();
  return size;
}

it("removes a finished job's control state once its commands are behind every executor, and only then", async () => {
  // On one partition: C, paused, holds the committed offset below the commands of A and B.
  const paused = await p.submit(keywordUpdates(profile(0), 20, () => 1.1));
  await control(paused, 'pause');
  const done = await p.submit(keywordUpdates(profile(1), 20, () => 1.2));
  const cancelled = await p.submit(keywordUpdates(profile(2), 20, () => 1.3));
  await control(cancelled, 'cancel');
  p.executor = await startTestExecutor(p.config);
  await finished(done);
  await finished(cancelled);
  await new Promise((r) => setTimeout(r, 500)); // the executor's next commits

  // Finished, but an executor restarting now would read their commands again (C's left lane lies below them).
  expect(await p.producer.controlRelease.releaseFinished(0)).toBe(0);
  expect(await heldByANewExecutor()).toBe(3);

  await control(paused, 'resume');
  await finished(paused);
  let released = 0;
  for (const deadline = Date.now() + 30_000; (released += await p.producer.controlRelease.releaseFinished(0)) < 3; ) {
    if (Date.now() > deadline) throw new Error('the finished jobs were not released once behind the committed offset');
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(await p.producer.controlRelease.releaseFinished(0)).toBe(0); // once
  expect(await heldByANewExecutor()).toBe(0);
  // The running executor let them go too.
  for (const deadline = Date.now() + 10_000; ; ) {
    const text = await (await fetch(p.executor.metricsUrl)).text();
    if (/^sluice_executor_control_jobs 0$/m.test(text)) break;
    if (Date.now() > deadline) throw new Error(`the executor still holds control state: ${/^sluice_executor_control_jobs .*$/m.exec(text)?.[0]}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // A cancelled job stays cancelled for the API (its row), though its record is gone.
  expect(await p.producer.control.control({ tenantId: 't1', jobId: cancelled, action: 'resume' })).toMatchObject({ type: 'refused' });
}, 180_000);
