// `sluice projections rebuild`: replays the topics into fresh projection tables and swaps
// them in (see projections/rebuild.ts). The projectors must be stopped first.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { projectorGroup } from '../../app/projector-runtime.js';
import { createKafka } from '../../kafka/client.js';
import { createRegistryClient, createSerde } from '../../kafka/serde.js';
import { topicSpecs } from '../../kafka/topics.js';
import { rebuildProjections } from '../../projections/rebuild.js';
import { cliContext } from '../context.js';

export function registerProjectionCommands(program: Command): void {
  program
    .command('projections')
    .description('manage the Postgres projections')
    .command('rebuild')
    .description('replay the topics into fresh tables and swap them in (stop the projectors first)')
    .action(async () => {
      const { config, logger } = cliContext();
      const kafka = createKafka({ config: config.kafka, logger });
      const admin = kafka.admin();
      await admin.connect();
      const bar = new cliProgress.SingleBar({ format: ' rebuilding | {value} records projected', hideCursor: true }, cliProgress.Presets.shades_classic);
      try {
        const topics = topicSpecs(config.kafka);
        const serde = await createSerde(createRegistryClient(config.registry.url), topics);
        bar.start(0, 0);
        const result = await rebuildProjections({ kafka, admin, serde, topics, databaseUrl: config.database.url, projectorGroup: projectorGroup(config), logger, onProgress: (n) => bar.update(n) });
        bar.stop();
        console.log(`rebuilt from ${result.records} records; the old tables are in schema ${result.replacedSchema} (DROP SCHEMA ${result.replacedSchema} CASCADE when satisfied)`);
      } finally {
        bar.stop();
        await admin.disconnect();
      }
    });
}
