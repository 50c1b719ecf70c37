// Sluice's topics (DESIGN.md, "Topics"): names under a configurable prefix, partition
// counts, cleanup policy, and the Avro record each carries. Created at start-up,
// idempotently; an existing topic is never re-partitioned (that would break key order).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import type { KafkaConfig } from '../config.js';
import type { Logger } from '../telemetry/logger.js';

export type TopicRole = 'jobEvents' | 'jobControl' | 'itemCommands' | 'itemResults' | 'dlq';

export interface TopicSpec {
  role: TopicRole;
  name: string;
  partitions: number;
  /** Full name of the Avro record that is this topic's value. */
  valueRecord: string;
  configEntries: { name: string; value: string }[];
}

export type Topics = Record<TopicRole, TopicSpec>;

/** Kept for ever: the projections are rebuilt from these topics. */
const KEEP_ALL = [{ name: 'retention.ms', value: '-1' }];
/** The control topic keeps each job's last state (a tombstone removes a finished job's). */
const LAST_STATE = [{ name: 'cleanup.policy', value: 'compact' }];

// Retention is explicit for every topic, never the broker's default: item-commands keeps a
// command as long as a paused job or a backlog may wait (SLUICE_COMMAND_RETENTION_MS); if
// one is gone anyway, the executor reports it and its item ends expired.
export function topicSpecs(config: Pick<KafkaConfig, 'topicPrefix' | 'itemPartitions' | 'commandRetentionMs'>): Topics {
  const p = config.topicPrefix;
  const spec = (role: TopicRole, suffix: string, partitions: number, valueRecord: string, configEntries: TopicSpec['configEntries']): TopicSpec => ({
    role,
    name: `${p}${suffix}`,
    partitions,
    valueRecord,
    configEntries,
  });
  const commandRetention = [{ name: 'retention.ms', value: String(config.commandRetentionMs) }];
  return {
    jobEvents: spec('jobEvents', 'job-events', 6, 'sluice.JobEvent', KEEP_ALL),
    jobControl: spec('jobControl', 'job-control', 6, 'sluice.JobControlState', LAST_STATE),
    itemCommands: spec('itemCommands', 'item-commands', config.itemPartitions, 'sluice.ItemRequested', commandRetention),
    itemResults: spec('itemResults', 'item-results', config.itemPartitions, 'sluice.ItemResult', KEEP_ALL),
    dlq: spec('dlq', 'dlq', 6, 'sluice.DeadLettered', KEEP_ALL),
  };
}

/** Creates the topics that are missing; returns the names it created. */
export async function ensureTopics(admin: Admin, topics: Topics, replicationFactor: number, logger: Logger): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = Object.values(topics).filter((t) => !existing.has(t.name));
  if (missing.length > 0) {
    // waitForLeaders off: kafkajs's own wait gives up on the UNKNOWN_TOPIC_OR_PARTITION a
    // fresh KRaft broker answers for a moment; ours (below) waits through it.
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor, configEntries: t.configEntries })),
    });
    await waitForLeaders(admin, missing.map((t) => t.name));
  }
  await warnOnPartitionMismatch(admin, Object.values(topics).filter((t) => existing.has(t.name)), logger);
  return missing.map((t) => t.name);
}

// kafkajs's own leader wait retries only LEADER_NOT_AVAILABLE, but a busy KRaft broker
// answers UNKNOWN_TOPIC_OR_PARTITION for a moment after creating a topic too.
export async function waitForLeaders(admin: Admin, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      if (topics.length === names.length && topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics have no leaders after ${timeoutMs} ms: ${names.join(', ')}`);
    await sleep(100);
  }
}

async function warnOnPartitionMismatch(admin: Admin, present: TopicSpec[], logger: Logger): Promise<void> {
  if (present.length === 0) return;
  const { topics } = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
  for (const meta of topics) {
    const wanted = present.find((t) => t.name === meta.name)?.partitions;
    if (wanted !== undefined && meta.partitions.length !== wanted) {
      logger.warn({ topic: meta.name, partitions: meta.partitions.length, configured: wanted }, 'topic exists with another partition count; keeping it (re-partitioning would break key order)');
    }
  }
}
