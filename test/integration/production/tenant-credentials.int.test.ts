// Each tenant's own Amazon credentials and profiles (real broker, registry, Postgres, the
// simulator over HTTP serving several Login-with-Amazon clients, each reaching only its
// own advertisers): registration tries the credentials and binds what they reach, sealed
// at rest; a submission naming another tenant's profile is refused with the item named,
// and audited; two tenants run jobs at once and every call carries its own tenant's
// token; a refresh token Amazon revokes dead-letters that tenant's items with a reason
// that says what to do, raises the metric behind the alert, and the other tenant goes on.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, type Pool } from '../../../src/db/pool.js';
import { submitJob } from '../../../src/index.js';
import { generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { serveApi, type ServedApi } from '../../helpers/api.js';
import { openGuardedPipeline, waitForProgress } from '../../helpers/job-progress.js';
import { keywordUpdates, type TestPipeline } from '../../helpers/pipeline.js';
import { DEV_CREDENTIALS } from '../../helpers/simulator.js';

const ACME = { clientId: 'acme-app', clientSecret: 'acme-secret-1', refreshToken: 'acme-refresh-1' };
const GLOBEX = { clientId: 'globex-app', clientSecret: 'globex-secret-1', refreshToken: 'globex-refresh-1' };
const [A1, A2, G1] = [0, 1, 2].map((i) => generatedProfileId('NA', i)) as [string, string, string];
const G2 = generatedProfileId('EU', 0);
const ITEMS = 150;
const noAutoPause = { enabled: false, failureRate: 0.5, minItems: 50, window: 200 };

let p: TestPipeline;
let pipeline: Awaited<ReturnType<typeof openGuardedPipeline>> | undefined;
let api: ServedApi;
let pool: Pool;

beforeAll(async () => {
  pipeline = await openGuardedPipeline({
    simulator: {
      generate: { profilesPerRegion: 0 },
      clients: [DEV_CREDENTIALS, ACME, GLOBEX],
      profiles: [
        { profileId: A1, region: 'NA', keywords: ITEMS, campaigns: 1, targets: 0, clientIds: [ACME.clientId] },
        { profileId: A2, region: 'NA', keywords: ITEMS, campaigns: 1, targets: 0, clientIds: [ACME.clientId] },
        { profileId: G1, region: 'NA', keywords: ITEMS, campaigns: 1, targets: 0, clientIds: [GLOBEX.clientId] },
        { profileId: G2, region: 'EU', countryCode: 'DE', currencyCode: 'EUR', keywords: ITEMS, campaigns: 1, targets: 0, clientIds: [GLOBEX.clientId] },
      ],
    },
    env: { SLUICE_SECRETS_KEY: randomBytes(32).toString('base64'), SLUICE_MAX_BATCH_SIZE: '10' },
  });
  p = pipeline.p;
  api = await serveApi(p.producer);
  pool = createPool({ url: p.config.database.url, max: 2 });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await api?.close();
  await pipeline?.close();
});

it("registers a tenant's credentials only once Amazon accepts them, binds the profiles they reach, and keeps the secrets sealed", async () => {
  const refused = await p.producer.tenantAdsAuth.register('acme', { ...ACME, refreshToken: 'not-it' }, 'test');
  expect(refused).toMatchObject({ type: 'refused', reason: expect.stringMatching(/invalid grant/i) });
  expect(await p.producer.tenantCredentials.of('acme')).toBeUndefined();

  const registered = await p.producer.tenantAdsAuth.register('acme', ACME, 'test');
  expect(registered.type === 'registered' && registered.profiles.map((b) => b.profileId).sort()).toEqual([A1, A2].sort());

  // Over HTTP, for the tenant's admin: every region searched (G2 is in EU).
  const put = await fetch(`${api.url}/v1/tenant/ads-auth`, { method: 'PUT', headers: { 'content-type': 'application/json', ...(await api.auth('globex')) }, body: JSON.stringify(GLOBEX) });
  expect(put.status).toBe(200);
  expect(((await put.json()) as { profiles: { profileId: string }[] }).profiles.map((b) => b.profileId).sort()).toEqual([G1, G2].sort());
  const shown = (await (await fetch(`${api.url}/v1/tenant/ads-auth`, { headers: await api.auth('globex') })).json()) as Record<string, unknown>;
  expect(shown).toMatchObject({ tenantId: 'globex', clientId: GLOBEX.clientId, state: 'active', profiles: 2, profileIds: [G1, G2].sort() });
  expect(JSON.stringify(shown)).not.toContain(GLOBEX.clientSecret);

  const { rows } = await pool.query<{ row: string }>('SELECT row_to_json(c)::text AS row FROM tenant_ads_credentials c');
  expect(rows).toHaveLength(2);
  for (const secret of [ACME.clientSecret, ACME.refreshToken, GLOBEX.clientSecret, GLOBEX.refreshToken]) expect(rows.map((r) => r.row).join()).not.toContain(secret);
});

it("refuses a submission naming another tenant's profile, naming the item, producing nothing, and audits it", async () => {
  const items = [...keywordUpdates(G1, 3), ...keywordUpdates(A1, 2)].map((item) => ({ ...item, operation: 'keyword.setBid' }));
  const res = await fetch(`${api.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...(await api.auth('globex')) }, body: JSON.stringify({ items }) });
  expect(res.status).toBe(400);
  const body = (await res.json()) as { errors: { index: number; field: string; reason: string }[] };
  expect(body.errors).toEqual([3, 4].map((index) => ({ index, field: 'profileId', reason: expect.stringMatching(new RegExp(`^profile ${A1} is not one of tenant globex's advertiser profiles`)) })));
  const { rows } = await pool.query<{ outcome: string; detail: unknown }>("SELECT outcome, detail FROM audit_log WHERE tenant_id = 'globex' AND action = 'job.submit'");
  expect(rows).toEqual([{ outcome: 'invalid', detail: { errorCount: 2, profileIdErrors: [3, 4] } }]);

  // A tenant without credentials of its own (on the install's) cannot reach a bound profile either.
  const shared = await submitJob(p.producer, { tenantId: 'initech', operation: 'keyword.setBid' }, keywordUpdates(A2, 1));
  expect(shared).toMatchObject({ type: 'rejected', errors: [{ index: 0, field: 'profileId', reason: expect.stringMatching(/^profile \d+ is not one of tenant initech's/) }] });
});

it("runs two tenants' jobs at once, each call with its own tenant's token", async () => {
  await p.sim.admin.resetCounters();
  const [acme, globex] = await Promise.all([
    submitJob(p.producer, { tenantId: 'acme', operation: 'keyword.setBid' }, [...keywordUpdates(A1, ITEMS, () => 1.11), ...keywordUpdates(A2, ITEMS, () => 1.12)]),
    submitJob(p.producer, { tenantId: 'globex', operation: 'keyword.setBid' }, [...keywordUpdates(G1, ITEMS, () => 2.21), ...keywordUpdates(G2, ITEMS, () => 2.22)]),
  ]);
  if (acme.type !== 'accepted' || globex.type !== 'accepted') throw new Error(JSON.stringify({ acme, globex }));
  for (const [tenantId, jobId] of [['acme', acme.jobId], ['globex', globex.jobId]] as const) {
    const done = await waitForProgress(p.producer.queries.progress, tenantId, jobId, (j) => j.status !== 'running' && j.status !== 'submitted');
    expect(done).toMatchObject({ status: 'completed', counts: { succeeded: 2 * ITEMS } });
  }
  const { profiles } = await p.sim.admin.counters();
  expect(Object.keys(profiles[A1]!.byClient)).toEqual([ACME.clientId]);
  expect(Object.keys(profiles[A2]!.byClient)).toEqual([ACME.clientId]);
  expect(Object.keys(profiles[G1]!.byClient)).toEqual([GLOBEX.clientId]);
  expect(Object.keys(profiles[G2]!.byClient)).toEqual([GLOBEX.clientId]);
  const bids = async (profileId: string) => new Set((await p.sim.admin.entities<Keyword>(profileId, 'keywords')).map((k) => k.bid));
  expect([await bids(A1), await bids(A2), await bids(G1), await bids(G2)]).toEqual([new Set([1.11]), new Set([1.12]), new Set([2.21]), new Set([2.22])]);
});

it("a refresh token Amazon revokes dead-letters that tenant's items with a clear reason, and the other tenant goes on", async () => {
  await p.sim.admin.revokeClient(ACME.clientId);
  const rejectedBefore = (await p.executor!.metrics.credentialsRejected.get()).values[0]?.value ?? 0;
  const [acme, globex] = await Promise.all([
    submitJob(p.producer, { tenantId: 'acme', operation: 'keyword.setBid', autoPause: noAutoPause }, keywordUpdates(A1, ITEMS, () => 3.31)),
    submitJob(p.producer, { tenantId: 'globex', operation: 'keyword.setBid' }, keywordUpdates(G1, ITEMS, () => 3.41)),
  ]);
  if (acme.type !== 'accepted' || globex.type !== 'accepted') throw new Error(JSON.stringify({ acme, globex }));
  const globexDone = await waitForProgress(p.producer.queries.progress, 'globex', globex.jobId, (j) => j.status === 'completed');
  expect(globexDone.counts.succeeded).toBe(ITEMS);
  const acmeDone = await waitForProgress(p.producer.queries.progress, 'acme', acme.jobId, (j) => j.status === 'completed_with_errors');
  expect(acmeDone.counts).toMatchObject({ succeeded: 0, deadLettered: ITEMS });

  const reasons = await p.producer.deadLetters.countByReason('acme', { jobId: acme.jobId });
  expect(reasons.reduce((n, r) => n + r.count, 0)).toBe(ITEMS);
  expect(reasons.every((r) => r.errorKind === 'authError' && ['INVALID_GRANT', 'CREDENTIALS_REFUSED'].includes(r.reason))).toBe(true);
  expect(await p.producer.tenantCredentials.of('acme')).toMatchObject({ state: 'rejected', reason: expect.stringMatching(/invalid grant/i) });
  expect((await p.executor!.metrics.credentialsRejected.get()).values[0]!.value).toBeGreaterThan(rejectedBefore);
  // Nothing of acme's second job was written.
  expect(new Set((await p.sim.admin.entities<Keyword>(A1, 'keywords')).map((k) => k.bid))).toEqual(new Set([1.11]));
});
