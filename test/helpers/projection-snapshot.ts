// Every projection row, without the columns that say when a row was written: what a
// rebuild must reproduce exactly.
import type { Pool } from '../../src/db/pool.js';

const TABLES: Record<string, string> = {
  jobs: `SELECT * FROM jobs ORDER BY job_id`,
  job_profiles: `SELECT * FROM job_profiles ORDER BY job_id, profile_id`,
  job_items: `SELECT * FROM job_items ORDER BY job_id, item_index`,
  dead_letters: `SELECT * FROM dead_letters ORDER BY dead_letter_id`,
  replays: `SELECT * FROM replays ORDER BY replay_id`,
  projection_offsets: `SELECT * FROM projection_offsets ORDER BY consumer_group, topic, partition`,
};

export async function projectionSnapshot(pool: Pool): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, sql] of Object.entries(TABLES)) {
    out[table] = (await pool.query(sql)).rows.map((row: Record<string, unknown>) => {
      const { updated_at: written, projected_at: _projected, ...rest } = row;
      return table === 'job_items' ? { ...rest, updated_at: written } : rest; // job_items.updated_at is the result's own time
    });
  }
  return out;
}
