// `sluice watch JOB` (a live progress bar until the job ends; exit code 0 completed,
// 1 completed with errors, 2 cancelled), `sluice jobs ls` and `sluice jobs show JOB` (its
// progress as JSON), read from the projections in Postgres.
import type { Command } from 'commander';
import { createPool, type Pool } from '../../db/pool.js';
import { readJobProgress, type JobStatus } from '../../projections/job-progress.js';
import { listJobs } from '../../projections/job-queries.js';
import { cliContext } from '../context.js';
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
      withProjections(async (pool) => {
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
      withProjections(async (pool) => {
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
      withProjections(async (pool) => {
        const progress = await readJobProgress(pool, opts.tenant, jobId, { profiles: true });
        if (!progress) throw new Error(`no job ${jobId} for tenant ${opts.tenant}`);
        console.log(JSON.stringify(progress, null, 2));
      }),
    );
}

async function withProjections(work: (pool: Pool) => Promise<void>): Promise<void> {
  const { config } = cliContext();
  const pool = createPool({ url: config.database.url, max: 2, applicationName: 'sluice-cli' });
  try {
    await work(pool);
  } finally {
    await pool.end();
  }
}
