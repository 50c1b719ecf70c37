// Makes the executor's output durable: item results and dead letters are buffered and,
// every few milliseconds, written in one Kafka transaction together with the consumed
// offsets that are safe to commit (all records below them finished). So a result and the
// commit of its command's offset land together or not at all; a crash loses only
// uncommitted work, which Kafka redelivers and the executor runs again (at least once).
// A failed flush keeps its records for the next one, with a new producer (the old one
// may be fenced or in an unknown transaction state).
import { setTimeout as sleep } from 'node:timers/promises';
import type { IHeaders, Kafka, Producer, TopicMessages } from 'kafkajs';
import { inKafkaTransaction, MAX_SEND_BYTES, sendOffsetsInTransaction, transactionalProducer } from '../kafka/transactions.js';
import type { Logger } from '../telemetry/logger.js';

export interface OutRecord {
  topic: string;
  key: string;
  value: Buffer;
  /** The item's trace context. */
  headers?: IHeaders;
}

export interface TopicOffsets {
  topic: string;
  /** metadata: what the consumer needs besides the offset to resume (finished offsets above it). */
  partitions: { partition: number; offset: string; metadata?: string }[];
}

export interface ResultSinkOptions {
  kafka: Kafka;
  transactionalId: string;
  consumerGroupId: string;
  /** Read at each flush, after taking the buffered records: offsets safe to commit. */
  committableOffsets: () => TopicOffsets[];
  flushIntervalMs: number;
  /** Flush early once this many records wait. */
  maxBuffered: number;
  logger: Logger;
  onFlushed?: (records: number, durationMs: number) => void;
}

export class ResultSink {
  private buffer: OutRecord[] = [];
  private producer: Producer | undefined;
  private running = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly committed = new Map<string, string>();

  constructor(private readonly options: ResultSinkOptions) {}

  start(): void {
    this.loop = this.run();
  }

  add(records: OutRecord[]): void {
    this.buffer.push(...records);
    if (this.buffer.length >= this.options.maxBuffered) this.wake?.();
  }

  /** Writes what is buffered now and commits the offsets that are safe now. */
  flush(): Promise<void> {
    // Each flush waits for the one before to settle, whatever its outcome. Chained on its
    // success alone, one failed flush (the broker down longer than the client's retries)
    // failed every later one with the same old error, and the executor never wrote a
    // result again (chaos broker-restart, a 44 s outage).
    const next = this.flushing.catch(() => undefined).then(() => this.flushOnce());
    this.flushing = next;
    return next;
  }

  /** Forgets what was committed (after a rebalance the group's offsets are read afresh). */
  forgetCommitted(): void {
    this.committed.clear();
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.flush();
    await this.producer?.disconnect();
  }

  private async run(): Promise<void> {
    while (this.running) {
      await Promise.race([sleep(this.options.flushIntervalMs), new Promise<void>((resolve) => (this.wake = resolve))]);
      try {
        await this.flush();
      } catch (error) {
        this.options.logger.error({ err: error, buffered: this.buffer.length }, 'result flush failed; retrying');
        await sleep(500);
      }
    }
  }

  private async flushOnce(): Promise<void> {
    const records = this.buffer;
    this.buffer = [];
    const offsets = this.changedOffsets(this.options.committableOffsets());
    if (records.length === 0 && offsets.length === 0) return;
    const started = Date.now();
    try {
      await inKafkaTransaction(await this.connectedProducer(), async (txn) => {
        for (const chunk of chunksOf(records)) await txn.sendBatch({ topicMessages: byTopic(chunk) });
        if (offsets.length > 0) await sendOffsetsInTransaction(txn, { consumerGroupId: this.options.consumerGroupId, topics: offsets });
      });
    } catch (error) {
      this.buffer = records.concat(this.buffer);
      await this.producer?.disconnect().catch(() => undefined);
      this.producer = undefined;
      throw error;
    }
    for (const t of offsets) for (const p of t.partitions) this.committed.set(`${t.topic}/${p.partition}`, commitKey(p));
    this.options.onFlushed?.(records.length, Date.now() - started);
  }

  private changedOffsets(all: TopicOffsets[]): TopicOffsets[] {
    return all
      .map((t) => ({ topic: t.topic, partitions: t.partitions.filter((p) => this.committed.get(`${t.topic}/${p.partition}`) !== commitKey(p)) }))
      .filter((t) => t.partitions.length > 0);
  }

  private async connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = transactionalProducer(this.options.kafka, { transactionalId: this.options.transactionalId });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }
}

const commitKey = (p: { offset: string; metadata?: string }) => `${p.offset}|${p.metadata ?? ''}`;

/** Sends of at most MAX_SEND_BYTES: a job's results all go to one partition, one record batch. */
export function* chunksOf(records: OutRecord[], maxBytes = MAX_SEND_BYTES): Generator<OutRecord[]> {
  let chunk: OutRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** A record's value and headers (a traceparent adds some 70 bytes to each). */
function recordBytes(record: OutRecord): number {
  let bytes = record.value.length;
  for (const [name, value] of Object.entries(record.headers ?? {})) bytes += name.length + String(value).length;
  return bytes;
}

function byTopic(records: OutRecord[]): TopicMessages[] {
  const topics = new Map<string, TopicMessages>();
  for (const r of records) {
    let t = topics.get(r.topic);
    if (!t) topics.set(r.topic, (t = { topic: r.topic, messages: [] }));
    t.messages.push({ key: r.key, value: r.value, headers: r.headers });
  }
  return [...topics.values()];
}
