// Brings up the services the integration tests talk to, once per run: the environment's
// own (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL), containers when a Docker engine
// is reachable, or else the project's local stack of real services on this machine.
// There is no fallback to fakes: if a service cannot be had, the tests fail.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config.js';
import { stackDown, stackUp } from '../../src/stack/local-stack.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { dockerIsReachable, startContainers, type RunningContainers } from './containers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: { kafkaBrokers: string; registryUrl: string; databaseUrl: string };
  }
}

let teardown: (() => Promise<void>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  const logger = createLogger({ level: 'warn', service: 'test-setup' });
  const external = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'DATABASE_URL'].some((name) => process.env[name]);
  let env = process.env;
  if (!external && (await dockerIsReachable())) {
    const containers: RunningContainers = await startContainers();
    env = { ...process.env, ...containers.env };
    teardown = containers.stop;
  }
  const config = loadConfig(env);
  const { started } = await stackUp(config, logger);
  // Leave running what was already running; stop only what this run started.
  if (started.length > 0 && !teardown) teardown = async () => void (await stackDown(config, logger));
  project.provide('services', {
    kafkaBrokers: config.kafka.brokers.join(','),
    registryUrl: config.registry.url,
    databaseUrl: config.database.url,
  });
}

export async function teardownStack(): Promise<void> {
  await teardown?.();
}

export { teardownStack as teardown };
