// The result sink recovers from a failed flush (guarantee 9): a flush that fails (the
// broker down longer than the client retries) keeps its records, and the next flush, with
// a new producer, writes them. Before, flushes were chained on success only, so the first
// failure failed every later flush with its error and the executor never wrote a result
// again. A fake Kafka stands in for the broker: what is tested is the sink's own sequencing.
import type { Kafka, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ResultSink } from '../../../src/consumers/result-sink.js';
import { createLogger } from '../../../src/telemetry/logger.js';

/** A Kafka whose first `failures` producers cannot connect; later ones record what they send. */
function flakyKafka(failures: number) {
  const sent: string[] = [];
  let made = 0;
  const kafka = {
    producer: () => {
      const fails = made++ < failures;
      const producer = {
        connect: async () => {
          if (fails) throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
        },
        disconnect: async () => undefined,
        transaction: async () => ({
          sendBatch: async ({ topicMessages }: { topicMessages: { messages: { key: string }[] }[] }) => void sent.push(...topicMessages.flatMap((t) => t.messages.map((m) => m.key))),
          sendOffsets: async () => undefined,
          commit: async () => undefined,
          abort: async () => undefined,
        }),
      };
      return producer as unknown as Producer;
    },
  };
  return { kafka: kafka as unknown as Kafka, sent, producers: () => made };
}

describe('ResultSink', () => {
  it('writes the records of a failed flush with the next one, and every later flush works', async () => {
    const { kafka, sent, producers } = flakyKafka(2);
    const sink = new ResultSink({ kafka, transactionalId: 't', consumerGroupId: 'g', committableOffsets: () => [], flushIntervalMs: 60_000, maxBuffered: 1_000, logger: createLogger({ level: 'silent', service: 'test' }) });
    sink.add([{ topic: 'results', key: 'a', value: Buffer.from('1') }]);
    await expect(sink.flush()).rejects.toThrow(/ECONNREFUSED/);
    sink.add([{ topic: 'results', key: 'b', value: Buffer.from('2') }]);
    await expect(sink.flush()).rejects.toThrow(/ECONNREFUSED/);
    await sink.flush(); // the broker is back
    expect(sent).toEqual(['a', 'b']);
    sink.add([{ topic: 'results', key: 'c', value: Buffer.from('3') }]);
    await sink.flush();
    expect(sent).toEqual(['a', 'b', 'c']);
    expect(producers()).toBe(3); // a new producer after each failure, then the same one
  });
});
