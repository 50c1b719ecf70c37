// Every projection row, without the columns that say when a row was written: what a
// rebuild must reproduce exactly.
import type { Pool } from '../../src/db/pool.js';
import type { Admin } from 'kafkajs';

const TABLES: Record<string, string> = {
  jobs: `SELECT * FROM jobs ORDER BY job_id`,
  job_profiles: `SELECT * FROM job_profiles ORDER BY job_id, profile_id`,
  job_items: `SELECT * FROM job_items ORDER BY job_id, item_index`,
  dead_letters: `SELECT * FROM dead_letters ORDER BY dead_letter_id`,
  replays: `SELECT * FROM replays ORDER BY replay_id`,
  projection_offsets: `SELECT * FROM projection_offsets ORDER BY consumer_group, topic, partition`,
  command_placements: `SELECT * FROM command_placements ORDER BY job_id, partition, profile_id, first_offset`,
  expired_ranges: `SELECT * FROM expired_ranges ORDER BY topic, partition, from_offset, to_offset, profile_id`,
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

/**
 * The rows two snapshots disagree on, at most `limit` per table, each as JSON with its
 * keys sorted: a mismatch among thousands of rows is shown as the rows themselves.
 */
export function snapshotDifferences(before: Record<string, unknown[]>, after: Record<string, unknown[]>, limit = 5): string[] {
  const out: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const [was, now] = [before[table] ?? [], after[table] ?? []];
    if (was.length !== now.length) out.push(`${table}: ${was.length} rows before, ${now.length} after`);
    let shown = 0;
    for (let i = 0; i < Math.max(was.length, now.length) && shown < limit; i++) {
      const [a, b] = [canonical(was[i]), canonical(now[i])];
      if (a === b) continue;
      out.push(`${table}[${i}]\n  before ${a}\n  after  ${b}`);
      shown++;
    }
  }
  return out;
}

function canonical(row: unknown): string {
  if (row === undefined) return '(none)';
  const entries = Object.entries(row as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(Object.fromEntries(entries.map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])));
}

/** Waits until the projector group has no live member (a rebuild refuses to run beside one). */
export async function projectorGroupEmpty(admin: Admin, group: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const { groups } = await admin.describeGroups([group]);
    if ((groups[0]?.members.length ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
