// An executor in-process over a test's own topics, calling a test simulator, plus a
// collector that follows item-results and the DLQ the way the projections will.
import type { Kafka } from 'kafkajs';
import type { ApiClient } from '../../src/domain/api-client.js';
import { executorSettings, openExecutorRuntime, type ExecutorRuntime } from '../../src/app/executor-runtime.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { DeadLettered, ItemResult } from '../../src/domain/events.js';
import type { Serde } from '../../src/kafka/serde.js';
import type { Topics } from '../../src/kafka/topics.js';
import { testLogger, uniqueName } from './services.js';

/** The test's config with the executor pointed at a simulator and metrics (executor's, projector's) on free ports. */
export function executorConfig(config: Config, simulatorUrl: string, env: Record<string, string> = {}): Config {
  const base = loadConfig({
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    SCHEMA_REGISTRY_URL: config.registry.url,
    DATABASE_URL: config.database.url,
    SLUICE_TOPIC_PREFIX: config.kafka.topicPrefix,
    SLUICE_ITEM_PARTITIONS: String(config.kafka.itemPartitions),
    ADS_API_URL: simulatorUrl,
    SLUICE_METRICS_PORT: '0',
    SLUICE_PROJECTOR_METRICS_PORT: '0',
    SLUICE_LOG_LEVEL: 'warn',
    ...env,
  });
  return base;
}

/** `api`: a client to call instead of the configured one (a wrapper that misbehaves on purpose). */
export function startTestExecutor(config: Config, api?: ApiClient): Promise<ExecutorRuntime> {
  return openExecutorRuntime(config, testLogger(), executorSettings(config), api);
}

export const terminal = (r: ItemResult) => !('sluice.ItemRetrying' in r.outcome);
export const outcomeOf = (r: ItemResult) => Object.keys(r.outcome)[0]!.replace('sluice.', '');

/** Follows item-results and the DLQ (read committed) from the beginning. */
export class OutcomeCollector {
  readonly results: ItemResult[] = [];
  readonly deadLetters: DeadLettered[] = [];
  private readonly consumer;

  private constructor(kafka: Kafka, private readonly serde: Serde, private readonly topics: Topics) {
    this.consumer = kafka.consumer({ groupId: uniqueName('test-outcomes') });
  }

  static async start(kafka: Kafka, serde: Serde, topics: Topics): Promise<OutcomeCollector> {
    const c = new OutcomeCollector(kafka, serde, topics);
    await c.consumer.connect();
    await c.consumer.subscribe({ topics: [topics.itemResults.name, topics.dlq.name], fromBeginning: true });
    await c.consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, message }) => {
        if (topic === c.topics.itemResults.name) c.results.push(await c.serde.decode('itemResults', message.value!));
        else c.deadLetters.push(await c.serde.decode('dlq', message.value!));
      },
    });
    return c;
  }

  /** Terminal results per item id. */
  terminalByItem(jobId?: string): Map<string, ItemResult[]> {
    const byItem = new Map<string, ItemResult[]>();
    for (const r of this.results) {
      if (!terminal(r) || (jobId && r.jobId !== jobId)) continue;
      byItem.set(r.itemId, [...(byItem.get(r.itemId) ?? []), r]);
    }
    return byItem;
  }

  /** Waits until `count` items of the job have a terminal result. */
  async waitForTerminal(jobId: string, count: number, timeoutMs = 90_000): Promise<Map<string, ItemResult[]>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const byItem = this.terminalByItem(jobId);
      if (byItem.size >= count) return byItem;
      if (Date.now() > deadline) throw new Error(`job ${jobId}: ${byItem.size} of ${count} items terminal after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): Promise<void> {
    return this.consumer.disconnect();
  }
}
