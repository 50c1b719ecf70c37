// A partition's output channel recovers from a failed flush (guarantee 9) and knows when
// the partition is not its own any more. A flush that fails (the broker down longer than
// the client retries) keeps its records, and the next flush, with a new producer, writes
// them; one whose commit landed although its answer was lost is not written twice; a
// producer fenced by another executor, or a commit that changed under it, ends the
// channel. Before, flushes were chained on success only, so the first failure failed
// every later flush with its error and the executor never wrote a result again. A fake
// Kafka stands in for the broker: what is tested is the channel's own sequencing.
import type { Kafka, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PartitionChannel, PartitionLost, type CommitPoint } from '../../../src/consumers/partition-channel.js';

interface Broker {
  /** What the next transactions do, one entry each; then they succeed. */
  script: ('ok' | 'refused' | 'lostAnswer' | 'fenced')[];
  /** Keys of the records in committed transactions. */
  sent: string[];
  committed: CommitPoint | undefined;
  producers: number;
}

function fakeKafka(broker: Broker): Kafka {
  const producer = () => {
    broker.producers++;
    let records: string[] = [];
    let offsets: CommitPoint | undefined;
    const fail = (code: number) => Object.assign(new Error(code === 47 ? 'INVALID_PRODUCER_EPOCH' : 'Connection error'), { code });
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      transaction: async () => ({
        sendBatch: async ({ topicMessages }: { topicMessages: { messages: { key: string }[] }[] }) => void records.push(...topicMessages.flatMap((t) => t.messages.map((m) => m.key))),
        sendOffsets: async ({ topics }: { topics: { partitions: { offset: string; metadata: string }[] }[] }) => {
          const p = topics[0]!.partitions[0]!;
          offsets = { offset: Number(p.offset), metadata: p.metadata };
        },
        commit: async () => {
          const step = broker.script.shift() ?? 'ok';
          const [txnRecords, txnOffsets] = [records, offsets];
          records = [];
          offsets = undefined;
          if (step === 'refused') throw fail(-1);
          if (step === 'fenced') throw fail(47);
          broker.sent.push(...txnRecords);
          if (txnOffsets) broker.committed = txnOffsets;
          if (step === 'lostAnswer') throw fail(-1);
        },
        abort: async () => void ((records = []), (offsets = undefined)),
      }),
    } as unknown as Producer;
  };
  return { producer } as unknown as Kafka;
}

function channelOn(broker: Broker, point: () => CommitPoint | undefined) {
  return new PartitionChannel({ kafka: fakeKafka(broker), transactionalId: 't', consumerGroupId: 'g', topic: 'commands', partition: 3, commitPoint: point, committedNow: async () => broker.committed });
}

const record = (key: string) => [{ topic: 'results', key, value: Buffer.from(key) }];
const newBroker = (script: Broker['script']): Broker => ({ script, sent: [], committed: undefined, producers: 0 });

describe('PartitionChannel', () => {
  it('writes the records of a failed flush with the next one, and every later flush works', async () => {
    const broker = newBroker(['refused', 'refused']);
    let offset = 10;
    const channel = channelOn(broker, () => ({ offset, metadata: '' }));
    await channel.open();
    channel.add(record('a'));
    await expect(channel.flush()).rejects.toThrow(/Connection error/);
    channel.add(record('b'));
    await expect(channel.flush()).rejects.toThrow(/Connection error/);
    await channel.flush(); // the broker is back
    expect(broker.sent).toEqual(['a', 'b']);
    offset = 11;
    channel.add(record('c'));
    await channel.flush();
    expect(broker.sent).toEqual(['a', 'b', 'c']);
    expect(broker.committed).toEqual({ offset: 11, metadata: '' });
    expect(broker.producers).toBe(3); // a new producer after each failure, then the same one
  });

  it('writes nothing, and makes no producer of its own, until it is open', async () => {
    const broker = newBroker([]);
    const channel = channelOn(broker, () => ({ offset: 1, metadata: '' }));
    channel.add(record('a'));
    const opening = channel.open();
    expect(await channel.flush()).toBe(0); // while it opens: a second producer would fence the first
    await opening;
    expect(await channel.flush()).toBe(1);
    expect([broker.sent, broker.producers]).toEqual([['a'], 1]);
  });

  it('does not write again what a transaction whose answer was lost had committed', async () => {
    const broker = newBroker(['lostAnswer']);
    let offset = 5;
    const channel = channelOn(broker, () => ({ offset, metadata: '' }));
    await channel.open();
    channel.add(record('a'));
    offset = 6;
    await expect(channel.flush()).rejects.toThrow(/Connection error/);
    channel.add(record('b'));
    offset = 7;
    await channel.flush();
    expect(broker.sent).toEqual(['a', 'b']);
  });

  it('ends when fenced, and when the commit changed under it after a failure', async () => {
    const fenced = newBroker(['fenced']);
    const one = channelOn(fenced, () => ({ offset: 1, metadata: '' }));
    await one.open();
    one.add(record('a'));
    await expect(one.flush()).rejects.toBeInstanceOf(PartitionLost);
    one.add(record('b'));
    expect(await one.flush()).toBe(0);
    expect([fenced.sent, one.isLost]).toEqual([[], true]);

    const taken = newBroker(['refused']);
    const two = channelOn(taken, () => ({ offset: 2, metadata: '' }));
    await two.open();
    two.add(record('a'));
    await expect(two.flush()).rejects.toThrow(/Connection error/);
    taken.committed = { offset: 40, metadata: 'v2:another owner' }; // another executor committed since
    await expect(two.flush()).rejects.toBeInstanceOf(PartitionLost);
    expect(taken.sent).toEqual([]);
  });
});
