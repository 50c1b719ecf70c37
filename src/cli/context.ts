// What every CLI command starts from: the validated configuration and a logger.
import { userInfo } from 'node:os';
import { openProducerRuntime, type ProducerRuntime } from '../app/producer-runtime.js';
import { loadConfig, type Config } from '../config.js';
import type { AuditLog, AuditOutcome } from '../db/audit-log.js';
import { createPool, type Pool } from '../db/pool.js';
import { limitHeapGrowth } from '../lib/heap-growth.js';
import { createLogger, type Logger } from '../telemetry/logger.js';

export interface CliContext {
  config: Config;
  logger: Logger;
}

export function cliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const config = loadConfig(env);
  limitHeapGrowth(config.heapGrowthPercent);
  return { config, logger: createLogger({ level: config.logLevel, service: 'cli' }) };
}

/** A long-running command: on SIGTERM or SIGINT, `close` runs once and the process exits 0. */
export function closeOnSignals(close: (signal: NodeJS.Signals) => Promise<void>): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    void close(signal).then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** A one-shot command on the producer side (control, dead letters): opens it quietly, runs `work`, closes it. */
export async function withProducerRuntime(work: (runtime: ProducerRuntime) => Promise<void>): Promise<void> {
  const { config } = cliContext();
  const runtime = await openProducerRuntime(config, createLogger({ level: 'warn', service: 'cli' }));
  try {
    await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** A one-shot command that only reads or writes Postgres (projections, tokens, the audit log). */
export async function withPool(work: (pool: Pool) => Promise<void>): Promise<void> {
  const { config } = cliContext();
  const pool = createPool({ url: config.database.url, max: 2, applicationName: 'sluice-cli' });
  try {
    await work(pool);
  } finally {
    await pool.end();
  }
}

/** Who runs the command, as the audit log and events name them: `--by`, else the OS user. */
export function cliActor(by?: string): string {
  return `cli:${by ?? process.env.USER ?? userInfo().username}`;
}

/**
 * The audit row of a command run from the operator's shell: reads of a job's data,
 * control actions, replays and token changes are recorded from here as from the API.
 */
export function recordCliAction(audit: AuditLog, entry: { tenantId: string | null; action: string; target?: string; outcome: AuditOutcome; detail?: Record<string, unknown>; by?: string }): Promise<void> {
  return audit.record({
    tokenId: null,
    actor: cliActor(entry.by),
    tenantId: entry.tenantId,
    action: entry.action,
    target: entry.target ?? null,
    outcome: entry.outcome,
    status: null,
    source: 'cli',
    userAgent: null,
    detail: entry.detail,
  });
}
