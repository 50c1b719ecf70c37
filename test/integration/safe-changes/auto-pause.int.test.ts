// Automatic pause end to end (real broker, registry, Postgres, the simulator over HTTP):
// a fault switched on mid-job (a person archives the campaign the job's keywords belong
// to: every later update fails permanently, PARENT_ENTITY_ARCHIVED) trips the job's
// auto-pause: Sluice pauses it, says why, and writes nothing more of it until it is
// resumed; a profile that stays throttled (sticky 429) for seconds does not trip it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import type { JobProgress } from '../../../src/projections/job-progress.js';
import { generatedProfileId, type Campaign, type Keyword } from '../../../src/simulator/entities.js';
import { submitJob } from '../../../src/index.js';
import { keywordUpdates, type TestPipeline } from '../../helpers/pipeline.js';
import { openGuardedPipeline, waitForProgress } from '../../helpers/job-progress.js';

const [BROKEN, THROTTLED] = [0, 1].map((i) => generatedProfileId('NA', i)) as [string, string];
const ITEMS = 2_000;

let p: TestPipeline;
let projector: ProjectorRuntime;
let pipeline: Awaited<ReturnType<typeof openGuardedPipeline>> | undefined;

beforeAll(async () => {
  pipeline = await openGuardedPipeline({
    simulator: {
      generate: { profilesPerRegion: 0 },
      profiles: [BROKEN, THROTTLED].map((profileId) => ({ profileId, region: 'NA' as const, keywords: ITEMS, campaigns: 1, targets: 0 })),
      // 20 calls/s of 10 items: the job takes ~10 s unless something stops it.
      rateLimit: { ratePerSecond: 20, burst: 5 },
    },
    env: { SLUICE_MAX_BATCH_SIZE: '10', SLUICE_PROFILE_RATE: '20' },
  });
  ({ p, projector } = pipeline);
}, 120_000);

afterAll(() => pipeline?.close());

const waitFor = (jobId: string, done: (j: JobProgress) => boolean, timeoutMs?: number) => waitForProgress(p.producer.queries.progress, 't1', jobId, done, timeoutMs);

const writesOf = async (profileId: string) => (await p.sim.admin.updates({ profileId })).length;

it('pauses a job by itself once its items start failing permanently mid-job, and writes nothing more of it', async () => {
  const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid', autoPause: { failureRate: 0.5, minItems: 20, window: 50 } }, keywordUpdates(BROKEN, ITEMS, () => 3.21));
  if (submitted.type !== 'accepted') throw new Error(JSON.stringify(submitted));
  const jobId = submitted.jobId;
  await waitFor(jobId, (j) => j.counts.succeeded >= 300);
  // The fault: someone archives the campaign; every later keyword update fails for good.
  const [campaign] = await p.sim.admin.entities<Campaign>(BROKEN, 'campaigns');
  await p.sim.admin.editEntity<Campaign>(BROKEN, 'campaigns', campaign!.campaignId, { state: 'ARCHIVED' });

  const paused = await waitFor(jobId, (j) => j.status === 'paused', 30_000);
  expect(paused.pause).toMatchObject({ by: 'sluice', reason: expect.stringMatching(/^auto-pause: \d+ of the last \d+ items failed permanently .*PARENT_ENTITY_ARCHIVED ×\d+/) });
  // Stopped well before the end: what ran between the fault and the pause is a few seconds' worth.
  expect(paused.counts.deadLettered).toBeGreaterThanOrEqual(26);
  expect(paused.counts.deadLettered).toBeLessThan(600);
  expect(paused.done).toBeLessThan(ITEMS / 2);

  // Nothing more of it reaches the API while it is paused (after a moment for the call
  // that may have been under way when the pause reached the executor).
  await new Promise((r) => setTimeout(r, 1_000));
  const calls = (await p.sim.admin.counters()).profiles[BROKEN];
  const held = await p.producer.queries.progress('t1', jobId);
  await new Promise((r) => setTimeout(r, 3_000));
  expect((await p.sim.admin.counters()).profiles[BROKEN]).toEqual(calls);
  expect(await p.producer.queries.progress('t1', jobId)).toMatchObject({ status: 'paused', done: held!.done });
  expect(await writesOf(BROKEN)).toBe(held!.counts.succeeded);

  // The operator fixes the campaign and resumes: the job finishes, and is not paused again for the failures before the resume.
  await p.sim.admin.editEntity<Campaign>(BROKEN, 'campaigns', campaign!.campaignId, { state: 'ENABLED' });
  expect(await p.producer.control.control({ tenantId: 't1', jobId, action: 'resume', by: 'test' })).toMatchObject({ type: 'applied' });
  const done = await waitFor(jobId, (j) => j.status === 'completed_with_errors');
  expect(done.counts.succeeded + done.counts.deadLettered).toBe(ITEMS);
  const keywords = await p.sim.admin.entities<Keyword>(BROKEN, 'keywords');
  expect(keywords.filter((k) => k.bid === 3.21)).toHaveLength(done.counts.succeeded);
}, 120_000);

it('a profile throttled for seconds (sticky 429) does not trip it', async () => {
  await p.sim.admin.setKnobs({ profileFaults: { [THROTTLED]: { stickyThrottle: true } } });
  const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid', autoPause: { failureRate: 0.01, minItems: 1, window: 10 } }, keywordUpdates(THROTTLED, 300, () => 4.56));
  if (submitted.type !== 'accepted') throw new Error(JSON.stringify(submitted));
  await waitFor(submitted.jobId, (j) => j.counts.retrying > 0);
  await new Promise((r) => setTimeout(r, 4_000));
  expect((await p.producer.queries.progress('t1', submitted.jobId))!.status).toBe('running');
  await p.sim.admin.setKnobs({ profileFaults: { [THROTTLED]: { stickyThrottle: false } } });
  const done = await waitFor(submitted.jobId, (j) => j.status === 'completed');
  expect(done.counts).toMatchObject({ succeeded: 300, deadLettered: 0 });
  const { rows } = await projector.pool.query(`SELECT paused_by, paused_at, resumed_at FROM jobs WHERE job_id = $1`, [submitted.jobId]);
  expect(rows).toEqual([{ paused_by: null, paused_at: null, resumed_at: null }]);
}, 90_000);
