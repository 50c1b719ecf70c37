// `sluice run`: the api, an executor and the projector in one process, the way a small
// team runs Sluice on one machine. One port serves the API with every part's /metrics and
// /readyz. SIGTERM (or SIGINT) closes them in the order that loses nothing: the API stops
// taking requests, the executor drains (calls in flight settled, done work committed), the
// projector writes what it read, then the shared connections close.
import type { Command } from 'commander';
import { openExecutorParts } from '../../app/executor-runtime.js';
import { openProducerRuntime } from '../../app/producer-runtime.js';
import { openProjectorParts } from '../../app/projector-runtime.js';
import { buildApiServer } from '../../http/server.js';
import { createLogger } from '../../telemetry/logger.js';
import { cliContext, closeOnSignals } from '../context.js';
import { apiServerOptions, startApiHousekeeping } from './api.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the api, an executor and the projector in one process (one port: the API, /metrics, /healthz, /readyz)')
    .option('--port <port>', 'port (default SLUICE_API_PORT or 8080; 0 for any free port)')
    .action(async (opts: { port?: string }) => {
      const { config } = cliContext();
      const logger = createLogger({ level: config.logLevel, service: 'sluice' });
      const producer = await openProducerRuntime(config, logger);
      const projector = await openProjectorParts(config, logger.child({ part: 'projector' }));
      const executor = await openExecutorParts(config, logger.child({ part: 'executor' }));
      const app = await buildApiServer(
        apiServerOptions(config, producer, logger, [
          { metrics: executor.metrics.registry, readiness: executor.readiness },
          { metrics: projector.metrics.registry, readiness: projector.readiness },
        ]),
      );
      const address = await app.listen({ host: config.api.host, port: opts.port === undefined ? config.api.port : Number(opts.port) });
      const housekeeping = startApiHousekeeping(config, producer, logger);
      console.log(`Sluice running: API on ${address} (OpenAPI at ${address}/openapi.json, metrics at ${address}/metrics), executor and projector in this process`);
      closeOnSignals(async (signal) => {
        logger.info({ signal }, 'stopping: the API first, then the executor drains, then the projector');
        await housekeeping.stop();
        await app.close();
        await executor.close();
        await projector.close();
        await producer.close();
        logger.info('stopped');
      });
    });
}
