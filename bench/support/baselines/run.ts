// Runs one bulk job through a baseline (BullMQ or pg-boss): a simulator process, the
// items enqueued in bulk from this process, a worker process taking them; done when
// the worker has stored every item's result row in Postgres. Reports the makespan (first enqueue to the
// last row stored), the CPU spent, and what the simulator counted.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../src/config.js';
import { createPool } from '../../../src/db/pool.js';
import { SimulatorAdmin } from '../../../src/simulator/admin-client.js';
import type { SimulatorConfigInput } from '../../../src/simulator/config.js';
import type { CountersSnapshot } from '../../../src/simulator/counters.js';
import { alternate } from '../../harness.js';
import { startChildServer, waitForOutput } from '../child-server.js';
import { cpuSecondsSince, infraCpuSeconds, processCpuSeconds } from '../cpu.js';
import { openEnqueuer } from './enqueue.js';
import type { BaselineJob, BaselineKind, BaselineSpec } from './spec.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const REDIS_URL = 'redis://127.0.0.1:6379';
const ENQUEUE_CHUNK = 1_000;

export interface BaselineRunOptions {
  stack: Config;
  spec: Omit<BaselineSpec, 'queue' | 'itemCount'>;
  simulator: SimulatorConfigInput;
  items: () => Iterable<unknown>;
  itemCount: number;
}

export interface BaselineRun {
  makespanS: number;
  /** Items whose result row says failed (out of attempts or failed for good). */
  failed: number;
  /** CPU seconds over the run: enqueuing plus the worker process, and the JVMs', Postgres's and Redis's. */
  cpuSeconds: { own: number; infra: number };
  counters: CountersSnapshot;
}

/**
 * Sluice and the two baselines, each once per round, in turn, for `runs` rounds, each
 * starting on a vacuumed database: every contender leaves dead rows behind (a queue's
 * finished jobs, the result rows deleted after a run, Sluice's updated projections), and
 * with autovacuum off or slow (it is off on the machine these figures come from) the
 * next contender would scan them.
 */
export function alternateWithBaselines<T>(runs: number, databaseUrl: string, sluice: () => Promise<T>, baseline: (kind: BaselineKind) => Promise<T>) {
  return alternate(runs, { sluice, bullmq: () => baseline('bullmq'), pgboss: () => baseline('pgboss') }, () => vacuum(databaseUrl));
}

async function vacuum(databaseUrl: string): Promise<void> {
  const pool = createPool({ url: databaseUrl, max: 1 });
  try {
    await pool.query('VACUUM');
  } finally {
    await pool.end();
  }
}

export async function runBaseline(o: BaselineRunOptions): Promise<BaselineRun> {
  const runId = `${o.spec.kind}-${Date.now().toString(36)}`;
  const spec: BaselineSpec = { ...o.spec, queue: runId, itemCount: o.itemCount };
  const pool = createPool({ url: o.stack.database.url, max: 1 });
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_results (run_id text, item_index int, status text, latency_ms int, stored_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run_id, item_index))`);
  const simConfig = join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'simulator.json');
  writeFileSync(simConfig, JSON.stringify({ updateLogLimit: 0, ...o.simulator }));
  const sim = await startChildServer([join(ROOT, 'bin', 'sluice.js'), 'simulator', '--port', '0', '--config', simConfig]);
  const env = { ...process.env, ADS_API_URL: sim.url, DATABASE_URL: o.stack.database.url, REDIS_URL, SLUICE_LOG_LEVEL: 'warn' };
  const enqueuer = await openEnqueuer(spec, { redis: REDIS_URL, database: o.stack.database.url });
  const worker = await startChildServer(['--import', 'tsx', join(ROOT, 'bench', 'support', 'baselines', 'worker.ts'), JSON.stringify(spec)], /(ready)/, env);
  try {
    const finished = waitForOutput(worker.child, /^finished$/m);
    finished.catch(() => undefined); // awaited below; if the run fails first, the worker's exit must not crash the bench
    const admin = new SimulatorAdmin(sim.url);
    await admin.resetCounters();
    const cpuBefore = { worker: await processCpuSeconds(worker.child.pid!), infra: await infraCpuSeconds() };
    const started = Date.now();
    const enqueueCpu = process.cpuUsage();
    let batch: BaselineJob[] = [];
    let index = 0;
    for (const item of o.items() as Iterable<{ profileId: string; payload: unknown }>) {
      batch.push({ runId, index: index++, profileId: item.profileId, operation: 'keyword.setBid', payload: item.payload });
      if (batch.length === ENQUEUE_CHUNK) {
        await enqueuer.add(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await enqueuer.add(batch);
    const enqueueCpuS = cpuSecondsSince(enqueueCpu);
    await finished;
    const cpuSeconds = { own: enqueueCpuS + (await processCpuSeconds(worker.child.pid!)) - cpuBefore.worker, infra: (await infraCpuSeconds()) - cpuBefore.infra };
    const { rows } = await pool.query<{ n: number; failed: number; last: Date }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'failed')::int AS failed, max(stored_at) AS last FROM bench_results WHERE run_id = $1`,
      [runId],
    );
    if (rows[0]!.n !== o.itemCount) throw new Error(`${spec.kind} worker said finished with ${rows[0]!.n} of ${o.itemCount} result rows`);
    return { makespanS: (rows[0]!.last.getTime() - started) / 1000, failed: rows[0]!.failed, cpuSeconds, counters: await admin.counters() };
  } finally {
    await worker.stop();
    await enqueuer.close();
    await sim.stop();
    await pool.query(`DELETE FROM bench_results WHERE run_id = $1`, [runId]);
    await pool.end();
  }
}
