// Hostile input the fuzz test only sees as "some 4xx" (issue 16 point 9), answered exactly:
// the same label limits whichever way labels arrive, capitalised content types read as
// what they say, charsets other than UTF-8 refused, profile ids past int64 refused,
// times Postgres refuses answered 400 (not 500), JSON nested deep and JSON bodies above
// the inline size refused or read off the main thread, another tenant's replay id a 404,
// and a replay rate that would overflow a timer refused. Each refusal produces nothing.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openApiWorld, type ApiWorld } from '../../helpers/api-world.js';
import { committedEndOffsets } from '../../helpers/topic-reader.js';

let world: ApiWorld;
let auth: { authorization: string };

beforeAll(async () => {
  world = await openApiWorld();
  auth = await world.api.auth('hostile');
});
afterAll(() => world?.close());

const line = (i: number) => JSON.stringify({ profileId: '1000000000001', payload: { keywordId: String(i + 1), bid: 1 } });

async function send(method: string, path: string, type: string | undefined, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${world.api.url}${path}`, { method, headers: { ...auth, ...(type ? { 'content-type': type } : {}) }, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

it('refuses exactly, producing nothing', async () => {
  const before = await committedEndOffsets(world.reader.admin, world.runtime.topics);
  const manyLabels = Array.from({ length: 33 }, (_, i) => `label=k${i}:v`).join('&');
  const cases: [string, Promise<{ status: number; json: Record<string, unknown> }>, number, RegExp][] = [
    ['33 labels by ?label= on NDJSON', send('POST', `/v1/jobs?operation=keyword.setBid&${manyLabels}`, 'application/x-ndjson', `${line(0)}\n`), 400, /at most 32 labels/],
    ['33 labels by ?label= on CSV', send('POST', `/v1/jobs?operation=keyword.setBid&${manyLabels}`, 'text/csv', 'profileId,keywordId,bid\n1000000000001,1,1\n'), 400, /at most 32 labels/],
    ['33 labels in a JSON body', send('POST', '/v1/jobs', 'application/json', JSON.stringify({ operation: 'keyword.setBid', labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])), items: [JSON.parse(line(0))] })), 400, /at most 32 labels/],
    ['a label value of 300 characters', send('POST', `/v1/jobs?operation=keyword.setBid&label=team:${'v'.repeat(300)}`, 'application/x-ndjson', `${line(0)}\n`), 400, /must be key:value/],
    ['a charset other than UTF-8', send('POST', '/v1/jobs?operation=keyword.setBid', 'application/x-ndjson; charset=latin1', `${line(0)}\n`), 415, /charset "latin1" is not supported/],
    ['a JSON body in UTF-16', send('POST', '/v1/jobs', 'Application/JSON; Charset="UTF-16"', '{}'), 415, /charset "utf-16"/],
    ['a profile id past int64', send('POST', '/v1/jobs', 'application/json', JSON.stringify({ operation: 'keyword.setBid', items: [{ profileId: '9223372036854775808', payload: { keywordId: '1', bid: 1 } }] })), 400, /"field":"profileId","reason":"is out of the range of profile ids"/],
    ['a leap second', send('GET', '/v1/jobs?submittedAfter=2026-12-31T23:59:60Z', undefined), 400, /querystring.submittedAfter: must match format "instant"/],
    ['an item index without its job in a dead-letter filter', send('GET', '/v1/dead-letters?index=3', undefined), 400, /querystring: must have property jobId when property index is present/],
    ['year 0000 in a dead-letter filter', send('GET', '/v1/dead-letters?since=0000-01-01T00:00:00Z', undefined), 400, /querystring.since/],
    ['an offset past ±15:59 in a forged cursor', send('GET', `/v1/jobs?cursor=${Buffer.from(JSON.stringify(['2026-01-01T00:00:00+16:00', '00000000-0000-4000-8000-000000000000'])).toString('base64url')}`, undefined), 400, /cursor: not one this API gave out/],
    ['JSON nested 50,000 levels in a payload', send('POST', '/v1/jobs', 'application/json', `{"operation":"keyword.setBid","items":[{"profileId":"1","payload":${'['.repeat(50_000)}${']'.repeat(50_000)}}]}`), 400, /nested more than 32 levels deep/],
    ['a replay rate that would overflow a timer', send('POST', '/v1/dead-letters/replay', 'application/json', JSON.stringify({ filter: {}, rate: 1e-9 })), 400, /body.rate: must be >= 1/],
    ['a replay id of nobody', send('GET', '/v1/dead-letters/replays/00000000-0000-4000-8000-000000000000', undefined), 404, /no replay/],
  ];
  const wrong: string[] = [];
  for (const [name, answer, status, message] of cases) {
    const { status: got, json } = await answer;
    if (got !== status || !message.test(`${String(json.message)} ${JSON.stringify(json.errors ?? [])}`)) wrong.push(`${name}: ${got} ${JSON.stringify(json).slice(0, 300)}`);
  }
  expect(wrong).toEqual([]);
  expect(await committedEndOffsets(world.reader.admin, world.runtime.topics)).toEqual(before);
});

it('reads a content type in capitals as what it says, and a large JSON body off the main thread, as the same job', async () => {
  const csv = await send('POST', '/v1/jobs?operation=keyword.setBid', 'TEXT/CSV', 'profileId,keywordId,bid\n1000000000001,1,1.5\n1000000000001,2,2.5\n');
  expect(csv).toMatchObject({ status: 202, json: { itemCount: 2 } });
  // 5,000 items of some 90 bytes: past the inline size, so a worker parses it.
  const items = Array.from({ length: 5_000 }, (_, i) => JSON.parse(line(i)) as unknown);
  const big = JSON.stringify({ labels: { team: 'big' }, items, operation: 'keyword.setBid' }); // operation after the items
  expect(big.length).toBeGreaterThan(256 * 1024);
  expect(await send('POST', '/v1/jobs', 'application/json; charset=utf-8', big)).toMatchObject({ status: 202, json: { itemCount: 5_000, profileCount: 1 } });
  const refused = await send('POST', '/v1/jobs', 'application/json', JSON.stringify({ operation: 'keyword.setBid', items: [...items.slice(0, 4_000), { profileId: 'x' }, ...items.slice(4_000)], extra: true }));
  expect(refused).toMatchObject({ status: 400, json: { message: 'body.extra: unknown field (a job has operation, labels, captureBefore, autoPause, canary, verifyAtEnd and items)' } });
  const badItem = await send('POST', '/v1/jobs', 'application/json', JSON.stringify({ operation: 'keyword.setBid', items: [...items.slice(0, 4_000), { profileId: 'x' }, ...items.slice(4_000)] }));
  expect(badItem).toMatchObject({ status: 400, json: { errorCount: 2, errors: [{ index: 4_000, field: 'profileId' }, { index: 4_000, field: 'payload' }] } });
});
