// `sluice run` (api, executor and projector in one process, as a real child process against
// the real stack and the simulator over HTTP): a job submitted over its API runs to the
// end and is projected; one port serves every part's metrics and readiness; SIGTERM stops
// it cleanly (exit 0, nothing of the job lost). /readyz of an executor process says which
// service it lost, and /healthz stays 200 meanwhile (a restart would not help).
import { createServer, request as httpRequest, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProducerRuntime, type ProducerRuntime } from '../../../src/app/producer-runtime.js';
import { createPool } from '../../../src/db/pool.js';
import { generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { bearer } from '../../helpers/api.js';
import { keywordUpdates } from '../../helpers/pipeline.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';
import { startExecutorProcess, startSluiceProcess, processEnv, type SluiceProcess } from '../../helpers/sluice-process.js';
import { startTestSimulator, type TestSimulator } from '../../helpers/simulator.js';

const config = testConfig({ SLUICE_ITEM_PARTITIONS: '4' });
const PROFILES = [0, 1, 2, 3].map((i) => generatedProfileId('NA', i));
let db: TestDatabase;
let sim: TestSimulator;
let producer: ProducerRuntime;
const running: SluiceProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase(config);
  sim = await startTestSimulator({ generate: { profilesPerRegion: 0 }, profiles: PROFILES.map((profileId) => ({ profileId, region: 'NA' as const, keywords: 250, campaigns: 1, targets: 0 })) });
  producer = await openProducerRuntime(config, testLogger()); // topics, schemas, migrations; a token to submit with
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.kill()));
  await producer?.close();
  await sim?.close();
  await db?.drop();
});

async function untilReady(url: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(url);
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status === 200) return body;
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('runs a job end to end in one process, serves every part on one port, and stops cleanly on SIGTERM', async () => {
  const run = await startSluiceProcess(['run', '--port', '0'], { ...processEnv(config), ADS_API_URL: sim.sim.url, SLUICE_MAX_BATCH_SIZE: '50' }, /API on (http:\/\/\S+) /);
  running.push(run);
  const url = run.ready;
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  const ready = await untilReady(`${url}/readyz`);
  expect(Object.keys(ready.checks as object).sort()).toEqual(['group ' + config.executor.groupId, `group ${config.kafka.topicPrefix}projector`, 'kafka', 'postgres', 'schema-registry'].sort());

  const auth = await bearer(producer.tokens, 't1');
  const items = PROFILES.flatMap((profileId) => keywordUpdates(profileId, 250, (i) => 3 + i / 1000));
  const submitted = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ operation: 'keyword.setBid', items }) });
  expect(submitted.status).toBe(202);
  const { jobId } = (await submitted.json()) as { jobId: string };
  const deadline = Date.now() + 60_000;
  let job: { status: string; counts: { succeeded: number } } | undefined;
  while (Date.now() < deadline) {
    job = (await (await fetch(`${url}/v1/jobs/${jobId}`, { headers: auth })).json()) as typeof job;
    if (job?.status === 'completed') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(job).toMatchObject({ status: 'completed', counts: { succeeded: 1_000 } });
  for (const profileId of PROFILES) {
    const keywords = await sim.admin.entities<Keyword>(profileId, 'keywords');
    expect(keywords.map((k) => k.bid)).toEqual(keywords.map((_, i) => 3 + i / 1000));
  }

  // One /metrics: the api's, the executor's and the projector's series together.
  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(metrics).toMatch(/^sluice_executor_\w+/m);
  expect(metrics).toMatch(/^sluice_projector_\w+/m);
  expect(metrics).toMatch(/^sluice_api_requests_total/m);

  expect(await run.stop('SIGTERM')).toBe(0);
  expect(run.logs()).toMatch(/stopping: the API first/);
  const pool = createPool({ url: config.database.url, max: 1 });
  try {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM job_items WHERE job_id = $1 AND status = $2', [jobId, 'succeeded']);
    expect(Number(rows[0]!.n)).toBe(1_000);
  } finally {
    await pool.end();
  }
});

it("an executor's /readyz names the service it lost (503) while /healthz stays 200", async () => {
  // A gate in front of the real registry that the test can shut.
  const target = new URL(config.registry.url);
  let open = true;
  const gate: Server = createServer((req, res) => {
    if (!open) return void res.writeHead(503).end();
    const upstream = httpRequest({ host: target.hostname, port: target.port, path: `${target.pathname.replace(/\/$/, '')}${req.url}`, method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  try {
    const executor = await startExecutorProcess(config, sim.sim.url, { SCHEMA_REGISTRY_URL: `http://127.0.0.1:${(gate.address() as { port: number }).port}` });
    running.push(executor);
    const base = executor.ready.replace(/\/metrics$/, '');
    const ready = await untilReady(`${base}/readyz`);
    expect(ready).toMatchObject({ ready: true, checks: { kafka: 'ok', 'schema-registry': 'ok', [`group ${config.executor.groupId}`]: 'ok' } });
    open = false;
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, checks: { kafka: 'ok', 'schema-registry': 'GET /subjects answered 503' } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  } finally {
    await new Promise<void>((resolve) => gate.close(() => resolve()));
  }
});
