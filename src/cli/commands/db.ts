// `sluice db migrate`: create the database if missing and apply pending migrations.
import type { Command } from 'commander';
import { ensureDatabase } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';
import { cliContext } from '../context.js';

export function registerDbCommands(program: Command): void {
  program
    .command('db')
    .description('the projection database')
    .command('migrate')
    .description('create the database if missing and apply pending migrations')
    .action(async () => {
      const { config, logger } = cliContext();
      const created = await ensureDatabase(config.database.url);
      const applied = await migrate(config.database.url, logger);
      console.log(`${created ? 'created database; ' : ''}applied ${applied.length} migration(s)${applied.length ? `: ${applied.join(', ')}` : ''}`);
    });
}
