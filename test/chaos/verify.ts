// The end-of-run check every chaos scenario makes, counting whole outcomes: each job in
// Postgres has a row for every one of its items, each in a terminal state; each job's
// counters equal its items' statuses; and every keyword in the simulator holds the bid
// last submitted for it. Returns what is wrong, item by item, rather than a yes or no.
import type { Pool } from '../../src/db/pool.js';
import type { SimulatorAdmin } from '../../src/simulator/admin-client.js';
import type { Keyword } from '../../src/simulator/entities.js';

export interface ExpectedItem {
  profileId: string;
  keywordId: string;
  bid: number;
}

export interface Verdict {
  jobs: number;
  items: number;
  /** Items of a job with no row in Postgres. */
  lost: number;
  /** Items whose row is not terminal (pending or retrying). */
  unfinished: number;
  /** Items not succeeded (none should fail in these scenarios). */
  notSucceeded: number;
  /** Jobs whose counters differ from their items' statuses. */
  countMismatches: string[];
  /** Keywords whose bid in the simulator is not the one submitted. */
  wrongEntities: number;
  ok: boolean;
}

const TERMINAL = ['succeeded', 'failed', 'dead_lettered', 'cancelled', 'skipped'];

/** Waits until every job is in a final status (or the deadline passes), then judges. */
export async function verifyOutcome(pool: Pool, admin: SimulatorAdmin, jobIds: string[], expected: ExpectedItem[], deadlineMs: number): Promise<Verdict> {
  while (Date.now() < deadlineMs) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE job_id = ANY($1) AND status IN ('completed', 'completed_with_errors', 'cancelled')`, [jobIds]);
    if (rows[0]!.n === jobIds.length) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const { rows: jobs } = await pool.query<{ job_id: string; total: number; rows: number; terminal: number; succeeded: number; counters_ok: boolean }>(
    `SELECT j.job_id, j.total_items::int AS total,
            count(i.item_index)::int AS rows,
            count(*) FILTER (WHERE i.status = ANY($2))::int AS terminal,
            count(*) FILTER (WHERE i.status = 'succeeded')::int AS succeeded,
            (j.succeeded_items = count(*) FILTER (WHERE i.status = 'succeeded')
             AND j.failed_items = count(*) FILTER (WHERE i.status = 'failed')
             AND j.dead_lettered_items = count(*) FILTER (WHERE i.status = 'dead_lettered')
             AND j.retrying_items = count(*) FILTER (WHERE i.status = 'retrying')
             AND j.cancelled_items = count(*) FILTER (WHERE i.status = 'cancelled')
             AND j.skipped_items = count(*) FILTER (WHERE i.status = 'skipped')) AS counters_ok
     FROM jobs j LEFT JOIN job_items i ON i.job_id = j.job_id
     WHERE j.job_id = ANY($1) GROUP BY j.job_id`,
    [jobIds, TERMINAL],
  );
  const total = jobs.reduce((n, j) => n + j.total, 0);
  const verdict: Verdict = {
    jobs: jobs.length,
    items: total,
    lost: jobs.reduce((n, j) => n + (j.total - j.rows), 0) + (jobIds.length - jobs.length), // a job never projected counts as lost whole
    unfinished: jobs.reduce((n, j) => n + (j.rows - j.terminal), 0),
    notSucceeded: jobs.reduce((n, j) => n + (j.rows - j.succeeded), 0),
    countMismatches: jobs.filter((j) => !j.counters_ok).map((j) => j.job_id),
    wrongEntities: await wrongEntities(admin, expected),
    ok: false,
  };
  verdict.ok = verdict.jobs === jobIds.length && total === expected.length && verdict.lost === 0 && verdict.unfinished === 0 && verdict.notSucceeded === 0 && verdict.countMismatches.length === 0 && verdict.wrongEntities === 0;
  return verdict;
}

async function wrongEntities(admin: SimulatorAdmin, expected: ExpectedItem[]): Promise<number> {
  const byProfile = new Map<string, ExpectedItem[]>();
  for (const e of expected) {
    const items = byProfile.get(e.profileId);
    if (items) items.push(e);
    else byProfile.set(e.profileId, [e]);
  }
  let wrong = 0;
  for (const [profileId, items] of byProfile) {
    const bids = new Map((await admin.entities<Keyword>(profileId, 'keywords')).map((k) => [k.keywordId, k.bid]));
    for (const item of items) if (bids.get(item.keywordId) !== item.bid) wrong++;
  }
  return wrong;
}
