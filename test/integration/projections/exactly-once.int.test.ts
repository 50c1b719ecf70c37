// Exactly once in Postgres: a job with failing items runs while the projector process is
// killed (-9) several times and duplicates of result events are injected; in the end the
// job's counters equal its items' statuses, each item's status is its last outcome on
// Kafka, every dead letter is there once, and the simulator agrees. Then
// `sluice projections rebuild` replays the topics into fresh tables that are identical.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectorGroup } from '../../../src/app/projector-runtime.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import { statusOf } from '../../../src/projections/item-transitions.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { processEnv, startSluiceProcess, type SluiceProcess } from '../../helpers/sluice-process.js';
import { projectionSnapshot, snapshotDifferences } from '../../helpers/projection-snapshot.js';

const PROFILES = Array.from({ length: 40 }, (_, i) => generatedProfileId('NA', i));
const PER_PROFILE = 250;
const KEYWORDS = 240; // items 240..249 of each profile name keywords that do not exist
const ITEMS = PROFILES.length * PER_PROFILE;
let p: TestPipeline;
let pool: Pool;
let projector: SluiceProcess | undefined;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: PROFILES.length }, entitiesPerProfile: { keywords: KEYWORDS, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 5, burst: 5 }, faults: { http500: 0.05 } },
    env: { SLUICE_PROFILE_RATE: '5', SLUICE_MAX_BATCH_SIZE: '10', SLUICE_RETRY_BASE_MS: '50', SLUICE_MAX_ATTEMPTS: '20' },
  });
  pool = createPool({ url: p.config.database.url });
});
afterAll(async () => {
  await projector?.kill();
  await pool?.end();
  await p?.close();
});

const startProjector = () => startSluiceProcess(['projector'], { ...processEnv(p.config), SLUICE_SESSION_TIMEOUT_MS: '6000' }, /Sluice projector running/);

async function injectDuplicates(count: number) {
  const producer = p.reader.kafka.producer();
  await producer.connect();
  const sample = p.outcomes.results.slice(0, count);
  for (let i = 0; i < sample.length; i += 500) {
    await producer.send({ topic: p.producer.topics.itemResults.name, messages: sample.slice(i, i + 500).map((r) => ({ key: r.jobId, value: p.reader.serde.encode('itemResults', r) })) });
  }
  await producer.disconnect();
  return sample.length;
}

it('counts every item once through projector kills and duplicated events', async () => {
  projector = await startProjector();
  const jobId = await p.submit(PROFILES.flatMap((id) => keywordUpdates(id, PER_PROFILE, (i) => 1 + i / 1000)));
  for (let kill = 0; kill < 3; kill++) {
    await new Promise((r) => setTimeout(r, 700 + Math.random() * 1_500));
    await projector.kill();
    if (kill === 1) expect(await injectDuplicates(2_000)).toBeGreaterThan(0);
    projector = await startProjector();
  }
  const terminal = await p.outcomes.waitForTerminal(jobId, ITEMS, 120_000);
  await injectDuplicates(ITEMS);
  // The truth on Kafka: each item's terminal outcome (the executor writes exactly one).
  const truth = new Map([...terminal.values()].map((rs) => [rs[0]!.index, statusOf(rs[0]!)]));

  // Wait until the projection has caught up with every result on Kafka.
  const deadline = Date.now() + 60_000;
  let job: Record<string, string> | undefined;
  for (;;) {
    job = (await pool.query(`SELECT * FROM jobs WHERE job_id = $1`, [jobId])).rows[0];
    if (job && ['completed', 'completed_with_errors'].includes(job.status!)) break;
    if (Date.now() > deadline) throw new Error(`job not projected to its end: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const byStatus = Object.fromEntries((await pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM job_items WHERE job_id = $1 GROUP BY status`, [jobId])).rows.map((r) => [r.status, Number(r.n)]));
  const missing = PROFILES.length * (PER_PROFILE - KEYWORDS);
  expect(byStatus).toEqual({ succeeded: ITEMS - missing, dead_lettered: missing });
  expect(job).toMatchObject({ status: 'completed_with_errors', total_items: String(ITEMS), succeeded_items: String(ITEMS - missing), dead_lettered_items: String(missing), failed_items: '0', retrying_items: '0', pending_items: '0' });

  const items = (await pool.query<{ item_index: string; status: string }>(`SELECT item_index, status FROM job_items WHERE job_id = $1`, [jobId])).rows;
  expect(items).toHaveLength(ITEMS);
  expect(items.filter((i) => truth.get(Number(i.item_index)) !== i.status)).toEqual([]);

  const letters = await pool.query<{ n: string; distinct_items: string }>(`SELECT count(*) AS n, count(DISTINCT item_index) AS distinct_items FROM dead_letters WHERE job_id = $1`, [jobId]);
  expect(letters.rows[0]).toEqual({ n: String(missing), distinct_items: String(missing) });

  const offsets = await pool.query(`SELECT count(*) AS n FROM projection_offsets WHERE consumer_group = $1`, [projectorGroup(p.config)]);
  expect(Number(offsets.rows[0].n)).toBeGreaterThan(0);

  // The simulator's truth: every existing keyword at its bid.
  for (const profileId of PROFILES.slice(0, 5)) {
    const state = new Map((await p.sim.admin.entities<Keyword>(profileId, 'keywords')).map((k) => [k.keywordId, k.bid]));
    for (let i = 0; i < KEYWORDS; i++) expect(state.get(generatedEntityId(profileId, 'keywords', i))).toBe(1 + i / 1000);
  }
});

