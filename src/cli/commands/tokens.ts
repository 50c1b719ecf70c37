// `sluice tokens create|ls|revoke` and `sluice audit`: the operator's hand on API tokens
// and the audit log, straight in Postgres (whoever runs these has the database already).
// A new token is printed once, here, and stored only as its hash. Token changes made
// here are audited like those made over HTTP, with the operator as the actor.
import type { Command } from 'commander';
import { TOKEN_SCOPES, createApiTokens, type TokenInfo, type TokenScope } from '../../db/api-tokens.js';
import { AUDIT_OUTCOMES, createAuditLog, type AuditOutcome } from '../../db/audit-log.js';
import { createSubmittedJobs } from '../../db/submitted-jobs.js';
import type { Pool } from '../../db/pool.js';
import { UUID_PATTERN } from '../../domain/ids.js';
import { cliActor, recordCliAction, withPool } from '../context.js';

const DURATION = /^(\d+)([smhd])$/;
const SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** As over HTTP: a year at most; a token that should live longer should be rotated instead. */
const MAX_EXPIRY_S = 366 * 86_400;

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('manage API tokens');
  tokens
    .command('create')
    .description('make a token; it is printed once and stored only as a hash')
    .requiredOption('--tenant <tenant>', 'the tenant it speaks for')
    .requiredOption('--scope <scope>', `${TOKEN_SCOPES.join(', ')} (job: read-only access to one job's progress and results)`)
    .option('--job <jobId>', 'the job of a job token')
    .option('--name <name>', 'what it is for (shown in the audit log)', 'cli')
    .option('--expires-in <duration>', 'e.g. 90m, 12h, 30d; none: until revoked')
    .option('--by <who>', 'recorded as who made it (default: your user name)')
    .action((opts: { tenant: string; scope: string; job?: string; name: string; expiresIn?: string; by?: string }) =>
      withPool(async (pool) => {
        const scope = scopeOf(opts.scope);
        if ((scope === 'job') !== (opts.job !== undefined)) throw new Error('--job: required with --scope job, and only with it');
        if (opts.job !== undefined && !UUID_PATTERN.test(opts.job)) throw new Error(`--job: "${opts.job}" is not a job id`);
        if (opts.job !== undefined && !(await createSubmittedJobs(pool).find(opts.tenant, opts.job))) throw new Error(`no job ${opts.job} for tenant ${opts.tenant}`);
        const { token, info } = await createApiTokens(pool).create({
          tenantId: opts.tenant,
          scope,
          jobId: opts.job,
          name: opts.name,
          expiresInSeconds: opts.expiresIn === undefined ? undefined : secondsOf(opts.expiresIn),
          createdBy: cliActor(opts.by),
        });
        await recordCliAction(createAuditLog(pool), { tenantId: opts.tenant, action: 'token.create', target: info.tokenId, outcome: 'ok', detail: { scope, jobId: info.jobId, name: info.name, expiresAt: info.expiresAt }, by: opts.by });
        console.error(`token ${info.tokenId} (${scope}${info.jobId ? ` of job ${info.jobId}` : ''}, tenant ${opts.tenant}, ${info.expiresAt ? `expires ${info.expiresAt.toISOString()}` : 'no expiry'}); keep it now, it is not shown again:`);
        console.log(token);
      }),
    );

  tokens
    .command('ls')
    .description("the tenant's tokens (never their secrets)")
    .requiredOption('--tenant <tenant>', 'whose tokens')
    .action((opts: { tenant: string }) =>
      withPool(async (pool) => {
        console.log(['TOKEN', 'SCOPE', 'JOB', 'NAME', 'CREATED', 'EXPIRES', 'STATE'].join('\t'));
        for (const t of await createApiTokens(pool).list(opts.tenant)) console.log([t.tokenId, t.scope, t.jobId ?? '-', t.name, t.createdAt.toISOString(), t.expiresAt?.toISOString() ?? '-', stateOf(t)].join('\t'));
      }),
    );

  tokens
    .command('revoke')
    .description('revoke a token: refused from its next request on')
    .argument('<tokenId>')
    .option('--by <who>', 'recorded as who revoked it (default: your user name)')
    .action((tokenId: string, opts: { by?: string }) =>
      withPool(async (pool) => {
        if (!UUID_PATTERN.test(tokenId)) throw new Error(`"${tokenId}" is not a token id`);
        const revoked = await createApiTokens(pool).revoke(null, tokenId, cliActor(opts.by));
        await recordCliAction(createAuditLog(pool), { tenantId: revoked?.tenantId ?? null, action: 'token.revoke', target: tokenId, outcome: revoked ? 'ok' : 'not_found', by: opts.by });
        if (!revoked) throw new Error(`no token ${tokenId}`);
        console.log(`token ${tokenId} revoked at ${revoked.revokedAt!.toISOString()} by ${revoked.revokedBy}`);
      }),
    );
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('the audit log, newest first: who read or changed which job, dead letter or token, when, from where')
    .option('--tenant <tenant>', "only this tenant's (default: every tenant's)")
    .option('--target <id>', 'only about this job, dead letter, replay or token')
    .option('--action <action>', 'only this action (e.g. job.read, job.cancel, dead_letters.replay, token.create)')
    .option('--outcome <outcome>', `only this outcome (${AUDIT_OUTCOMES.join(', ')})`)
    .option('--since <time>', 'at or after (ISO 8601)')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'one JSON object per line')
    .option('--auth-failures', 'instead: requests refused for their token, counted per client address and minute')
    .action((opts: { tenant?: string; target?: string; action?: string; outcome?: string; since?: string; limit: string; json?: boolean; authFailures?: boolean }) =>
      withPool(async (pool) => {
        if (opts.authFailures) return printAuthFailures(pool, opts);
        if (opts.outcome !== undefined && !(AUDIT_OUTCOMES as readonly string[]).includes(opts.outcome)) throw new Error(`--outcome: "${opts.outcome}" is not one of ${AUDIT_OUTCOMES.join(', ')}`);
        if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) throw new Error(`--since: "${opts.since}" is not an ISO 8601 time`);
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error(`--limit: "${opts.limit}" is not a whole number from 1 to 10000`);
        const entries = await createAuditLog(pool).query({ tenantId: opts.tenant ?? null, target: opts.target, action: opts.action, outcome: opts.outcome as AuditOutcome | undefined, since: opts.since ? new Date(opts.since) : undefined, limit });
        if (opts.json) {
          for (const e of entries) console.log(JSON.stringify(e));
          return;
        }
        console.log(['AT', 'ACTOR', 'TENANT', 'ACTION', 'TARGET', 'OUTCOME', 'FROM'].join('\t'));
        for (const e of entries) console.log([e.at.toISOString(), e.actor, e.tenantId ?? '-', e.action, e.target ?? '-', e.outcome, e.source].join('\t'));
      }),
    );
}

