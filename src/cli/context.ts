// What every CLI command starts from: the validated configuration and a logger.
import { openProducerRuntime, type ProducerRuntime } from '../app/producer-runtime.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../telemetry/logger.js';

export interface CliContext {
  config: Config;
  logger: Logger;
}

export function cliContext(env: NodeJS.ProcessEnv = process.env): CliContext {
  const config = loadConfig(env);
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
