// Safe changes end to end, against the real broker, registry, Postgres and the simulator
// over HTTP, counted item by item in the simulator and in Postgres:
// - the stale-write guard: 1,000 items with `expect`, 100 of whose entities a person
//   edits after submission; exactly those 100 end `conflict` and keep the person's value,
//   the 900 others carry their before-image;
// - verification after a job run with 2% "acknowledged but not applied" finds exactly
//   the items whose entity does not hold the value written;
// - revert restores every before-image except where someone edited the entity since
//   (conflict, the person's value kept); a revert of the revert restores the job's values;
// - a job asking to be verified at the end is read back once, when it has finished;
// - a replay of dead letters writes only the entities nobody changed since they failed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import type { JobProgress } from '../../../src/projections/job-progress.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { submitJob } from '../../../src/index.js';
import { startTestExecutor } from '../../helpers/executor.js';
import { openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { testLogger } from '../../helpers/services.js';
import { serveApi, type ServedApi } from '../../helpers/api.js';
import { waitForProgress } from '../../helpers/job-progress.js';

const PROFILES = [0, 1].map((i) => generatedProfileId('NA', i));
const PER_PROFILE = 500;
const HAND_BID = 77.7;
const keywordIds = PROFILES.flatMap((profileId) => Array.from({ length: PER_PROFILE }, (_, i) => ({ profileId, keywordId: generatedEntityId(profileId, 'keywords', i) })));

let p: TestPipeline;
let projector: ProjectorRuntime;
let pool: Pool;
let api: ServedApi;
let headers: Record<string, string>;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 0 }, profiles: PROFILES.map((profileId) => ({ profileId, region: 'NA' as const, keywords: PER_PROFILE, campaigns: 2, targets: 0 })), rateLimit: { ratePerSecond: 50, burst: 20 } },
    env: { SLUICE_MAX_BATCH_SIZE: '100' },
    startExecutor: false,
  });
  projector = await openProjectorRuntime(p.config, testLogger());
  pool = createPool({ url: p.config.database.url, max: 2 });
  api = await serveApi(p.producer);
  headers = { ...(await api.auth('t1')), 'content-type': 'application/json' };
}, 120_000);

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${api.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

afterAll(async () => {
  await api?.close();
  await pool?.end();
  await projector?.close();
  await p?.close();
});

async function bids(): Promise<Map<string, number>> {
  const all = new Map<string, number>();
  for (const profileId of PROFILES) for (const k of await p.sim.admin.entities<Keyword>(profileId, 'keywords')) all.set(k.keywordId, k.bid);
  return all;
}

async function submit(items: unknown[], request: { revertOf?: string } = {}): Promise<string> {
  const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid', ...request }, items);
  if (submitted.type !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(submitted)}`);
  return submitted.jobId;
}

const waitFor = (jobId: string, done: (j: JobProgress) => boolean, timeoutMs?: number) => waitForProgress(p.producer.queries.progress, 't1', jobId, done, timeoutMs);

interface ItemRow {
  item_index: string;
  status: string;
  payload: { keywordId: string; bid: number };
  previous_values: { bid: number } | null;
  applied_values: { bid: number } | null;
  current_values: { bid: number } | null;
  verification: string | null;
  verified_values: { bid: number } | null;
}

async function rows(jobId: string): Promise<ItemRow[]> {
  return (await pool.query<ItemRow>(`SELECT * FROM job_items WHERE job_id = $1 ORDER BY item_index`, [jobId])).rows;
}

const firstBid = (i: number) => Math.round((1 + (i % 90) / 10) * 100) / 100;
const secondBid = (i: number) => Math.round((2 + (i % 70) / 20) * 100) / 100;
const edited = (i: number) => i % 10 === 3; // 100 of 1,000
let first: string;
let second: string;
let revert: string;

it('the stale-write guard: exactly the 100 entities edited by hand after submission end conflict and keep the hand value', async () => {
  const before = await bids();
  first = await submit(keywordIds.map(({ profileId, keywordId }, i) => ({ profileId, payload: { keywordId, bid: firstBid(i) }, expect: { bid: before.get(keywordId) } })));
  // A person fixes 100 bids in the console after the job was submitted, before it runs.
  for (const [i, { profileId, keywordId }] of keywordIds.entries()) if (edited(i)) await p.sim.admin.editEntity<Keyword>(profileId, 'keywords', keywordId, { bid: HAND_BID });
  p.executor = await startTestExecutor(p.config);

  const progress = await waitFor(first, (j) => j.status === 'completed_with_errors' || j.status === 'completed');
  expect(progress.counts).toMatchObject({ succeeded: 900, conflict: 100, failed: 0, deadLettered: 0, pending: 0 });
  const after = await bids();
  const items = await rows(first);
  expect(items).toHaveLength(1000);
  for (const [i, { keywordId }] of keywordIds.entries()) {
    const row = items[i]!;
    if (edited(i)) {
      expect([row.status, row.current_values, after.get(keywordId)]).toEqual(['conflict', { bid: HAND_BID }, HAND_BID]);
    } else {
      expect([row.status, row.previous_values, row.applied_values, after.get(keywordId)]).toEqual(['succeeded', { bid: before.get(keywordId) }, { bid: firstBid(i) }, firstBid(i)]);
    }
  }
}, 150_000);

it('verification after a run with 2% acknowledged-but-not-applied finds exactly the items whose write did not land', async () => {
  await p.sim.admin.setKnobs({ faults: { acknowledgedNotApplied: 0.02 } });
  second = await submit(keywordIds.map(({ profileId, keywordId }, i) => ({ profileId, payload: { keywordId, bid: secondBid(i) } })));
  const done = await waitFor(second, (j) => j.status === 'completed');
  await p.sim.admin.setKnobs({ faults: { acknowledgedNotApplied: 0 } });
  expect(done.counts.succeeded).toBe(1000);
  const after = await bids();
  const notApplied = new Set(keywordIds.map((k, i) => (after.get(k.keywordId) === secondBid(i) ? -1 : i)).filter((i) => i >= 0));
  expect(notApplied.size).toBeGreaterThan(0); // ~20 of 1,000

  expect(await post(`/v1/jobs/${second}/verify`, {})).toEqual({ status: 202, json: { jobId: second, items: 1000 } });
  const verified = await waitFor(second, (j) => j.verification.verified + j.verification.drifted === 1000);
  expect(verified.verification).toEqual({ verified: 1000 - notApplied.size, drifted: notApplied.size, unreadable: 0 });
  expect(verified.status).toBe('completed'); // a verification changes no status
  const items = await rows(second);
  for (const [i, row] of items.entries()) {
    expect([i, row.status, row.verification]).toEqual([i, 'succeeded', notApplied.has(i) ? 'drifted' : 'verified']);
    expect(row.verified_values).toEqual({ bid: after.get(keywordIds[i]!.keywordId) });
  }
}, 150_000);

it('revert restores every before-image but the entities edited since, and a revert of the revert restores the job', async () => {
  const beforeRevert = await bids();
  const secondRows = await rows(second);
  // 50 more hand edits after the job ran: the revert must not clobber them.
  const handEdited = (i: number) => i % 20 === 11;
  for (const [i, { profileId, keywordId }] of keywordIds.entries()) if (handEdited(i)) await p.sim.admin.editEntity<Keyword>(profileId, 'keywords', keywordId, { bid: 55.5 });

  expect(await post(`/v1/jobs/${second}/revert`, { dryRun: true })).toEqual({ status: 200, json: { jobId: second, items: 1000, withoutBeforeImage: 0 } });
  expect(await post(`/v1/jobs/${randomUUID()}/revert`, {})).toMatchObject({ status: 404 });
  const answer = await p.producer.reverter.revert({ tenantId: 't1', jobId: second, requestedBy: 'test' });
  if (answer.type !== 'submitted' || answer.result.type !== 'accepted') throw new Error(JSON.stringify(answer));
  revert = answer.result.jobId;
  const again = await p.producer.reverter.revert({ tenantId: 't1', jobId: second });
  expect(again.type === 'submitted' && again.result).toMatchObject({ type: 'duplicate', jobId: revert });

  const reverted = await waitFor(revert, (j) => j.status === 'completed_with_errors' || j.status === 'completed');
  expect(reverted.revertOf).toBe(second);
  expect(reverted.counts).toMatchObject({ succeeded: 950, conflict: 50, failed: 0, deadLettered: 0 });
  const after = await bids();
  for (const [i, { keywordId }] of keywordIds.entries()) {
    // A write that never landed (drifted) left the before-image in place: its revert has nothing to do.
    expect([i, after.get(keywordId)]).toEqual([i, handEdited(i) ? 55.5 : secondRows[i]!.previous_values!.bid]);
  }

  const answer2 = await p.producer.reverter.revert({ tenantId: 't1', jobId: revert });
  if (answer2.type !== 'submitted' || answer2.result.type !== 'accepted') throw new Error(JSON.stringify(answer2));
  expect(answer2.items).toBe(950); // the conflicts wrote nothing, so there is nothing of them to undo
  await waitFor(answer2.result.jobId, (j) => j.status === 'completed');
  const restored = await bids();
  for (const [i, { keywordId }] of keywordIds.entries()) {
    expect([i, restored.get(keywordId)]).toEqual([i, handEdited(i) ? 55.5 : beforeRevert.get(keywordId)]);
  }
}, 200_000);

it('a job that asks to be verified at the end is read back once it has finished', async () => {
  const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid', verifyAtEnd: true }, keywordIds.slice(0, 200).map(({ profileId, keywordId }) => ({ profileId, payload: { keywordId, bid: 9.99 } })));
  if (submitted.type !== 'accepted') throw new Error(JSON.stringify(submitted));
  await waitFor(submitted.jobId, (j) => j.status === 'completed');
  const deadline = Date.now() + 30_000;
  let sent: string[] = [];
  while (!sent.includes(submitted.jobId) && Date.now() < deadline) sent = (await p.producer.guard.check()).verified;
  expect(sent).toContain(submitted.jobId);
  const verified = await waitFor(submitted.jobId, (j) => j.verification.verified === 200);
  expect(verified.verification).toEqual({ verified: 200, drifted: 0, unreadable: 0 });
  expect((await p.producer.guard.check()).verified).not.toContain(submitted.jobId); // sent once
}, 90_000);

it('a replay of dead letters writes only entities nobody changed since they failed', async () => {
  // 20 bids above the US bound of 1,000: dead-lettered after their before-images were read.
  const targets = keywordIds.slice(500, 520);
  const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid' }, targets.map(({ profileId, keywordId }) => ({ profileId, payload: { keywordId, bid: 5_000 } })));
  if (submitted.type !== 'accepted') throw new Error(JSON.stringify(submitted));
  const jobId = submitted.jobId;
  await waitFor(jobId, (j) => j.counts.deadLettered === 20);
  while (Number((await pool.query(`SELECT count(*) FROM dead_letters WHERE job_id = $1`, [jobId])).rows[0].count) < 20) await new Promise((r) => setTimeout(r, 100));
  // Someone fixes five of them by hand before the replay.
  for (const { profileId, keywordId } of targets.slice(0, 5)) await p.sim.admin.editEntity<Keyword>(profileId, 'keywords', keywordId, { bid: 4.44 });
  const replayed = await p.producer.replayer.replay({ tenantId: 't1', filter: { jobId }, patch: { bid: 3.33 } });
  expect(replayed).toMatchObject({ type: 'replayed', replayed: 20 });
  const done = await waitFor(jobId, (j) => j.counts.succeeded + j.counts.conflict === 20);
  expect(done.counts).toMatchObject({ succeeded: 15, conflict: 5, deadLettered: 0 });
  const after = await bids();
  targets.forEach(({ keywordId }, i) => expect([i, after.get(keywordId)]).toEqual([i, i < 5 ? 4.44 : 3.33]));
}, 90_000);
