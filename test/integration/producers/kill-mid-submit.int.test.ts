// Guarantee 1 under kill -9: an api process killed while it reads a large NDJSON upload,
// or while it produces the job's transaction, leaves no committed event of that job; a
// retry with the same Idempotency-Key then produces the whole job exactly once.
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProducerRuntime, type ProducerRuntime } from '../../../src/app/producer-runtime.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { startApiProcess, type ApiProcess } from '../../helpers/api-process.js';
import { bearer, openKafkaReader, type KafkaReader } from '../../helpers/api.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';
import { readTopic, committedEndOffsets } from '../../helpers/topic-reader.js';

// Long enough that the retry below (a fresh api, then 150,000 items validated before the key
// is looked up) comes while the killed attempt's reservation is not stale yet, on a loaded machine.
const TXN_TIMEOUT_MS = 12_000;
const config = testConfig({ SLUICE_SUBMIT_TRANSACTION_TIMEOUT_MS: String(TXN_TIMEOUT_MS) });
const ITEMS = 150_000;
let db: TestDatabase;
let runtime: ProducerRuntime;
let reader: KafkaReader;
const running: ApiProcess[] = [];
let auth: { authorization: string };

const body = Array.from({ length: ITEMS }, (_, i) => {
  const profileId = generatedProfileId('NA', i % 300);
  return JSON.stringify({ profileId, operation: 'keyword.setBid', payload: { keywordId: generatedEntityId(profileId, 'keywords', i), bid: 0.5 + (i % 7) / 10 } });
}).join('\n');

beforeAll(async () => {
  db = await createTestDatabase(config);
  runtime = await openProducerRuntime(config, testLogger()); // topics, schemas, migrations
  reader = await openKafkaReader(config, runtime);
  auth = await bearer(runtime.tokens, 't1');
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await reader?.close();
  await runtime?.close();
  await db?.drop();
});

async function api(): Promise<ApiProcess> {
  const p = await startApiProcess(config, { SLUICE_SUBMIT_TRANSACTION_TIMEOUT_MS: String(TXN_TIMEOUT_MS), SLUICE_LOG_LEVEL: 'debug' });
  running.push(p);
  return p;
}

function post(url: string, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  return fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...auth, ...headers }, body }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
}

it('killed mid-upload: nothing reaches Kafka at all', async () => {
  const before = await committedEndOffsets(reader.admin, runtime.topics);
  const p = await api();
  const { port, hostname } = new URL(p.url);
  const req = request({ host: hostname, port, path: '/v1/jobs', method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...auth } });
  req.on('error', () => undefined); // the server dies under it
  const lines = body.split('\n');
  for (let chunk = 0; chunk < 5; chunk++) {
    req.write(`${lines.slice(chunk * 5_000, (chunk + 1) * 5_000).join('\n')}\n`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await p.kill();
  req.destroy();
  expect(await committedEndOffsets(reader.admin, runtime.topics)).toEqual(before);
});

it('killed mid-produce: no committed event of the job; the same key then submits it exactly once', async () => {
  const key = { 'idempotency-key': 'kill-me-mid-produce' };
  const p = await api();
  const response = post(p.url, key).catch((error: Error) => error);
  const producing = await p.waitForLog(/"msg":"producing job"/);
  const jobId = JSON.parse(producing).jobId as string;
  // Kill once the api says item records are being written inside the open transaction.
  await p.waitForLog(/"produced":(2\d|[3-9]\d|1\d\d)\d{3},.*"msg":"producing items"/);
  await p.kill();
  expect(await response).toBeInstanceOf(Error); // the client never heard of the job

  // A retry while the dead attempt might still commit is refused.
  const restarted = await api();
  expect((await post(restarted.url, key)).status).toBe(409);

  const committed = async () => ({
    events: (await readTopic(reader.kafka, reader.serde, runtime.topics, 'jobEvents', { idleMs: 2_000 })).filter((e) => e.value.jobId === jobId),
    items: (await readTopic(reader.kafka, reader.serde, runtime.topics, 'itemCommands', { idleMs: 2_000 })).filter((c) => c.value.jobId === jobId),
  });
  const afterKill = await committed();
  expect(afterKill.events).toEqual([]);
  expect(afterKill.items).toEqual([]);
  // The killed attempt did write records of the job; read-committed consumers never see them.
  const written = (await readTopic(reader.kafka, reader.serde, runtime.topics, 'itemCommands', { readUncommitted: true })).filter((c) => c.value.jobId === jobId);
  expect(written.length).toBeGreaterThan(0);
  expect(written.length).toBeLessThan(ITEMS);

  // Once its transaction has timed out, the job is taken over under the same job id.
  let retry = await post(restarted.url, key);
  for (const deadline = Date.now() + 45_000; retry.status === 409 && Date.now() < deadline; retry = await post(restarted.url, key)) {
    await new Promise((r) => setTimeout(r, 1_000));
  }
  expect(retry, JSON.stringify(retry.json)).toMatchObject({ status: 202, json: { jobId, itemCount: ITEMS, duplicate: false } });

  const final = await committed();
  // The job's first event, then where each send's commands landed: the taken-over
  // transaction's placements only (the killed one's were aborted with it).
  const kinds = final.events.map((e) => Object.keys(e.value.event)[0]);
  expect(kinds[0]).toBe('sluice.JobSubmitted');
  expect(new Set(kinds.slice(1))).toEqual(new Set(['sluice.CommandsPlaced']));
  const placed = final.events.flatMap((e) => ('sluice.CommandsPlaced' in e.value.event ? e.value.event['sluice.CommandsPlaced'].placements : []));
  expect(placed.reduce((n, pl) => n + pl.indexes.length, 0)).toBe(ITEMS);
  expect(final.items).toHaveLength(ITEMS);
  expect(new Set(final.items.map((c) => c.value.index)).size).toBe(ITEMS);
}, 240_000);
