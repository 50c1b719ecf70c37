// Composition root of the projector process: Postgres (created and migrated if needed),
// Kafka topics and schemas, and the projector consumer; closes what it opened.
import type { Config } from '../config.js';
import { ensureDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { createPool, type Pool } from '../db/pool.js';
import { createKafka } from '../kafka/client.js';
import { createRegistryClient, createSerde } from '../kafka/serde.js';
import { ensureTopics, topicSpecs } from '../kafka/topics.js';
import { Projector } from '../projections/projector.js';
import type { Logger } from '../telemetry/logger.js';

export interface ProjectorRuntime {
  pool: Pool;
  close(): Promise<void>;
}

export function projectorGroup(config: Config): string {
  return `${config.kafka.topicPrefix}projector`;
}

export async function openProjectorRuntime(config: Config, logger: Logger): Promise<ProjectorRuntime> {
  await ensureDatabase(config.database.url);
  await migrate(config.database.url, logger);
  const pool = createPool({ url: config.database.url, applicationName: 'sluice-projector' });
  const kafka = createKafka({ config: config.kafka, logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = topicSpecs(config.kafka);
    await ensureTopics(admin, topics, config.kafka.replicationFactor, logger);
    const serde = await createSerde(createRegistryClient(config.registry.url), topics);
    const projector = new Projector({ kafka, pool, serde, topics, groupId: projectorGroup(config), sessionTimeoutMs: config.kafka.sessionTimeoutMs, logger });
    await projector.start();
    logger.info({ groupId: projectorGroup(config) }, 'projector started');
    return {
      pool,
      async close() {
        await projector.stop();
        await pool.end();
      },
    };
  } finally {
    await admin.disconnect();
  }
}
