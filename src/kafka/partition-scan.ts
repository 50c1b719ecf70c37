// Reads a stretch of a topic once: from a start offset per partition up to where each
// partition's committed end stands when the scan begins, read committed, handing every
// record to a visitor. For the rare reads that need history (a replay looking for newer
// updates of its entities), not for consumption: a consumer group of its own that
// commits nothing and is gone when the scan ends.
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { committedEnds } from './read-positions.js';

export interface ScanOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  /** Partition → first offset to read. */
  from: Map<number, number>;
  visit: (partition: number, message: KafkaMessage) => void | Promise<void>;
  timeoutMs?: number;
}

export async function scanPartitions({ kafka, admin, topic, from, visit, timeoutMs = 120_000 }: ScanOptions): Promise<void> {
  const ends = await committedEnds(admin, [topic]);
  const endOf = (partition: number) => ends.get(`${topic}/${partition}`) ?? 0;
  const open = new Set([...from].filter(([partition, start]) => start < endOf(partition)).map(([partition]) => partition));
  if (open.size === 0) return;
  const consumer = kafka.consumer({ groupId: `sluice.scan.${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  // A batch's last offset counts transaction markers, which carry no message (a fetch of
  // nothing but markers reaches only this event): a partition is read once it passes its end.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic !== topic || Number(payload.lastOffset) + 1 < endOf(payload.partition) || !open.delete(payload.partition)) return;
    if (open.size === 0) finished();
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const { partition } = batch;
        if (!open.has(partition)) return;
        const start = from.get(partition)!;
        const end = endOf(partition);
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          if (offset >= start && offset < end) await visit(partition, message);
        }
      },
    });
    const others = [...ends.keys()].map((key) => Number(key.slice(key.lastIndexOf('/') + 1))).filter((partition) => !open.has(partition));
    if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
    for (const partition of open) consumer.seek({ topic, partition, offset: String(from.get(partition)) });
    const timer = setTimeout(finished, timeoutMs);
    await done;
    clearTimeout(timer);
    if (open.size > 0) throw new Error(`scan of ${topic}: partitions ${[...open].join(', ')} not read to their end within ${timeoutMs} ms`);
  } finally {
    await consumer.disconnect();
  }
}
