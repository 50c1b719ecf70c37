// Postgres over TLS through DATABASE_URL alone (sslmode, sslrootcert), against a real
// server that takes TLS only: a job runs end to end (api side, executor, projector, each
// with its own pool and the migrations), every Sluice connection is encrypted, and a
// plaintext URL or one that does not trust the server's CA is refused at once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProducerRuntime } from '../../../src/app/producer-runtime.js';
import { loadConfig } from '../../../src/config.js';
import { createPool } from '../../../src/db/pool.js';
import { generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { openGuardedPipeline, waitForProgress } from '../../helpers/job-progress.js';
import { keywordUpdates } from '../../helpers/pipeline.js';
import { processEnv } from '../../helpers/sluice-process.js';
import { testConfig, testLogger, uniqueName } from '../../helpers/services.js';
import { startTlsPostgres, type TlsPostgres } from '../../helpers/tls-postgres.js';

let server: TlsPostgres;
const PROFILES = [0, 1].map((i) => generatedProfileId('NA', i));

beforeAll(async () => {
  server = await startTlsPostgres();
}, 60_000);
afterAll(() => server?.stop());

it('runs a job with every Sluice connection to Postgres over TLS', async () => {
  const database = uniqueName('sluice_tls');
  const pipeline = await openGuardedPipeline({
    simulator: { generate: { profilesPerRegion: 0 }, profiles: PROFILES.map((profileId) => ({ profileId, region: 'NA' as const, keywords: 100, campaigns: 1, targets: 0 })) },
    env: { DATABASE_URL: server.url(database), SLUICE_MAX_BATCH_SIZE: '20' },
  });
  try {
    const { p } = pipeline;
    const jobId = await p.submit(PROFILES.flatMap((profileId) => keywordUpdates(profileId, 100, () => 4.44)));
    const done = await waitForProgress(p.producer.queries.progress, 't1', jobId, (j) => j.status === 'completed');
    expect(done.counts.succeeded).toBe(200);
    for (const profileId of PROFILES) expect(new Set((await p.sim.admin.entities<Keyword>(profileId, 'keywords')).map((k) => k.bid))).toEqual(new Set([4.44]));
    const pool = createPool({ url: server.url(database), max: 1 });
    try {
      const { rows } = await pool.query<{ application_name: string; ssl: boolean }>('SELECT a.application_name, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1', [database]);
      const names = new Set(rows.map((r) => r.application_name));
      for (const part of ['sluice-producer', 'sluice-projector', 'sluice-executor']) expect(names).toContain(part);
      expect(rows.every((r) => r.ssl)).toBe(true);
    } finally {
      await pool.end();
    }
  } finally {
    await pipeline.close();
  }
});

it('refuses a plaintext URL and a CA it does not trust, at once, saying why', async () => {
  const base = processEnv(testConfig());
  const open = (url: string) => openProducerRuntime(loadConfig({ ...base, DATABASE_URL: url, SLUICE_LOG_LEVEL: 'silent' }), testLogger());
  await expect(open(server.plainUrl('postgres'))).rejects.toThrow(/no encryption|pg_hba\.conf rejects/);
  const began = Date.now();
  await expect(open(server.url('postgres').replace(/&sslrootcert=[^&]*/, ''))).rejects.toThrow(/self[- ]signed certificate|unable to verify/i);
  expect(Date.now() - began).toBeLessThan(10_000);
});