/**
 * Until the live projector has stored a position at the end of every partition it reads
 * and stopped moving: a job reads completed while the duplicated events after its last
 * result are still being projected (no row changes, but the stored offsets do). "The end"
 * is the high watermark less a trailing commit marker; a partition whose last transaction
 * was aborted (its records and marker are never delivered) ends earlier, so a position
 * that has not moved for several seconds counts as the end too: were the projector stuck
 * short of its last records, the rebuild below would differ from the live tables.
 */
async function projectedToTheEnd(): Promise<void> {
  const topics = [p.producer.topics.jobEvents.name, p.producer.topics.itemResults.name, p.producer.topics.dlq.name];
  const STILL_POLLS = 5;
  const deadline = Date.now() + 90_000;
  let last = '';
  let still = 0;
  for (;;) {
    const stored = new Map((await pool.query<{ topic: string; partition: number; next_offset: string }>('SELECT topic, partition, next_offset FROM projection_offsets WHERE consumer_group = $1', [projectorGroup(p.config)])).rows.map((r) => [`${r.topic}/${r.partition}`, Number(r.next_offset)]));
    const behind: string[] = [];
    for (const topic of topics) {
      for (const { partition, high } of await p.reader.admin.fetchTopicOffsets(topic)) {
        const at = stored.get(`${topic}/${partition}`) ?? 0;
        if (Number(high) > 0 && at < Number(high) - 1) behind.push(`${topic}/${partition} at ${at} of ${high}`);
      }
    }
    const now = JSON.stringify([...stored].sort());
    still = now === last ? still + 1 : 0;
    if (still > 0 && (behind.length === 0 || still >= STILL_POLLS)) return;
    if (Date.now() > deadline) throw new Error(`the projector did not reach the end of its topics: ${behind.join(', ')}`);
    last = now;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

it('rebuilds tables identical to the live ones from the topics', async () => {
  await projectedToTheEnd();
  await projector?.kill();
  projector = undefined;
  const before = await projectionSnapshot(pool);
  expect(before.job_items!.length).toBe(ITEMS);
  const admin = p.reader.admin;
  for (let tries = 0; tries < 100; tries++) {
    const { groups } = await admin.describeGroups([projectorGroup(p.config)]);
    if ((groups[0]?.members.length ?? 0) === 0) break; // the killed member's session has expired
    await new Promise((r) => setTimeout(r, 200));
  }
  const rebuild = await startSluiceProcess(['projections', 'rebuild'], processEnv(p.config), /(rebuilt from \d+ records)/);
  expect(await rebuild.stop('SIGCONT')).toBe(0); // SIGCONT changes nothing: this waits for its own exit
  expect(snapshotDifferences(before, await projectionSnapshot(pool))).toEqual([]);
  const replaced = await pool.query(`SELECT table_schema FROM information_schema.tables WHERE table_schema LIKE 'replaced_%' AND table_name = 'jobs'`);
  expect(replaced.rowCount).toBe(1); // the tables read above are the rebuilt ones; the old ones were moved aside
});
