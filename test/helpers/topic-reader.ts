// Reads topics the way Sluice's consumers do (read committed), for tests that compare
// whole outcomes: every record of every partition, decoded, until nothing new has
// arrived for a while after the consumer joined its group.
import type { Admin, Kafka } from 'kafkajs';
import { topicOffsets } from '../../src/kafka/read-positions.js';
import type { Serde } from '../../src/kafka/serde.js';
import { traceparentIn } from '../../src/telemetry/tracing.js';
import type { TopicRole, Topics } from '../../src/kafka/topics.js';
import type { TopicValues } from '../../src/domain/events.js';
import { uniqueName } from './services.js';

export interface ReadRecord<R extends TopicRole> {
  partition: number;
  offset: number;
  key: string;
  /** The record's timestamp: when it was produced (ms). */
  timestamp: number;
  value: TopicValues[R];
  /** Its W3C traceparent header, if it has one. */
  traceparent?: string;
}

export async function readTopic<R extends TopicRole>(kafka: Kafka, serde: Serde, topics: Topics, role: R, opts: { idleMs?: number; expect?: number; readUncommitted?: boolean } = {}): Promise<ReadRecord<R>[]> {
  const records: ReadRecord<R>[] = [];
  // readUncommitted shows what was written, including open and aborted transactions.
  const consumer = kafka.consumer({ groupId: uniqueName('test-reader'), readUncommitted: opts.readUncommitted ?? false });
  await consumer.connect();
  await consumer.subscribe({ topic: topics[role].name, fromBeginning: true });
  let last = Date.now();
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    last = Date.now();
  });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({
        partition,
        offset: Number(message.offset),
        key: String(message.key),
        timestamp: Number(message.timestamp),
        value: await serde.decode(role, message.value as Buffer),
        traceparent: traceparentIn(message.headers),
      });
      last = Date.now();
    },
  });
  const idleMs = opts.idleMs ?? 1_500;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(joined && Date.now() - last > idleMs && (opts.expect === undefined || records.length >= opts.expect))) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/**
 * Every partition's committed end (kafkajs lists offsets read-committed: the last stable
 * offset), summed per topic: changes when anything is committed. Read until two readings
 * agree, because a committed transaction's markers reach the partitions just after the
 * commit returns.
 */
export async function committedEndOffsets(admin: Admin, topics: Topics): Promise<Record<string, number>> {
  let previous = await endOffsetsOnce(admin, topics);
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const current = await endOffsetsOnce(admin, topics);
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    previous = current;
  }
}

async function endOffsetsOnce(admin: Admin, topics: Topics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const spec of Object.values(topics)) {
    const offsets = await topicOffsets(admin, spec.name);
    out[spec.name] = offsets.reduce((sum, p) => sum + Number(p.high), 0);
  }
  return out;
}
