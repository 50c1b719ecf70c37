// One job per Idempotency-Key even when the commit's answer is lost (issue 16 point 3),
// against the real broker, through a client whose connections are cut or slowed at the
// Kafka protocol level (the socket factory sees each request's API key):
// - the connection dies right after EndTxn reaches the broker, and every retry of it is
//   cut too: the transaction committed, the submitter saw only an error. Before, it
//   released the key, so the repeat made a second job and the first had no row;
// - two submitters race: a slow original is taken over when its reservation goes stale,
//   and fails (fenced) while the taker is still producing. Before, its release deleted
//   the taker's row, so the job the taker committed answered pause with 404;
// - no commit-marker group outlives the answer it holds (issue 19 point 6): before, every
//   job left a consumer group of its own, showing lag 1 forever.
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProducerRuntime, type ProducerRuntime } from '../../../src/app/producer-runtime.js';
import type { Config } from '../../../src/config.js';
import { valueItems } from '../../../src/producers/item-sources.js';
import { createJobSubmitter, type JobSubmitter } from '../../../src/producers/job-submitter.js';
import { commitMarkerGroup } from '../../../src/producers/job-transaction.js';
import type { SubmittedJobs } from '../../../src/db/submitted-jobs.js';
import { openKafkaReader, type KafkaReader } from '../../helpers/api.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';
import { readTopic } from '../../helpers/topic-reader.js';

const API_PRODUCE = 0;
const API_END_TXN = 26;
const TXN_TIMEOUT_MS = 3_000; // a reservation is stale after 3 s + 5 s
let config: Config;
let runtime: ProducerRuntime;
let reader: KafkaReader;
let db: TestDatabase;

beforeAll(async () => {
  config = testConfig();
  db = await createTestDatabase(config);
  runtime = await openProducerRuntime(config, testLogger());
  reader = await openKafkaReader(config, runtime);
});
afterAll(async () => {
  await reader?.close();
  await runtime?.close();
  await db?.drop();
});

type Write = (chunk: Buffer) => void;

/** A Kafka client whose every request passes through `intercept` (by API key) on its way to the broker. */
function interceptedKafka(intercept: (apiKey: number, chunk: Buffer, write: Write, socket: net.Socket) => void): Kafka {
  return new Kafka({
    clientId: 'lost-commit-test',
    brokers: config.kafka.brokers,
    retry: { retries: 2, initialRetryTime: 100 },
    logLevel: logLevel.NOTHING,
    socketFactory: ({ host, port, onConnect }) => {
      const socket = net.connect({ host, port }, onConnect);
      const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
      socket.write = ((chunk: Buffer) => {
        if (Buffer.isBuffer(chunk) && chunk.length >= 6) intercept(chunk.readInt16BE(4), chunk, (c) => void write(c), socket);
        else write(chunk);
        return true;
      }) as net.Socket['write'];
      return socket;
    },
  });
}

function submitterOver(kafka: Kafka, transactionTimeoutMs = TXN_TIMEOUT_MS, jobs: SubmittedJobs = runtime.jobs): JobSubmitter {
  return createJobSubmitter({ kafka, admin: reader.admin, serde: reader.serde, topics: runtime.topics, catalogue: runtime.catalogue, jobs, markers: runtime.markers, tenantProfiles: runtime.tenantProfiles, limits: runtime.limits, produceBatchSize: 500, transactionTimeoutMs, logger: testLogger() });
}

/** The commit-marker groups still in the cluster for this file's topics. */
async function markerGroups(): Promise<string[]> {
  const prefix = commitMarkerGroup(runtime.topics, '');
  return (await reader.admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
}

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ profileId: '1000000000001', payload: { keywordId: String(i + 1), bid: 1 } }));
const request = (idempotencyKey: string) => ({ tenantId: 'lost', operation: 'keyword.setBid', idempotencyKey });

async function committedJobs(): Promise<string[]> {
  const events = await readTopic(reader.kafka, reader.serde, runtime.topics, 'jobEvents');
  return events.filter((e) => 'sluice.JobSubmitted' in e.value.event && e.value.tenantId === 'lost').map((e) => e.value.jobId);
}

it('a commit whose answer is lost still makes exactly one job, and the repeat returns it', async () => {
  let cutSince: number | undefined;
  const cutting = interceptedKafka((apiKey, chunk, write, socket) => {
    if (apiKey !== API_END_TXN) return write(chunk);
    if (cutSince === undefined) {
      // The broker gets the commit; the answer never comes back.
      cutSince = Date.now();
      socket.removeAllListeners('data'); // whatever the broker answers is never read
      write(chunk);
      setTimeout(() => socket.destroy(new Error('connection cut after EndTxn')), 500);
      return;
    }
    if (Date.now() - cutSince < 10_000) socket.destroy(new Error('connection cut at EndTxn')); // and no retry of it gets through
    else write(chunk);
  });
  const first = await submitterOver(cutting, 20_000).submitJob(request('cut-at-commit'), valueItems(items(50)));
  expect(cutSince).toBeDefined();
  expect(first).toMatchObject({ type: 'accepted', itemCount: 50 });
  const jobId = (first as { jobId: string }).jobId;

  const repeat = await runtime.submitter.submitJob(request('cut-at-commit'), valueItems(items(50)));
  expect(repeat).toEqual({ type: 'duplicate', jobId, itemCount: 50 });
  expect(await runtime.control.control({ tenantId: 'lost', jobId, action: 'pause' })).toMatchObject({ type: 'applied', state: 'PAUSED' });
  expect((await committedJobs()).filter((id) => id === jobId)).toHaveLength(1);
});

