// The Postgres connection pool. Whoever creates a pool closes it (see the composition
// roots in cli/ and http/).
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  url: string;
  /** Connections at most; projections batch their writes, so a few go far. */
  max?: number;
  applicationName?: string;
  /** Unqualified table names resolve here first (a projection rebuild writes to its own schema). */
  schema?: string;
}

export function createPool({ url, max = 10, applicationName = 'sluice', schema }: PoolOptions): Pool {
  return new pg.Pool({ connectionString: url, max, application_name: applicationName, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
}

/** Runs `work` in one transaction on one pooled connection: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
