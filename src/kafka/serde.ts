// Encodes and decodes topic values as Avro in the Confluent wire format (magic byte,
// 4-byte schema id, Avro body) through a Confluent-compatible schema registry, so that
// any tool of the Kafka ecosystem can read our topics. Subjects follow the
// TopicNameStrategy (`<topic>-value`) with BACKWARD compatibility.
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import type { TopicValues } from '../domain/events.js';
import { assembleSchema, loadSchemaFiles } from './avro-schemas.js';
import type { TopicRole, Topics } from './topics.js';
import type { RegistryConfig } from '../config.js';

export interface Serde {
  /** Synchronous: the schema is the one registered at start-up, already compiled. */
  encode<R extends TopicRole>(role: R, value: TopicValues[R]): Buffer;
  /** Throws on bytes that are not a registered schema's encoding (a poison record). */
  decode<R extends TopicRole>(role: R, bytes: Buffer): Promise<TopicValues[R]>;
  /** The registry id each topic's current schema was registered under. */
  schemaIds: Record<TopicRole, number>;
}

export const subjectOf = (topic: string) => `${topic}-value`;

/** Confluent wire format: magic byte 0, the schema id (int32, big-endian), the Avro body. */
function wireEncoder(schemaId: number, type: avro.Type): (value: unknown) => Buffer {
  // Encoded into one scratch buffer behind the header, then copied out once: a million
  // item commands per job make the allocations of toBuffer + concat show.
  let scratch = withHeader(Buffer.allocUnsafe(64 * 1024), schemaId);
  return (value) => {
    let end = type.encode(value, scratch, 5);
    while (end < 0) {
      scratch = withHeader(Buffer.allocUnsafe(scratch.length * 2), schemaId);
      end = type.encode(value, scratch, 5);
    }
    const out = Buffer.allocUnsafe(end);
    out.set(scratch.subarray(0, end));
    return out;
  };
}

/** The Confluent wire format's header: magic byte 0, then the schema id. */
function withHeader(buffer: Buffer, schemaId: number): Buffer {
  buffer.writeUInt8(0, 0);
  buffer.writeInt32BE(schemaId, 1);
  return buffer;
}

export function createRegistryClient({ url, auth }: RegistryConfig): SchemaRegistry {
  return new SchemaRegistry({ host: url, ...(auth ? { auth } : {}), retry: { retries: 5, initialRetryTimeInSecs: 0.2 } });
}

/** Registers every topic's value schema (idempotent: an unchanged schema keeps its id). */
export async function createSerde(registry: SchemaRegistry, topics: Topics): Promise<Serde> {
  const records = loadSchemaFiles();
  const schemaIds = {} as Record<TopicRole, number>;
  const encoders = {} as Record<TopicRole, (value: unknown) => Buffer>;
  for (const spec of Object.values(topics)) {
    const schema = assembleSchema(spec.valueRecord, records);
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject: subjectOf(spec.name), compatibility: COMPATIBILITY.BACKWARD },
    );
    schemaIds[spec.role] = id;
    encoders[spec.role] = wireEncoder(id, avro.Type.forSchema(schema as avro.Schema));
  }
  return {
    schemaIds,
    encode: (role, value) => encoders[role](value),
    // Decoding asks the registry for the writer's schema by the id in the record, so
    // records written under older (compatible) schema versions still decode.
    decode: (_role, bytes) => registry.decode(bytes),
  };
}
