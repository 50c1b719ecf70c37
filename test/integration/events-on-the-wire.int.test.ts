// Foundation: every topic's events round-trip through the real broker and the real
// schema registry in the Confluent wire format, and the registry guards compatibility.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleSchema } from '../../src/kafka/avro-schemas.js';
import { createKafka } from '../../src/kafka/client.js';
import { createRegistryClient, createSerde, subjectOf, type Serde } from '../../src/kafka/serde.js';
import { ensureTopics, topicSpecs, type TopicRole, type Topics } from '../../src/kafka/topics.js';
import { sampleEvents } from '../helpers/sample-events.js';
import { testConfig, testLogger } from '../helpers/services.js';

const config = testConfig();
const logger = testLogger();
let kafka: Kafka;
let admin: Admin;
let topics: Topics;
let serde: Serde;

beforeAll(async () => {
  kafka = createKafka({ config: config.kafka, logger });
  admin = kafka.admin();
  await admin.connect();
  topics = topicSpecs(config.kafka);
  await ensureTopics(admin, topics, config.kafka.replicationFactor, logger);
  serde = await createSerde(createRegistryClient(config.registry), topics);
});

afterAll(async () => {
  await admin?.disconnect();
});

describe('topics', () => {
  it('are created with their configured partition counts and policies, once', async () => {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: Object.values(topics).map((t) => t.name) });
    expect(Object.fromEntries(meta.map((m) => [m.name, m.partitions.length]))).toEqual(
      Object.fromEntries(Object.values(topics).map((t) => [t.name, t.partitions])),
    );
    expect(meta.find((m) => m.name === topics.itemCommands.name)?.partitions).toHaveLength(config.kafka.itemPartitions);

    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topics.jobControl.name }] });
    const policy = described.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy');
    expect(policy?.configValue).toBe('compact');

    expect(await ensureTopics(admin, topics, config.kafka.replicationFactor, logger)).toEqual([]);
  });
});

describe('events on the wire', () => {
  it('round-trip every topic through the broker and the registry in the Confluent wire format', async () => {
    const samples = sampleEvents();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const roles = Object.keys(samples) as TopicRole[];
    for (const role of roles) {
      await producer.send({ topic: topics[role].name, messages: [{ key: `key-${role}`, value: serde.encode(role, samples[role]) }] });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${config.kafka.topicPrefix}roundtrip` });
    await consumer.connect();
    await consumer.subscribe({ topics: roles.map((r) => topics[r].name), fromBeginning: true });
    const received = new Map<string, { raw: Buffer; key: string }>();
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ topic, message }) => {
            received.set(topic, { raw: message.value as Buffer, key: String(message.key) });
            if (received.size === roles.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    for (const role of roles) {
      const got = received.get(topics[role].name);
      expect(got, role).toBeDefined();
      const raw = got!.raw;
      expect(raw[0], `${role}: magic byte`).toBe(0);
      expect(raw.readInt32BE(1), `${role}: schema id`).toBe(serde.schemaIds[role]);
      expect(got!.key).toBe(`key-${role}`);
      expect(await serde.decode(role, raw)).toEqual(samples[role]);
    }
  });

  it('registers each topic value under <topic>-value with BACKWARD compatibility', async () => {
    const base = config.registry.url;
    for (const spec of Object.values(topics)) {
      const res = await fetch(`${base}/config/${encodeURIComponent(subjectOf(spec.name))}`);
      expect(res.status, spec.name).toBe(200);
      expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD');
    }
  });

  it('re-registering unchanged schemas keeps their ids', async () => {
    const again = await createSerde(createRegistryClient(config.registry), topics);
    expect(again.schemaIds).toEqual(serde.schemaIds);
  });
});

describe('schema evolution', () => {
  const registry = () => createRegistryClient(config.registry);
  const itemRequested = () => assembleSchema('sluice.ItemRequested') as { fields: object[] };

  it('refuses a change that breaks BACKWARD compatibility', async () => {
    const broken = itemRequested();
    broken.fields.push({ name: 'mandatoryNewField', type: 'string' }); // no default: old records unreadable
    await expect(
      registry().register({ type: SchemaType.AVRO, schema: JSON.stringify(broken) }, { subject: subjectOf(topics.itemCommands.name) }),
    ).rejects.toThrow(/incompatible|409/i);
  });

  it('accepts a compatible change (a new field with a default)', async () => {
    const evolved = itemRequested();
    evolved.fields.push({ name: 'note', type: ['null', 'string'], default: null });
    const { id } = await registry().register(
      { type: SchemaType.AVRO, schema: JSON.stringify(evolved) },
      { subject: subjectOf(topics.itemCommands.name) },
    );
    expect(id).not.toBe(serde.schemaIds.itemCommands);
  });

  // The safe-changes fields (expect, captureBefore, purpose, payload, previous, applied,
  // revertOf; ItemConflict and ItemVerified) over the schemas as they stood before them
  // (test/fixtures/topic-schemas-v1.json): the registry accepts each topic's new schema
  // over the old one, and records written with the old one read with the new one.
  it('takes the safe-changes schemas over the ones before them, and reads old records with them', async () => {
    const v1 = JSON.parse(readFileSync(new URL('../fixtures/topic-schemas-v1.json', import.meta.url), 'utf8')) as Record<string, avro.Schema>;
    const samples = sampleEvents();
    const run = randomUUID().slice(0, 8);
    for (const spec of Object.values(topics)) {
      const subject = `evolution-${run}-${spec.role}-value`;
      const old = v1[spec.valueRecord]!;
      await registry().register({ type: SchemaType.AVRO, schema: JSON.stringify(old) }, { subject, compatibility: COMPATIBILITY.BACKWARD });
      const current = assembleSchema(spec.valueRecord);
      await expect(registry().register({ type: SchemaType.AVRO, schema: JSON.stringify(current) }, { subject }), spec.role).resolves.toMatchObject({ id: expect.any(Number) });

      // What an old producer wrote, read by a consumer that has the new schema.
      const oldType = avro.Type.forSchema(old);
      const newType = avro.Type.forSchema(current as avro.Schema);
      const written = oldType.clone(samples[spec.role]);
      const read = newType.fromBuffer(oldType.toBuffer(written), newType.createResolver(oldType)) as object;
      expect(read, spec.role).toMatchObject(written as object);
      if (spec.role === 'itemCommands') expect(read).toMatchObject({ expect: null, captureBefore: true, purpose: 'WRITE' });
      if (spec.role === 'itemResults') expect(read).toMatchObject({ payload: null });
    }
  });
});

