// `sluice tenants ads-auth set|ls|reseal`: each tenant's own Amazon Ads credentials. `set`
// tries them with Amazon first and binds the profiles they reach; secrets come from files
// (never the command line, where every user of the machine can read them) and are stored
// sealed under SLUICE_SECRETS_KEY.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createAuditLog } from '../../db/audit-log.js';
import { createTenantCredentials } from '../../db/tenant-credentials.js';
import { cliActor, cliContext, recordCliAction, withPool, withProducerRuntime } from '../context.js';

export function registerTenantCommands(program: Command): void {
  const adsAuth = program.command('tenants').description("tenants' own settings").command('ads-auth').description("a tenant's own Amazon Ads credentials");

  adsAuth
    .command('set')
    .description('register (or replace) a tenant\'s Login-with-Amazon client and refresh token; binds the profiles they reach')
    .requiredOption('--tenant <tenant>', 'the tenant')
    .requiredOption('--client-id <id>', 'the Login-with-Amazon client id')
    .requiredOption('--client-secret-file <file>', 'a file holding the client secret')
    .requiredOption('--refresh-token-file <file>', 'a file holding the refresh token')
    .option('--by <who>', 'recorded as who set them (default: your user name)')
    .action((opts: { tenant: string; clientId: string; clientSecretFile: string; refreshTokenFile: string; by?: string }) =>
      withProducerRuntime(async (runtime) => {
        const secret = (file: string) => readFileSync(file, 'utf8').trim();
        const result = await runtime.tenantAdsAuth.register(opts.tenant, { clientId: opts.clientId, clientSecret: secret(opts.clientSecretFile), refreshToken: secret(opts.refreshTokenFile) }, cliActor(opts.by));
        const outcome = result.type === 'registered' ? 'ok' : 'invalid';
        await recordCliAction(runtime.audit, { tenantId: opts.tenant, action: 'tenant.ads-auth.set', target: opts.clientId, outcome, detail: result.type === 'registered' ? { profiles: result.profiles.length } : { reason: result.reason }, by: opts.by });
        if (result.type === 'refused') throw new Error(result.reason);
        console.log(`tenant ${opts.tenant}: credentials of client ${opts.clientId} stored sealed; ${result.profiles.length} advertiser profile(s) bound`);
        for (const p of result.profiles) console.log(`  ${p.profileId}\t${p.region}\t${p.countryCode}`);
      }),
    );

  adsAuth
    .command('ls')
    .description('tenants with credentials of their own: client id, state, profiles bound (never a secret)')
    .action(() =>
      withPool(async (pool) => {
        console.log(['TENANT', 'CLIENT', 'STATE', 'PROFILES', 'UPDATED'].join('\t'));
        for (const t of await createTenantCredentials(pool, undefined).list()) console.log([t.tenantId, t.clientId, t.state, t.profiles, t.updatedAt.toISOString()].join('\t'));
      }),
    );

  adsAuth
    .command('reseal')
    .description('seal every stored secret with SLUICE_SECRETS_KEY (after a rotation; the old key listed in SLUICE_SECRETS_PREVIOUS_KEYS)')
    .action(() =>
      withPool(async (pool) => {
        const moved = await createTenantCredentials(pool, cliContext().config.secretKeys).reseal();
        await recordCliAction(createAuditLog(pool), { tenantId: null, action: 'tenant.ads-auth.reseal', outcome: 'ok', detail: { moved } });
        console.log(`${moved} tenant(s) resealed with the current key`);
      }),
    );
}
