// Rebuilds the projections from the topics: replays job-events, item-results and the DLQ
// from the beginning into fresh tables in a schema of their own, and when that replay
// has reached the end of every partition, swaps the fresh tables in (one transaction)
// and keeps the old ones in a `replaced_*` schema. A projection bug is fixed by
// deploying the fixed projector and rebuilding. The live projector must be stopped
// while this runs: with it running, events it projects into the old tables during the
// swap could be missed by the new ones, so a group with members is refused, and the
// projectors and a rebuild exclude each other through a Postgres lock (rebuild-lock.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import { createPool, inTransaction, type Pool } from '../db/pool.js';
import { committedEnds } from '../kafka/read-positions.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import { Projector } from './projector.js';
import { holdRebuildLock, RebuildConflict, type HeldLock } from './rebuild-lock.js';

export { RebuildConflict } from './rebuild-lock.js';

export const PROJECTION_TABLES = ['jobs', 'job_profiles', 'job_items', 'dead_letters', 'replays', 'projection_offsets', 'projection_errors', 'command_placements', 'expired_ranges'] as const;

export interface RebuildOptions {
  kafka: Kafka;
  admin: Admin;
  serde: Serde;
  topics: Topics;
  databaseUrl: string;
  /** The live projector's group: its offsets are written under this name, so it resumes after the swap. */
  projectorGroup: string;
  logger: Logger;
  onProgress?: (records: number) => void;
}

export interface RebuildResult {
  /** Where the old tables are kept (drop it when satisfied). */
  replacedSchema: string;
  records: number;
}

export async function rebuildProjections(o: RebuildOptions): Promise<RebuildResult> {
  const { groups } = await o.admin.describeGroups([o.projectorGroup]);
  const members = groups[0]?.members.length ?? 0;
  if (members > 0) throw new RebuildConflict(`the projector group ${o.projectorGroup} has ${members} live member(s): stop the projectors, rebuild, then start them again`);

  const stamp = Date.now().toString(36);
  const fresh = `rebuild_${stamp}`;
  const replaced = `replaced_${stamp}`;
  const live = createPool({ url: o.databaseUrl, max: 3, applicationName: 'sluice-rebuild' });
  const target = createPool({ url: o.databaseUrl, max: 4, applicationName: 'sluice-rebuild', schema: fresh });
  let lock: HeldLock | undefined;
  try {
    lock = await holdRebuildLock(live, o.projectorGroup, (error) => o.logger.error({ err: error }, 'rebuild lost the connection holding its lock; a projector could start now'));
    await live.query(`CREATE SCHEMA ${fresh}`);
    for (const table of PROJECTION_TABLES) await live.query(`CREATE TABLE ${fresh}.${table} (LIKE public.${table} INCLUDING ALL)`);
    const records = await replayAll(o, target, `${o.projectorGroup}.rebuild.${stamp}`);
    await inTransaction(live, async (client) => {
      // Views name their tables by identity, not by name: moved with the old tables, they
      // would go on reading them. Their definitions, read while the names still mean the
      // live tables, are made again over the fresh ones.
      const { rows: views } = await client.query<{ viewname: string; definition: string }>(`SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'`);
      await client.query(`CREATE SCHEMA ${replaced}`);
      for (const table of PROJECTION_TABLES) {
        await client.query(`ALTER TABLE public.${table} SET SCHEMA ${replaced}`);
        await client.query(`ALTER TABLE ${fresh}.${table} SET SCHEMA public`);
      }
      for (const view of views) await client.query(`CREATE OR REPLACE VIEW public.${view.viewname} AS ${view.definition}`);
      await client.query(`DROP SCHEMA ${fresh}`);
    });
    return { replacedSchema: replaced, records };
  } catch (error) {
    await live.query(`DROP SCHEMA IF EXISTS ${fresh} CASCADE`).catch(() => undefined);
    throw error;
  } finally {
    await lock?.release();
    await target.end();
    await live.end();
  }
}

/** Projects every record into `pool`'s schema until the projector has reached the end of every partition. */
async function replayAll(o: RebuildOptions, pool: Pool, kafkaGroup: string): Promise<number> {
  let records = 0;
  const projector = new Projector({
    kafka: o.kafka,
    pool,
    serde: o.serde,
    topics: o.topics,
    groupId: kafkaGroup,
    offsetsGroup: o.projectorGroup,
    sessionTimeoutMs: 10_000,
    logger: o.logger,
    onProjected: (_role, batch) => o.onProgress?.((records += batch.applied)),
  });
  await projector.start();
  try {
    // Two readings in a row at the end: a transaction committed just before the first
    // reading has its marker in by the second.
    for (let atEnd = 0; atEnd < 2; ) {
      await sleep(500);
      atEnd = (await reachedEnd(o, projector)) ? atEnd + 1 : 0;
    }
    return records;
  } finally {
    await projector.stop();
  }
}

async function reachedEnd(o: RebuildOptions, projector: Projector): Promise<boolean> {
  const ends = await committedEnds(o.admin, (['jobEvents', 'itemResults', 'dlq'] as const).map((role) => o.topics[role].name));
  return projector.positions.behind(ends) === 0;
}
