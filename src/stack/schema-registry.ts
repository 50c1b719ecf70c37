// The local schema registry: Apicurio Registry serving the Confluent-compatible API at
// /apis/ccompat/v7, keeping its schemas in an H2 file beside the Kafka data so that
// schema ids stay valid for the records already on the topics across restarts.
import { join } from 'node:path';
import type { StartSpec } from './process-supervisor.js';

export const LOCAL_REGISTRY_PORT = 8081;
export const LOCAL_REGISTRY_HEALTH = `http://127.0.0.1:${LOCAL_REGISTRY_PORT}/health/ready`;

export function registryProcess(registryJar: string, stackDir: string): StartSpec {
  const dir = join(stackDir, 'registry');
  return {
    name: 'schema-registry',
    pidFile: join(dir, 'registry.pid'),
    logFile: join(dir, 'registry.log'),
    command: 'java',
    args: [
      '-Xmx384m',
      `-Dquarkus.http.host=127.0.0.1`,
      `-Dquarkus.http.port=${LOCAL_REGISTRY_PORT}`,
      `-Dapicurio.datasource.url=jdbc:h2:file:${join(dir, 'db', 'registry')};DB_CLOSE_ON_EXIT=FALSE`,
      '-jar', registryJar,
    ],
    cwd: join(registryJar, '..'),
  };
}

export async function registryIsReady(healthUrl = LOCAL_REGISTRY_HEALTH): Promise<boolean> {
  try {
    const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}
