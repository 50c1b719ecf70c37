// `sluice dlq ls|show|replay`: the dead letters of a tenant, one in full, and replaying a
// selection (dry run, payload patch, rate cap) with a progress bar while the items are
// sent and while they run, ending with how many were resolved and how many failed again
// (exit code 0 only if every replayed item was resolved).
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProducerRuntime } from '../../app/producer-runtime.js';
import type { ReplayAnswer } from '../../producers/dead-letter-replay.js';
import { DEAD_LETTER_STATUSES, type DeadLetterFilter, type DeadLetterStatus } from '../../projections/dead-letter-queries.js';
import { cliActor, recordCliAction, withProducerRuntime } from '../context.js';

const POLL_MS = 500;

interface FilterOptions {
  tenant: string;
  job?: string;
  profile?: string;
  operation?: string;
  errorKind?: string;
  reason?: string;
  since?: string;
  until?: string;
  status?: string;
}

interface ReplayOptions extends FilterOptions {
  patch?: string;
  rate?: string;
  dryRun?: boolean;
  wait: boolean;
  by?: string;
}

export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description('inspect and replay dead letters');
  withFilterOptions(dlq.command('ls').description("the tenant's dead letters, with counts by reason"))
    .option('--limit <n>', 'how many to list', '50')
    .action((opts: FilterOptions & { limit: string }) =>
      withProducerRuntime(async (runtime) => {
        const filter = filterOf(opts);
        const page = await runtime.deadLetters.list(opts.tenant, filter, { limit: positive(opts.limit, '--limit') });
        await recordCliAction(runtime.audit, { tenantId: opts.tenant, action: 'dead_letters.list', outcome: 'ok', detail: { filter } });
        console.log(['DEAD LETTER', 'JOB', 'INDEX', 'PROFILE', 'OPERATION', 'STATUS', 'KIND', 'REASON', 'AT'].join('\t'));
        for (const d of page.items) console.log([d.deadLetterId, d.jobId, d.index, d.profileId, d.operation, d.status, d.errorKind, d.reason, d.deadLetteredAt].join('\t'));
        if (page.nextCursor) console.log(`… more: narrow the filter or raise --limit`);
        console.log('\nBY REASON');
        for (const c of await runtime.deadLetters.countByReason(opts.tenant, filter)) console.log(`  ${c.count}\t${c.errorKind}\t${c.reason}`);
      }),
    );

  dlq
    .command('show')
    .description('one dead letter: the original command, every attempt, the source coordinates')
    .argument('<deadLetterId>')
    .option('--tenant <tenant>', 'the tenant it belongs to', 'default')
    .action((id: string, opts: { tenant: string }) =>
      withProducerRuntime(async (runtime) => {
        const letter = await runtime.deadLetters.read(opts.tenant, id);
        await recordCliAction(runtime.audit, { tenantId: opts.tenant, action: 'dead_letter.read', target: id, outcome: letter ? 'ok' : 'not_found' });
        if (!letter) throw new Error(`no dead letter ${id} for tenant ${opts.tenant}`);
        console.log(JSON.stringify(letter, null, 2));
      }),
    );

  withFilterOptions(dlq.command('replay').description('send the selected dead letters back through the pipeline'))
    .option('--patch <json>', 'a JSON object merged into every replayed payload, e.g. \'{"bid":1.25}\'')
    .option('--rate <items/s>', 're-emit at most this many items per second')
    .option('--dry-run', 'say what would be replayed, grouped by job, profile and reason; produce nothing')
    .option('--no-wait', 'return once the items are sent, without following their outcome')
    .option('--by <who>', 'recorded as who replayed (default: your user name)')
    .action((opts: ReplayOptions) =>
      withProducerRuntime(async (runtime) => {
        const answer = await sendReplay(runtime, opts);
        await recordCliAction(runtime.audit, {
          tenantId: opts.tenant,
          action: 'dead_letters.replay',
          target: answer.type === 'replayed' ? (answer.replayId ?? undefined) : undefined,
          outcome: answer.type === 'invalid-patch' || answer.type === 'invalid-request' ? 'invalid' : answer.type === 'replayed' && answer.replayed === 0 ? 'refused' : 'ok',
          // A request refused for what it holds is recorded by the field, not the text Postgres refuses.
          detail: answer.type === 'invalid-request' ? { invalidField: answer.field } : { filter: filterOf(opts), dryRun: opts.dryRun ?? false, patched: opts.patch !== undefined },
          by: opts.by,
        });
        if (answer.type === 'invalid-request') throw new Error(`${answer.field}: ${answer.reason}; nothing was replayed`);
        if (answer.type === 'invalid-patch') {
          for (const e of answer.errors) console.error(`dead letter ${e.deadLetterId}: ${e.field}: ${e.reason}`);
          throw new Error(`the patch does not fit ${answer.errorCount} item(s); nothing was replayed`);
        }
        printPlan(answer);
        if (answer.type === 'dry-run') return;
        if (answer.replayed === 0) {
          process.exitCode = 1;
          return;
        }
        console.log(`replay ${answer.replayId}: ${answer.replayed} item(s) sent back`);
        if (!opts.wait) return;
        const outcome = await followOutcome(runtime, opts.tenant, answer.replayId!, answer.replayed);
        console.log(`resolved: ${outcome.resolved}, failed again: ${outcome.failed_again}`);
        process.exitCode = outcome.failed_again > 0 ? 1 : 0;
      }),
    );
}

