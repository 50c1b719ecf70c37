// Putting a bulk job's items on a baseline's queue(s), in bulk, the way each library's
// documentation recommends for large volumes.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { PgBoss } from 'pg-boss';
import { profileQueueName, type BaselineJob, type BaselineSpec } from './spec.js';

export interface Enqueuer {
  add(jobs: BaselineJob[]): Promise<void>;
  /** Removes the queue(s) and everything left in them. */
  close(): Promise<void>;
}

export function openEnqueuer(spec: BaselineSpec, urls: { redis: string; database: string }): Promise<Enqueuer> {
  return spec.kind === 'bullmq' ? bullmqEnqueuer(spec, urls.redis) : pgbossEnqueuer(spec, urls.database);
}

/** BullMQ's bulk add, completed jobs removed (its advice for large volumes); with per-profile limits, into each profile's queue. */
async function bullmqEnqueuer(spec: BaselineSpec, redisUrl: string): Promise<Enqueuer> {
  // One connection shared by every Queue object (they issue no blocking commands).
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const { attempts, delayMs, exponential } = spec.retry;
  const queues = new Map<string, Queue<BaselineJob>>();
  const queueFor = (profileId: string) => {
    const name = spec.perProfile ? profileQueueName(spec, profileId) : spec.queue;
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue<BaselineJob>(name, { connection, defaultJobOptions: { removeOnComplete: true, removeOnFail: 1_000, attempts, backoff: { type: exponential ? 'exponential' : 'fixed', delay: delayMs } } });
      queues.set(name, queue);
    }
    return queue;
  };
  return {
    async add(jobs) {
      const byQueue = new Map<Queue<BaselineJob>, BaselineJob[]>();
      for (const job of jobs) {
        const queue = queueFor(job.profileId);
        const queued = byQueue.get(queue);
        if (queued) queued.push(job);
        else byQueue.set(queue, [job]);
      }
      await Promise.all([...byQueue].map(([queue, its]) => queue.addBulk(its.map((data) => ({ name: 'item', data })))));
    },
    async close() {
      for (const queue of queues.values()) {
        await queue.obliterate({ force: true });
        await queue.close();
      }
      connection.disconnect();
    },
  };
}

/**
 * pg-boss's bulk insert into a queue of its own. With per-profile limits each job is
 * deferred (startAfter) to its profile's next free slot at the allowed rate and carries
 * its profile as its group, so the worker can run one job per profile at a time.
 */
async function pgbossEnqueuer(spec: BaselineSpec, databaseUrl: string): Promise<Enqueuer> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 4 });
  boss.on('error', (error: Error) => console.error(`pg-boss: ${error.message}`));
  await boss.start();
  const { attempts, delayMs, exponential } = spec.retry;
  // pg-boss counts retry delays in whole seconds.
  await boss.createQueue(spec.queue, { retryLimit: attempts - 1, retryDelay: Math.ceil(delayMs / 1000), retryBackoff: exponential });
  let startedAt = 0; // the first add's time: slots count from when the items start arriving
  const slots = new Map<string, number>();
  const paced = (job: BaselineJob) => {
    const slot = slots.get(job.profileId) ?? 0;
    slots.set(job.profileId, slot + 1);
    return { data: job, group: { id: job.profileId }, startAfter: new Date(startedAt + (slot * 1000) / spec.perProfile!.ratePerSecond) };
  };
  return {
    add: async (jobs) => {
      startedAt ||= Date.now();
      await boss.insert(spec.queue, jobs.map((job) => (spec.perProfile ? paced(job) : { data: job })));
    },
    close: async () => {
      await boss.deleteQueue(spec.queue);
      await boss.stop({ graceful: false });
    },
  };
}
