// `sluice verify JOB` and `sluice revert JOB`: read a job's writes back, and undo them.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProducerRuntime } from '../../app/producer-runtime.js';
import type { VerificationCounts } from '../../projections/job-progress.js';
import { cliActor, recordCliAction, withProducerRuntime } from '../context.js';
import { exitCodeOf, summaryLines, watchJob } from '../job-watcher.js';

interface ChangeOptions {
  tenant: string;
  profile?: string[];
  wait?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A command on one job's written items: the job, its tenant, and a profile filter. */
function jobChangeCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('<job>', 'job id')
    .option('--tenant <id>', 'tenant the job belongs to', 'default')
    .option('--profile <id>', 'only this profile (repeatable)', collect);
}

export function registerChangeCommands(program: Command): void {
  jobChangeCommand(program, 'verify', "read every succeeded item's entity back: verified, or drifted (not applied, or changed since)")
    .option('--wait', 'follow the read-back until every item is verified or drifted')
    .action((jobId: string, opts: ChangeOptions) =>
      withProducerRuntime(async (runtime) => {
        const startedAt = new Date();
        const answer = await runtime.verifier.verify(opts.tenant, jobId, { profileIds: opts.profile });
        await recordCliAction(runtime.audit, { tenantId: opts.tenant, action: 'job.verify', target: jobId, outcome: answer.type === 'started' ? 'ok' : 'not_found' });
        if (answer.type === 'not_found') {
          console.error(`no job ${jobId} for tenant ${opts.tenant}`);
          process.exitCode = 1;
          return;
        }
        console.log(`${answer.items} items of job ${jobId} sent to be read back`);
        if (!opts.wait || answer.items === 0) return;
        const { verified, drifted, unreadable } = await followVerification(runtime, jobId, startedAt, answer.items);
        console.log(`  ${verified} hold what was written, ${drifted} DRIFTED (not applied, or changed since), ${unreadable} could not be read`);
        if (drifted + unreadable > 0) process.exitCode = 1;
      }),
    );

  jobChangeCommand(program, 'revert', "make a job that restores every succeeded item's before-image; an entity changed since ends conflict and keeps its value")
    .option('--dry-run', 'say what would be reverted; submit nothing')
    .option('--wait', 'follow the revert job until it ends')
    .action((jobId: string, opts: ChangeOptions) =>
      withProducerRuntime(async (runtime) => {
        const answer = await runtime.reverter.revert({ tenantId: opts.tenant, jobId, filter: { profileIds: opts.profile }, dryRun: opts.dryRun, requestedBy: cliActor() });
        const submitted = answer.type === 'submitted' && (answer.result.type === 'accepted' || answer.result.type === 'duplicate') ? answer.result.jobId : undefined;
        await recordCliAction(runtime.audit, { tenantId: opts.tenant, action: 'job.revert', target: jobId, outcome: answer.type === 'not_found' ? 'not_found' : 'ok', detail: { dryRun: opts.dryRun ?? false, revertJob: submitted ?? null } });
        switch (answer.type) {
          case 'not_found':
            console.error(`no job ${jobId} for tenant ${opts.tenant}`);
            process.exitCode = 1;
            return;
          case 'nothing':
            console.error(`nothing to revert: ${answer.reason}`);
            process.exitCode = 1;
            return;
          case 'planned':
            console.log(`would restore ${answer.items} items of job ${jobId}${answer.withoutBeforeImage > 0 ? ` (${answer.withoutBeforeImage} succeeded items have no before-image and stay)` : ''}`);
            return;
          case 'submitted':
            if (!submitted) {
              console.error(`the revert was not submitted: ${JSON.stringify(answer.result)}`);
              process.exitCode = 1;
              return;
            }
            console.log(`revert job ${submitted} restores ${answer.items} items of job ${jobId}${answer.result.type === 'duplicate' ? ' (submitted before)' : ''}`);
            if (!opts.wait) return;
            {
              const final = await watchJob(runtime.queries.progress, opts.tenant, submitted);
              for (const line of summaryLines(final)) console.log(line);
              process.exitCode = exitCodeOf(final);
            }
        }
      }),
    );
}

/** A bar over the items read back since `since`, until all `items` are. */
async function followVerification(runtime: ProducerRuntime, jobId: string, since: Date, items: number): Promise<VerificationCounts> {
  const bar = new cliProgress.SingleBar({ format: ' verifying [{bar}] {value}/{total} items | {drifted} drifted', hideCursor: true }, cliProgress.Presets.shades_classic);
  let counts = await runtime.queries.verifiedSince(jobId, since);
  bar.start(items, counts.verified + counts.drifted + counts.unreadable, { drifted: counts.drifted });
  while (counts.verified + counts.drifted + counts.unreadable < items) {
    await sleep(500);
    counts = await runtime.queries.verifiedSince(jobId, since);
    bar.update(counts.verified + counts.drifted + counts.unreadable, { drifted: counts.drifted });
  }
  bar.stop();
  return counts;
}
