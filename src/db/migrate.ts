// Applies the versioned SQL files in migrations/ with node-pg-migrate. Safe to run from
// several processes at once: they queue on the tool's advisory lock.
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { PROJECT_ROOT } from '../config.js';
import type { Logger } from '../telemetry/logger.js';

export const MIGRATIONS_DIR = join(PROJECT_ROOT, 'migrations');
export const MIGRATIONS_TABLE = 'schema_migrations';

/** Runs every pending migration; returns the names of those it applied. */
export async function migrate(databaseUrl: string, logger: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    checkOrder: true,
    singleTransaction: true,
    advisoryLockMode: 'wait',
    log: (msg: string) => logger.debug({ component: 'migrate' }, msg),
  });
  const names = applied.map((m) => m.name);
  if (names.length > 0) logger.info({ component: 'migrate', applied: names }, 'migrations applied');
  return names;
}
