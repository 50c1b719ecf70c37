// The DLQ replay tool end to end: a 1,000-item job where 100 items fail permanently
// (bids above the marketplace's limit) and 50 exhaust their retries (their profile
// answers 500 to everything). Once the fault is fixed, the invalid group is replayed
// with a corrected bid from two shells at once and the other group from the CLI and
// then again over HTTP: every item is sent back exactly once, all 150 dead letters end
// resolved, the simulator holds the patched bids, and the job's counts agree. A dry run
// and a patch that does not fit produce nothing; a cancelled job's items are refused; a
// rebuild from the topics reproduces every projected row of it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProjectorRuntime, projectorGroup, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { createPool } from '../../../src/db/pool.js';
import type { ItemRequested } from '../../../src/domain/events.js';
import { serveApi, type ServedApi } from '../../helpers/api.js';
import type { JobProgress } from '../../../src/projections/job-progress.js';
import type { DeadLetterDetail, DeadLetterSummary, ReasonCount } from '../../../src/projections/dead-letter-queries.js';
import type { Keyword } from '../../../src/simulator/entities.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { testLogger } from '../../helpers/services.js';
import { processEnv, runSluice } from '../../helpers/sluice-process.js';
import { cliActor } from '../../../src/cli/context.js';
import { committedEndOffsets, readTopic } from '../../helpers/topic-reader.js';
import { projectionSnapshot, snapshotDifferences, projectorGroupEmpty } from '../../helpers/projection-snapshot.js';

const [P0, P1, FAILING] = [0, 1, 2].map((i) => generatedProfileId('NA', i)) as [string, string, string];
const PER_PROFILE = 475;
const INVALID_BID = 5_000; // above the US maximum of 1,000: a permanent per-entity error
const PATCHED_BID = 2.5;
const RATE = 25; // items/s for the paced replay
const isInvalid = (i: number) => i % 19 === 7 || i % 19 === 15; // 50 of each 475
let headers: Record<string, string>;

let p: TestPipeline;
let projector: ProjectorRuntime | undefined;
let api: ServedApi;
let jobId: string;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: {
      generate: { profilesPerRegion: 0 },
      profiles: [
        { profileId: P0, region: 'NA', keywords: PER_PROFILE, campaigns: 1, targets: 0 },
        { profileId: P1, region: 'NA', keywords: PER_PROFILE, campaigns: 1, targets: 0 },
        { profileId: FAILING, region: 'NA', keywords: 50, campaigns: 1, targets: 0, faults: { http500: 1 } },
      ],
      rateLimit: { ratePerSecond: 50, burst: 10 },
    },
    env: { SLUICE_MAX_ATTEMPTS: '3', SLUICE_RETRY_BASE_MS: '50', SLUICE_RETRY_MAX_MS: '200', SLUICE_BREAKER_RESET_MS: '300', SLUICE_PROFILE_RATE: '40' },
  });
  projector = await openProjectorRuntime(p.config, testLogger());
  api = await serveApi(p.producer);
  headers = await api.auth('t1');

  const bids = (i: number) => (isInvalid(i) ? INVALID_BID : 1 + (i % 40) / 10);
  jobId = await p.submit([...keywordUpdates(P0, PER_PROFILE, bids), ...keywordUpdates(P1, PER_PROFILE, bids), ...keywordUpdates(FAILING, 50)]);
  await waitForJob(jobId, (j) => j.status === 'completed_with_errors', 90_000);
}, 120_000);

afterAll(async () => {
  await api?.close();
  await projector?.close();
  await p?.close();
});

async function get<T>(path: string, h: Record<string, string> = headers): Promise<{ status: number; body: T }> {
  const res = await fetch(`${api.url}${path}`, { headers: h });
  return { status: res.status, body: (await res.json()) as T };
}

