// The same services as the local stack, as containers (testcontainers), for machines
// with a Docker engine. Images match docker-compose.yml.
import { existsSync } from 'node:fs';

export interface RunningContainers {
  env: Record<string, string>;
  stop: () => Promise<void>;
}

export async function dockerIsReachable(): Promise<boolean> {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

export async function startContainers(): Promise<RunningContainers> {
  // Loaded only here: machines without Docker never need the container client.
  const { GenericContainer, Wait } = await import('testcontainers');
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const [kafka, registry, postgres] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.7.1').withKraft().start(),
    new GenericContainer('apicurio/apicurio-registry:3.0.9')
      .withExposedPorts(8080)
      .withWaitStrategy(Wait.forHttp('/health/ready', 8080))
      .start(),
    new PostgreSqlContainer('postgres:16').withDatabase('sluice').start(),
  ]);
  return {
    env: {
      KAFKA_BROKERS: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
      SCHEMA_REGISTRY_URL: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
      DATABASE_URL: postgres.getConnectionUri(),
    },
    stop: async () => {
      await Promise.all([kafka.stop(), registry.stop(), postgres.stop()]);
    },
  };
}
