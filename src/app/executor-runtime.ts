// Composition root of the executor process: Kafka (topics, schemas), the Ads API client,
// the job-control view, the executor itself and its /metrics endpoint; closes exactly
// what it opened, in reverse order.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { TENANT_CREDENTIALS_REFRESH_MS, tenantRoutedApiClient } from './ads-api-client.js';
import { ensureDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { createTenantCredentials } from '../db/tenant-credentials.js';
import { openTenantClientView } from './tenant-client-view.js';
import { amazonCatalogue } from '../ads-api/operations.js';
import type { ApiClient } from '../domain/api-client.js';
import { ExecutorMetrics } from '../consumers/executor-metrics.js';
import { Executor, type ExecutorSettings } from '../consumers/executor.js';
import { openJobControlView } from '../consumers/job-control-view.js';
import { createKafka } from '../kafka/client.js';
import { checkKafkaAccess } from '../kafka/access-check.js';
import { createRegistryClient, createSerde } from '../kafka/serde.js';
import { ensureTopics, topicSpecs } from '../kafka/topics.js';
import type { Logger } from '../telemetry/logger.js';
import { exporterFor, flushTracing, startTracing } from '../telemetry/tracing.js';
import { withOpsServer } from '../telemetry/ops-server.js';
import { groupCheck, kafkaCheck, postgresCheck, registryCheck, type ReadinessCheck } from '../telemetry/readiness.js';

/** The executor and what it opened, serving nothing (`sluice run` serves one port for all its parts). */
export interface ExecutorParts {
  executor: Executor;
  metrics: ExecutorMetrics;
  /** What /readyz asks of it: Kafka, the registry, its group. */
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

/** The executor process's parts with /metrics, /healthz and /readyz on their own port. */
export interface ExecutorRuntime extends ExecutorParts {
  /** Where /metrics is served. */
  metricsUrl: string;
}

export function executorSettings(config: Config, instanceId: string = randomUUID()): ExecutorSettings {
  const e = config.executor;
  return {
    groupId: e.groupId,
    instanceId,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    readAhead: e.readAhead,
    maxCallsInFlight: e.maxCallsInFlight,
    laneScope: e.laneScope,
    lane: { maxAttempts: e.maxAttempts, backoff: { baseMs: e.retryBaseMs, maxMs: e.retryMaxMs }, lingerMs: e.lingerMs, maxBatchSize: e.maxBatchSize, readAhead: e.laneReadAhead, longWaitMs: e.laneLongWaitMs, readBatches: e.readBatches, maxReadAgeMs: e.maxReadAgeMs },
    limits: { defaults: e.defaultRate, perProfile: e.profileRates },
    breakers: {
      profile: { volumeThreshold: e.breaker.volume, errorThresholdPercentage: 50, resetTimeoutMs: e.breaker.resetMs, rollingWindowMs: 30_000 },
      api: { volumeThreshold: e.breaker.apiVolume, errorThresholdPercentage: 50, resetTimeoutMs: e.breaker.resetMs, rollingWindowMs: 30_000 },
    },
    flushIntervalMs: 50,
    retentionCheckMs: e.retentionCheckMs,
    profileReleaseMs: e.profileReleaseMs,
  };
}

/** `api`: the client the lanes call; by default the one the configuration names (built here and closed with the runtime). */
export async function openExecutorRuntime(config: Config, logger: Logger, settings: ExecutorSettings = executorSettings(config), api?: ApiClient): Promise<ExecutorRuntime> {
  const runtime = await withOpsServer(await openExecutorParts(config, logger, settings, api), config.api.host, config.executor.metricsPort);
  logger.info({ groupId: settings.groupId, instanceId: settings.instanceId, metricsUrl: runtime.metricsUrl }, 'executor started');
  return runtime;
}

export async function openExecutorParts(config: Config, logger: Logger, settings: ExecutorSettings = executorSettings(config), api?: ApiClient): Promise<ExecutorParts> {
  startTracing('sluice-executor', () => exporterFor(config.tracing));
  await checkKafkaAccess(config.kafka);
  const kafka = createKafka({ config: config.kafka, logger });
  const admin = kafka.admin();
  await admin.connect();
  const topics = topicSpecs(config.kafka);
  await ensureTopics(admin, topics, config.kafka.replicationFactor, logger);
  const serde = await createSerde(createRegistryClient(config.registry), topics);
  const catalogue = amazonCatalogue();
  // Tenants' own Amazon credentials live in Postgres: the executor reads them from there.
  await ensureDatabase(config.database.url);
  await migrate(config.database.url, logger);
  const pool = createPool({ url: config.database.url, max: 2, applicationName: 'sluice-executor', logger });
  const metrics = new ExecutorMetrics();
  const credentials = createTenantCredentials(pool, config.secretKeys);
  const client = api ?? tenantRoutedApiClient(config, credentials, catalogue, { onRejected: () => metrics.credentialsRejected.inc(), logger });
  const tenantClients = await openTenantClientView(credentials, TENANT_CREDENTIALS_REFRESH_MS, logger);
  const control = await openJobControlView({ kafka, admin, serde, topics, logger, groupPrefix: settings.groupId });
  const executor = new Executor({ kafka, admin, serde, topics, catalogue, api: client, clientOf: tenantClients.clientOf, control, metrics, logger, settings });
  await executor.start();
  return {
    executor,
    metrics,
    readiness: [kafkaCheck(admin), registryCheck(config.registry), postgresCheck(pool), groupCheck(settings.groupId, () => executor.inGroup)],
    async close() {
      await Promise.all([executor.stop(), control.close()]);
      tenantClients.close();
      await client.close();
      await admin.disconnect();
      await pool.end();
      await flushTracing();
    },
  };
}

