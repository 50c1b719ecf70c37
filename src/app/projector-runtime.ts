// Composition root of the projector process: Postgres (created and migrated if needed),
// Kafka topics and schemas, and the projector consumer; closes what it opened.
import type { Config } from '../config.js';
import { ensureDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { createKafka } from '../kafka/client.js';
import { checkKafkaAccess } from '../kafka/access-check.js';
import { createRegistryClient, createSerde } from '../kafka/serde.js';
import { ensureTopics, topicSpecs } from '../kafka/topics.js';
import { committedEnds } from '../kafka/read-positions.js';
import { Projector } from '../projections/projector.js';
import { ProjectorMetrics } from '../projections/projector-metrics.js';
import { holdProjectorLock, type HeldLock } from '../projections/rebuild-lock.js';
import type { Logger } from '../telemetry/logger.js';
import { withOpsServer } from '../telemetry/ops-server.js';
import { groupCheck, kafkaCheck, postgresCheck, registryCheck, type ReadinessCheck } from '../telemetry/readiness.js';

/** The projector and what it opened, serving nothing (`sluice run` serves one port for all its parts). */
export interface ProjectorParts {
  pool: Pool;
  metrics: ProjectorMetrics;
  /** What /readyz asks of it: Kafka, the registry, Postgres, its group. */
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

/** The projector process's parts with /metrics, /healthz and /readyz on their own port. */
export interface ProjectorRuntime extends ProjectorParts {
  /** Where /metrics is served. */
  metricsUrl: string;
}

export function projectorGroup(config: Config): string {
  return `${config.kafka.topicPrefix}projector`;
}

export async function openProjectorRuntime(config: Config, logger: Logger): Promise<ProjectorRuntime> {
  const runtime = await withOpsServer(await openProjectorParts(config, logger), config.api.host, config.projector.metricsPort);
  logger.info({ groupId: projectorGroup(config), metricsUrl: runtime.metricsUrl }, 'projector started');
  return runtime;
}

export async function openProjectorParts(config: Config, logger: Logger): Promise<ProjectorParts> {
  await ensureDatabase(config.database.url);
  await migrate(config.database.url, logger);
  await checkKafkaAccess(config.kafka);
  const pool = createPool({ url: config.database.url, applicationName: 'sluice-projector', logger });
  const kafka = createKafka({ config: config.kafka, logger });
  // Kept open: each scrape of the consumer lag asks the brokers for the partitions' ends.
  const admin = kafka.admin();
  let lock: HeldLock | undefined;
  try {
    // Refused while a rebuild runs; held for the process's life, so no rebuild starts under it.
    lock = await holdProjectorLock(pool, projectorGroup(config), (error) => logger.warn({ err: error }, 'projector lost the connection holding its rebuild lock; projecting goes on'));
    await admin.connect();
    const topics = topicSpecs(config.kafka);
    await ensureTopics(admin, topics, config.kafka.replicationFactor, logger);
    const serde = await createSerde(createRegistryClient(config.registry), topics);
    const metrics = new ProjectorMetrics(projectorGroup(config));
    const projector = new Projector({ kafka, pool, serde, topics, groupId: projectorGroup(config), sessionTimeoutMs: config.kafka.sessionTimeoutMs, logger, metrics });
    metrics.lagSource = async () => projector.lag(await committedEnds(admin, projector.topicNames));
    await projector.start();
    return {
      pool,
      metrics,
      readiness: [kafkaCheck(admin), registryCheck(config.registry), postgresCheck(pool), groupCheck(projectorGroup(config), () => projector.inGroup)],
      async close() {
        await projector.stop();
        await admin.disconnect();
        await lock?.release();
        await pool.end();
      },
    };
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    await lock?.release();
    await pool.end();
    throw error;
  }
}
