// Throughput against the job queues a user would pick instead (issue 9): the same bulk
// job, 200,000 bid updates over 1,000 profiles against a simulator at a fixed 20 ms
// latency and no rate limits, run through Sluice (executor and projector processes, the
// job projected in Postgres), through BullMQ on the machine's Redis and through pg-boss
// on its Postgres. Each baseline runs as its documentation recommends: one queue job per
// item, enqueued in bulk, a worker process with a concurrency of 256 (Sluice's HTTP
// connections per host), each job calling the simulator and storing its result in
// Postgres. Items/s from the first enqueue to the last result stored; CPU-seconds per
// 1,000 items for the contender's own processes and for the shared infrastructure.
import { Queue } from 'bullmq';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgBoss } from 'pg-boss';
import type { Config } from '../../src/config.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { alternate, median, type Scenario } from '../harness.js';
import type { BaselineJob } from '../support/baselines/worker.js';
import { startChildServer } from '../support/child-server.js';
import { cpuSecondsSince, infraCpuSeconds, processCpuSeconds } from '../support/cpu.js';
import { benchProfiles, interleavedBidUpdates, runPipeline } from '../support/pipeline-run.js';
import { ensureStack } from '../support/stack.js';

const PROFILES = 1_000;
const PER_PROFILE = 200;
const ITEMS = PROFILES * PER_PROFILE;
const CONCURRENCY = 256;
const ENQUEUE_CHUNK = 1_000;
const REDIS_URL = 'redis://127.0.0.1:6379';
const ROOT = join(import.meta.dirname, '..', '..');
const SIMULATOR = { profiles: benchProfiles(PROFILES, PER_PROFILE), generate: { profilesPerRegion: 0 }, rateLimit: { ratePerSecond: 1e6, burst: 1e6 }, latency: { p50Ms: 20, p99Ms: 20 } };

interface Sample {
  itemsPerS: number;
  cpuPerK: number;
  infraCpuPerK: number;
}

export const throughputScenario: Scenario = {
  name: 'throughput',
  description: `${ITEMS.toLocaleString()} items over ${PROFILES} profiles, 20 ms API latency: Sluice vs BullMQ vs pg-boss`,
  async run(runs) {
    const stack = await ensureStack();
    const pool = createPool({ url: stack.database.url, max: 2 });
    await pool.query(`CREATE TABLE IF NOT EXISTS bench_results (run_id text, item_index int, status text, latency_ms int, stored_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, item_index))`);
    try {
      const samples = await alternate(runs, {
        sluice: () => sluiceRun(stack),
        bullmq: () => baselineRun(stack, pool, 'bullmq'),
        pgboss: () => baselineRun(stack, pool, 'pgboss'),
      });
      const m = (name: keyof typeof samples, key: keyof Sample) => median(samples[name].map((s) => s[key]));
      const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
      return {
        metrics: {
          sluice_items_per_s: Math.round(m('sluice', 'itemsPerS')),
          bullmq_items_per_s: Math.round(m('bullmq', 'itemsPerS')),
          pgboss_items_per_s: Math.round(m('pgboss', 'itemsPerS')),
          sluice_cpu_s_per_1k: round(m('sluice', 'cpuPerK')),
          bullmq_cpu_s_per_1k: round(m('bullmq', 'cpuPerK')),
          pgboss_cpu_s_per_1k: round(m('pgboss', 'cpuPerK')),
          sluice_infra_cpu_s_per_1k: round(m('sluice', 'infraCpuPerK')),
          bullmq_infra_cpu_s_per_1k: round(m('bullmq', 'infraCpuPerK')),
          pgboss_infra_cpu_s_per_1k: round(m('pgboss', 'infraCpuPerK')),
        },
        ratios: {
          sluice_vs_bullmq_items_per_s: round(m('sluice', 'itemsPerS') / m('bullmq', 'itemsPerS')),
          sluice_vs_pgboss_items_per_s: round(m('sluice', 'itemsPerS') / m('pgboss', 'itemsPerS')),
          sluice_vs_bullmq_total_cpu: round((m('sluice', 'cpuPerK') + m('sluice', 'infraCpuPerK')) / (m('bullmq', 'cpuPerK') + m('bullmq', 'infraCpuPerK'))),
          sluice_vs_pgboss_total_cpu: round((m('sluice', 'cpuPerK') + m('sluice', 'infraCpuPerK')) / (m('pgboss', 'cpuPerK') + m('pgboss', 'infraCpuPerK'))),
        },
      };
    } finally {
      await pool.end();
    }
  },
};

