// `sluice api`: the HTTP API process (submit, control; queries arrive with the projections).
import type { Command } from 'commander';
import { openProducerRuntime, type ProducerRuntime } from '../../app/producer-runtime.js';
import type { Config } from '../../config.js';
import { buildApiServer, type ApiServerOptions } from '../../http/server.js';
import { createLogger, type Logger } from '../../telemetry/logger.js';
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
      const app = await buildApiServer(apiServerOptions(config, runtime, logger));
      const address = await app.listen({ host: config.api.host, port: opts.port === undefined ? config.api.port : Number(opts.port) });
      console.log(`Sluice API on ${address} (OpenAPI at ${address}/openapi.json)`);
      const housekeeping = startApiHousekeeping(config, runtime, logger);
      closeOnSignals(async () => {
        await housekeeping.stop();
        await app.close();
        await runtime.close();
      });
    });
}

/** The API server's options from the configuration (`alongside`: more parts of this process to serve). */
export function apiServerOptions(config: Config, runtime: ProducerRuntime, logger: Logger, alongside: ApiServerOptions['alongside'] = []): ApiServerOptions {
  const { requestsPerMinute, authFailuresPerMinute, streamsPerToken, metricsToken } = config.api;
  return { runtime, logger, requestsPerMinute, authFailuresPerMinute, streamsPerToken, metricsToken, alongside };
}

/**
 * What the api process runs beside its routes: finished jobs' control state leaves the
 * control topic (executors stop holding it), commit markers dead submitters left are
 * swept, and the job guard gives canaries their verdicts and pauses jobs that fail.
 */
export function startApiHousekeeping(config: Config, runtime: ProducerRuntime, logger: Logger): { stop(): Promise<void> } {
  const release = setInterval(() => {
    runtime.controlRelease.releaseFinished(config.api.controlReleaseAfterMs).catch((error: unknown) => logger.warn({ err: error }, 'releasing finished jobs\' control state failed; tried again in a minute'));
    runtime.markers.sweep().catch((error: unknown) => logger.warn({ err: error }, 'sweeping commit markers failed; tried again in a minute'));
  }, Math.min(60_000, config.api.controlReleaseAfterMs));
  runtime.guard.start(config.api.jobGuardCheckMs);
  return {
    async stop() {
      clearInterval(release);
      await runtime.guard.stop();
    },
  };
}
