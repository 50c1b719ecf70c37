// What an integration test builds its world from: the services the global setup
// provided, a unique topic prefix per test file, and a database per test file
// (created with a random name, dropped with FORCE afterwards).
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { dropDatabase, ensureDatabase, withDatabase } from '../../src/db/database.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** Config pointing at the test services, with this file's own topics and database. */
export function testConfig(env: Record<string, string> = {}): Config {
  const services = inject('services');
  return loadConfig({
    KAFKA_BROKERS: services.kafkaBrokers,
    SCHEMA_REGISTRY_URL: services.registryUrl,
    DATABASE_URL: withDatabase(services.databaseUrl, uniqueName('sluice_test')),
    SLUICE_TOPIC_PREFIX: `${uniqueName('t')}.`,
    SLUICE_LOG_LEVEL: 'warn',
    SLUICE_PROJECTOR_METRICS_PORT: '0', // files run side by side: any free port
    ...env,
  });
}

export interface TestDatabase {
  url: string;
  drop: () => Promise<void>;
}

export async function createTestDatabase(config: Config): Promise<TestDatabase> {
  await ensureDatabase(config.database.url);
  return { url: config.database.url, drop: () => dropDatabase(config.database.url) };
}

export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', service: 'test' });
}
