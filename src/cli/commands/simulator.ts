// `sluice simulator`: runs the Amazon Ads API simulator as a server until stopped.
import type { Command } from 'commander';
import { loadSimulatorConfigFile, parseSimulatorConfig } from '../../simulator/config.js';
import { startSimulator } from '../../simulator/server.js';
import { closeOnSignals } from '../context.js';

export function registerSimulatorCommand(program: Command): void {
  program
    .command('simulator')
    .description('run the Amazon Ads API simulator (a real HTTP server)')
    .option('--config <file>', 'JSON configuration (see src/simulator/config.ts)')
    .option('--port <port>', 'port to listen on (0: any free port)')
    .option('--host <host>', 'address to listen on (0.0.0.0 in a container)')
    .action(async (opts: { config?: string; port?: string; host?: string }) => {
      const base = opts.config ? loadSimulatorConfigFile(opts.config) : parseSimulatorConfig({});
      const config = { ...base, ...(opts.port === undefined ? {} : { port: Number(opts.port) }), ...(opts.host === undefined ? {} : { host: opts.host }) };
      const sim = await startSimulator(config);
      console.log(`Ads API simulator on ${sim.url} (regions ${sim.url}/na, /eu, /fe; token ${sim.tokenUrl}; admin ${sim.url}/_admin)`);
      closeOnSignals(() => sim.close());
    });
}
