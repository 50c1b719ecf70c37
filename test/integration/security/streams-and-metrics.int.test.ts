// Tenant abuse is bounded (issue 16 point 6), the parts a long-lived connection and a
// scraper touch: a progress stream stops within seconds once its token is revoked or
// expires (before, it went on until the job ended), a token holds a capped number of
// streams, and /metrics carries no tenant's data (and, with SLUICE_METRICS_TOKEN, needs it).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiServer } from '../../../src/http/server.js';
import { submitJob } from '../../../src/index.js';
import { openApiWorld, until, type ApiWorld } from '../../helpers/api-world.js';
import { testLogger } from '../../helpers/services.js';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';

let world: ApiWorld;
let projector: ProjectorRuntime;
let jobId: string;

beforeAll(async () => {
  world = await openApiWorld();
  projector = await openProjectorRuntime(world.config, testLogger());
  // A job nobody executes: it stays running, so its stream would stay open for ever.
  const r = await submitJob(world.runtime, { tenantId: 'secret-tenant-name', operation: 'keyword.setBid', labels: { team: 'label-value-of-a-tenant' } }, [{ profileId: '1000000000001', payload: { keywordId: '1', bid: 1 } }]);
  if (r.type !== 'accepted') throw new Error(JSON.stringify(r));
  jobId = r.jobId;
  await until('the job projected', async () => (await projector.pool.query(`SELECT 1 FROM jobs WHERE job_id = $1`, [jobId])).rowCount === 1);
});
afterAll(async () => {
  await projector?.close();
  await world?.close();
});

/** Opens the job's stream; resolves when it ends, with what it said and when. */
function openStream(authorization: string): { ended: Promise<{ text: string; at: number; status: number }>; abort: () => void } {
  const controller = new AbortController();
  const ended = (async () => {
    const res = await fetch(`${world.api.url}/v1/jobs/${jobId}/events`, { headers: { authorization }, signal: controller.signal });
    let text = '';
    try {
      text = await res.text();
    } catch {
      // aborted by the test
    }
    return { text, at: Date.now(), status: res.status };
  })();
  return { ended, abort: () => controller.abort() };
}

it('ends a progress stream within seconds of its token being revoked, and caps the streams of one token', async () => {
  const { token, info } = await world.runtime.tokens.create({ tenantId: 'secret-tenant-name', scope: 'read', name: 'streamer', createdBy: 'test' });
  const auth = `Bearer ${token}`;
  const streams = Array.from({ length: 5 }, () => openStream(auth));
  await new Promise((r) => setTimeout(r, 800));
  const sixth = await fetch(`${world.api.url}/v1/jobs/${jobId}/events`, { headers: { authorization: auth } });
  expect(sixth.status).toBe(429);
  expect(await sixth.json()).toMatchObject({ error: 'too_many_streams' });

  const revokedAt = Date.now();
  await world.runtime.tokens.revoke('secret-tenant-name', info.tokenId, 'test');
  const ends = await Promise.all(streams.map((s) => s.ended));
  for (const end of ends) {
    expect(end.status).toBe(200);
    expect(end.text).toContain('event: end');
    expect(end.at - revokedAt).toBeLessThan(5_000);
  }
  // The streams are closed: they no longer count against the cap (a valid token's).
  const other = await world.runtime.tokens.create({ tenantId: 'secret-tenant-name', scope: 'read', name: 'next', createdBy: 'test' });
  const again = openStream(`Bearer ${other.token}`);
  await new Promise((r) => setTimeout(r, 300));
  again.abort();
});

it('ends a stream whose token expires while it is open', async () => {
  const { token } = await world.runtime.tokens.create({ tenantId: 'secret-tenant-name', scope: 'read', name: 'short', createdBy: 'test', expiresInSeconds: 2 });
  const opened = Date.now();
  const end = await openStream(`Bearer ${token}`).ended;
  expect(end.text).toContain('event: end');
  expect(end.at - opened).toBeLessThan(2_000 + 5_000);
});

it("serves /metrics without any tenant's ids or labels, and behind a token when one is set", async () => {
  const metrics = await (await fetch(`${world.api.url}/metrics`)).text();
  expect(metrics).toContain('sluice_jobs');
  for (const secret of ['secret-tenant-name', jobId, 'label-value-of-a-tenant']) expect(metrics).not.toContain(secret);

  const guarded = await buildApiServer({ runtime: world.runtime, logger: testLogger(), requestsPerMinute: 0, metricsToken: 'a-metrics-token-of-some-length' });
  const url = await guarded.listen({ host: '127.0.0.1', port: 0 });
  try {
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer a-metrics-token-of-some-lengtX' } })).status).toBe(401);
    const scraped = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer a-metrics-token-of-some-length' } });
    expect(scraped.status).toBe(200);
  } finally {
    await guarded.close();
  }
});
