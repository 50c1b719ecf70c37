// Makes the executor's output durable: every few milliseconds, each owned partition's
// buffered results and dead letters are written in one Kafka transaction together with the
// partition's commit point (all records below it finished). So a result and the commit of
// its command's offset land together or not at all; a crash loses only uncommitted work,
// which Kafka redelivers and the executor runs again (at least once). Each partition has
// its own transactional producer (partition-channel): a new owner fences the old one.
// A failed flush keeps its records for the next one, with a new producer.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../telemetry/logger.js';
import type { OutRecord } from './out-records.js';
import { PartitionChannel, PartitionLost, type CommitPoint } from './partition-channel.js';

export interface ResultSinkOptions {
  kafka: Kafka;
  consumerGroupId: string;
  /** The input topic whose offsets are committed. */
  topic: string;
  /** Read at each flush of a partition, after taking its records: the offset safe to commit, if known yet. */
  commitPoint: (partition: number) => CommitPoint | undefined;
  /** The group's committed offset of a partition now. */
  committedNow: (partition: number) => Promise<CommitPoint | undefined>;
  /** Another executor owns the partition now: its work here must stop. */
  onLost: (lost: PartitionLost) => void;
  flushIntervalMs: number;
  /** Flush early once this many records wait. */
  maxBuffered: number;
  logger: Logger;
  onFlushed?: (records: number, durationMs: number) => void;
}

/** The transactional id of a partition's producer: the same in every executor of the group. */
export const partitionTransactionalId = (groupId: string, topic: string, partition: number) => `${groupId}.${topic}.${partition}`;

export class ResultSink {
  private readonly channels = new Map<number, PartitionChannel>();
  private running = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: ResultSinkOptions) {}

  start(): void {
    this.loop = this.run();
  }

  /**
   * Takes the partitions over: each one's producer is initialised, fencing any earlier
   * owner, and then its committed offset is read. Returns those offsets.
   */
  async own(partitions: number[]): Promise<Map<number, CommitPoint | undefined>> {
    const { kafka, consumerGroupId, topic } = this.options;
    const opened = await Promise.all(
      partitions.map(async (partition) => {
        const channel = new PartitionChannel({
          kafka,
          transactionalId: partitionTransactionalId(consumerGroupId, topic, partition),
          consumerGroupId,
          topic,
          partition,
          commitPoint: () => this.options.commitPoint(partition),
          committedNow: () => this.options.committedNow(partition),
        });
        await this.channels.get(partition)?.close();
        this.channels.set(partition, channel);
        return [partition, await channel.open()] as const;
      }),
    ).catch(async (error: unknown) => {
      // Taken over again next time, whole: none of these is owned until then.
      await Promise.all(partitions.map((partition) => this.channels.get(partition)?.close()));
      for (const partition of partitions) this.channels.delete(partition);
      throw error;
    });
    return new Map(opened);
  }

  /** Records of a partition's items; dropped when the partition is not owned (its new owner runs them again). */
  add(partition: number, records: OutRecord[]): void {
    const channel = this.channels.get(partition);
    if (!channel) {
      this.options.logger.debug({ partition, records: records.length }, 'records of a partition not owned dropped');
      return;
    }
    channel.add(records);
    if (this.buffered() >= this.options.maxBuffered) this.wake?.();
  }

  /** Writes what is buffered now and commits the offsets that are safe now, partition by partition. */
  async flush(): Promise<void> {
    const failures: unknown[] = [];
    await Promise.all(
      [...this.channels].map(async ([partition, channel]) => {
        const started = Date.now();
        try {
          const written = await channel.flush();
          if (written > 0) this.options.onFlushed?.(written, Date.now() - started);
        } catch (error) {
          if (!(error instanceof PartitionLost)) return void failures.push(error);
          if (this.channels.get(partition) === channel) this.channels.delete(partition);
          this.options.onLost(error);
        }
      }),
    );
    if (failures.length > 0) throw failures[0];
  }

  /** Flushes, then lets every partition go (after a rebalance each is taken over afresh). */
  async releaseAll(): Promise<void> {
    await this.flush().catch((error: unknown) => this.options.logger.error({ err: error }, 'flush before a rebalance failed; its records are dropped and run again'));
    const channels = [...this.channels.values()];
    this.channels.clear();
    await Promise.all(channels.map((c) => c.close()));
  }

  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.releaseAll();
  }

  private buffered(): number {
    let n = 0;
    for (const channel of this.channels.values()) n += channel.buffered;
    return n;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await Promise.race([sleep(this.options.flushIntervalMs), new Promise<void>((resolve) => (this.wake = resolve))]);
      try {
        await this.flush();
      } catch (error) {
        this.options.logger.error({ err: error, buffered: this.buffered() }, 'result flush failed; retrying');
        await sleep(500);
      }
    }
  }
}
