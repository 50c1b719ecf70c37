// A transaction whose connection is cut between two statements (a Postgres restart, an
// operator's pg_terminate_backend) fails, and only it: the process goes on. Before, the
// checked-out client's 'error' event had no listener and ended the process (a CI run
// of the quarantine test died of it).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, inTransaction, type Pool } from '../../../src/db/pool.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../../helpers/services.js';

let db: TestDatabase;
let pool: Pool;
let admin: Pool;
beforeAll(async () => {
  db = await createTestDatabase(testConfig());
  pool = createPool({ url: db.url, max: 2, applicationName: 'sluice-test-cut' });
  admin = createPool({ url: db.url, max: 1 });
});
afterAll(async () => {
  await pool?.end();
  await admin?.end();
  await db?.drop();
});

it('a connection cut between two statements fails the transaction, not the process, and the pool goes on', async () => {
  const attempt = inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    // No statement on the connection while the server ends it: the cut arrives as an event.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.query('SELECT 1');
  });
  await expect(attempt).rejects.toThrow();
  expect((await inTransaction(pool, (client) => client.query<{ one: number }>('SELECT 1 AS one'))).rows).toEqual([{ one: 1 }]);
});
