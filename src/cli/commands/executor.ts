// `sluice executor`: the executor process. SIGTERM (or SIGINT) drains it: no new work,
// the calls in flight are settled, what is done is committed, then it exits.
import type { Command } from 'commander';
import { openExecutorRuntime } from '../../app/executor-runtime.js';
import { createLogger } from '../../telemetry/logger.js';
import { cliContext, closeOnSignals } from '../context.js';

export function registerExecutorCommand(program: Command): void {
  program
    .command('executor')
    .description('run the executor: call the API for every item command, under per-profile limits')
    .action(async () => {
      const { config } = cliContext();
      const logger = createLogger({ level: config.logLevel, service: 'executor' });
      const runtime = await openExecutorRuntime(config, logger);
      console.log(`Sluice executor running (metrics at ${runtime.metricsUrl})`);
      closeOnSignals(async (signal) => {
        logger.info({ signal }, 'draining');
        await runtime.close();
        logger.info('drained; exiting');
      });
    });
}
