// The Postgres connection pool. Whoever creates a pool closes it (see the composition
// roots in cli/ and http/).
import pg from 'pg';
import type { Logger } from '../telemetry/logger.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  url: string;
  /** Connections at most; projections batch their writes, so a few go far. */
  max?: number;
  applicationName?: string;
  /** Unqualified table names resolve here first (a projection rebuild writes to its own schema). */
  schema?: string;
  /** Where a connection lost while idle is reported. */
  logger?: Logger;
}

export function createPool({ url, max = 10, applicationName = 'sluice', schema, logger }: PoolOptions): Pool {
  const pool = new pg.Pool({ connectionString: url, max, application_name: applicationName, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  // An idle connection cut by the server (a Postgres restart) is an 'error' event on the
  // pool; unheard, it would end the process. The pool drops that connection and opens a
  // new one when next asked; the query that needs it then fails or succeeds on its own.
  pool.on('error', (error) => {
    if (logger) logger.warn({ err: error, applicationName }, 'postgres connection lost while idle; it will be replaced');
    else process.emitWarning(`${applicationName}: postgres connection lost while idle (${error.message}); it will be replaced`);
  });
  return pool;
}

/** Runs `work` in one transaction on one pooled connection: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection cut while no query of ours is on it (between two statements) is an
  // 'error' event on the checked-out client, which the pool does not hear: unheard, it
  // ends the process. The next statement fails on its own; the client is then discarded.
  let lost: Error | undefined;
  const onLost = (error: Error) => (lost = error);
  client.on('error', onLost);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.removeListener('error', onLost);
    client.release(lost);
  }
}
