// `sluice projections rebuild`: replays the topics into fresh projection tables and swaps
// them in (see projections/rebuild.ts). The projectors must be stopped first.
// `sluice projections errors` and `retry`: the records the projector quarantined because
// Postgres refused them, listed and applied again once the cause is fixed.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { projectorGroup } from '../../app/projector-runtime.js';
import { createKafka } from '../../kafka/client.js';
import { checkKafkaAccess } from '../../kafka/access-check.js';
import { createRegistryClient, createSerde } from '../../kafka/serde.js';
import { topicSpecs } from '../../kafka/topics.js';
import { rebuildProjections } from '../../projections/rebuild.js';
import { PROJECTION_ERROR_STATUSES, type ProjectionErrorStatus } from '../../projections/projection-errors.js';
import { cliContext, withProducerRuntime } from '../context.js';

export function registerProjectionCommands(program: Command): void {
  const projections = program.command('projections').description('manage the Postgres projections');
  projections
    .command('errors')
    .description('records the projector quarantined (Postgres refused them), oldest first')
    .option('--tenant <tenant>', "only this tenant's (default: every tenant's and the undecodable ones)")
    .option('--status <status>', `only this status (${PROJECTION_ERROR_STATUSES.join(', ')})`, 'open')
    .option('--limit <n>', 'at most this many', '100')
    .action((opts: { tenant?: string; status: string; limit: string }) =>
      withProducerRuntime(async (runtime) => {
        if (!(PROJECTION_ERROR_STATUSES as readonly string[]).includes(opts.status)) throw new Error(`--status must be one of ${PROJECTION_ERROR_STATUSES.join(', ')}`);
        const rows = await runtime.projectionErrors.list(opts.tenant ?? null, { status: opts.status as ProjectionErrorStatus, limit: positiveInteger(opts.limit, '--limit') });
        if (rows.length === 0) console.log(`no ${opts.status} projection errors`);
        for (const r of rows) console.log(`${r.errorId}  ${r.topic}/${r.partition}@${r.offset}  job ${r.jobId ?? '-'}  tenant ${r.tenantId ?? '-'}  ${r.errorCode}: ${r.errorMessage}  (attempts ${r.attempts})`);
      }),
    );
  projections
    .command('retry')
    .description('apply quarantined records again, after fixing what refused them')
    .argument('[errorIds...]', 'the errors to retry (see `sluice projections errors`)')
    .option('--all', 'every open error (of --tenant, if given)')
    .option('--tenant <tenant>', "only this tenant's")
    .action((errorIds: string[], opts: { all?: boolean; tenant?: string }) =>
      withProducerRuntime(async (runtime) => {
        const tenant = opts.tenant ?? null;
        const ids = opts.all ? (await runtime.projectionErrors.list(tenant, { status: 'open', limit: 10_000 })).map((r) => r.errorId) : errorIds;
        if (ids.length === 0) throw new Error('name the errors to retry, or --all');
        let failed = 0;
        for (const id of ids) {
          const outcome = await runtime.projectionErrors.retry(tenant, id);
          if (outcome.type !== 'resolved') failed++;
          console.log(`${id}: ${outcome.type === 'failed' ? `still refused (${outcome.errorCode}): ${outcome.message}` : outcome.type}`);
        }
        process.exitCode = failed > 0 ? 1 : 0;
      }),
    );
  projections
    .command('rebuild')
    .description('replay the topics into fresh tables and swap them in (stop the projectors first)')
    .action(async () => {
      const { config, logger } = cliContext();
      await checkKafkaAccess(config.kafka);
      const kafka = createKafka({ config: config.kafka, logger });
      const admin = kafka.admin();
      await admin.connect();
      const bar = new cliProgress.SingleBar({ format: ' rebuilding | {value} records projected', hideCursor: true }, cliProgress.Presets.shades_classic);
      try {
        const topics = topicSpecs(config.kafka);
        const serde = await createSerde(createRegistryClient(config.registry), topics);
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

function positiveInteger(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number (got "${text}")`);
  return n;
}
