// Whether a replay would move an entity backwards (issue 16 point 5). A replay sends a
// dead-lettered command again at the end of its profile's partition; if an item setting
// the same fields of the same entity (same operation) submitted after it has succeeded since (or is still queued, and so runs
// first), the older value would overwrite the newer one. Such an item is superseded: not
// sent, ended `superseded`. Every later update of an entity is a later record of the same
// partition (a profile's commands share one), so the check reads the partition from the
// dead letter's source offset on, keeps the original commands (generation 0: a replayed
// command's place in submission order is its original's) of the entities in question,
// and asks the projections how each newer one stands.
import type { Admin, Kafka } from 'kafkajs';
import type { Pool } from '../db/pool.js';
import type { OperationCatalogue } from '../domain/operation-catalogue.js';
import { scanPartitions } from '../kafka/partition-scan.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import type { ReplayItem } from './replay-plan.js';

export interface NewerUpdatesDeps {
  kafka: Kafka;
  admin: Admin;
  serde: Serde;
  topics: Topics;
  catalogue: OperationCatalogue;
  pool: Pool;
}

interface LaterCommand {
  offset: number;
  jobId: string;
  index: number;
  itemId: string;
}

/** The items among `items` that a newer update of their entity supersedes, by dead letter id, with that newer item's id. */
export async function supersededItems(deps: NewerUpdatesDeps, items: ReplayItem[]): Promise<Map<string, string>> {
  const topic = deps.topics.itemCommands.name;
  const wanted = new Map<string, ReplayItem[]>(); // entity → the items replaying it
  const from = new Map<number, number>();
  for (const item of items) {
    if (item.source.topic !== topic) continue;
    const key = entityOf(deps.catalogue, item.command.profileId, item.command.operation, item.command.payload);
    if (key === undefined) continue;
    wanted.set(key, [...(wanted.get(key) ?? []), item]);
    from.set(item.source.partition, Math.min(from.get(item.source.partition) ?? Infinity, item.source.offset + 1));
  }
  if (wanted.size === 0) return new Map();
  const profiles = new Set(items.map((i) => i.command.profileId));
  const later = new Map<string, LaterCommand[]>();
  await scanPartitions({
    kafka: deps.kafka,
    admin: deps.admin,
    topic,
    from,
    visit: async (_partition, message) => {
      // The key is the profile: most records are passed over without being decoded.
      if (!message.key || !profiles.has(message.key.toString()) || !message.value) return;
      const command = await deps.serde.decode('itemCommands', message.value).catch(() => undefined);
      if (!command || command.replayGeneration > 0) return;
      const key = entityOf(deps.catalogue, command.profileId, command.operation, command.payload);
      if (key === undefined || !wanted.has(key)) return;
      later.set(key, [...(later.get(key) ?? []), { offset: Number(message.offset), jobId: command.jobId, index: command.index, itemId: command.itemId }]);
    },
  });

  const newerOf = new Map<string, LaterCommand[]>(); // dead letter id → the newer commands of its entity
  for (const [key, replaying] of wanted) {
    for (const item of replaying) {
      const newer = (later.get(key) ?? []).filter((c) => c.offset > item.source.offset && !(c.jobId === item.command.jobId && c.index === item.command.index));
      if (newer.length > 0) newerOf.set(item.deadLetterId, newer);
    }
  }
  const pending = [...new Map([...newerOf.values()].flat().map((c) => [`${c.jobId}/${c.index}`, c])).values()];
  const standing = await standingOf(deps.pool, pending);
  const superseded = new Map<string, string>();
  for (const [deadLetterId, newer] of newerOf) {
    const winner = newer.find((c) => standing.get(`${c.jobId}/${c.index}`));
    if (winner) superseded.set(deadLetterId, winner.itemId);
  }
  return superseded;
}

/** Whether each command's item has succeeded or will still run (queued in a job that is not cancelled). */
async function standingOf(pool: Pool, commands: LaterCommand[]): Promise<Map<string, boolean>> {
  if (commands.length === 0) return new Map();
  const { rows } = await pool.query<{ job_id: string; item_index: string; applies: boolean }>(
    `SELECT k.job_id, k.item_index,
            COALESCE(i.status IN ('succeeded', 'pending', 'retrying'), true) AND NOT COALESCE(s.control_state = 'CANCELLED' AND i.status IS DISTINCT FROM 'succeeded', false) AS applies
     FROM unnest($1::text[], $2::bigint[]) AS k(job_id, item_index)
     LEFT JOIN job_items i ON i.job_id = k.job_id AND i.item_index = k.item_index
     LEFT JOIN submitted_jobs s ON s.job_id = k.job_id`,
    [commands.map((c) => c.jobId), commands.map((c) => c.index)],
  );
  return new Map(rows.map((r) => [`${r.job_id}/${r.item_index}`, r.applies]));
}

function entityOf(catalogue: OperationCatalogue, profileId: string, operation: string, payload: string): string | undefined {
  const op = catalogue.get(operation);
  if (!op) return undefined;
  try {
    // The same operation sets the same fields: a newer state change does not make an older bid stale.
    return `${profileId}\u0000${operation}\u0000${op.entityKey(JSON.parse(payload))}`;
  } catch {
    return undefined;
  }
}
