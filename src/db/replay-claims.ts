// The replay tool's own record of what it sent back (write side, like submitted_jobs):
// one claim per item and replay generation. Claims are taken in the Postgres transaction
// that commits only once the Kafka transaction producing the items has, so two replays
// racing for an item (two shells, two API calls) send it once: the second one's insert
// waits for the first's transaction and then finds the claim taken.
import type { PoolClient } from './pool.js';
import { JOB_IS_CANCELLED_SQL } from './submitted-jobs.js';

export interface ReplayClaim {
  jobId: string;
  index: number;
  replayGeneration: number;
  deadLetterId: string;
}

/** Claims what is not claimed yet; returns the dead letter ids this replay now holds. */
export async function claimReplays(client: PoolClient, replayId: string, claims: ReplayClaim[]): Promise<Set<string>> {
  const { rows } = await client.query<{ dead_letter_id: string }>(
    `INSERT INTO replay_claims (job_id, item_index, replay_generation, dead_letter_id, replay_id)
     SELECT job_id, item_index, replay_generation, dead_letter_id, $2
     FROM jsonb_to_recordset($1::jsonb) AS x(job_id text, item_index bigint, replay_generation int, dead_letter_id text)
     ON CONFLICT DO NOTHING RETURNING dead_letter_id`,
    [JSON.stringify(claims.map((c) => ({ job_id: c.jobId, item_index: c.index, replay_generation: c.replayGeneration, dead_letter_id: c.deadLetterId }))), replayId],
  );
  return new Set(rows.map((r) => r.dead_letter_id));
}

/**
 * The jobs among `jobIds` that are cancelled, holding their rows until the transaction
 * ends, so a cancel (which locks the row to change it) cannot slip in between this
 * check and the replayed items being produced.
 */
export async function lockCancelledJobs(client: PoolClient, jobIds: string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ job_id: string; cancelled: boolean }>(
    `SELECT s.job_id, ${JOB_IS_CANCELLED_SQL} AS cancelled
     FROM submitted_jobs s LEFT JOIN control_intents i ON i.job_id = s.job_id LEFT JOIN jobs j ON j.job_id = s.job_id
     WHERE s.job_id = ANY($1::text[]) ORDER BY s.job_id FOR SHARE OF s`,
    [jobIds],
  );
  return new Set(rows.filter((r) => r.cancelled).map((r) => r.job_id));
}
