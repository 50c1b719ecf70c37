// Runs work inside one Kafka transaction of its own transactional producer: committed if
// the work returns, aborted if it throws, the producer disconnected either way. A new
// producer with the same transactional id fences any earlier one (a crashed submitter).
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Kafka, type Producer, type Transaction } from 'kafkajs';

export interface TransactionOptions {
  transactionalId: string;
  /** The broker aborts the transaction if it stays open longer. */
  transactionTimeoutMs?: number;
}

/** A producer for Kafka transactions: idempotent, one request in flight, murmur2 keys. */
export function transactionalProducer(kafka: Kafka, options: TransactionOptions): Producer {
  return kafka.producer({
    transactionalId: options.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    ...(options.transactionTimeoutMs ? { transactionTimeout: options.transactionTimeoutMs } : {}),
    createPartitioner: Partitioners.DefaultPartitioner, // murmur2, as the Java client
  });
}

/** One transaction on a connected transactional producer: committed if `work` returns, aborted if it throws. */
export async function inKafkaTransaction<T>(producer: Producer, work: (txn: Transaction) => Promise<T>): Promise<T> {
  const txn = await producer.transaction();
  try {
    const result = await work(txn);
    await txn.commit();
    return result;
  } catch (error) {
    await txn.abort().catch(() => undefined);
    throw error;
  }
}

export async function withTransaction<T>(kafka: Kafka, options: TransactionOptions, work: (txn: Transaction) => Promise<T>): Promise<T> {
  const producer = transactionalProducer(kafka, options);
  await producer.connect();
  try {
    return await inKafkaTransaction(producer, work);
  } finally {
    await producer.disconnect();
  }
}

// kafkajs 2.2.4 retries a transactional offset commit only for error names that its own
// protocol table does not use (it calls code 16 NOT_COORDINATOR_FOR_GROUP, but checks for
// NOT_COORDINATOR), so it gives up at once while a group coordinator is still loading:
// on a fresh broker, for the first few seconds. These codes are safe to retry inside the
// open transaction; each attempt looks the coordinator up again.
const COORDINATOR_NOT_READY_CODES = new Set([14, 15, 16]); // load in progress, not available, not coordinator

type SendOffsetsArgs = Parameters<Transaction['sendOffsets']>[0];

export async function sendOffsetsInTransaction(txn: Transaction, args: SendOffsetsArgs, attempts = 10): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await txn.sendOffsets(args);
      return;
    } catch (error) {
      if (attempt >= attempts || !coordinatorNotReady(error)) throw error;
      await sleep(Math.min(100 * 2 ** attempt, 3_000));
    }
  }
}

// By name and code: kafkajs's error classes are not named exports under Node's ESM loader.
function coordinatorNotReady(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'KafkaJSProtocolError') return false;
  const { code } = error as Error & { code?: unknown };
  return typeof code === 'number' && COORDINATOR_NOT_READY_CODES.has(code);
}

/**
 * The most bytes of record values one send should carry. Kafka refuses a record batch
 * above message.max.bytes (1 MiB by default) and a batch goes to one partition, so a
 * send whose records share a key (a job's results) must stay well below that.
 */
export const MAX_SEND_BYTES = 512 * 1024;
