// Verification: every succeeded item of a job is read back by the executor (on its
// profile's limiter, like any call) and marked verified or drifted, so an "update
// returned success but nothing changed" is found, and so is a later change by someone
// else. The verifier turns the job's written items into VERIFY commands — the item's own
// identity and generation, `expect` = what the write set, nothing to write — produced
// in Kafka transactions; the results change each item's verification, not its status.
import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import type { Pool } from '../db/pool.js';
import type { ItemRequested } from '../domain/events.js';
import { commandHeaders } from '../kafka/command-headers.js';
import type { Serde } from '../kafka/serde.js';
import type { Topics } from '../kafka/topics.js';
import { MAX_SEND_BYTES, withTransaction } from '../kafka/transactions.js';
import { ownsJob } from '../projections/job-queries.js';
import { writtenItems, type WrittenItem, type WrittenItemFilter } from '../projections/written-items.js';
import { partitionerFor } from './job-transaction.js';

export interface VerifierOptions {
  kafka: Kafka;
  serde: Serde;
  topics: Topics;
  pool: Pool;
  /** Commands per transaction. */
  chunkSize?: number;
}

export type VerifyAnswer = { type: 'started'; jobId: string; items: number } | { type: 'not_found'; jobId: string };

export interface JobVerifier {
  /** Sends a verification of each written item of the job; answers how many once they are in Kafka. */
  verify(tenantId: string, jobId: string, filter?: WrittenItemFilter): Promise<VerifyAnswer>;
}

export function createJobVerifier(o: VerifierOptions): JobVerifier {
  const chunkSize = o.chunkSize ?? 10_000;
  const partitionOf = partitionerFor(o.topics.itemCommands);

  async function sendChunk(jobId: string, messages: Message[]): Promise<void> {
    // (an id per send: two verifications of one job at once must not fence each other)
    await withTransaction(o.kafka, { transactionalId: `sluice-verify-${jobId}-${randomUUID()}` }, async (txn) => {
      for (let start = 0, bytes = 0, end = 0; start < messages.length; start = end, bytes = 0) {
        for (end = start; end < messages.length && bytes < MAX_SEND_BYTES; end++) bytes += (messages[end]!.value as Buffer).length;
        await txn.send({ topic: o.topics.itemCommands.name, messages: messages.slice(start, end) });
      }
    });
  }

  return {
    async verify(tenantId, jobId, filter) {
      if (!(await ownsJob(o.pool, tenantId, jobId))) return { type: 'not_found', jobId };
      const now = Date.now();
      const headers = commandHeaders(jobId, undefined);
      let chunk: Message[] = [];
      let items = 0;
      for await (const item of writtenItems(o.pool, tenantId, jobId, filter)) {
        const command = verifyCommand(tenantId, jobId, item, now);
        chunk.push({ key: command.profileId, partition: partitionOf(command.profileId), headers, value: o.serde.encode('itemCommands', command) });
        items++;
        if (chunk.length >= chunkSize) {
          await sendChunk(jobId, chunk);
          chunk = [];
        }
      }
      if (chunk.length > 0) await sendChunk(jobId, chunk);
      return { type: 'started', jobId, items };
    },
  };
}

function verifyCommand(tenantId: string, jobId: string, item: WrittenItem, now: number): ItemRequested {
  return {
    jobId,
    itemId: item.itemId,
    index: item.index,
    tenantId,
    profileId: item.profileId,
    operation: item.operation,
    payload: JSON.stringify(item.payload),
    attempt: 1,
    replayGeneration: item.replayGeneration,
    requestedAt: now,
    expect: JSON.stringify(item.applied),
    captureBefore: false,
    purpose: 'VERIFY',
  };
}
