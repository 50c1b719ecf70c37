// The library call for services that embed Sluice: open the runtime, submit from any
// iterable, get the same answers as over HTTP.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProducerRuntime, submitJob, type ProducerRuntime } from '../../../src/index.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { openKafkaReader, type KafkaReader } from '../../helpers/api.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';
import { readTopic } from '../../helpers/topic-reader.js';

const config = testConfig();
let db: TestDatabase;
let runtime: ProducerRuntime;
let reader: KafkaReader;

beforeAll(async () => {
  db = await createTestDatabase(config);
  runtime = await openProducerRuntime(config, testLogger());
  reader = await openKafkaReader(config, runtime);
});
afterAll(async () => {
  await reader?.close();
  await runtime?.close();
  await db?.drop();
});

it('submits from a generator, idempotently, and refuses bad items by index and field', async () => {
  const p = generatedProfileId('FE', 0);
  function* items() {
    for (let i = 0; i < 25; i++) yield { profileId: p, payload: { keywordId: generatedEntityId(p, 'keywords', i), bid: 10 + i } };
  }
  const request = { tenantId: 'embedder', operation: 'keyword.setBid', idempotencyKey: 'lib-1' };
  const first = await submitJob(runtime, request, items());
  expect(first).toMatchObject({ type: 'accepted', itemCount: 25, profileCount: 1 });
  const again = await submitJob(runtime, request, items());
  expect(again).toMatchObject({ type: 'duplicate', jobId: first.type === 'accepted' ? first.jobId : '' });

  const bad = await submitJob(runtime, { tenantId: 'embedder', operation: 'keyword.setBid' }, [{ profileId: p, payload: { keywordId: '1', bid: 'x' } }]);
  expect(bad).toMatchObject({ type: 'rejected', errorCount: 1, errors: [{ index: 0, field: 'payload.bid' }] });

  const commands = await readTopic(reader.kafka, reader.serde, runtime.topics, 'itemCommands', { expect: 25 });
  expect(commands.map((c) => c.value.index)).toEqual(Array.from({ length: 25 }, (_, i) => i));
});
