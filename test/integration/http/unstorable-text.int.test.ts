// Nothing Postgres cannot store gets in (guarantee 10, issue 16 point 2): U+0000 and
// unpaired UTF-16 surrogates in any string a route, the library or a stream accepts are
// refused at the edge with a 400 naming the field (and the item), and nothing is produced.
// Before this, `"labels":{"team":"a\u0000b"}` was answered 202 and the projector's
// job-events partition holding the job stopped for good.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { submitJob } from '../../../src/index.js';
import { openApiWorld, type ApiWorld } from '../../helpers/api-world.js';
import { committedEndOffsets } from '../../helpers/topic-reader.js';

let world: ApiWorld;
let admin: string;

beforeAll(async () => {
  world = await openApiWorld();
  admin = (await world.api.auth('t-text', 'admin')).authorization;
});
afterAll(() => world?.close());

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';
const item = (payload: Record<string, unknown> = { keywordId: '1', bid: 1 }) => ({ profileId: '1000000000001', payload });
const JOB = '00000000-0000-4000-8000-000000000000';

/** Each case: a request carrying `bad` somewhere, and the field the answer must name. */
const cases = (bad: string): { name: string; method: string; path: string; type?: string; body?: string; field: string }[] => {
  const json = (x: unknown) => JSON.stringify(x);
  return [
    { name: 'a label value', method: 'POST', path: '/v1/jobs', body: json({ operation: 'keyword.setBid', labels: { team: bad }, items: [item()] }), field: '"field":"labels.team"' },
    { name: 'a label key', method: 'POST', path: '/v1/jobs', body: json({ operation: 'keyword.setBid', labels: { [bad]: 'x' }, items: [item()] }), field: '"field":"labels.a' },
    { name: "an item's payload field", method: 'POST', path: '/v1/jobs', body: json({ operation: 'keyword.setBid', items: [item(), item({ keywordId: bad, bid: 1 })] }), field: '"index":1,"field":"payload.keywordId"' },
    { name: "an item's payload key", method: 'POST', path: '/v1/jobs', body: json({ operation: 'keyword.setBid', items: [item({ keywordId: '1', bid: 1, [bad]: 1 })] }), field: '"index":0,"field":"payload.a' },
    { name: 'the operation', method: 'POST', path: '/v1/jobs', body: json({ operation: bad, items: [item()] }), field: '"field":"operation"' },
    { name: 'an NDJSON item', method: 'POST', path: '/v1/jobs?operation=keyword.setBid', type: 'application/x-ndjson', body: `${json(item())}\n${json(item({ keywordId: bad, bid: 1 }))}\n`, field: '"index":1,"field":"payload.keywordId"' },
    { name: 'a replay filter', method: 'POST', path: '/v1/dead-letters/replay', body: json({ filter: { reason: bad } }), field: 'body.filter.reason' },
    { name: 'a replay patch', method: 'POST', path: '/v1/dead-letters/replay', body: json({ filter: {}, patch: { note: bad } }), field: 'body.patch.note' },
    { name: 'a token name', method: 'POST', path: '/v1/tokens', body: json({ scope: 'read', name: bad }), field: 'body.name' },
    { name: 'a control reason', method: 'POST', path: `/v1/jobs/${JOB}/pause`, body: json({ reason: bad }), field: 'body.reason' },
    ...(bad === NUL
      ? [
          // A query string or a CSV body can carry U+0000; not a lone surrogate (UTF-8 has none: it arrives as U+FFFD).
          { name: 'a CSV cell', method: 'POST', path: '/v1/jobs?operation=keyword.setBid', type: 'text/csv', body: `profileId,keywordId,bid\n1000000000001,1,1\n1000000000001,${bad},1\n`, field: '"index":1,"field":"payload.keywordId"' },
          { name: 'a ?label= on a stream', method: 'POST', path: `/v1/jobs?operation=keyword.setBid&label=team:${encodeURIComponent(bad)}`, type: 'application/x-ndjson', body: `${json(item())}\n`, field: 'query.label' },
          { name: 'a jobs filter', method: 'GET', path: `/v1/jobs?label=team:${encodeURIComponent(bad)}`, field: 'query.label' },
          { name: 'a dead-letter filter', method: 'GET', path: `/v1/dead-letters?reason=${encodeURIComponent(bad)}`, field: 'query.reason' },
          { name: 'an audit filter', method: 'GET', path: `/v1/audit?action=${encodeURIComponent(bad)}`, field: 'query.action' },
        ]
      : []),
  ];
};

for (const [kind, bad] of [
  ['U+0000', NUL],
  ['an unpaired surrogate', LONE],
] as const) {
  it(`refuses ${kind} in every string field of every route with a 400 naming the field, producing nothing`, async () => {
    const before = await committedEndOffsets(world.reader.admin, world.runtime.topics);
    const wrong: string[] = [];
    for (const c of cases(bad)) {
      const res = await fetch(`${world.api.url}${c.path}`, { method: c.method, headers: { authorization: admin, ...(c.body ? { 'content-type': c.type ?? 'application/json' } : {}) }, body: c.body });
      const text = await res.text();
      if (res.status !== 400 || !text.includes(c.field)) wrong.push(`${c.name}: ${res.status} ${text.slice(0, 300)}`);
    }
    expect(wrong).toEqual([]);
    expect(await committedEndOffsets(world.reader.admin, world.runtime.topics)).toEqual(before);
    // The api is still whole: a clean job goes through.
    const ok = await fetch(`${world.api.url}/v1/jobs`, { method: 'POST', headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify({ operation: 'keyword.setBid', items: [item()] }) });
    expect(ok.status).toBe(202);
  });
}

it('refuses the same through the library, naming the field, producing nothing', async () => {
  const before = await committedEndOffsets(world.reader.admin, world.runtime.topics);
  const labelled = await submitJob(world.runtime, { tenantId: 't-text', operation: 'keyword.setBid', labels: { team: NUL } }, [item()]);
  expect(labelled).toMatchObject({ type: 'rejected', errors: [{ index: -1, field: 'labels.team' }] });
  const keyed = await submitJob(world.runtime, { tenantId: 't-text', operation: 'keyword.setBid', idempotencyKey: LONE }, [item()]);
  expect(keyed).toMatchObject({ type: 'rejected', errors: [{ index: -1, field: 'idempotencyKey' }] });
  const payload = await submitJob(world.runtime, { tenantId: 't-text', operation: 'keyword.setBid' }, [item(), item({ keywordId: '1', bid: 1, note: LONE })]);
  expect(payload).toMatchObject({ type: 'rejected', errors: [{ index: 1, field: 'payload.note' }] });
  const replay = await world.runtime.replayer.replay({ tenantId: 't-text', filter: { reason: NUL } });
  expect(replay).toMatchObject({ type: 'invalid-request', field: 'filter.reason' });
  expect(await committedEndOffsets(world.reader.admin, world.runtime.topics)).toEqual(before);
});
