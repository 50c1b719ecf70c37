// No silent loss to retention (issue 15 point 5). Commands an executor still had to run
// are removed from item-commands (the broker's DeleteRecords moves the log start exactly
// as retention does, without waiting for the broker's retention check): every item whose
// command is gone ends `expired`, with the reason, counted on its job, and the gap is
// counted and logged by the executor; items whose commands are still there, or that were
// done before, are untouched. Before, kafkajs moved the executor to the log start without
// a word and those items stayed pending for ever (their jobs never ended).
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProjectorRuntime, projectorGroup, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import type { ControlAction } from '../../../src/domain/job-control.js';
import { readJobProgress, type JobProgress } from '../../../src/projections/job-progress.js';
import { projectionMetrics } from '../../../src/projections/projection-metrics.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { until } from '../../helpers/api-world.js';
import { startTestExecutor } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { projectionSnapshot, snapshotDifferences, projectorGroupEmpty } from '../../helpers/projection-snapshot.js';
import { testLogger } from '../../helpers/services.js';
import { processEnv, runSluice } from '../../helpers/sluice-process.js';
import { readTopic } from '../../helpers/topic-reader.js';

const profile = (i: number) => generatedProfileId('NA', i);
const PER_PROFILE = 1_200;
// Bids no generated keyword starts at, so an update that ran shows.
const bidOf = (k: number) => 7 + k / 1000;

let p: TestPipeline;
let projector: ProjectorRuntime | undefined;
let pool: Pool;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 4 }, entitiesPerProfile: { keywords: PER_PROFILE, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 200, burst: 50 }, latency: { p50Ms: 2, p99Ms: 10 } },
    // One partition: the test knows every command's offset. Lanes keep 200 records each.
    env: { SLUICE_ITEM_PARTITIONS: '1', SLUICE_PROFILE_RATE: '100', SLUICE_MAX_BATCH_SIZE: '50', SLUICE_LANE_READ_AHEAD: '200', SLUICE_RETENTION_CHECK_MS: '300' },
    startExecutor: false,
  });
  projector = await openProjectorRuntime(p.config, testLogger());
  pool = createPool({ url: p.config.database.url, max: 2 });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await projector?.close();
  await p?.close();
});

const topic = () => p.producer.topics.itemCommands.name;

async function control(jobId: string, action: ControlAction): Promise<void> {
  expect((await p.producer.control.control({ tenantId: 't1', jobId, action })).type).toBe('applied');
}

async function progress(jobId: string): Promise<JobProgress> {
  return (await readJobProgress(pool, 't1', jobId))!;
}

