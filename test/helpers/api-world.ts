// What an api-side integration test starts from: its own config, database and topics, the
// producer runtime, a Kafka reader, and the api served on a free port. Closed in reverse.
import { openProducerRuntime, type ProducerRuntime } from '../../src/app/producer-runtime.js';
import type { Config } from '../../src/config.js';
import { openKafkaReader, serveApi, type KafkaReader, type ServedApi } from './api.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from './services.js';

export interface ApiWorld {
  config: Config;
  db: TestDatabase;
  runtime: ProducerRuntime;
  reader: KafkaReader;
  api: ServedApi;
  close(): Promise<void>;
}

export async function openApiWorld(env: Record<string, string> = {}): Promise<ApiWorld> {
  const config = testConfig(env);
  const db = await createTestDatabase(config);
  const runtime = await openProducerRuntime(config, testLogger());
  const reader = await openKafkaReader(config, runtime);
  const api = await serveApi(runtime);
  return {
    config,
    db,
    runtime,
    reader,
    api,
    async close() {
      await api.close();
      await reader.close();
      await runtime.close();
      await db.drop();
    },
  };
}

/** Waits until `check` holds, looking every 100 ms; fails naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