function withFilterOptions(command: Command): Command {
  return command
    .option('--tenant <tenant>', 'whose dead letters', 'default')
    .option('--job <jobId>', 'of this job')
    .option('--profile <profileId>', 'of this profile')
    .option('--operation <name>', 'of this operation')
    .option('--error-kind <kind>', 'with this error kind (e.g. rangeError, http500)')
    .option('--reason <reason>', 'with this reason (e.g. RETRIES_EXHAUSTED)')
    .option('--since <time>', 'dead-lettered at or after (ISO 8601)')
    .option('--until <time>', 'dead-lettered before (ISO 8601)')
    .option('--status <status>', `in this status (${DEAD_LETTER_STATUSES.join(', ')})`);
}

function filterOf(o: FilterOptions): DeadLetterFilter {
  for (const [flag, value] of [['--since', o.since], ['--until', o.until]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) throw new Error(`${flag}: "${value}" is not an ISO 8601 time`);
  }
  if (o.status !== undefined && !(DEAD_LETTER_STATUSES as readonly string[]).includes(o.status)) throw new Error(`--status: "${o.status}" is not one of ${DEAD_LETTER_STATUSES.join(', ')}`);
  const filter: DeadLetterFilter = { jobId: o.job, profileId: o.profile, operation: o.operation, errorKind: o.errorKind, reason: o.reason, since: o.since, until: o.until, status: o.status as DeadLetterStatus | undefined };
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${flag}: "${value}" is not a positive number`);
  return n;
}

function patchOf(json: string | undefined): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`--patch: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) throw new Error('--patch: must be a non-empty JSON object, e.g. \'{"bid":1.25}\'');
  return value as Record<string, unknown>;
}

async function sendReplay(runtime: ProducerRuntime, opts: ReplayOptions): Promise<ReplayAnswer> {
  const request = { tenantId: opts.tenant, filter: filterOf(opts), patch: patchOf(opts.patch), ratePerSecond: opts.rate === undefined ? undefined : positive(opts.rate, '--rate'), requestedBy: cliActor(opts.by) };
  if (opts.dryRun) return runtime.replayer.replay({ ...request, dryRun: true });
  const bar = new cliProgress.SingleBar({ format: ' sending [{bar}] {percentage}% | {value}/{total} items', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  let started = false;
  try {
    return await runtime.replayer.replay({
      ...request,
      onProgress: (sent, planned) => {
        if (!started) bar.start(planned, 0);
        started = true;
        bar.update(sent);
      },
    });
  } finally {
    if (started) bar.stop();
  }
}

function printPlan(answer: Exclude<ReplayAnswer, { type: 'invalid-patch' | 'invalid-request' }>): void {
  const verb = answer.type === 'dry-run' ? 'would replay' : 'replayed';
  console.log(`${answer.selected} dead letter(s) selected; ${verb} ${answer.replayed}`);
  if (answer.groups.length > 0) {
    console.log(['JOB', 'PROFILE', 'REASON', 'ITEMS'].join('\t'));
    for (const g of answer.groups) console.log([g.jobId, g.profileId, g.reason, g.count].join('\t'));
  }
  for (const s of answer.skipped) console.log(`skipped ${s.count}: ${s.reason}`);
}

/** Follows the replayed items until each has ended, resolved or failed again. */
async function followOutcome(runtime: ProducerRuntime, tenantId: string, replayId: string, replayed: number) {
  const bar = new cliProgress.SingleBar({ format: ' running [{bar}] {percentage}% | {value}/{total} done | {resolved} resolved, {failed} failed again', hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  let outcome = await runtime.deadLetters.replayOutcome(tenantId, replayId);
  bar.start(replayed, 0, { resolved: 0, failed: 0 });
  while (outcome.resolved + outcome.failed_again < replayed) {
    await sleep(POLL_MS);
    outcome = await runtime.deadLetters.replayOutcome(tenantId, replayId);
    bar.update(outcome.resolved + outcome.failed_again, { resolved: outcome.resolved, failed: outcome.failed_again });
  }
  bar.stop();
  return outcome;
}
