// `sluice projector`: the projector process, until SIGTERM or SIGINT.
import type { Command } from 'commander';
import { openProjectorRuntime } from '../../app/projector-runtime.js';
import { createLogger } from '../../telemetry/logger.js';
import { cliContext, closeOnSignals } from '../context.js';

export function registerProjectorCommand(program: Command): void {
  program
    .command('projector')
    .description('run the projector: job progress, item status and dead letters in Postgres')
    .action(async () => {
      const { config } = cliContext();
      const logger = createLogger({ level: config.logLevel, service: 'projector' });
      const runtime = await openProjectorRuntime(config, logger);
      console.log(`Sluice projector running (metrics at ${runtime.metricsUrl})`);
      closeOnSignals(() => runtime.close());
    });
}