async function printAuthFailures(pool: Pool, opts: { since?: string; limit: string; json?: boolean }): Promise<void> {
  if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) throw new Error(`--since: "${opts.since}" is not an ISO 8601 time`);
  const rows = await createAuditLog(pool).authFailures({ since: opts.since ? new Date(opts.since) : undefined, limit: Number(opts.limit) || 50 });
  if (opts.json) {
    for (const r of rows) console.log(JSON.stringify(r));
    return;
  }
  console.log(['MINUTE', 'FROM', 'FAILURES', 'LAST REASON', 'LAST USER AGENT'].join('\t'));
  for (const r of rows) console.log([r.minute.toISOString(), r.source, r.failures, r.lastReason, r.lastUserAgent ?? '-'].join('\t'));
}

function scopeOf(value: string): TokenScope {
  if (!(TOKEN_SCOPES as readonly string[]).includes(value)) throw new Error(`--scope: "${value}" is not one of ${TOKEN_SCOPES.join(', ')}`);
  return value as TokenScope;
}

function secondsOf(duration: string): number {
  const m = duration.match(DURATION);
  const seconds = m ? Number(m[1]) * SECONDS[m[2] as keyof typeof SECONDS] : 0;
  if (seconds < 1 || seconds > MAX_EXPIRY_S) throw new Error(`--expires-in: "${duration}" is not a duration like 90m, 12h or 30d, of at most 366d`);
  return seconds;
}

function stateOf(t: TokenInfo): string {
  if (t.revokedAt) return `revoked ${t.revokedAt.toISOString()} by ${t.revokedBy}`;
  if (t.expiresAt && t.expiresAt <= new Date()) return 'expired';
  return 'active';
}
