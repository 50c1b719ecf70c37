// Keeps a projection rebuild and the live projectors apart (issue 16 point 7): every
// projector holds a shared Postgres advisory lock for its whole life, and a rebuild takes
// the same lock exclusively for its whole run. So a rebuild is refused while any projector
// runs, and a projector started during a rebuild is refused, whichever starts first; the
// lock goes with the session, so a process that dies releases it.
import type { Pool, PoolClient } from '../db/pool.js';

export class RebuildConflict extends Error {
  override readonly name = 'RebuildConflict';
}

export interface HeldLock {
  release(): Promise<void>;
}

const lockKey = (projectorGroup: string) => `sluice.projections:${projectorGroup}`;

/**
 * Taken by a projector before it consumes: refused while a rebuild of the group runs.
 * `onLost`: its connection was cut, and the lock with it (a rebuild still finds the
 * projector's consumer-group membership and refuses).
 */
export function holdProjectorLock(pool: Pool, projectorGroup: string, onLost: (error: Error) => void): Promise<HeldLock> {
  return hold(pool, projectorGroup, 'pg_try_advisory_lock_shared', `a projection rebuild of ${projectorGroup} is running: start the projector once it has finished`, onLost);
}

/** Taken by a rebuild for its whole run: refused while any projector of the group runs. */
export function holdRebuildLock(pool: Pool, projectorGroup: string, onLost: (error: Error) => void): Promise<HeldLock> {
  return hold(pool, projectorGroup, 'pg_try_advisory_lock', `a projector of ${projectorGroup} (or another rebuild) is running: stop the projectors, rebuild, then start them again`, onLost);
}

async function hold(pool: Pool, projectorGroup: string, fn: 'pg_try_advisory_lock_shared' | 'pg_try_advisory_lock', refusal: string, onLost: (error: Error) => void): Promise<HeldLock> {
  const client: PoolClient = await pool.connect();
  // A held client's connection can be cut (a Postgres restart): unheard, that ends the process.
  client.on('error', onLost);
  try {
    const { rows } = await client.query<{ held: boolean }>(`SELECT ${fn}(hashtext($1)::bigint) AS held`, [lockKey(projectorGroup)]);
    if (!rows[0]?.held) throw new RebuildConflict(refusal);
  } catch (error) {
    client.release();
    throw error;
  }
  // The session holds the lock: ending it (not returning it to the pool) releases it.
  return { release: async () => client.release(true) };
}