async function finished(jobId: string, timeoutMs = 60_000): Promise<JobProgress> {
  let last: JobProgress | undefined;
  await until(
    `job ${jobId} ends`,
    async () => {
      last = await progress(jobId);
      return last !== undefined && ['completed', 'completed_with_errors', 'cancelled'].includes(last.status);
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen: ${JSON.stringify(last)}`);
  });
  return last!;
}

/** The offset of every command of the job on the test's one partition, by item index. */
async function commandOffsets(jobId: string): Promise<Map<number, number>> {
  const records = await readTopic(p.reader.kafka, p.reader.serde, p.producer.topics, 'itemCommands', { idleMs: 1_000 });
  return new Map(records.filter((r) => r.value.jobId === jobId).map((r) => [r.value.index, r.offset]));
}

async function deleteBelow(offset: number): Promise<void> {
  await p.reader.admin.fetchTopicMetadata({ topics: [topic()] }); // kafkajs finds the leader from it
  await p.reader.admin.deleteTopicRecords({ topic: topic(), partitions: [{ partition: 0, offset: String(offset) }] });
}

async function itemStatuses(jobId: string): Promise<Map<number, { status: string; reason: string | null; message: string | null }>> {
  const { rows } = await pool.query<{ item_index: string; status: string; last_error_reason: string | null; last_error_message: string | null }>(
    `SELECT item_index, status, last_error_reason, last_error_message FROM job_items WHERE job_id = $1`,
    [jobId],
  );
  return new Map(rows.map((r) => [Number(r.item_index), { status: r.status, reason: r.last_error_reason, message: r.last_error_message }]));
}

async function gapsCounted(): Promise<number> {
  const metric = await p.executor!.metrics.registry.getSingleMetric('sluice_executor_command_gaps_total')!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

describe('commands removed below the offset the group committed', () => {
  it('the items whose commands are gone end expired, the others run, the job ends', async () => {
    // A first job gives the group a commit; then the executor is down while job A is
    // submitted, and the first half of A's commands is removed.
    const warmUp = await p.submit(keywordUpdates(profile(3), 10));
    p.executor = await startTestExecutor(p.config);
    expect((await finished(warmUp)).status).toBe('completed');
    await p.executor.close();
    p.executor = undefined;

    const a = await p.submit([...keywordUpdates(profile(0), 400, bidOf), ...keywordUpdates(profile(1), 400, bidOf)]);
    const offsets = await commandOffsets(a);
    expect(offsets.size).toBe(800);
    const sorted = [...offsets.values()].sort((x, y) => x - y);
    const cut = sorted[400]!;
    await deleteBelow(cut);
    const gone = new Set([...offsets].filter(([, offset]) => offset < cut).map(([index]) => index));
    expect(gone.size).toBe(400);

    p.executor = await startTestExecutor(p.config);
    const final = await finished(a);
    expect(final.status).toBe('completed_with_errors');
    expect(final.counts).toMatchObject({ expired: 400, succeeded: 400, pending: 0 });
    const statuses = await itemStatuses(a);
    for (let index = 0; index < 800; index++) {
      const item = statuses.get(index);
      if (gone.has(index)) {
        expect(item).toMatchObject({ status: 'expired', reason: 'COMMAND_EXPIRED' });
        expect(item!.message).toContain(`${topic()} partition 0`);
      } else expect(item?.status).toBe('succeeded');
    }
    // Only the commands still there reached the API.
    for (const [k, id] of [0, 1].map((i) => [i, profile(i)] as const)) {
      const keywords = new Map((await p.sim.admin.entities<Keyword>(id, 'keywords')).map((kw) => [kw.keywordId, kw.bid]));
      for (let i = 0; i < 400; i++) {
        const index = k * 400 + i;
        const bid = keywords.get(generatedEntityId(id, 'keywords', i));
        if (gone.has(index)) expect(bid).not.toBe(bidOf(i));
        else expect(bid).toBe(bidOf(i));
      }
    }
    expect(await gapsCounted()).toBe(1);
  }, 120_000);
});

describe("a paused job's commands, waiting in Kafka, removed by retention", () => {
  it('the paused items end expired; the running job beside it, done before, is untouched; resuming runs nothing', async () => {
    // Paused before any executor reads it (a running executor might run a few of its items first).
    await p.executor!.close();
    const paused = await p.submit(keywordUpdates(profile(2), PER_PROFILE, bidOf));
    await control(paused, 'pause');
    const running = await p.submit(keywordUpdates(profile(3), 300, (k) => 3 + k / 1000));
    p.executor = await startTestExecutor(p.config);
    expect((await finished(running)).status).toBe('completed');
    // The paused lane gives its items back to Kafka once it has held them a while.
    const givenBack = p.executor!.metrics.registry.getSingleMetric('sluice_executor_items_given_back_total')!;
    await until('the paused lane gives its items back', async () => ((await givenBack.get()).values[0]?.value ?? 0) >= 200, 30_000);
    const gapsBefore = await gapsCounted();

    const { high } = (await p.reader.admin.fetchTopicOffsets(topic()))[0]!;
    await deleteBelow(Number(high));
    await until('the executor finds the gap', async () => (await gapsCounted()) > gapsBefore, 30_000);
    const final = await finished(paused);
    expect(final.status).toBe('completed_with_errors');
    expect(final.counts).toMatchObject({ expired: PER_PROFILE, succeeded: 0, pending: 0 });
    const after = await progress(running);
    expect(after.counts).toMatchObject({ succeeded: 300, expired: 0 });

    await p.producer.control.control({ tenantId: 't1', jobId: paused, action: 'resume' }); // an ended job may refuse it: either way nothing runs
    await new Promise((r) => setTimeout(r, 1_500));
    const bids = new Map((await p.sim.admin.entities<Keyword>(profile(2), 'keywords')).map((k) => [k.keywordId, k.bid]));
    for (let i = 0; i < PER_PROFILE; i++) expect(bids.get(generatedEntityId(profile(2), 'keywords', i))).not.toBe(bidOf(i));
    expect(p.outcomes.terminalByItem(paused).size).toBe(0);
  }, 120_000);
});

describe('replayed commands removed before they ran', () => {
  it('the replayed items end expired in their new generation, and their dead letters can be replayed again', async () => {
    const job = await p.submit(keywordUpdates(profile(1), 20, () => 5_000)); // above the US maximum: dead-lettered
    expect((await finished(job)).counts).toMatchObject({ deadLettered: 20 });
    await until('the dead letters are projected', async () => (await pool.query(`SELECT 1 FROM dead_letters WHERE job_id = $1`, [job])).rowCount === 20, 30_000);
    await p.executor!.close(); // the replayed commands wait unread
    p.executor = undefined;
    const replay = await p.producer.replayer.replay({ tenantId: 't1', filter: { jobId: job }, patch: { bid: 2.5 } });
    expect(replay).toMatchObject({ type: 'replayed', replayed: 20 });
    await until('the replay is projected', async () => (await progress(job)).counts.pending === 20, 30_000);
    const { high } = (await p.reader.admin.fetchTopicOffsets(topic()))[0]!;
    await deleteBelow(Number(high));

    p.executor = await startTestExecutor(p.config);
    const final = await finished(job);
    expect(final.counts).toMatchObject({ expired: 20, deadLettered: 0, pending: 0 });
    const { rows } = await pool.query<{ status: string; replay_generation: number }>(`SELECT status, replay_generation FROM job_items WHERE job_id = $1`, [job]);
    expect(rows.every((r) => r.status === 'expired' && r.replay_generation === 1)).toBe(true);
    const bids = new Map((await p.sim.admin.entities<Keyword>(profile(1), 'keywords')).map((k) => [k.keywordId, k.bid]));
    for (let i = 0; i < 20; i++) expect(bids.get(generatedEntityId(profile(1), 'keywords', i))).not.toBe(2.5);
    const letters = await pool.query<{ status: string }>(`SELECT status FROM dead_letters WHERE job_id = $1`, [job]);
    expect(letters.rows.map((d) => d.status)).toEqual(Array.from({ length: 20 }, () => 'failed_again'));
  }, 90_000);
});

describe('retention, set and watched', () => {
  it('every topic is created with its retention said: commands for SLUICE_COMMAND_RETENTION_MS, history for ever, control compacted', async () => {
    const topics = p.producer.topics;
    const { resources } = await p.reader.admin.describeConfigs({
      includeSynonyms: false,
      resources: Object.values(topics).map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name, configNames: ['retention.ms', 'cleanup.policy'] })),
    });
    const configOf = (name: string) => Object.fromEntries(resources.find((r) => r.resourceName === name)!.configEntries.map((c) => [c.configName, c.configValue]));
    expect(configOf(topics.itemCommands.name)['retention.ms']).toBe(String(p.config.kafka.commandRetentionMs));
    for (const t of [topics.jobEvents, topics.itemResults, topics.dlq]) expect(configOf(t.name)['retention.ms']).toBe('-1');
    expect(configOf(topics.jobControl.name)['cleanup.policy']).toBe('compact');
  });

  it('a job paused longer than the bound is flagged on its progress and in the metrics, before its commands can expire', async () => {
    await p.executor?.close(); // no executor: the job stays paused (it would finish first)
    p.executor = undefined;
    const job = await p.submit(keywordUpdates(profile(1), 5));
    await control(job, 'pause');
    await until('the pause is projected', async () => (await progress(job)).status === 'paused', 30_000);
    const fresh = (await readJobProgress(pool, 't1', job, { pauseWarnMs: 60_000 }))!;
    expect(fresh).toMatchObject({ pauseOverdue: false });
    expect(Date.parse(fresh.pausedSince!)).toBeGreaterThan(Date.now() - 60_000);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await readJobProgress(pool, 't1', job, { pauseWarnMs: 1_000 })).toMatchObject({ pauseOverdue: true });
    const overdue = async (pauseWarnMs: number) => (await projectionMetrics(pool, { pauseWarnMs }).getSingleMetric('sluice_jobs_paused_overdue')!.get()).values[0]!.value;
    expect(await overdue(1_000)).toBe(1);
    expect(await overdue(60_000)).toBe(0);
    // Resumed, it is neither paused nor overdue.
    await control(job, 'resume');
    await until('the resume is projected', async () => (await progress(job)).status !== 'paused', 30_000);
    expect(await readJobProgress(pool, 't1', job, { pauseWarnMs: 1_000 })).toMatchObject({ pausedSince: null, pauseOverdue: false });
    expect(await overdue(1_000)).toBe(0);
  }, 60_000);
});

describe('a rebuild from the topics', () => {
  it('reproduces the expired items row for row, whatever order it reads the job events in', async () => {
    await p.executor?.close();
    p.executor = undefined;
    await projector!.close();
    projector = undefined;
    const before = await projectionSnapshot(pool);
    expect((before.job_items as { status: string }[]).filter((i) => i.status === 'expired')).toHaveLength(400 + PER_PROFILE + 20);
    await projectorGroupEmpty(p.reader.admin, projectorGroup(p.config));
    const rebuild = await runSluice(['projections', 'rebuild'], processEnv(p.config));
    expect(rebuild.code).toBe(0);
    const after = await projectionSnapshot(pool);
    expect(snapshotDifferences(before, after)).toEqual([]);
  }, 60_000);
});
