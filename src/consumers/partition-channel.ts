// One owned partition's output: the results and dead letters of its items, and its commit
// point, written in Kafka transactions of a producer whose transactional id belongs to the
// partition (the same in every executor of the group). Whoever is given the partition
// initialises that id first, which fences the producer of any earlier owner — a zombie
// woken after its partitions were given away — and aborts a transaction it left open (so
// read-committed readers are not held up until the broker's transaction timeout). Kafka
// offset commits in a transaction carry no group generation in kafkajs (no KIP-447): the
// fencing is what keeps a zombie from committing results or offsets for a lost partition.
import type { Kafka, Producer } from 'kafkajs';
import { inKafkaTransaction, sendOffsetsInTransaction, transactionalProducer } from '../kafka/transactions.js';
import { byTopic, chunksOf, type OutRecord } from './out-records.js';

export interface CommitPoint {
  offset: number;
  metadata: string;
}

export interface PartitionChannelOptions {
  kafka: Kafka;
  transactionalId: string;
  consumerGroupId: string;
  topic: string;
  partition: number;
  /** Read at each flush, after taking the buffered records: the offset safe to commit, if known yet. */
  commitPoint: () => CommitPoint | undefined;
  /** The group's committed offset of the partition now. */
  committedNow: () => Promise<CommitPoint | undefined>;
}

/** Another executor owns the partition now: its producer fenced this one, or it committed since. */
export class PartitionLost extends Error {
  constructor(readonly partition: number, cause: unknown) {
    super(`partition ${partition} is owned by another executor now`, { cause });
    this.name = 'PartitionLost';
  }
}

export class PartitionChannel {
  private buffer: OutRecord[] = [];
  private producer: Producer | undefined;
  /** The commit point last known to have landed. */
  private committed: string | undefined;
  /** A transaction whose outcome is unknown (its call failed): its records, and the commit point it carried. */
  private unsure: { records: OutRecord[]; point: string | undefined } | undefined;
  private lost = false;
  /** Set once open() has fenced the predecessors: nothing is written before. */
  private opened = false;
  private flushing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PartitionChannelOptions) {}

  get buffered(): number {
    return this.buffer.length;
  }

  get isLost(): boolean {
    return this.lost;
  }

  /**
   * Fences every earlier owner. After this the group's committed offset of the partition
   * is final until this channel commits: it is read now, as what this channel starts from.
   */
  async open(): Promise<CommitPoint | undefined> {
    const producer = await this.initialisedProducer();
    if (this.lost) {
      await producer.disconnect().catch(() => undefined); // closed while it was opened
      return undefined;
    }
    this.producer = producer;
    const committed = await this.options.committedNow();
    this.committed = committed ? keyOf(committed) : undefined;
    this.opened = true;
    return committed;
  }

  add(records: OutRecord[]): void {
    if (!this.lost) this.buffer.push(...records);
  }

  /**
   * Writes what is buffered and the commit point, in one transaction; resolves to the
   * records written. Throws PartitionLost once the partition is someone else's. Each flush
   * waits for the one before to settle, whatever its outcome.
   */
  flush(): Promise<number> {
    const next = this.flushing.catch(() => undefined).then(() => this.flushOnce());
    this.flushing = next;
    return next;
  }

  private async flushOnce(): Promise<number> {
    if (this.lost || !this.opened) return 0;
    if (!this.producer) await this.reopen(); // the last transaction failed
    const records = this.buffer;
    this.buffer = [];
    const point = this.options.commitPoint();
    const pointKey = point ? keyOf(point) : undefined;
    const offsetChanged = pointKey !== undefined && pointKey !== this.committed;
    if (records.length === 0 && !offsetChanged) return 0;
    try {
      await inKafkaTransaction(this.producer!, async (txn) => {
        for (const chunk of chunksOf(records)) await txn.sendBatch({ topicMessages: byTopic(chunk) });
        if (offsetChanged) {
          const partitions = [{ partition: this.options.partition, offset: String(point!.offset), metadata: point!.metadata }];
          await sendOffsetsInTransaction(txn, { consumerGroupId: this.options.consumerGroupId, topics: [{ topic: this.options.topic, partitions }] });
        }
      });
    } catch (error) {
      if (isFenced(error)) throw this.markLost(error);
      this.unsure = { records, point: offsetChanged ? pointKey : undefined };
      await this.producer?.disconnect().catch(() => undefined);
      this.producer = undefined;
      throw error;
    }
    if (offsetChanged) this.committed = pointKey;
    return records.length;
  }

  async close(): Promise<void> {
    this.lost = true;
    this.buffer = [];
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  // After a failed transaction: a new producer (initialising the id again settles the old
  // transaction), then the group's committed offset says what happened. Ours as it was: the
  // transaction did not land, its records go again. The one it carried: it landed. Anything
  // else: another executor has committed since, so the partition is not ours any more (and
  // initialising the id just now fenced that executor: it stops too, until the next
  // rebalance gives the partition to one owner again).
  private async reopen(): Promise<void> {
    const producer = await this.initialisedProducer();
    const committedNow = await this.options.committedNow();
    const now = committedNow ? keyOf(committedNow) : undefined;
    const unsure = this.unsure;
    this.unsure = undefined;
    if (unsure?.point !== undefined && now === unsure.point) {
      this.committed = now;
    } else if (now === this.committed) {
      if (unsure) this.buffer = unsure.records.concat(this.buffer);
    } else {
      await producer.disconnect().catch(() => undefined);
      throw this.markLost(new Error(`the group's commit of partition ${this.options.partition} changed under this executor`));
    }
    this.producer = producer;
  }

  private async initialisedProducer(): Promise<Producer> {
    const producer = transactionalProducer(this.options.kafka, { transactionalId: this.options.transactionalId });
    try {
      await producer.connect();
      // kafkajs initialises the transactional id at the first transaction: an empty one sends nothing else.
      await (await producer.transaction()).abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    return producer;
  }

  private markLost(cause: unknown): PartitionLost {
    this.lost = true;
    this.buffer = [];
    void this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    return new PartitionLost(this.options.partition, cause);
  }
}

const keyOf = (p: CommitPoint) => `${p.offset}|${p.metadata}`;

// INVALID_PRODUCER_EPOCH (47) from older request versions, PRODUCER_FENCED (90) from newer
// ones; kafkajs may wrap the protocol error in a retry error.
const FENCED_CODES = new Set([47, 90]);

function isFenced(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const { code, type } = e as Error & { code?: unknown; type?: unknown };
    if ((typeof code === 'number' && FENCED_CODES.has(code)) || type === 'INVALID_PRODUCER_EPOCH') return true;
    e = (e as Error & { originalError?: unknown }).originalError ?? e.cause;
  }
  return false;
}