async function sluiceRun(stack: Config): Promise<Sample> {
  const r = await runPipeline({
    stack,
    label: 'throughput',
    partitions: 12,
    project: true,
    simulator: SIMULATOR,
    executorEnv: { SLUICE_PROFILE_RATE: '1000000' },
    itemCount: ITEMS,
    items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
  });
  const seconds = r.projected!.makespanS;
  return report('sluice', { itemsPerS: ITEMS / seconds, cpuPerK: (r.cpuSeconds.sluice / ITEMS) * 1000, infraCpuPerK: (r.cpuSeconds.infra / ITEMS) * 1000 }, seconds);
}

async function baselineRun(stack: Config, pool: Pool, kind: 'bullmq' | 'pgboss'): Promise<Sample> {
  const runId = `${kind}-${Date.now().toString(36)}`;
  const simConfig = join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'simulator.json');
  writeFileSync(simConfig, JSON.stringify({ updateLogLimit: 0, ...SIMULATOR }));
  const sim = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'simulator', '--port', '0', '--config', simConfig]);
  const env = { ...process.env, ADS_API_URL: sim.url, DATABASE_URL: stack.database.url, REDIS_URL, SLUICE_LOG_LEVEL: 'warn' };
  const queue = runId;
  const enqueue = kind === 'bullmq' ? await bullmqEnqueuer(queue) : await pgbossEnqueuer(stack.database.url, queue);
  const worker = await startChildServer(['--import', 'tsx', join(ROOT, 'bench', 'support', 'baselines', 'worker.ts'), kind, queue, String(CONCURRENCY)], /(ready)/, env);
  try {
    const cpuBefore = { worker: await processCpuSeconds(worker.child.pid!), infra: await infraCpuSeconds() };
    const started = Date.now();
    const enqueueCpu = process.cpuUsage();
    let batch: BaselineJob[] = [];
    let index = 0;
    for (const item of interleavedBidUpdates(PROFILES, PER_PROFILE) as Iterable<{ profileId: string; payload: unknown }>) {
      batch.push({ runId, index: index++, profileId: item.profileId, operation: 'keyword.setBid', payload: item.payload });
      if (batch.length === ENQUEUE_CHUNK) {
        await enqueue.add(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await enqueue.add(batch);
    const enqueueCpuS = cpuSecondsSince(enqueueCpu);
    for (;;) {
      const { rows } = await pool.query<{ n: number; last: Date | null }>(`SELECT count(*)::int AS n, max(stored_at) AS last FROM bench_results WHERE run_id = $1`, [runId]);
      if (rows[0]!.n >= ITEMS) {
        const seconds = (rows[0]!.last!.getTime() - started) / 1000;
        const cpu = enqueueCpuS + (await processCpuSeconds(worker.child.pid!)) - cpuBefore.worker;
        const infra = (await infraCpuSeconds()) - cpuBefore.infra;
        return report(kind, { itemsPerS: ITEMS / seconds, cpuPerK: (cpu / ITEMS) * 1000, infraCpuPerK: (infra / ITEMS) * 1000 }, seconds);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await worker.stop();
    await enqueue.close();
    await sim.stop();
    await pool.query(`DELETE FROM bench_results WHERE run_id = $1`, [runId]);
  }
}

interface Enqueuer {
  add(jobs: BaselineJob[]): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ's bulk add, with completed jobs removed (its production advice for large volumes). */
async function bullmqEnqueuer(name: string): Promise<Enqueuer> {
  const queue = new Queue<BaselineJob>(name, { connection: { host: '127.0.0.1', port: 6379 }, defaultJobOptions: { removeOnComplete: true, removeOnFail: 1_000, attempts: 5, backoff: { type: 'exponential', delay: 500 } } });
  return {
    add: async (jobs) => void (await queue.addBulk(jobs.map((data) => ({ name: 'item', data })))),
    close: async () => {
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

/** pg-boss's bulk insert into a queue of its own. */
async function pgbossEnqueuer(databaseUrl: string, name: string): Promise<Enqueuer> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 4 });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  await boss.createQueue(name, { retryLimit: 5, retryBackoff: true });
  return {
    add: async (jobs) => void (await boss.insert(name, jobs.map((data) => ({ data })))),
    close: async () => {
      await boss.deleteQueue(name);
      await boss.stop({ graceful: false });
    },
  };
}

function report(name: string, sample: Sample, seconds: number): Sample {
  console.error(`bench: throughput ${name}: ${sample.itemsPerS.toFixed(0)} items/s (${seconds.toFixed(1)} s), CPU ${sample.cpuPerK.toFixed(3)} s/1k items own + ${sample.infraCpuPerK.toFixed(3)} infrastructure`);
  return sample;
}
