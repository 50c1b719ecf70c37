// Scenarios that need Kafka, the registry and Postgres bring the local stack up first
// (or use the services the environment names), exactly as `npm run stack:up` does.
import { loadConfig, type Config } from '../../src/config.js';
import { stackUp } from '../../src/stack/local-stack.js';
import { createLogger } from '../../src/telemetry/logger.js';

export async function ensureStack(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const config = loadConfig(env);
  await stackUp(config, createLogger({ level: 'warn', service: 'bench' }));
  return config;
}

/** Peak resident memory of a live process (VmHWM), in MiB. */
export async function peakRssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1]);
  return Math.round(kb / 1024);
}
