import { createRequire } from 'node:module';
import type { Transaction } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { sendOffsetsInTransaction } from '../../../src/kafka/transactions.js';

// kafkajs's own error class, as the broker response parser makes it.
const { KafkaJSProtocolError } = createRequire(import.meta.url)('kafkajs') as {
  KafkaJSProtocolError: new (e: { message: string; type: string; code: number; retriable: boolean }) => Error;
};
const notCoordinator = () => new KafkaJSProtocolError({ message: 'This is not the correct coordinator for this group', type: 'NOT_COORDINATOR_FOR_GROUP', code: 16, retriable: true });
const fenced = () => new KafkaJSProtocolError({ message: 'producer fenced', type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false });

function transactionFailing(failures: Error[]): { txn: Transaction; calls: () => number } {
  let calls = 0;
  const txn = {
    sendOffsets: async () => {
      const failure = failures[calls++];
      if (failure) throw failure;
    },
  } as unknown as Transaction;
  return { txn, calls: () => calls };
}

const offsets = { consumerGroupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0, offset: '1' }] }] };

describe('sendOffsetsInTransaction', () => {
  it('retries while the group coordinator is not ready, then succeeds', async () => {
    const { txn, calls } = transactionFailing([notCoordinator(), notCoordinator()]);
    await sendOffsetsInTransaction(txn, offsets);
    expect(calls()).toBe(3);
  });

  it('gives up after its attempts, with the broker error', async () => {
    const { txn, calls } = transactionFailing([notCoordinator(), notCoordinator(), notCoordinator()]);
    await expect(sendOffsetsInTransaction(txn, offsets, 2)).rejects.toThrow('not the correct coordinator');
    expect(calls()).toBe(2);
  });

  it('does not retry any other error', async () => {
    const { txn, calls } = transactionFailing([fenced()]);
    await expect(sendOffsetsInTransaction(txn, offsets)).rejects.toThrow('producer fenced');
    expect(calls()).toBe(1);
  });
});
