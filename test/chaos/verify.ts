// The end-of-run check every chaos scenario makes, counting whole outcomes: each job in
// Postgres has a row for every one of its items, each in a terminal state, the one
// expected of it; each job's counters equal its items' statuses; and every keyword whose
// item succeeded holds the bid submitted for it in the simulator, every other one its
// bid from before. Returns what is wrong, item by item, rather than a yes or no.
import type { Pool } from '../../src/db/pool.js';
import type { SimulatorAdmin } from '../../src/simulator/admin-client.js';
import type { Keyword } from '../../src/simulator/entities.js';

export interface ExpectedItem {
  profileId: string;
  keywordId: string;
  bid: number;
  /** How the item must end; the simulator holds its bid only if it succeeded. */
  outcome: 'succeeded' | 'dead_lettered';
}

export interface Verdict {
  jobs: number;
  items: number;
  /** Items of a job with no row in Postgres. */
  lost: number;
  /** Items whose row is not terminal (pending or retrying). */
  unfinished: number;
  /** Items that ended otherwise than expected (dead-lettered where they should have succeeded, or the reverse). */
  unexpectedStatus: number;
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
  const { rows: jobs } = await pool.query<{ job_id: string; total: number; rows: number; terminal: number; counters_ok: boolean }>(
    `SELECT j.job_id, j.total_items::int AS total,
            count(i.item_index)::int AS rows,
            count(*) FILTER (WHERE i.status = ANY($2))::int AS terminal,
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
    unexpectedStatus: await unexpectedStatuses(pool, jobIds, expected),
    countMismatches: jobs.filter((j) => !j.counters_ok).map((j) => j.job_id),
    wrongEntities: await wrongEntities(admin, expected),
    ok: false,
  };
  verdict.ok = verdict.jobs === jobIds.length && total === expected.length && verdict.lost === 0 && verdict.unfinished === 0 && verdict.unexpectedStatus === 0 && verdict.countMismatches.length === 0 && verdict.wrongEntities === 0;
  return verdict;
}

/** Items whose status is not the expected one, matched by profile and keyword (the payload's). */
async function unexpectedStatuses(pool: Pool, jobIds: string[], expected: ExpectedItem[]): Promise<number> {
  const { rows } = await pool.query<{ keyword_id: string; status: string }>(
    `SELECT i.status, (s.command->>'payload')::jsonb->>'keywordId' AS keyword_id FROM job_items i
       LEFT JOIN dead_letters s ON s.job_id = i.job_id AND s.item_index = i.item_index
     WHERE i.job_id = ANY($1) AND i.status <> 'succeeded'`,
    [jobIds],
  );
  const shouldFail = new Set(expected.filter((e) => e.outcome !== 'succeeded').map((e) => e.keywordId));
  const failed = rows.filter((r) => r.status === 'dead_lettered' && r.keyword_id !== null && shouldFail.has(r.keyword_id));
  // Every item not succeeded must be a dead letter that was meant to be one, and every one meant to be one must be there.
  return rows.length - failed.length + (shouldFail.size - failed.length);
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
    // A keyword whose item was dead-lettered keeps the simulator's own bid, never the submitted one.
    for (const item of items) if ((bids.get(item.keywordId) === item.bid) !== (item.outcome === 'succeeded')) wrong++;
  }
  return wrong;
}
