// A read-committed reader never sees a record of an aborted transaction (guarantee of
// every projection and of the outcome checks). kafkajs 2.2.4 took the broker's list of
// aborted transactions to be in the order they began; the broker lists them in the order
// they were aborted. Two transactions writing to one partition and aborted in the other
// order — two executors' flushes cut short by a takeover, say — and kafkajs delivered the
// first one's records as committed (seen: "p1-a" read). patches/kafkajs+2.2.4.patch sorts
// the list and takes every transaction begun before each record, as the Java client does.
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { createKafka } from '../../../src/kafka/client.js';
import { transactionalProducer } from '../../../src/kafka/transactions.js';
import { testConfig, testLogger, uniqueName } from '../../helpers/services.js';

let kafka: Kafka;
const topic = uniqueName('aborted');

beforeAll(async () => {
  kafka = createKafka({ config: testConfig().kafka, logger: testLogger() });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
});

async function readCommitted(until: (seen: string[]) => boolean): Promise<string[]> {
  const seen: string[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('aborted-reader'), readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
  for (let i = 0; i < 200 && !until(seen); i++) await new Promise((r) => setTimeout(r, 50));
  await consumer.disconnect();
  return seen;
}


it('skips interleaved transactions aborted in the other order than they began', async () => {
  const producers = [1, 2, 3].map((n) => transactionalProducer(kafka, { transactionalId: `${topic}-${n}-${randomUUID()}` }));
  await Promise.all(producers.map((p) => p.connect()));
  const [first, second, committer] = producers as [(typeof producers)[0], (typeof producers)[0], (typeof producers)[0]];
  const t1 = await first.transaction();
  const t2 = await second.transaction();
  await t1.send({ topic, messages: [{ value: 'p1-a' }] });
  await t2.send({ topic, messages: [{ value: 'p2-a' }] });
  await t1.send({ topic, messages: [{ value: 'p1-b' }] });
  await t2.abort(); // the later one is aborted first
  await t1.abort();
  const t3 = await committer.transaction();
  await t3.send({ topic, messages: [{ value: 'committed' }] });
  await t3.commit();
  expect(await readCommitted((seen) => seen.includes('committed'))).toEqual(['committed']);
  await Promise.all(producers.map((p) => p.disconnect()));
});
