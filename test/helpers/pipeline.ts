// The producing and executing halves of Sluice over a test's own topics and database,
// with a simulator of the Ads API: what the executor tests drive and inspect.
import type { ExecutorRuntime } from '../../src/app/executor-runtime.js';
import { openProducerRuntime, type ProducerRuntime } from '../../src/app/producer-runtime.js';
import type { Config } from '../../src/config.js';
import { submitJob } from '../../src/index.js';
import type { SimulatorConfigInput } from '../../src/simulator/config.js';
import { generatedEntityId } from '../../src/simulator/entities.js';
import { openKafkaReader, type KafkaReader } from './api.js';
import { executorConfig, OutcomeCollector, startTestExecutor } from './executor.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from './services.js';
import { startTestSimulator, type TestSimulator } from './simulator.js';

export interface TestPipeline {
  config: Config;
  sim: TestSimulator;
  producer: ProducerRuntime;
  reader: KafkaReader;
  outcomes: OutcomeCollector;
  /** Started by openTestPipeline unless `startExecutor: false`. */
  executor?: ExecutorRuntime;
  /** Submits `{profileId, payload}` items of one operation; returns the job id. */
  submit(items: unknown[], operation?: string): Promise<string>;
  close(): Promise<void>;
}

export async function openTestPipeline(opts: { simulator: SimulatorConfigInput; env?: Record<string, string>; startExecutor?: boolean }): Promise<TestPipeline> {
  const sim = await startTestSimulator(opts.simulator);
  const config = executorConfig(testConfig({ SLUICE_ITEM_PARTITIONS: opts.env?.SLUICE_ITEM_PARTITIONS ?? '4' }), sim.sim.url, opts.env);
  const db: TestDatabase = await createTestDatabase(config);
  const producer = await openProducerRuntime(config, testLogger());
  const reader = await openKafkaReader(config, producer);
  const outcomes = await OutcomeCollector.start(reader.kafka, reader.serde, producer.topics);
  const executor = opts.startExecutor === false ? undefined : await startTestExecutor(config);
  const pipeline: TestPipeline = {
    config,
    sim,
    producer,
    reader,
    outcomes,
    executor,
    async submit(items, operation = 'keyword.setBid') {
      const submitted = await submitJob(producer, { tenantId: 't1', operation }, items);
      if (submitted.type !== 'accepted') throw new Error(`submission not accepted: ${JSON.stringify(submitted)}`);
      return submitted.jobId;
    },
    /** Closes the executor the pipeline holds now (a test may have replaced it). */
    async close() {
      await pipeline.executor?.close();
      await outcomes.close();
      await reader.close();
      await producer.close();
      await sim.close();
      await db.drop();
    },
  };
  return pipeline;
}

/** `count` keyword bid updates of one profile, keyword i set to `bid(i)`. */
export function keywordUpdates(profileId: string, count: number, bid: (i: number) => number = (i) => 1 + (i % 50) / 10): KeywordUpdate[] {
  return Array.from({ length: count }, (_, i) => ({ profileId, payload: { keywordId: generatedEntityId(profileId, 'keywords', i), bid: bid(i) } }));
}

export interface KeywordUpdate {
  profileId: string;
  payload: { keywordId: string; bid: number };
}
