// A rebuild keeps the SQL views live (issue 16 point 7): after `sluice projections
// rebuild`, job_progress, job_failures and profile_progress read the live tables (before,
// they followed the moved tables into replaced_* and showed nothing newer), dropping the
// replaced schema leaves them be, and a projector started while a rebuild runs is refused.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { until } from '../../helpers/api-world.js';
import { openProducerRuntime, type ProducerRuntime } from '../../../src/app/producer-runtime.js';
import { openProjectorRuntime, projectorGroup, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import type { Config } from '../../../src/config.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import { submitJob } from '../../../src/index.js';
import { rebuildProjections, RebuildConflict } from '../../../src/projections/rebuild.js';
import { openKafkaReader, type KafkaReader } from '../../helpers/api.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';

let config: Config;
let runtime: ProducerRuntime;
let reader: KafkaReader;
let db: TestDatabase;
let pool: Pool;
let projector: ProjectorRuntime | undefined;

beforeAll(async () => {
  config = testConfig();
  db = await createTestDatabase(config);
  runtime = await openProducerRuntime(config, testLogger());
  reader = await openKafkaReader(config, runtime);
  pool = createPool({ url: config.database.url, max: 2 });
});
afterAll(async () => {
  await projector?.close();
  await pool?.end();
  await reader?.close();
  await runtime?.close();
  await db?.drop();
});

async function submit(): Promise<string> {
  const r = await submitJob(runtime, { tenantId: 'views', operation: 'keyword.setBid' }, [{ profileId: '1000000000001', payload: { keywordId: '1', bid: 1 } }]);
  if (r.type !== 'accepted') throw new Error(JSON.stringify(r));
  return r.jobId;
}

async function viewJobs(): Promise<string[]> {
  return (await pool.query<{ job_id: string }>(`SELECT job_id FROM job_progress ORDER BY submitted_at`)).rows.map((r) => r.job_id);
}


const rebuild = () => rebuildProjections({ kafka: reader.kafka, admin: reader.admin, serde: reader.serde, topics: runtime.topics, databaseUrl: config.database.url, projectorGroup: projectorGroup(config), logger: testLogger() });

it('views read the live tables after a rebuild and survive the replaced schema being dropped; a projector cannot start during a rebuild', async () => {
  projector = await openProjectorRuntime(config, testLogger());
  const first = await submit();
  await until('the first job in job_progress', async () => (await viewJobs()).includes(first));
  // While a projector runs, a rebuild is refused.
  await expect(rebuild()).rejects.toBeInstanceOf(RebuildConflict);
  await projector.close();
  projector = undefined;

  // A projector started while the rebuild runs is refused.
  const rebuilding = rebuild();
  await until('the rebuild under way', async () => (await pool.query(`SELECT 1 FROM pg_namespace WHERE nspname LIKE 'rebuild_%'`)).rowCount === 1);
  await expect(openProjectorRuntime(config, testLogger())).rejects.toThrow(/rebuild .* is running/);
  const { replacedSchema } = await rebuilding;

  projector = await openProjectorRuntime(config, testLogger());
  const second = await submit();
  await until('the second job in the jobs table', async () => (await pool.query(`SELECT 1 FROM jobs WHERE job_id = $1`, [second])).rowCount === 1);
  expect(await viewJobs()).toEqual([first, second]);
  await pool.query(`DROP SCHEMA ${replacedSchema} CASCADE`);
  const views = (await pool.query<{ viewname: string }>(`SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.viewname);
  expect(views).toEqual(['job_failures', 'job_progress', 'profile_progress']);
  expect(await viewJobs()).toEqual([first, second]);
});
