// The api process's server in-process on a free port, over the test's own topics and
// database, plus the Kafka handles a test needs to read what it produced.
import type { Admin, Kafka } from 'kafkajs';
import { openProducerRuntime, type ProducerRuntime } from '../../src/app/producer-runtime.js';
import type { Config } from '../../src/config.js';
import { buildApiServer } from '../../src/http/server.js';
import { createKafka } from '../../src/kafka/client.js';
import { createRegistryClient, createSerde, type Serde } from '../../src/kafka/serde.js';
import type { ApiTokens, TokenScope } from '../../src/db/api-tokens.js';
import type { SubmissionLimits } from '../../src/producers/item-validation.js';
import { testLogger } from './services.js';

export interface ServedApi {
  url: string;
  /** `Authorization` header of a new token of the tenant (admin unless said otherwise). */
  auth(tenantId: string, scope?: TokenScope, jobId?: string): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

export interface TestApi extends ServedApi {
  runtime: ProducerRuntime;
}

/** The api's server over a runtime the test opened (and closes). */
export async function serveApi(runtime: ProducerRuntime, requestsPerMinute = 0): Promise<ServedApi> {
  const app = await buildApiServer({ runtime, logger: testLogger(), requestsPerMinute });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, auth: (tenantId, scope, jobId) => bearer(runtime.tokens, tenantId, scope, jobId), close: () => app.close() };
}

export async function startTestApi(config: Config, limits: Partial<SubmissionLimits> = {}): Promise<TestApi> {
  const runtime = await openProducerRuntime(config, testLogger(), limits);
  const served = await serveApi(runtime, config.api.requestsPerMinute);
  return {
    ...served,
    runtime,
    async close() {
      await served.close();
      await runtime.close();
    },
  };
}

export async function bearer(tokens: ApiTokens, tenantId: string, scope: TokenScope = 'admin', jobId?: string): Promise<{ authorization: string }> {
  const { token } = await tokens.create({ tenantId, scope, jobId, name: `test-${scope}`, createdBy: 'test' });
  return { authorization: `Bearer ${token}` };
}

export interface KafkaReader {
  kafka: Kafka;
  admin: Admin;
  serde: Serde;
  close(): Promise<void>;
}

export async function openKafkaReader(config: Config, runtime: ProducerRuntime): Promise<KafkaReader> {
  const kafka = createKafka({ config: config.kafka, logger: testLogger() });
  const admin = kafka.admin();
  await admin.connect();
  const serde = await createSerde(createRegistryClient(config.registry), runtime.topics);
  return { kafka, admin, serde, close: () => admin.disconnect() };
}

export async function postJob(url: string, body: string, headers: Record<string, string>, query = ''): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/jobs${query}`, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
