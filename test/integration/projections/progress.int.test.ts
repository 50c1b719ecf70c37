// Job progress as readers see it, while a job runs: the SSE stream sends progress events
// with growing counts and ends with the final status; GET /v1/jobs/:id agrees with the
// counters and is private to the tenant; `sluice watch` exits with the job's status; a
// profile whose breaker the API's 500s opened is marked in the job's profile view.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { createPool } from '../../../src/db/pool.js';
import { serveApi, type ServedApi } from '../../helpers/api.js';
import type { JobProgress } from '../../../src/projections/job-progress.js';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { testLogger } from '../../helpers/services.js';
import { processEnv, startSluiceProcess } from '../../helpers/sluice-process.js';

const PROFILES = [0, 1, 2, 3].map((i) => generatedProfileId('NA', i));
const SLOW = PROFILES[3]!;
// A profile of the breaker test alone: calls other tests made would count in its breaker's 30 s window.
const FLAKY = generatedProfileId('NA', 4);
let p: TestPipeline;
let projector: ProjectorRuntime;
let api: ServedApi;
let t1: { authorization: string };

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: {
      generate: { profilesPerRegion: 3 },
      // The fourth profile is the slow one: 2 calls/s where the others get 10.
      profiles: [
        { profileId: SLOW, region: 'NA', keywords: 60, campaigns: 1, targets: 0, rateLimit: { ratePerSecond: 2, burst: 1 } },
        { profileId: FLAKY, region: 'NA', keywords: 20, campaigns: 1, targets: 0 },
      ],
      entitiesPerProfile: { keywords: 60, campaigns: 1, targets: 0 },
      rateLimit: { ratePerSecond: 10, burst: 1 },
    },
    env: { SLUICE_PROFILE_RATE: '10', SLUICE_PROFILE_BURST: '1', SLUICE_MAX_BATCH_SIZE: '2', SLUICE_BREAKER_VOLUME: '3', SLUICE_BREAKER_RESET_MS: '500' },
  });
  projector = await openProjectorRuntime(p.config, testLogger());
  api = await serveApi(p.producer);
  t1 = await api.auth('t1', 'read');
});
afterAll(async () => {
  await api?.close();
  await projector?.close();
  await p?.close();
});

async function sseEvents(url: string): Promise<JobProgress[]> {
  const res = await fetch(url, { headers: t1 });
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const text = await res.text(); // the server ends the stream at the final status
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event: progress'))
    .map((block) => JSON.parse(block.split('\ndata: ')[1]!) as JobProgress);
}

it('streams progress while the job runs and ends with its final status; GET agrees; another tenant sees nothing', async () => {
  const jobId = await p.submit(PROFILES.flatMap((id) => keywordUpdates(id, 60)));
  let events: JobProgress[] = [];
  for (let tries = 0; tries < 50 && events.length === 0; tries++) {
    const res = await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: t1 });
    if (res.status === 200) events = await sseEvents(`${api.url}/v1/jobs/${jobId}/events`);
    else await new Promise((r) => setTimeout(r, 100)); // until the projector has seen the job
  }
  expect(events.length).toBeGreaterThan(2);
  const done = events.map((e) => e.done);
  expect(done).toEqual([...done].sort((a, b) => a - b));
  expect(events.at(-1)).toMatchObject({ status: 'completed', done: 240, percent: 100, totalItems: 240, counts: { succeeded: 240, pending: 0 } });
  expect(events.slice(0, -1).every((e) => e.status !== 'completed')).toBe(true);
  // Once the fast profiles are done, the slow one bounds the ETA.
  const late = events.filter((e) => e.status === 'running' && e.done >= 190 && e.slowestProfile);
  expect(late.length).toBeGreaterThan(0);
  for (const e of late) {
    expect(e.slowestProfile!.profileId).toBe(SLOW);
    expect(e.etaSeconds).toBeGreaterThanOrEqual(e.slowestProfile!.etaSeconds);
  }

  const res = await fetch(`${api.url}/v1/jobs/${jobId}?profiles=true`, { headers: t1 });
  const progress = (await res.json()) as JobProgress;
  expect(progress.profiles).toEqual(PROFILES.map((profileId) => ({ profileId, total: 60, done: 60, remaining: 0, succeeded: 60, failedOrDeadLettered: 0, retrying: 0, throttled: 0, breakerOpen: 0, itemsPerS: expect.any(Number) })));
  expect(progress.projectedAt).not.toBeNull();
  expect((await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: await api.auth('someone-else') })).status).toBe(404);

  const watch = await startSluiceProcess(['watch', jobId, '--tenant', 't1'], processEnv(p.config), /(completed)/);
  expect(await watch.stop('SIGCONT')).toBe(0); // SIGCONT changes nothing: this waits for its own exit
});

