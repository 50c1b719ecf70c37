// Replays never move an entity backwards (issue 16 point 5). Item 5 sets keyword E to a
// bid the marketplace refuses and is dead-lettered; item 900 sets E to 2.0 and succeeds;
// replaying item 5 (patched to 1.0) would set E back to 1.0. It ends `superseded` instead,
// not sent, and E stays 2.0. The same when the newer update is still queued (its job is
// paused at replay time): it runs on resume and E ends at its value. A dead letter with no
// newer update of its entity is replayed as ever. And an HTTP replay is answered at once
// and sent in the background (issue 16 point 9).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { until } from '../../helpers/api-world.js';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { serveApi } from '../../helpers/api.js';
import { startTestExecutor } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { testLogger } from '../../helpers/services.js';

const PROFILE = generatedProfileId('NA', 0);
const kw = (i: number) => generatedEntityId(PROFILE, 'keywords', i);
const [E, F, G] = [kw(1_000), kw(1_001), kw(1_002)];
const REFUSED_BID = 5_000; // above the US maximum: a permanent per-entity error
let p: TestPipeline;
let projector: ProjectorRuntime;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 1 }, entitiesPerProfile: { keywords: 1_010, campaigns: 1, targets: 0 } },
    env: { SLUICE_ITEM_PARTITIONS: '2', SLUICE_MAX_BATCH_SIZE: '50' },
  });
  projector = await openProjectorRuntime(p.config, testLogger());
});
afterAll(async () => {
  await projector?.close();
  await p?.close();
});

const bidOf = async (keywordId: string) => (await p.sim.admin.entities<Keyword>(PROFILE, 'keywords', [keywordId]))[0]!.bid;
const set = (keywordId: string, bid: number) => ({ profileId: PROFILE, payload: { keywordId, bid } });


const itemStatus = async (jobId: string, index: number) =>
  (await projector.pool.query<{ status: string }>(`SELECT status FROM job_items WHERE job_id = $1 AND item_index = $2`, [jobId, index])).rows[0]?.status;

it('ends a replayed item superseded when a later update of its entity has succeeded or is queued, leaving the entity at the newer value', async () => {
  // One job: item 5 sets E to a refused bid, item 900 sets E to 2.0; F and G refused too.
  const items = keywordUpdates(PROFILE, 1_000, () => 0.5);
  items[5] = set(E, REFUSED_BID);
  items[900] = set(E, 2.0);
  items[6] = set(F, REFUSED_BID);
  items[7] = set(G, REFUSED_BID);
  const first = await p.submit(items);
  await p.outcomes.waitForTerminal(first, items.length);
  expect(await bidOf(E)).toBe(2.0);
  // A later job sets F to 3.0 but is paused before any executor sees it: still queued at replay time.
  await p.executor!.close();
  const later = await p.submit([set(F, 3.0)]);
  expect(await p.producer.control.control({ tenantId: 't1', jobId: later, action: 'pause' })).toMatchObject({ type: 'applied' });
  p.executor = await startTestExecutor(p.config);
  await until('the dead letters projected', async () => (await projector.pool.query(`SELECT 1 FROM dead_letters WHERE job_id = $1`, [first])).rowCount === 3);

  const dryRun = await p.producer.replayer.replay({ tenantId: 't1', filter: { jobId: first }, patch: { bid: 1.0 }, dryRun: true });
  expect(dryRun).toMatchObject({ type: 'dry-run', selected: 3, replayed: 1 });
  const replay = await p.producer.replayer.replay({ tenantId: 't1', filter: { jobId: first }, patch: { bid: 1.0 } });
  expect(replay).toMatchObject({ type: 'replayed', selected: 3, replayed: 1, groups: [{ jobId: first, count: 1 }] });
  if (replay.type !== 'replayed') throw new Error('not replayed');
  const reasons = replay.skipped.map((s) => s.reason);
  expect(reasons).toHaveLength(2);
  expect(reasons).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^superseded: item ${first}:900 `)), expect.stringMatching(new RegExp(`^superseded: item ${later}:0 `))]));

  await until('G replayed and resolved', async () => (await itemStatus(first, 7)) === 'succeeded');
  await until('E and F superseded', async () => (await itemStatus(first, 5)) === 'superseded' && (await itemStatus(first, 6)) === 'superseded');
  expect(await p.producer.control.control({ tenantId: 't1', jobId: later, action: 'resume' })).toMatchObject({ type: 'applied' });
  await p.outcomes.waitForTerminal(later, 1);
  expect([await bidOf(E), await bidOf(F), await bidOf(G)]).toEqual([2.0, 3.0, 1.0]);

  const letters = (await projector.pool.query<{ item_index: string; status: string }>(`SELECT item_index, status FROM dead_letters WHERE job_id = $1 ORDER BY item_index`, [first])).rows;
  expect(letters).toEqual([
    { item_index: '5', status: 'superseded' },
    { item_index: '6', status: 'superseded' },
    { item_index: '7', status: 'resolved' },
  ]);
  await until('the job counts the superseded items', async () => {
    const job = (await projector.pool.query(`SELECT status, superseded_items::int AS superseded, succeeded_items::int AS succeeded, pending_items::int AS pending FROM jobs WHERE job_id = $1`, [first])).rows[0];
    return job?.status === 'completed' && job.superseded === 2 && job.succeeded === 998 && job.pending === 0;
  });
});

it('answers an HTTP replay at once (202) and sends it paced in the background, its progress at the outcome link; another tenant gets 404 for it', async () => {
  const api = await serveApi(p.producer);
  try {
    const refused = Array.from({ length: 30 }, (_, i) => set(kw(i), REFUSED_BID));
    const jobId = await p.submit(refused);
    await p.outcomes.waitForTerminal(jobId, refused.length);
    await until('the dead letters projected', async () => (await projector.pool.query(`SELECT 1 FROM dead_letters WHERE job_id = $1`, [jobId])).rowCount === 30);
    const owner = await api.auth('t1');
    const started = Date.now();
    const res = await fetch(`${api.url}/v1/dead-letters/replay`, { method: 'POST', headers: { ...owner, 'content-type': 'application/json' }, body: JSON.stringify({ filter: { jobId }, patch: { bid: 1.25 }, rate: 10 }) });
    const answer = (await res.json()) as { replayId: string; replayed: number; status: string; links: { outcome: string } };
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2_000); // 30 items at 10/s take 3 s to send
    expect(answer).toMatchObject({ replayed: 30, status: 'sending' });
    const outcome = async (auth = owner) => fetch(`${api.url}${answer.links.outcome}`, { headers: auth });
    expect(await (await outcome()).json()).toMatchObject({ replayId: answer.replayId, sending: { state: 'sending', planned: 30 } });
    expect((await outcome(await api.auth('another-tenant'))).status).toBe(404);
    await until('every replayed item resolved', async () => {
      const now = (await (await outcome()).json()) as { sending?: { state: string; sent: number }; resolved: number };
      return now.sending?.state === 'sent' && now.sending.sent === 30 && now.resolved === 30;
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000); // it was paced
    expect(await bidOf(kw(0))).toBe(1.25);
  } finally {
    await api.close();
  }
});
