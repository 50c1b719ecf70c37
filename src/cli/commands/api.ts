// `sluice api`: the HTTP API process (submit, control; queries arrive with the projections).
import type { Command } from 'commander';
import { openProducerRuntime } from '../../app/producer-runtime.js';
import { buildApiServer } from '../../http/server.js';
import { createLogger } from '../../telemetry/logger.js';
import { cliContext, closeOnSignals } from '../context.js';

export function registerApiCommand(program: Command): void {
  program
    .command('api')
    .description('run the HTTP API')
    .option('--port <port>', 'port (default SLUICE_API_PORT or 8080; 0 for any free port)')
    .action(async (opts: { port?: string }) => {
      const { config } = cliContext();
      const logger = createLogger({ level: config.logLevel, service: 'api' });
      const runtime = await openProducerRuntime(config, logger);
      const app = await buildApiServer({ runtime, logger, requestsPerMinute: config.api.requestsPerMinute, authFailuresPerMinute: config.api.authFailuresPerMinute, streamsPerToken: config.api.streamsPerToken, metricsToken: config.api.metricsToken });
      const address = await app.listen({ host: config.api.host, port: opts.port === undefined ? config.api.port : Number(opts.port) });
      console.log(`Sluice API on ${address} (OpenAPI at ${address}/openapi.json)`);
      // Finished jobs' control state leaves the control topic (executors stop holding it).
      const release = setInterval(() => {
        runtime.controlRelease.releaseFinished(config.api.controlReleaseAfterMs).catch((error: unknown) => logger.warn({ err: error }, 'releasing finished jobs\' control state failed; tried again in a minute'));
      }, Math.min(60_000, config.api.controlReleaseAfterMs));
      runtime.guard.start(config.api.jobGuardCheckMs);
      closeOnSignals(async () => {
        clearInterval(release);
        await runtime.guard.stop();
        await app.close();
        await runtime.close();
      });
    });
}
