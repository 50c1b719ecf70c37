// Foundation: the versioned migrations apply on an empty database and are idempotent.
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../helpers/services.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(testConfig());
});
afterAll(async () => {
  await db?.drop();
});

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    return rows.map((r) => r.table_name);
  } finally {
    await client.end();
  }
}

it('applies every migration on an empty database, then nothing on a second run', async () => {
  expect(await tables(db.url)).toEqual([]);
  const files = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();

  expect(await migrate(db.url, testLogger())).toEqual(files);
  const after = await tables(db.url);
  expect(after).toEqual(expect.arrayContaining(['jobs', 'job_items', 'dead_letters', 'projection_offsets', 'schema_migrations']));

  expect(await migrate(db.url, testLogger())).toEqual([]);
  expect(await tables(db.url)).toEqual(after);
});

it('runs safely from two processes at once', async () => {
  const second = await createTestDatabase(testConfig());
  try {
    const [a, b] = await Promise.all([migrate(second.url, testLogger()), migrate(second.url, testLogger())]);
    expect([...a, ...b].sort()).toEqual(readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort());
  } finally {
    await second.drop();
  }
});
