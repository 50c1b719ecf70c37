// Canary end to end (real broker, registry, Postgres, the simulator over HTTP): a
// 10,000-item job over ten profiles, one of which rejects 60% of its items (bids above
// its marketplace's bound). Its canary slice, spread across the profiles, runs first
// while the rest waits; the slice fails (6% > 5%), so Sluice pauses the job with reason
// canary_failed and the breakdown by reason, before more than the slice was written, and
// nothing more of the job is written until it is resumed. A job whose slice is clean
// goes on by itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import type { JobProgress } from '../../../src/projections/job-progress.js';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { submitJob } from '../../../src/index.js';
import { keywordUpdates, type TestPipeline } from '../../helpers/pipeline.js';
import { openGuardedPipeline, waitForProgress } from '../../helpers/job-progress.js';

const PROFILES = Array.from({ length: 10 }, (_, i) => generatedProfileId('NA', i));
const PER_PROFILE = 1_000;
const BAD = PROFILES[3]!;
const rejected = (i: number) => i % 5 < 3; // 60% of the bad profile's items: bids above the US bound of 1,000

let p: TestPipeline;
let projector: ProjectorRuntime;
let pipeline: Awaited<ReturnType<typeof openGuardedPipeline>> | undefined;

beforeAll(async () => {
  pipeline = await openGuardedPipeline({
    simulator: { generate: { profilesPerRegion: 0 }, profiles: PROFILES.map((profileId) => ({ profileId, region: 'NA' as const, keywords: PER_PROFILE, campaigns: 1, targets: 0 })), rateLimit: { ratePerSecond: 20, burst: 10 } },
    env: { SLUICE_MAX_BATCH_SIZE: '100', SLUICE_ITEM_PARTITIONS: '4' },
  });
  ({ p, projector } = pipeline);
}, 120_000);

afterAll(() => pipeline?.close());

const waitFor = (jobId: string, done: (j: JobProgress) => boolean, timeoutMs?: number) => waitForProgress(p.producer.queries.progress, 't1', jobId, done, timeoutMs);

const applied = async () => (await p.sim.admin.updates()).length;

it('a failing canary pauses the job before more than its slice was written; nothing more is written until resume', async () => {
  const items = PROFILES.flatMap((profileId) => keywordUpdates(profileId, PER_PROFILE, (i) => (profileId === BAD && rejected(i) ? 5_000 : 1 + (i % 50) / 10)));
  const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid', canary: { items: 200, maxFailureRate: 0.05 }, autoPause: { enabled: false } }, items);
  if (submitted.type !== 'accepted') throw new Error(JSON.stringify(submitted));
  const jobId = submitted.jobId;

  const paused = await waitFor(jobId, (j) => j.status === 'paused');
  expect(paused.canary).toEqual({ items: 200, maxFailureRate: 0.05, phase: 'failed' });
  // The slice: 20 items of each profile, every one ended; the bad profile's rejected ones failed, nothing else did.
  const { rows } = await projector.pool.query<{ item_index: string; profile_id: string; status: string }>(`SELECT item_index, profile_id, status FROM job_items WHERE job_id = $1`, [jobId]);
  expect(rows).toHaveLength(200);
  for (const profileId of PROFILES) expect(rows.filter((r) => r.profile_id === profileId)).toHaveLength(20);
  const failed = rows.filter((r) => r.status === 'dead_lettered');
  for (const r of rows) expect([r.item_index, r.status]).toEqual([r.item_index, r.profile_id === BAD && rejected(Number(r.item_index) % PER_PROFILE) ? 'dead_lettered' : 'succeeded']);
  expect(failed.length).toBeGreaterThan(10); // above 5% of 200
  expect(paused.pause).toEqual({ by: 'sluice', reason: expect.stringMatching(new RegExp(`^canary_failed: ${failed.length} of 200 canary items failed permanently \\(${((failed.length / 200) * 100).toFixed(1)}%, at most 5\\.0%\\): \\w+ ×${failed.length}$`)) });
  // Only the slice was written, and nothing more while the job is paused.
  expect(await applied()).toBe(200 - failed.length);
  await new Promise((r) => setTimeout(r, 3_000));
  expect(await applied()).toBe(200 - failed.length);
  expect((await p.producer.queries.progress('t1', jobId))!.done).toBe(200);

  expect(await p.producer.control.control({ tenantId: 't1', jobId, action: 'resume', by: 'test' })).toMatchObject({ type: 'applied' });
  const done = await waitFor(jobId, (j) => j.status === 'completed_with_errors', 120_000);
  expect(done.counts).toMatchObject({ succeeded: 10_000 - 600, deadLettered: 600 });
  expect(await applied()).toBe(10_000 - 600);
}, 240_000);

it('a clean canary lets the job go on by itself', async () => {
  const items = PROFILES.slice(0, 4).flatMap((profileId) => keywordUpdates(profileId, 100, () => 7.5));
  const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid', canary: { percent: 10, maxFailureRate: 0 } }, items);
  if (submitted.type !== 'accepted') throw new Error(JSON.stringify(submitted));
  const done = await waitFor(submitted.jobId, (j) => j.status === 'completed', 60_000);
  expect(done.canary).toEqual({ items: 40, maxFailureRate: 0, phase: 'passed' });
  expect(done.counts.succeeded).toBe(400);
}, 90_000);
