// The replay tool's own record of what it sent back (write side, like submitted_jobs):
// one claim per item and replay generation. Claims are taken in the Postgres transaction
// that commits only once the Kafka transaction producing the items has, so two replays
// racing for an item (two shells, two API calls) send it once: the second one's insert
// waits for the first's transaction and then finds the claim taken.
import type { PoolClient } from './pool.js';

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
  const { rows } = await client.query<{ job_id: string; control_state: string }>(
    `SELECT job_id, control_state FROM submitted_jobs WHERE job_id = ANY($1::text[]) ORDER BY job_id FOR SHARE`,
    [jobIds],
  );
  return new Set(rows.filter((r) => r.control_state === 'CANCELLED').map((r) => r.job_id));
}