it('lists jobs by status and label, pages items by status, and exports results as NDJSON and CSV', async () => {
  const missing = (id: string) => ({ profileId: id, payload: { keywordId: `${id}9999999`, bid: 1 } }); // no such keyword: dead-lettered
  const jobId = await p.submit([...keywordUpdates(PROFILES[0]!, 30), missing(PROFILES[0]!), missing(PROFILES[1]!)]);
  const headers = t1;
  let progress: JobProgress | undefined;
  for (let tries = 0; tries < 100 && progress?.status !== 'completed_with_errors'; tries++) {
    await new Promise((r) => setTimeout(r, 200));
    const res = await fetch(`${api.url}/v1/jobs/${jobId}`, { headers });
    progress = res.status === 200 ? ((await res.json()) as JobProgress) : undefined;
  }
  expect(progress).toMatchObject({ status: 'completed_with_errors', counts: { succeeded: 30, deadLettered: 2 } });

  const listed = (await (await fetch(`${api.url}/v1/jobs?status=completed_with_errors&limit=1`, { headers })).json()) as { items: { jobId: string }[]; nextCursor: string | null };
  expect(listed.items.map((j) => j.jobId)).toEqual([jobId]);
  const all = (await (await fetch(`${api.url}/v1/jobs?limit=1`, { headers })).json()) as { items: { jobId: string }[]; nextCursor: string };
  const second = (await (await fetch(`${api.url}/v1/jobs?limit=1&cursor=${all.nextCursor}`, { headers })).json()) as { items: { jobId: string }[]; nextCursor: string | null };
  expect(all.items[0]!.jobId).toBe(jobId); // newest first
  expect(second.items).toHaveLength(1);
  expect(second.items[0]!.jobId).not.toBe(jobId);
  expect((await fetch(`${api.url}/v1/jobs?cursor=garbage`, { headers })).status).toBe(400);

  const firstPage = (await (await fetch(`${api.url}/v1/jobs/${jobId}/items?status=succeeded&limit=20`, { headers })).json()) as { items: { index: number }[]; nextCursor: string };
  const secondPage = (await (await fetch(`${api.url}/v1/jobs/${jobId}/items?status=succeeded&limit=20&after=${firstPage.nextCursor}`, { headers })).json()) as { items: { index: number }[]; nextCursor: string | null };
  expect([...firstPage.items, ...secondPage.items].map((i) => i.index)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  expect(secondPage.nextCursor).toBeNull();

  const failed = await fetch(`${api.url}/v1/jobs/${jobId}/results?status=failed`, { headers });
  const lines = (await failed.text()).trim().split('\n').map((l) => JSON.parse(l) as { index: number; status: string; lastError: { kind: string } });
  expect(lines.map((l) => [l.index, l.status, l.lastError.kind])).toEqual([
    [30, 'dead_lettered', 'entityNotFoundError'],
    [31, 'dead_lettered', 'entityNotFoundError'],
  ]);
  const csv = await (await fetch(`${api.url}/v1/jobs/${jobId}/results?status=succeeded&format=csv`, { headers })).text();
  expect(csv.trim().split('\n')).toHaveLength(31);
  expect(csv.split('\n')[0]).toBe('index,itemId,profileId,operation,status,attempts,errorKind,errorReason,errorMessage,previous,applied,current,verification');
  expect(await (await fetch(`${api.url}/v1/jobs/${jobId}/results?status=unprocessed`, { headers })).text()).toBe('');
  expect((await fetch(`${api.url}/v1/jobs/${jobId}/results?status=failed`, { headers: await api.auth('other') })).status).toBe(404);

  // The SQL views say the same.
  const pool = createPool({ url: p.config.database.url, max: 1 });
  try {
    const view = (await pool.query(`SELECT done_items, percent, dead_lettered_items FROM job_progress WHERE job_id = $1`, [jobId])).rows[0];
    expect(view).toEqual({ done_items: '32', percent: '100.0', dead_lettered_items: '2' });
    const failures = (await pool.query(`SELECT item_index, last_error_kind FROM job_failures WHERE job_id = $1 ORDER BY item_index`, [jobId])).rows;
    expect(failures).toEqual([{ item_index: '30', last_error_kind: 'entityNotFoundError' }, { item_index: '31', last_error_kind: 'entityNotFoundError' }]);
    const profiles = (await pool.query(`SELECT profile_id, done_items FROM profile_progress WHERE job_id = $1 ORDER BY profile_id`, [jobId])).rows;
    expect(profiles).toEqual([{ profile_id: PROFILES[0], done_items: '31' }, { profile_id: PROFILES[1], done_items: '1' }]);
  } finally {
    await pool.end();
  }
});

it("marks a profile whose breaker is open in the job's profile view, and clears the mark once the API answers again", async () => {
  const [failing, healthy] = [FLAKY, PROFILES[2]!];
  await p.sim.admin.setKnobs({ profileFaults: { [failing]: { http500: 1 } } });
  const jobId = await p.submit([...keywordUpdates(failing, 20, () => 2.25), ...keywordUpdates(healthy, 20, () => 2.25)]);
  // (none until the projector has the job)
  const profilesOf = async () => ((await (await fetch(`${api.url}/v1/jobs/${jobId}?profiles=true`, { headers: t1 })).json()) as Partial<JobProgress>).profiles ?? [];
  const row = (rows: NonNullable<JobProgress['profiles']>, id: string) => rows.find((r) => r.profileId === id)!;
  let seen = await profilesOf();
  for (const deadline = Date.now() + 20_000; !(row(seen, failing)?.breakerOpen > 0) && Date.now() < deadline; seen = await profilesOf()) await new Promise((r) => setTimeout(r, 100));
  try {
    // The breaker opened after its 3 calls: every item retrying there waits on it (the
    // first calls' items too, once a failed probe re-opened it) — never the healthy profile.
    expect(row(seen, failing).breakerOpen).toBeGreaterThan(0);
    expect(row(seen, failing).breakerOpen).toBeLessThanOrEqual(row(seen, failing).retrying);
    expect(row(seen, healthy)).toMatchObject({ breakerOpen: 0, retrying: 0 });
  } finally {
    await p.sim.admin.setKnobs({ profileFaults: { [failing]: null } });
  }
  let progress: JobProgress;
  for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
    progress = (await (await fetch(`${api.url}/v1/jobs/${jobId}?profiles=true`, { headers: t1 })).json()) as JobProgress;
    if (progress.status === 'completed' || Date.now() > deadline) break;
  }
  expect(progress.status).toBe('completed');
  expect(progress.profiles!.map((r) => [r.profileId, r.succeeded, r.retrying, r.breakerOpen])).toEqual(
    [
      [failing, 20, 0, 0],
      [healthy, 20, 0, 0],
    ].sort(),
  );
});
