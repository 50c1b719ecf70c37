// A baseline's worker process, as its documentation recommends: one queue job per item,
// a concurrency setting for I/O-bound work, each job calling the Ads API (the same
// simulator, through the same client Sluice uses, one entity per call) and storing its
// result in Postgres. Prints "ready" once it takes jobs; runs until killed.
//   tsx worker.ts bullmq|pgboss QUEUE CONCURRENCY
// Environment: ADS_API_URL (the simulator), DATABASE_URL, REDIS_URL.
import { Worker } from 'bullmq';
import { PgBoss } from 'pg-boss';
import { configuredAdsApiClient } from '../../../src/app/executor-runtime.js';
import { loadConfig } from '../../../src/config.js';
import { createPool } from '../../../src/db/pool.js';

export interface BaselineJob {
  runId: string;
  index: number;
  profileId: string;
  operation: string;
  payload: unknown;
}

const [kind, queue, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const config = loadConfig(process.env);
const api = configuredAdsApiClient(config);
const pool = createPool({ url: config.database.url, max: 20, applicationName: `bench-${kind}` });

async function run(job: BaselineJob): Promise<void> {
  const result = await api.execute({ profileId: job.profileId, items: [{ operation: job.operation, payload: job.payload }] });
  const outcome = result.type === 'answered' ? result.items[0]! : result;
  const status = outcome.type === 'succeeded' ? 'succeeded' : 'failed';
  await pool.query(`INSERT INTO bench_results (run_id, item_index, status, latency_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [job.runId, job.index, status, result.latencyMs]);
  // A job that throws is retried by the queue, as both document for transient failures.
  if (outcome.type === 'failed' && outcome.error.name !== 'Permanent') throw outcome.error;
}

if (kind === 'bullmq') {
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const worker = new Worker<BaselineJob>(queue!, (job) => run(job.data), { connection: { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null }, concurrency });
  await worker.waitUntilReady();
} else if (kind === 'pgboss') {
  const boss = new PgBoss({ connectionString: config.database.url, max: 10 });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  // Workers that each fetch a batch and run it concurrently: localConcurrency × batchSize in flight.
  const batchSize = 32;
  await boss.work<BaselineJob>(queue!, { batchSize, localConcurrency: Math.max(1, Math.round(concurrency / batchSize)), pollingIntervalSeconds: 0.5, burstWhenBatchFull: true }, (jobs) => Promise.all(jobs.map((j) => run(j.data))));
} else {
  throw new Error(`unknown baseline ${kind}`);
}
console.log('ready');
