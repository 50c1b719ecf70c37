// No secret reaches a log line: the api, an executor and a projector run as processes at
// debug level through a whole job (token refreshes, tokens expired mid-run so the client
// refreshes on a 401, a profile whose access was revoked, a Sluice API token made over
// HTTP and used to follow the job, a request with a forged token), and their logs are
// searched for the client secret, the refresh token, any access token and every Sluice
// API token.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobProgress } from '../../../src/projections/job-progress.js';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { createApiTokens } from '../../../src/db/api-tokens.js';
import { createPool } from '../../../src/db/pool.js';
import { startApiProcess, type ApiProcess } from '../../helpers/api-process.js';
import { bearer } from '../../helpers/api.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { DEV_CREDENTIALS } from '../../helpers/simulator.js';
import { processEnv, startSluiceProcess, type SluiceProcess } from '../../helpers/sluice-process.js';

const [OK1, OK2, REVOKED] = [0, 1, 2].map((i) => generatedProfileId('NA', i)) as [string, string, string];
const FORGED = 'sluice_forged0forged0forged0forged0forged0forged';
let p: TestPipeline;
let admin: { authorization: string };
let api: ApiProcess;
const processes: SluiceProcess[] = [];

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: {
      generate: { profilesPerRegion: 0 },
      profiles: [OK1, OK2, REVOKED].map((profileId) => ({ profileId, region: 'NA' as const, keywords: 100, campaigns: 1, targets: 0, ...(profileId === REVOKED ? { faults: { revokedAuth: true } } : {}) })),
      rateLimit: { ratePerSecond: 20, burst: 5 },
      latency: { p50Ms: 5, p99Ms: 20 },
    },
    startExecutor: false,
  });
  const env = { ...processEnv(p.config), SLUICE_LOG_LEVEL: 'debug', ADS_API_URL: p.sim.sim.url, SLUICE_METRICS_PORT: '0', SLUICE_BREAKER_RESET_MS: '300' };
  api = await startApiProcess(p.config, env);
  processes.push(api);
  const pool = createPool({ url: p.config.database.url });
  admin = await bearer(createApiTokens(pool), 't1');
  await pool.end();
  processes.push(await startSluiceProcess(['executor'], env, /Sluice executor running/));
  processes.push(await startSluiceProcess(['projector'], env, /Sluice projector running/));
}, 60_000);

afterAll(async () => {
  await Promise.all(processes.map((proc) => proc.kill()));
  await p?.close();
});

it('logs a whole job at debug level without a secret, token or Authorization value', async () => {
  const items = [OK1, OK2, REVOKED].flatMap((id) => keywordUpdates(id, 100));
  const res = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...admin, 'idempotency-key': 'log-secrets' },
    body: JSON.stringify({ operation: 'keyword.setBid', items }),
  });
  expect(res.status).toBe(202);
  const { jobId } = (await res.json()) as { jobId: string };
  await p.sim.admin.expireTokens(); // the executor's next calls get 401 and refresh
  const made = await fetch(`${api.url}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify({ scope: 'job', jobId, name: 'shared-progress' }) });
  expect(made.status).toBe(201);
  const jobToken = ((await made.json()) as { token: string }).token;
  expect((await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${FORGED}` } })).status).toBe(401);

  let progress: JobProgress | undefined;
  for (let tries = 0; tries < 300 && progress?.status !== 'completed_with_errors'; tries++) {
    await new Promise((r) => setTimeout(r, 200));
    const answer = await fetch(`${api.url}/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${jobToken}` } });
    progress = answer.status === 200 ? ((await answer.json()) as JobProgress) : undefined;
  }
  expect(progress).toMatchObject({ status: 'completed_with_errors', counts: { succeeded: 200, deadLettered: 100 } });
  expect((await p.sim.admin.counters()).tokenCalls).toBeGreaterThan(1); // refreshed after the expiry

  const logs = processes.map((proc) => proc.logs()).join('\n');
  // What was searched holds the job's lines: its API calls (the revoked profile's too) and projected batches.
  const lines = logs.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; jobIds?: string[]; profileId?: string; result?: string });
  const calls = lines.filter((l) => l.msg === 'api call' && l.jobIds?.includes(jobId));
  expect(calls.length).toBeGreaterThan(3);
  expect(calls.some((l) => l.profileId === REVOKED && l.result === 'permanent')).toBe(true);
  expect(lines.filter((l) => l.msg === 'projected batch' && l.jobIds?.includes(jobId)).length).toBeGreaterThan(1);
  for (const secret of [DEV_CREDENTIALS.clientSecret, DEV_CREDENTIALS.refreshToken, admin.authorization.slice('Bearer '.length), jobToken, FORGED]) expect(logs).not.toContain(secret);
  expect(logs).not.toMatch(/sluice_[A-Za-z0-9_-]{20}/); // no Sluice API token at all
  expect(logs).not.toMatch(/Atza\|/); // every access token the simulator issues starts so
  expect(logs).not.toMatch(/bearer [A-Za-z0-9]/i);
}, 120_000);