it('an original taken over mid-produce leaves the taker its job: one job, controllable', async () => {
  const before = new Set(await committedJobs());
  // The original's produce requests reach the broker 9.5 s late, after its reservation went
  // stale (8 s) and the taker fenced it; each of the taker's own produce requests is held
  // 0.4 s (some 1.6 s in all, well within its 3 s transaction timeout on a loaded machine),
  // so it is still under way when the original fails.
  const slow = (delayMs: number) => interceptedKafka((apiKey, chunk, write) => (apiKey === API_PRODUCE ? void setTimeout(() => write(chunk), delayMs) : write(chunk)));
  const original = submitterOver(slow(9_500)).submitJob(request('race'), valueItems(items(20)));
  const failedOriginal = original.then(
    (r) => ({ ok: true as const, r }),
    (error: Error) => ({ ok: false as const, error }),
  );
  await new Promise((r) => setTimeout(r, 8_500));
  const taker = await submitterOver(slow(400)).submitJob(request('race'), valueItems(items(20)));
  expect(taker).toMatchObject({ type: 'accepted', itemCount: 20 });
  const jobId = (taker as { jobId: string }).jobId;
  expect(await failedOriginal).toMatchObject({ ok: false });

  expect(await runtime.control.control({ tenantId: 'lost', jobId, action: 'pause' })).toMatchObject({ type: 'applied', state: 'PAUSED' });
  expect(await runtime.submitter.submitJob(request('race'), valueItems(items(20)))).toEqual({ type: 'duplicate', jobId, itemCount: 20 });
  expect((await committedJobs()).filter((id) => !before.has(id))).toEqual([jobId]);
}, 60_000);

it('leaves no consumer group per job behind: a marker is dropped once Postgres records the commit, and one a dead submitter left is swept', async () => {
  // The jobs above (one of them through a lost commit answer) left none.
  expect(await markerGroups()).toEqual([]);
  // A submitter that dies between its commit and recording it: Postgres refuses the record.
  const dying: SubmittedJobs = { ...runtime.jobs, markCommitted: () => Promise.reject(new Error('the submitter died here')) };
  await expect(submitterOver(reader.kafka, TXN_TIMEOUT_MS, dying).submitJob(request('dies-after-commit'), valueItems(items(10)))).rejects.toThrow(/died here/);
  const [left] = await markerGroups();
  expect(left).toBeDefined();
  const jobId = left!.slice(commitMarkerGroup(runtime.topics, '').length);
  expect((await runtime.jobs.find('lost', jobId))?.submission).toBe('pending');

  expect(await runtime.markers.sweep()).toBe(1);
  expect(await markerGroups()).toEqual([]);
  // The sweep recorded what the marker said: the repeat answers with the job, not a second one.
  expect((await runtime.jobs.find('lost', jobId))?.submission).toBe('committed');
  expect(await runtime.submitter.submitJob(request('dies-after-commit'), valueItems(items(10)))).toEqual({ type: 'duplicate', jobId, itemCount: 10 });
  expect((await committedJobs()).filter((id) => id === jobId)).toHaveLength(1);
});

it('a sweep that records a lost commit first (and drops its marker) still leaves the submitter its answer: accepted, one job', async () => {
  let cutSince: number | undefined;
  let swept: Promise<number> | undefined;
  const cutting = interceptedKafka((apiKey, chunk, write, socket) => {
    if (apiKey !== API_END_TXN) return write(chunk);
    if (cutSince === undefined) {
      // The commit reaches the broker, its answer is lost, and the api's sweep runs before
      // the submitter asks what became of it: the marker is gone when it looks.
      cutSince = Date.now();
      socket.removeAllListeners('data');
      write(chunk);
      swept = new Promise((r) => setTimeout(r, 500)).then(() => runtime.markers.sweep());
      void swept.finally(() => socket.destroy(new Error('connection cut after EndTxn')));
      return;
    }
    if (Date.now() - cutSince < 10_000) socket.destroy(new Error('connection cut at EndTxn'));
    else write(chunk);
  });
  const first = await submitterOver(cutting, 20_000).submitJob(request('swept-first'), valueItems(items(30)));
  expect(await swept).toBe(1);
  expect(first).toMatchObject({ type: 'accepted', itemCount: 30 });
  const jobId = (first as { jobId: string }).jobId;
  expect(await markerGroups()).toEqual([]);
  expect(await runtime.submitter.submitJob(request('swept-first'), valueItems(items(30)))).toEqual({ type: 'duplicate', jobId, itemCount: 30 });
  expect((await committedJobs()).filter((id) => id === jobId)).toHaveLength(1);
}, 60_000);