async function postReplay(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${api.url}/v1/dead-letters/replay`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

// The deadline holds whatever the answer (a job the projector never wrote is 404 for
// ever), and the error says what was seen last, so a wait that fails says where it stuck.
async function waitForJob(id: string, done: (p: JobProgress) => boolean, timeoutMs = 45_000): Promise<JobProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${api.url}/v1/jobs/${id}`, { headers });
    const body = await res.text();
    if (res.status === 200 && done(JSON.parse(body) as JobProgress)) return JSON.parse(body) as JobProgress;
    if (Date.now() > deadline) throw new Error(`job ${id} did not get there in ${timeoutMs} ms; last answer ${res.status}: ${body}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function replayedCommands(): Promise<{ timestamp: number; value: ItemRequested }[]> {
  const records = await readTopic(p.reader.kafka, p.reader.serde, p.producer.topics, 'itemCommands', { idleMs: 1_000 });
  return records.filter((r) => r.value.jobId === jobId && r.value.replayGeneration > 0);
}

let invalidReason: string;

it('lists the dead letters by filter, counts them by reason, and shows one in full', async () => {
  const { body: all } = await get<{ items: DeadLetterSummary[]; countsByReason: ReasonCount[] }>(`/v1/dead-letters?jobId=${jobId}&limit=500`);
  expect(all.items).toHaveLength(150);
  expect(all.items.every((d) => d.status === 'open')).toBe(true);
  const exhausted = all.countsByReason.find((c) => c.reason === 'RETRIES_EXHAUSTED');
  const invalid = all.countsByReason.filter((c) => c.reason !== 'RETRIES_EXHAUSTED');
  expect(exhausted).toMatchObject({ errorKind: 'http500', count: 50 });
  expect(invalid).toHaveLength(1);
  expect(invalid[0]!.count).toBe(100);
  invalidReason = invalid[0]!.reason;

  const { body: failing } = await get<{ items: DeadLetterSummary[] }>(`/v1/dead-letters?jobId=${jobId}&profileId=${FAILING}&limit=500`);
  expect(failing.items.map((d) => d.index).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * PER_PROFILE + i));
  const one = 2 * PER_PROFILE + 7;
  const { body: ofOneItem } = await get<{ items: DeadLetterSummary[] }>(`/v1/dead-letters?jobId=${jobId}&index=${one}`);
  expect(ofOneItem.items.map((d) => [d.jobId, d.index])).toEqual([[jobId, one]]);
  const { body: page1 } = await get<{ items: DeadLetterSummary[]; nextCursor: string }>(`/v1/dead-letters?jobId=${jobId}&limit=100`);
  const { body: page2 } = await get<{ items: DeadLetterSummary[]; nextCursor: string | null }>(`/v1/dead-letters?jobId=${jobId}&limit=100&cursor=${page1.nextCursor}`);
  expect(new Set([...page1.items, ...page2.items].map((d) => d.deadLetterId)).size).toBe(150);
  expect(page2.nextCursor).toBeNull();

  const { status, body: detail } = await get<DeadLetterDetail>(`/v1/dead-letters/${failing.items[0]!.deadLetterId}`);
  expect(status).toBe(200);
  expect(detail.command).toMatchObject({ jobId, profileId: FAILING, operation: 'keyword.setBid', attempt: 1, replayGeneration: 0 });
  expect(detail.attempts.map((a) => a.outcome)).toEqual(['transient', 'transient', 'transient']);
  expect(detail.source.topic).toBe(p.producer.topics.itemCommands.name);
  const someoneElse = await api.auth('someone-else');
  expect((await get(`/v1/dead-letters/${detail.deadLetterId}`, someoneElse)).status).toBe(404);
  expect((await get<{ items: unknown[] }>(`/v1/dead-letters?jobId=${jobId}`, someoneElse)).body.items).toEqual([]);

  // What an operator pages on: dead letters by reason, jobs by status, projection freshness.
  const metrics = await (await fetch(`${api.url}/metrics`)).text();
  expect(metrics).toContain('sluice_dead_letters{status="open",error_kind="http500",reason="RETRIES_EXHAUSTED"} 50');
  expect(metrics).toContain(`sluice_dead_letters{status="open",error_kind="${invalid[0]!.errorKind}",reason="${invalidReason}"} 100`);
  expect(metrics).toContain('sluice_jobs{status="completed_with_errors"} 1');
  expect(metrics).toContain('sluice_jobs_stalled 0');
  expect(Number(metrics.match(/^sluice_projection_last_write_age_seconds (\S+)$/m)?.[1])).toBeLessThan(60);
  // The projector's own: what it projected, and its lag per partition, caught up now (a
  // transaction marker may leave 1).
  const projected = await (await fetch(projector!.metricsUrl)).text();
  expect(Number(projected.match(/^sluice_projector_records_total\{topic_role="dlq"\} (\d+)$/m)?.[1])).toBe(150);
  expect(Number(projected.match(/^sluice_projector_records_total\{topic_role="itemResults"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(1000);
  const lags = [...projected.matchAll(/^sluice_projector_consumer_lag\{group="[^"]+",topic="([^"]+)",partition="\d+"\} (\d+)$/gm)];
  expect(new Set(lags.map((l) => l[1]))).toEqual(new Set([p.producer.topics.jobEvents.name, p.producer.topics.itemResults.name, p.producer.topics.dlq.name]));
  expect(Math.max(...lags.map((l) => Number(l[2])))).toBeLessThanOrEqual(1);

  const cli = await runSluice(['dlq', 'ls', '--tenant', 't1', '--job', jobId, '--reason', 'RETRIES_EXHAUSTED', '--limit', '500'], processEnv(p.config));
  expect(cli.code).toBe(0);
  expect(cli.stdout).toContain('50\thttp500\tRETRIES_EXHAUSTED');
  expect(cli.stdout.split('\n').filter((l) => l.includes(`\t${jobId}\t`))).toHaveLength(50);
}, 60_000);

it('a dry run, and a patch that does not fit, produce nothing', async () => {
  const before = await committedEndOffsets(p.reader.admin, p.producer.topics);
  const dry = await runSluice(['dlq', 'replay', '--tenant', 't1', '--job', jobId, '--dry-run'], processEnv(p.config));
  expect(dry.code).toBe(0);
  expect(dry.stdout).toContain('150 dead letter(s) selected; would replay 150');
  expect(dry.stdout).toContain(`${jobId}\t${FAILING}\tRETRIES_EXHAUSTED\t50`);
  expect(dry.stdout).toContain(`${jobId}\t${P0}\t${invalidReason}\t50`);

  const badPatch = await postReplay({ filter: { jobId, reason: invalidReason }, patch: { bid: -1 } });
  expect(badPatch.status).toBe(400);
  expect(badPatch.body).toMatchObject({ error: 'invalid_patch', errorCount: 100 });
  expect(String(badPatch.body.message)).toMatch(/dead letter [0-9a-f-]{36}: payload\.bid: must be greater than 0/);
  const unknownField = await runSluice(['dlq', 'replay', '--tenant', 't1', '--job', jobId, '--patch', '{"bidd":1}'], processEnv(p.config));
  expect(unknownField.code).toBe(1);
  expect(unknownField.stderr).toMatch(/payload: Unrecognized key.*bidd/);
  expect((await runSluice(['dlq', 'replay', '--tenant', 't1', '--job', jobId, '--patch', '{bid:'], processEnv(p.config))).stderr).toContain('--patch: not JSON');

  expect(await committedEndOffsets(p.reader.admin, p.producer.topics)).toEqual(before);
  const { body } = await get<{ items: DeadLetterSummary[] }>(`/v1/dead-letters?jobId=${jobId}&status=open&limit=500`);
  expect(body.items).toHaveLength(150);
}, 60_000);

it('replayed from two shells at once and again over HTTP: each item sent once, all resolved with the patched bids, counts agree', async () => {
  await p.sim.admin.setKnobs({ profileFaults: { [FAILING]: { http500: 0 } } }); // the cause is fixed

  const env = processEnv(p.config);
  const invalidGroup = ['dlq', 'replay', '--tenant', 't1', '--job', jobId, '--reason', invalidReason, '--patch', JSON.stringify({ bid: PATCHED_BID }), '--no-wait', '--by', 'shell'];
  const shells = await Promise.all([runSluice(invalidGroup, env), runSluice(invalidGroup, env)]);
  const sent = shells.map((s) => Number(s.stdout.match(/replayed (\d+)/)?.[1] ?? NaN));
  expect(sent.reduce((a, b) => a + b, 0)).toBe(100); // whichever shell won each item, none twice

  const exhaustedGroup = await runSluice(['dlq', 'replay', '--tenant', 't1', '--job', jobId, '--reason', 'RETRIES_EXHAUSTED', '--rate', String(RATE)], env);
  expect(exhaustedGroup.stdout).toContain('resolved: 50, failed again: 0');
  expect(exhaustedGroup.code).toBe(0);

  const again = await postReplay({ filter: { jobId } });
  expect(again.status).toBe(409);
  expect(again.body).toMatchObject({ error: 'nothing_to_replay', selected: 150, replayed: 0 });
  // Each replay is in the audit log, from the shells and over HTTP, with who and how it ended.
  const audited = (await p.producer.audit.query({ tenantId: 't1', action: 'dead_letters.replay', limit: 100 })).filter((a) => a.detail?.dryRun === false && a.outcome !== 'invalid');
  const rows = audited.map((a) => [a.actor, a.source, a.outcome]);
  expect(rows).toHaveLength(4);
  expect(rows.filter((r) => r[0] === 'cli:shell')).toHaveLength(2); // a shell that won nothing is there as refused
  expect(rows).toContainEqual(['cli:shell', 'cli', 'ok']);
  expect(rows).toContainEqual([cliActor(), 'cli', 'ok']);
  expect(rows).toContainEqual(['token:test-admin', '127.0.0.1', 'refused']);

  const progress = await waitForJob(jobId, (j) => j.status === 'completed');
  expect(progress.counts).toMatchObject({ succeeded: 1000, deadLettered: 0, failed: 0, pending: 0, retrying: 0 });
  const { body: letters } = await get<{ items: DeadLetterSummary[] }>(`/v1/dead-letters?jobId=${jobId}&limit=500`);
  expect(letters.items.map((d) => d.status)).toEqual(Array(150).fill('resolved'));
  const { body: detail } = await get<DeadLetterDetail>(`/v1/dead-letters/${letters.items[0]!.deadLetterId}`);
  expect(detail.replayedBy).not.toBeNull();

  const records = await replayedCommands();
  const commands = records.map((r) => r.value);
  expect(commands).toHaveLength(150);
  // --rate: the 50 went out in chunks of 3 (a tenth of a second's worth) at 25 items/s.
  const paced = records.filter((r) => r.value.profileId === FAILING).map((r) => r.timestamp);
  // (less a margin: the first chunk is stamped after its claims were written, the bucket started before)
  expect(Math.max(...paced) - Math.min(...paced)).toBeGreaterThanOrEqual(((50 - 3) / RATE) * 1000 * 0.75);
  expect(new Set(commands.map((c) => c.itemId)).size).toBe(150);
  expect(commands.every((c) => c.attempt === 1 && c.replayGeneration === 1)).toBe(true);

  for (const profileId of [P0, P1]) {
    const keywords = await p.sim.admin.entities<Keyword>(profileId, 'keywords');
    const byId = new Map(keywords.map((k) => [k.keywordId, k.bid]));
    for (let i = 0; i < PER_PROFILE; i++) expect(byId.get(generatedEntityId(profileId, 'keywords', i))).toBe(isInvalid(i) ? PATCHED_BID : 1 + (i % 40) / 10);
  }
  const failing = await p.sim.admin.entities<Keyword>(FAILING, 'keywords');
  const expected = keywordUpdates(FAILING, 50).map((u) => [u.payload.keywordId, u.payload.bid]);
  expect(failing.map((k) => [k.keywordId, k.bid]).sort()).toEqual(expected.sort());
}, 120_000);

it("refuses to replay a cancelled job's items, saying why", async () => {
  // One item dead-lettered, one held by a throttled profile: the job is still running when
  // it is cancelled (a job whose items have all ended takes no cancel).
  await p.sim.admin.setKnobs({ profileFaults: { [P1]: { stickyThrottle: true } } });
  const cancelled = await p.submit([
    { profileId: P0, payload: { keywordId: generatedEntityId(P0, 'keywords', 0), bid: INVALID_BID } },
    { profileId: P1, payload: { keywordId: generatedEntityId(P1, 'keywords', 0), bid: 1 } },
  ]);
  await waitForJob(cancelled, (j) => j.counts.deadLettered === 1);
  expect(await p.producer.control.control({ tenantId: 't1', jobId: cancelled, action: 'cancel' })).toMatchObject({ type: 'applied' });
  // The throttle stays until the cancel has reached the executor: lifted at once, the held
  // item's next try could beat the cancel there and succeed (seen in a loaded CI run).
  await waitForJob(cancelled, (j) => j.status === 'cancelled');
  await p.sim.admin.setKnobs({ profileFaults: { [P1]: { stickyThrottle: false } } });
  const before = await committedEndOffsets(p.reader.admin, p.producer.topics);
  const refused = await postReplay({ filter: { jobId: cancelled }, patch: { bid: PATCHED_BID } });
  expect(refused.status).toBe(409);
  expect(refused.body.message).toBe(`nothing replayed: job ${cancelled} is cancelled: its items are not replayed (1)`);
  const cli = await runSluice(['dlq', 'replay', '--tenant', 't1', '--job', cancelled], processEnv(p.config));
  expect(cli.code).toBe(1);
  expect(cli.stdout).toContain(`skipped 1: job ${cancelled} is cancelled`);
  // The refusals produced nothing.
  expect(await committedEndOffsets(p.reader.admin, p.producer.topics)).toEqual(before);
}, 120_000);

it('a rebuild from the topics reproduces the replayed state row for row', async () => {
  await projector!.close();
  projector = undefined;
  const pool = createPool({ url: p.config.database.url, max: 1 });
  try {
    const before = await projectionSnapshot(pool);
    const replays = before.replays as { item_count: string; requested_by: string }[];
    expect(replays.reduce((sum, r) => sum + Number(r.item_count), 0)).toBe(150); // a shell that won nothing recorded nothing
    expect(new Set(replays.map((r) => r.requested_by))).toEqual(new Set(['cli:shell', cliActor()]));
    expect(before.dead_letters!.filter((d) => (d as { status: string }).status === 'resolved')).toHaveLength(150);
    await projectorGroupEmpty(p.reader.admin, projectorGroup(p.config));
    const rebuild = await runSluice(['projections', 'rebuild'], processEnv(p.config));
    expect(rebuild.code).toBe(0);
    expect(snapshotDifferences(before, await projectionSnapshot(pool))).toEqual([]);
  } finally {
    await pool.end();
  }
}, 60_000);
