// `sluice watch JOB` (a live progress bar until the job ends; exit code 0 completed,
// 1 completed with errors, 2 cancelled), `sluice jobs ls` and `sluice jobs show JOB` (its
// progress as JSON), read from the projections in Postgres.
import type { Command } from 'commander';
import { createAuditLog } from '../../db/audit-log.js';
import { readJobProgress, type JobStatus } from '../../projections/job-progress.js';
import { listJobs } from '../../projections/job-queries.js';
import { recordCliAction, withPool } from '../context.js';
import { exitCodeOf, summaryLines, watchJob } from '../job-watcher.js';

interface JobOptions {
  tenant: string;
}

export function registerJobCommands(program: Command): void {
  program
    .command('watch')
    .description("follow a job's progress until it ends")
    .argument('<jobId>')
    .option('--tenant <tenant>', 'the tenant the job belongs to', 'default')
    .action((jobId: string, opts: JobOptions) =>
      withPool(async (pool) => {
        const exists = (await readJobProgress(pool, opts.tenant, jobId)) !== undefined;
        await recordCliAction(createAuditLog(pool), { tenantId: opts.tenant, action: 'job.events', target: jobId, outcome: exists ? 'ok' : 'not_found' });
        const final = await watchJob((tenant, job) => readJobProgress(pool, tenant, job), opts.tenant, jobId);
        for (const line of summaryLines(final)) console.log(line);
        process.exitCode = exitCodeOf(final);
      }),
    );

  const jobs = program.command('jobs').description('inspect jobs');
  jobs
    .command('ls')
    .description("the tenant's jobs, newest first")
    .option('--tenant <tenant>', 'whose jobs', 'default')
    .option('--status <status>', 'only jobs in this status')
    .option('--limit <n>', 'how many', '20')
    .action((opts: JobOptions & { status?: JobStatus; limit: string }) =>
      withPool(async (pool) => {
        await recordCliAction(createAuditLog(pool), { tenantId: opts.tenant, action: 'jobs.list', outcome: 'ok' });
        const page = await listJobs(pool, opts.tenant, { status: opts.status, limit: Number(opts.limit) });
        console.log(['JOB', 'STATUS', 'DONE', 'TOTAL', 'SUBMITTED'].join('\t'));
        for (const j of page.items) console.log([j.jobId, j.status, j.done, j.totalItems, j.submittedAt].join('\t'));
      }),
    );
  jobs
    .command('show')
    .description("a job's progress as JSON, with the per-profile breakdown")
    .argument('<jobId>')
    .option('--tenant <tenant>', 'the tenant the job belongs to', 'default')
    .action((jobId: string, opts: JobOptions) =>
      withPool(async (pool) => {
        const progress = await readJobProgress(pool, opts.tenant, jobId, { profiles: true });
        await recordCliAction(createAuditLog(pool), { tenantId: opts.tenant, action: 'job.read', target: jobId, outcome: progress ? 'ok' : 'not_found' });
        if (!progress) throw new Error(`no job ${jobId} for tenant ${opts.tenant}`);
        console.log(JSON.stringify(progress, null, 2));
      }),
    );
}

