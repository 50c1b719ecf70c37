// What the executor writes (results, dead letters, expiry reports), and how a flush cuts
// them into sends Kafka accepts.
import type { IHeaders, TopicMessages } from 'kafkajs';
import { MAX_SEND_BYTES } from '../kafka/transactions.js';

export interface OutRecord {
  topic: string;
  key: string;
  value: Buffer;
  /** The item's trace context. */
  headers?: IHeaders;
}

/** Sends of at most MAX_SEND_BYTES: a job's results all go to one partition, one record batch. */
export function* chunksOf(records: OutRecord[], maxBytes = MAX_SEND_BYTES): Generator<OutRecord[]> {
  let chunk: OutRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** A record's value and headers (a traceparent adds some 70 bytes to each). */
function recordBytes(record: OutRecord): number {
  let bytes = record.value.length;
  for (const [name, value] of Object.entries(record.headers ?? {})) bytes += name.length + String(value).length;
  return bytes;
}

export function byTopic(records: OutRecord[]): TopicMessages[] {
  const topics = new Map<string, TopicMessages>();
  for (const r of records) {
    let t = topics.get(r.topic);
    if (!t) topics.set(r.topic, (t = { topic: r.topic, messages: [] }));
    t.messages.push({ key: r.key, value: r.value, headers: r.headers });
  }
  return [...topics.values()];
}
