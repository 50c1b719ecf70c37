// How far a consumer has read, per topic-partition, counted the way "caught up" needs it:
// from kafkajs's batch events, whose last offset includes transaction markers (the last
// entry of a transactional partition is a commit marker, never delivered as a message).
import type { Admin, Consumer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

const key = (topic: string, partition: number) => `${topic}/${partition}`;

/** Each partition's last committed offset now (kafkajs lists offsets read-committed). */
export async function committedEnds(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const ends = new Map<string, number>();
  for (const topic of topics) for (const p of await topicOffsets(admin, topic)) ends.set(key(topic, p.partition), Number(p.high));
  return ends;
}

/**
 * A topic's offsets. A broker that has just created the topic (or just taken over its
 * leadership) can answer NOT_LEADER or UNKNOWN_TOPIC for a moment after its metadata
 * names a leader, and kafkajs gives up on it at once: retriable errors are retried here.
 */
export async function topicOffsets(admin: Admin, topic: string, timeoutMs = 30_000): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      const e = error as { retriable?: boolean; cause?: { retriable?: boolean } };
      if (!(e.retriable || e.cause?.retriable) || Date.now() > deadline) throw error;
      await sleep(200);
    }
  }
}

export class ReadPositions {
  private readonly next = new Map<string, number>();

  constructor(consumer: Consumer) {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.next.set(key(payload.topic, payload.partition), Number(payload.lastOffset) + 1);
    });
  }

  /** The next offset this consumer will read in a partition, if it has read any of it. */
  nextOffset(topic: string, partition: number): number | undefined {
    return this.next.get(key(topic, partition));
  }

  /** How many of these partitions are not yet read up to their end. */
  behind(ends: Map<string, number>): number {
    let count = 0;
    for (const [partition, end] of ends) if (end > 0 && (this.next.get(partition) ?? 0) < end) count++;
    return count;
  }
}
