// `sluice stack up|down|status`: the local Kafka, schema registry and database.
import type { Command } from 'commander';
import { secureBrokerEnv, secureBrokerFilesOf, stackDown, stackStatus, stackUp } from '../../stack/local-stack.js';
import { cliContext } from '../context.js';

export function registerStackCommands(program: Command): void {
  const stack = program.command('stack').description('the local stack of real services');

  stack
    .command('up')
    .description('start Kafka, the schema registry and the database (reuses what already runs)')
    .option('--brokers <n>', 'Kafka brokers: 1, or 3 for a replicated cluster')
    .option('--secure', 'also a TLS-only broker (SASL_SSL with SCRAM users, and mTLS) to try secured settings against')
    .action(async (opts: { brokers?: string; secure?: boolean }) => {
      const env = opts.brokers ? { ...process.env, SLUICE_STACK_BROKERS: opts.brokers } : process.env;
      const { config, logger } = cliContext(env);
      const began = Date.now();
      const result = await stackUp(config, logger, { secure: opts.secure });
      const seconds = ((Date.now() - began) / 1000).toFixed(1);
      console.log(`stack up in ${seconds} s`);
      console.log(`  started: ${result.started.join(', ') || 'nothing'}`);
      console.log(`  reused:  ${result.reused.join(', ') || 'nothing'}`);
      console.log(`  kafka ${config.kafka.brokers.join(',')}  registry ${config.registry.url}  simulator ${config.simulator.url}  database ${redactPassword(config.database.url)}`);
      if (opts.secure) {
        console.log('  the secure broker, for any sluice command (the password file is readable by this user only):');
        const { KAFKA_SASL_PASSWORD: _secret, ...shown } = secureBrokerEnv(config);
        for (const [name, value] of Object.entries(shown)) console.log(`    export ${name}=${value}`);
        console.log(`    export KAFKA_SASL_PASSWORD=$(cat ${secureBrokerFilesOf(config).passwordFile})`);
      }
    });

  stack
    .command('down')
    .description('stop the services this stack started')
    .action(async () => {
      const { config, logger } = cliContext();
      const stopped = await stackDown(config, logger);
      console.log(`stopped: ${stopped.join(', ') || 'nothing was running'}`);
    });

  stack
    .command('status')
    .description('what runs, where')
    .action(async () => {
      const { config } = cliContext();
      for (const s of await stackStatus(config)) {
        console.log(`${s.name.padEnd(16)} ${s.state.padEnd(8)} ${s.endpoint}${s.pid ? `  pid ${s.pid}` : ''}`);
      }
    });
}

function redactPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
