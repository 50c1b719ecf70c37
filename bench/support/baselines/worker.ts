// A baseline's worker process, as its documentation recommends: one queue job per item,
// a concurrency setting for I/O-bound work, each job calling the Ads API (the same
// simulator, through the same client Sluice uses, one entity per call) and storing its
// result in Postgres once the item is finished. Prints "ready" once it takes jobs and
// "finished" once every item of the job has its row; runs until killed.
//   tsx worker.ts SPEC_JSON          (a BaselineSpec)
// Environment: ADS_API_URL (the simulator), DATABASE_URL, REDIS_URL.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { PgBoss, type Job } from 'pg-boss';
import { configuredAdsApiClient } from '../../../src/app/ads-api-client.js';
import { loadConfig } from '../../../src/config.js';
import { createPool } from '../../../src/db/pool.js';
import { Throttled } from '../../../src/domain/errors.js';
import { profileQueueName, type BaselineJob, type BaselineSpec } from './spec.js';

const spec = JSON.parse(process.argv[2]!) as BaselineSpec;
const config = loadConfig(process.env);
const api = configuredAdsApiClient(config);
const pool = createPool({ url: config.database.url, max: 20, applicationName: `bench-${spec.kind}` });

type Attempt = { finished: true } | { finished: false; error: Error };

// Rows stored by this process (the only one storing this run's rows), so the bench learns
// the job is done without counting the table while it is being measured.
let stored = 0;

/**
 * One attempt at an item. Its result row is stored once the item is finished: it
 * succeeded, failed for good, or this was its last attempt; otherwise the queue retries it.
 */
async function attempt(job: BaselineJob, lastAttempt: boolean): Promise<Attempt> {
  const result = await api.execute({ profileId: job.profileId, items: [{ operation: job.operation, payload: job.payload }] });
  const outcome = result.type === 'answered' ? result.items[0]! : result;
  if (outcome.type === 'failed' && outcome.error.name !== 'Permanent' && !lastAttempt) return { finished: false, error: outcome.error };
  const status = outcome.type === 'succeeded' ? 'succeeded' : 'failed';
  const inserted = await pool.query(`INSERT INTO bench_results (run_id, item_index, status, latency_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [job.runId, job.index, status, result.latencyMs]);
  stored += inserted.rowCount ?? 0;
  if (stored === spec.itemCount) console.log('finished');
  return { finished: true };
}

/**
 * BullMQ: a worker on the queue, or with per-profile limits one per profile's queue with
 * its limiter at the API's rate. A 429 rate-limits that queue for a second (or the
 * Retry-After) and puts the job back without spending an attempt: BullMQ's manual
 * rate-limit, as its guide shows for an API answering 429.
 */
async function runBullmq(redisUrl: string): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const limiter = spec.perProfile ? { max: spec.perProfile.ratePerSecond, duration: 1000 } : undefined;
  const names = spec.perProfile ? spec.perProfile.profiles.map((p) => profileQueueName(spec, p)) : [spec.queue];
  for (const name of names) {
    const queue = new Queue<BaselineJob>(name, { connection });
    const worker = new Worker<BaselineJob>(
      name,
      async (job) => {
        const done = await attempt(job.data, job.attemptsMade + 1 >= spec.retry.attempts);
        if (done.finished) return;
        if (done.error instanceof Throttled) {
          await queue.rateLimit(done.error.retryAfterMs ?? 1000);
          throw Worker.RateLimitError();
        }
        throw done.error;
      },
      { connection, concurrency: spec.concurrency, limiter },
    );
    await worker.waitUntilReady();
  }
}

/**
 * pg-boss: workers that each fetch a batch and run it concurrently (localConcurrency ×
 * batchSize in flight), settling each job on its own; with per-profile limits at most
 * one job of a profile runs at a time (its group). A job that failed is retried by pg-boss
 * after the queue's retry delay.
 */
async function runPgboss(): Promise<void> {
  const boss = new PgBoss({ connectionString: config.database.url, max: 10 });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  const batchSize = 32;
  const settle = async (job: Job<BaselineJob>) => {
    const done = await attempt(job.data, job.retryCount + 1 >= spec.retry.attempts);
    return { id: job.id, status: done.finished ? ('completed' as const) : ('failed' as const) };
  };
  await boss.work<BaselineJob>(
    spec.queue,
    {
      batchSize,
      localConcurrency: Math.max(1, Math.round(spec.concurrency / batchSize)),
      pollingIntervalSeconds: 0.5,
      burstWhenBatchFull: true,
      perJobResults: true,
      ...(spec.perProfile ? { localGroupConcurrency: 1 } : {}),
    },
    (jobs) => Promise.all(jobs.map(settle)),
  );
}

if (spec.kind === 'bullmq') await runBullmq(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
else if (spec.kind === 'pgboss') await runPgboss();
else throw new Error(`unknown baseline ${String(spec.kind)}`);
console.log('ready');
