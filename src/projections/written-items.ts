// Reads the items of a job that were written, with what they wrote: the rows verification
// and revert are made from. Streamed in index order, a page at a time (keyset), so a
// million-item job is read in bounded memory.
import type { Pool } from '../db/pool.js';
import type { FieldValues } from '../domain/field-values.js';

export interface WrittenItem {
  index: number;
  itemId: string;
  profileId: string;
  operation: string;
  replayGeneration: number;
  payload: Record<string, unknown>;
  /** What the entity held before the write; null when the job did not capture it. */
  previous: FieldValues | null;
  /** What the write set (as the API acknowledged it). */
  applied: FieldValues;
}

export interface WrittenItemFilter {
  profileIds?: string[];
}

const PAGE = 5_000;

/** A job's written items ($1 job, $2 tenant, $3 profile ids or null): succeeded, with what they ran and applied. */
const WRITTEN = `FROM job_items i JOIN jobs j USING (job_id)
  WHERE i.job_id = $1 AND j.tenant_id = $2 AND i.status = 'succeeded' AND i.payload IS NOT NULL AND i.applied_values IS NOT NULL
    AND ($3::text[] IS NULL OR i.profile_id = ANY($3))`;

/** How many written items the filter selects, and how many of them have no before-image. */
export async function countWrittenItems(pool: Pool, tenantId: string, jobId: string, filter: WrittenItemFilter = {}): Promise<{ items: number; withoutBeforeImage: number }> {
  const { rows } = await pool.query<{ items: string; without: string }>(
    `SELECT count(*) AS items, count(*) FILTER (WHERE i.previous_values IS NULL) AS without ${WRITTEN}`,
    [jobId, tenantId, filter.profileIds ?? null],
  );
  return { items: Number(rows[0]!.items), withoutBeforeImage: Number(rows[0]!.without) };
}

/** The job's succeeded items that carry what they applied (items projected before capture existed do not). */
export async function* writtenItems(pool: Pool, tenantId: string, jobId: string, filter: WrittenItemFilter = {}): AsyncGenerator<WrittenItem> {
  let after = -1;
  for (;;) {
    const { rows } = await pool.query<{ item_index: string; item_id: string; profile_id: string; operation: string; replay_generation: number; payload: Record<string, unknown>; previous_values: FieldValues | null; applied_values: FieldValues }>(
      `SELECT i.item_index, i.item_id, i.profile_id, i.operation, i.replay_generation, i.payload, i.previous_values, i.applied_values
       ${WRITTEN} AND i.item_index > $4 ORDER BY i.item_index LIMIT ${PAGE}`,
      [jobId, tenantId, filter.profileIds ?? null, after],
    );
    for (const r of rows) {
      yield { index: Number(r.item_index), itemId: r.item_id, profileId: r.profile_id, operation: r.operation, replayGeneration: r.replay_generation, payload: r.payload, previous: r.previous_values, applied: r.applied_values };
    }
    if (rows.length < PAGE) return;
    after = Number(rows.at(-1)!.item_index);
  }
}
