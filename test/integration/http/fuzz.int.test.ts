// Hostile input against every endpoint of the HTTP API: 1,200 generated requests (seeded,
// so a failure repeats) with malformed JSON, wrong types, huge fields, injection strings,
// unknown ids, wrong content types and missing, forged or under-scoped tokens, and the
// classes of issue 16 point 9: JSON nested thousands of levels deep, forged cursors and
// dates Postgres refuses, replay rates that overflow a timer, patches of identity fields,
// labels past their limits by any route, profile ids past int64, charsets other than
// UTF-8, upper-case content types, replay ids of nobody. Every one must get a 4xx with an
// error and a message and the security headers, none a 5xx; nothing may reach Kafka;
// every request leaves its audit row; the server must stay up. Then a JSON body of a
// million tiny items and 1,000 requests with rotating bogus tokens, while a health check
// is timed: no request may hold the api up.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool } from '../../../src/db/pool.js';
import { openProducerRuntime, type ProducerRuntime } from '../../../src/app/producer-runtime.js';
import { openKafkaReader, serveApi, type KafkaReader, type ServedApi } from '../../helpers/api.js';
import { createTestDatabase, testConfig, testLogger, type TestDatabase } from '../../helpers/services.js';
import { committedEndOffsets } from '../../helpers/topic-reader.js';
import { seededRandom } from '../../../src/simulator/random.js';

const REQUESTS = 1_200;

let runtime: ProducerRuntime;
let reader: KafkaReader;
let db: TestDatabase;
let api: ServedApi;
let tokens: { admin: string; read: string; job: string };

beforeAll(async () => {
  const config = testConfig();
  db = await createTestDatabase(config);
  runtime = await openProducerRuntime(config, testLogger());
  reader = await openKafkaReader(config, runtime);
  api = await serveApi(runtime);
  const auth = async (scope: 'admin' | 'read') => (await api.auth('fuzz', scope)).authorization;
  tokens = { admin: await auth('admin'), read: await auth('read'), job: '' };
  // A job-scoped token needs a job: one real submission, before the offsets are taken.
  const job = await fetch(`${api.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: tokens.admin },
    body: JSON.stringify({ operation: 'keyword.setBid', items: [{ profileId: '1000000000001', payload: { keywordId: '1', bid: 1 } }] }),
  });
  tokens.job = (await api.auth('fuzz', 'job', ((await job.json()) as { jobId: string }).jobId)).authorization;
});
afterAll(async () => {
  await api?.close();
  await reader?.close();
  await runtime?.close();
  await db?.drop();
});

const HOSTILE_STRINGS = [
  "' OR 1=1 --",
  '"; DROP TABLE jobs; --',
  "1'; SELECT pg_sleep(5); --",
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '\u0000\u0001\u0002',
  '${jndi:ldap://x/a}',
  '%00%27%22',
  'x'.repeat(70_000),
  '😀'.repeat(300),
  '__proto__',
  '-1',
  '1e309',
  'NaN',
  '',
  'a\u0000b',
  'a\ud800b',
  '\udc00',
];
const HOSTILE_VALUES: unknown[] = [...HOSTILE_STRINGS, null, true, -1, 0, 1e308, [], {}, [[[[[]]]]], { __proto__: { admin: true } }, { constructor: { prototype: {} } }, Array.from({ length: 50 }, () => 'x')];

interface FuzzRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

function generator(next: () => number) {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const s = () => pick(HOSTILE_STRINGS);
  const v = () => pick(HOSTILE_VALUES);
  // A URL carries UTF-8: a lone surrogate cannot be in one (it arrives as U+FFFD).
  const enc = (x: string) => encodeURIComponent(x.toWellFormed()).slice(0, 4000);
  // What an HTTP client can put in a header at all: visible ASCII.
  const headerValue = (x: string) => x.replace(/[^\x21-\x7e]/g, '').slice(0, 200) || 'x';
  const jsonOf = (x: unknown) => JSON.stringify(x) ?? 'null';
  const json = { 'content-type': 'application/json' };
  const badTime = () => pick(['2026-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '2026-01-01T00:00:00+24:00', '2026-01-01T00:00:00+16:00', '10000-01-01T00:00:00Z', '+010000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z']);
  const badJson = () => pick(['{', '{"items": [}', '[1,2', 'null', '"items"', '{"items": [1, 2,]}', '\u0000\u0001', `{"items": ${'['.repeat(2000)}`, 'nul', '{}{}']);
  const item = () => pick([
    { profileId: v(), payload: { keywordId: '1', bid: 1 } },
    { profileId: '1000000000001', payload: { keywordId: v(), bid: v() } },
    { profileId: '1000000000001', operation: s(), payload: { keywordId: '1', bid: 1 } },
    { profileId: '1000000000001', payload: v() },
    v(),
    { profileId: '1000000000001', payload: { keywordId: '1', bid: 1 }, [s().slice(0, 40) || 'extra']: v() },
  ]);
  const cases: (() => FuzzRequest)[] = [
    // Submissions: wrong content types, malformed bodies, wrong types, hostile items.
    () => ({ method: 'POST', path: '/v1/jobs', headers: { 'content-type': pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'image/png']) }, body: jsonOf({ items: [] }) }),
    () => ({ method: 'POST', path: '/v1/jobs', headers: json, body: badJson() }),
    () => ({ method: 'POST', path: '/v1/jobs', headers: json, body: jsonOf({ operation: 'keyword.setBid', items: v() }) }),
    () => ({ method: 'POST', path: '/v1/jobs', headers: json, body: jsonOf({ operation: v(), labels: v(), items: [item()] }) }),
    () => ({ method: 'POST', path: '/v1/jobs', headers: json, body: jsonOf({ operation: 'keyword.setBid', items: [item(), item(), item()] }) }),
    () => ({ method: 'POST', path: `/v1/jobs?operation=${enc(s())}`, headers: { 'content-type': 'application/x-ndjson' }, body: `${jsonOf(item())}\n${badJson()}\n` }),
    () => ({ method: 'POST', path: '/v1/jobs?operation=keyword.setBid', headers: { 'content-type': 'text/csv' }, body: pick([`profileId,keywordId,bid\n${s().slice(0, 100)},1,${s().slice(0, 100)}\n`, '"unterminated\n', 'a,b\n1,2,3\n', '']) }),
    () => ({ method: 'POST', path: '/v1/jobs', headers: { ...json, 'idempotency-key': headerValue(s()) }, body: jsonOf({ items: [item()] }) }),
    () => ({ method: 'POST', path: `/v1/jobs?${enc(s().slice(0, 50))}=1`, headers: json, body: jsonOf({ operation: 'keyword.setBid', items: [item()] }) }),
    // Reads of jobs.
    () => ({ method: 'GET', path: `/v1/jobs?status=${enc(s())}` }),
    () => ({ method: 'GET', path: `/v1/jobs?limit=${enc(pick(['0', '-1', '1001', '1e3', 'abc', s()]))}` }),
    () => ({ method: 'GET', path: `/v1/jobs?cursor=${enc(s())}` }),
    // A cursor of the right shape with hostile contents (it goes into a query).
    () => ({ method: 'GET', path: `/${pick(['v1/jobs', 'v1/dead-letters'])}?cursor=${Buffer.from(JSON.stringify([pick([s(), '2026-01-01T00:00:00Z']), s()])).toString('base64url').slice(0, 500) || 'x'}` }),
    () => ({ method: 'GET', path: `/v1/jobs?label=${enc(s())}&submittedAfter=${enc(s())}` }),
    () => ({ method: 'GET', path: `/v1/jobs/${enc(s()) || 'x'}` }),
    () => ({ method: 'GET', path: `/v1/jobs/${enc(s()) || 'x'}/items?status=${enc(s())}&after=${enc(s())}` }),
    () => ({ method: 'GET', path: `/v1/jobs/${enc(s()) || 'x'}/results?status=${enc(pick(['failed', s()]))}&format=${enc(pick(['csv', 'xml', s()]))}` }),
    () => ({ method: 'GET', path: `/v1/jobs/${enc(s()) || 'x'}/events` }),
    () => ({ method: 'GET', path: `/v1/jobs/${enc(s()) || 'x'}?profiles=${enc(s())}` }),
    // Job control.
    () => ({ method: 'POST', path: `/v1/jobs/${enc(s()) || 'x'}/${pick(['pause', 'resume', 'cancel'])}`, headers: json, body: pick(['{}', badJson(), jsonOf({ reason: v() })]) }),
    () => ({ method: 'POST', path: `/v1/jobs/00000000-0000-0000-0000-000000000000/${pick(['pause', 'resume', 'cancel', 'explode', s().slice(0, 20) || 'x'])}`, headers: { 'content-type': pick(['application/json', 'text/plain']) }, body: '{}' }),
    // Dead letters.
    () => ({ method: 'GET', path: `/v1/dead-letters?${pick(['jobId', 'profileId', 'operation', 'errorKind', 'reason', 'status', 'since', 'until', 'limit', 'cursor', s().slice(0, 30) || 'x'])}=${enc(s())}&status=${enc(pick(['opened', s()]))}` }),
    () => ({ method: 'GET', path: `/v1/dead-letters/${enc(s()) || 'x'}` }),
    () => ({ method: 'GET', path: `/v1/dead-letters/replays/${enc(s()) || 'x'}/${enc(s()) || 'y'}` }),
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: json, body: pick([badJson(), jsonOf(v()), jsonOf({ filter: v() }), jsonOf({ filter: { jobId: s() }, patch: v(), rate: v(), dryRun: v() })]) }),
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: json, body: jsonOf({ filter: { jobId: s().slice(0, 200) || 'x', since: s() } }) }),
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: json, body: jsonOf({ filter: { [s().slice(0, 20) || 'x']: 'y' } }) }),
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: json, body: jsonOf({ filter: { jobId: s().slice(0, 200) || 'x' }, patch: { bid: v() }, dryRun: true }) }),
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: { 'content-type': pick(['text/plain', 'application/x-ndjson', 'text/csv']) }, body: '{"filter":{}}' }),
    // Tokens and the audit log.
    () => ({ method: 'POST', path: '/v1/tokens', headers: json, body: pick([badJson(), jsonOf(v()), jsonOf({ scope: pick(['admin', 'read', 'job', s()]), name: v(), jobId: v(), expiresInSeconds: pick([0, -1, 'x', 1e12, null]) })]) }),
    () => ({ method: 'POST', path: '/v1/tokens', headers: json, body: jsonOf({ scope: 'job', name: 'fuzz', jobId: pick([s(), '00000000-0000-4000-8000-000000000000']) }) }),
    () => ({ method: 'DELETE', path: `/v1/tokens/${enc(s()) || 'x'}` }),
    () => ({ method: 'GET', path: `/v1/audit?${pick(['target', 'action', 'since', 'before', 'limit', s().slice(0, 30) || 'x'])}=${enc(s())}&outcome=${enc(s())}` }),
    // Issue 16 point 9: JSON nested deep inside an item, as JSON and as NDJSON.
    () => ({ method: 'POST', path: '/v1/jobs', headers: json, body: `{"operation":"keyword.setBid","items":[{"profileId":"1","payload":${'{"a":'.repeat(pick([100, 5_000, 50_000]))}1${'}'.repeat(pick([100, 5_000, 50_000]))}}]}` }),
    () => ({ method: 'POST', path: '/v1/jobs?operation=keyword.setBid', headers: { 'content-type': 'application/x-ndjson' }, body: `{"profileId":"1","payload":${'['.repeat(20_000)}${']'.repeat(20_000)}}\n` }),
    // Times JavaScript parses and Postgres refuses, in filters and forged cursors.
    () => ({ method: 'GET', path: `/v1/${pick(['jobs?submittedAfter', 'jobs?submittedBefore', 'dead-letters?since', 'dead-letters?until', 'audit?since'])}=${enc(badTime())}` }),
    () => ({ method: 'GET', path: `/${pick(['v1/jobs', 'v1/dead-letters'])}?cursor=${Buffer.from(JSON.stringify([badTime(), '00000000-0000-4000-8000-000000000000'])).toString('base64url')}` }),
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: json, body: jsonOf({ filter: { since: badTime() }, dryRun: true }) }),
    // Replay rates that would overflow a timer or flood, and patches of the entity's id.
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: json, body: jsonOf({ filter: {}, rate: pick([1e-9, 0.001, 0, -1, 1e9, 'x']) }) }),
    () => ({ method: 'POST', path: '/v1/dead-letters/replay', headers: json, body: jsonOf({ filter: {}, patch: { keywordId: '42' } }) }),
    // Labels past their limits, by every way they arrive.
    () => ({ method: 'POST', path: `/v1/jobs?operation=keyword.setBid&${Array.from({ length: pick([33, 40]) }, (_, i) => `label=k${i}:v`).join('&')}`, headers: { 'content-type': pick(['application/x-ndjson', 'text/csv']) }, body: '{"profileId":"1","payload":{"keywordId":"1","bid":1}}\n' }),
    () => ({ method: 'POST', path: `/v1/jobs?operation=keyword.setBid&label=team:${'v'.repeat(300)}`, headers: { 'content-type': 'application/x-ndjson' }, body: '{"profileId":"1","payload":{"keywordId":"1","bid":1}}\n' }),
    () => ({ method: 'POST', path: '/v1/jobs', headers: json, body: jsonOf({ operation: 'keyword.setBid', labels: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])), items: [item()] }) }),
    // Profile ids past Amazon's int64.
    () => ({ method: 'POST', path: '/v1/jobs', headers: json, body: jsonOf({ operation: 'keyword.setBid', items: [{ profileId: pick(['9223372036854775808', '99999999999999999999', '18446744073709551616']), payload: { keywordId: '1', bid: 1 } }] }) }),
    // Charsets other than UTF-8, and content types in capitals (still what they say).
    () => ({ method: 'POST', path: '/v1/jobs', headers: { 'content-type': `${pick(['application/json', 'application/x-ndjson', 'text/csv'])}; charset=${pick(['latin1', 'utf-16', 'iso-8859-1', 'shift_jis'])}` }, body: jsonOf({ items: [item()] }) }),
    () => ({ method: 'POST', path: '/v1/jobs?operation=keyword.setBid', headers: { 'content-type': 'TEXT/CSV' }, body: `profileId,keywordId,bid\n${s().slice(0, 50)},1,x\n` }),
    // A replay id nobody has.
    () => ({ method: 'GET', path: `/v1/dead-letters/replays/${pick(['00000000-0000-4000-8000-000000000000', '11111111-2222-4333-8444-555555555555'])}` }),
    // Paths and methods that do not exist.
    () => ({ method: pick(['GET', 'POST'] as const), path: `/${enc(s()) || 'x'}` }),
    () => ({ method: 'GET', path: '/v1/jobs/x/../../../etc/passwd' }),
  ];
  // Mostly the tenant admin's token, so requests get past authentication to the input
  // checks; the rest carry none, a forged one, or one without the scope.
  const authorization = () => {
    const r = next();
    if (r < 0.8) return tokens.admin;
    if (r < 0.85) return undefined;
    if (r < 0.9) return `Bearer ${headerValue(s())}`;
    return r < 0.95 ? tokens.read : tokens.job;
  };
  return (): FuzzRequest => {
    const request = pick(cases)();
    const auth = authorization();
    return auth === undefined ? request : { ...request, headers: { ...request.headers, authorization: auth } };
  };
}

async function send(r: FuzzRequest): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${api.url}${r.path}`, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(30_000) });
  // An SSE stream for a job that does not exist is refused before it starts; anything
  // else that streams would be a bug the assertions below report.
  return { status: res.status, body: await res.text(), headers: res.headers };
}

it(`answers ${REQUESTS} hostile requests with 4xx and a message, never 5xx; produces nothing; stays up`, async () => {
  const before = await committedEndOffsets(reader.admin, runtime.topics);
  const next = generator(seededRandom(20261124));
  const bad: string[] = [];
  const statuses = new Map<number, number>();
  // Made before the clock starts: the server shares this process, and building hostile
  // bodies here would be counted against its health checks.
  const requests = Array.from({ length: REQUESTS }, () => next());
  const slowest = await slowestHealthCheckDuring(async () => {
  for (let i = 0; i < REQUESTS; i++) {
    const request = requests[i]!;
    const { status, body, headers } = await send(request);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    let parsed: { error?: unknown; message?: unknown } = {};
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      // reported below
    }
    const secured = headers.get('x-content-type-options') === 'nosniff' && headers.get('cache-control') === 'no-store' && headers.get('content-security-policy') !== null;
    const ok = status >= 400 && status < 500 && typeof parsed.error === 'string' && typeof parsed.message === 'string' && parsed.message.length > 0 && (secured || status === 414);
    if (!ok) bad.push(`#${i} ${request.method} ${request.path.slice(0, 200)} [${request.headers?.['content-type'] ?? '-'}] ${(request.body ?? '').slice(0, 200)} -> ${status} ${body.slice(0, 300)}`);
  }
  });
  console.log(`fuzz: statuses ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ')}; slowest health check ${slowest.toFixed(1)} ms`);
  expect(bad).toEqual([]);
  // In-process with its own client, on two cores shared with the broker and a second test
  // file: 5-57 ms on a quiet run, 90 and 163 ms in CI runs. The bodies built to hold the api
  // up (a million items, a flood of bad tokens) are timed at 100 ms in the tests below.
  expect(slowest).toBeLessThan(400);
  expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  // Hostile or not, every request was audited: no audit row failed to be written.
  expect(await (await fetch(`${api.url}/metrics`)).text()).toMatch(/^sluice_audit_write_failures_total 0$/m);
  expect(await committedEndOffsets(reader.admin, runtime.topics)).toEqual(before);
}, 300_000);

/** Times a health check every 20 ms while `work` runs; resolves with the slowest answer (ms). */
async function slowestHealthCheckDuring(work: () => Promise<void>, url = api.url): Promise<number> {
  let slowest = 0;
  let running = true;
  const probing = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await probing;
  }
  return slowest;
}

// The bound is far below what parsing and checking a million items on the main thread takes
// (seconds), and far above a loaded CI machine's scheduling jitter (100+ ms seen).
it('a JSON body of a million tiny items is refused without holding up the api (health answered within 300 ms)', async () => {
  const before = await committedEndOffsets(reader.admin, runtime.topics);
  const body = Buffer.from(`{"operation":"keyword.setBid","items":[${Array(1_000_000).fill('1').join(',')}]}`);
  let answer: { status: number; json: { errorCount?: number; errors?: { index: number; field: string }[] } } | undefined;
  const slowest = await slowestHealthCheckDuring(async () => {
    const res = await fetch(`${api.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: tokens.admin }, body });
    answer = { status: res.status, json: (await res.json()) as NonNullable<typeof answer>['json'] };
  });
  console.log(`fuzz: a million-item JSON body, slowest health check ${slowest.toFixed(1)} ms`);
  expect(answer).toMatchObject({ status: 400, json: { errorCount: 1_000_000, errors: expect.arrayContaining([{ index: 0, field: 'item', reason: expect.any(String) }]) } });
  expect(slowest).toBeLessThan(300);
  expect(await committedEndOffsets(reader.admin, runtime.topics)).toEqual(before);
}, 180_000);

it('1,000 requests with rotating bogus tokens from one address: 401 then 429, audit rows bounded, nothing produced, health within 400 ms', async () => {
  const before = await committedEndOffsets(reader.admin, runtime.topics);
  const pool = createPool({ url: db.url, max: 1 });
  // A server of its own: the requests above used up this address's allowance for the minute.
  const fresh = await serveApi(runtime);
  try {
    // The tenant's real token is in use from the same address before the flood…
    expect((await fetch(`${fresh.url}/v1/jobs`, { headers: { authorization: tokens.admin } })).status).toBe(200);
    const auditBefore = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log`)).rows[0]!.n);
    const statuses = new Map<number, number>();
    const slowest = await slowestHealthCheckDuring(async () => {
      for (let i = 0; i < 1_000; i++) {
        const bogus = `Bearer sluice_${randomBytes(32).toString('base64url')}`;
        const res = await fetch(`${fresh.url}/v1/jobs`, { headers: { authorization: bogus } });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }, fresh.url);
    console.log(`fuzz: rotating bogus tokens ${[...statuses].map(([s, n]) => `${s}×${n}`).join(', ')}, slowest health check ${slowest.toFixed(1)} ms`);
    expect([...statuses.keys()].sort()).toEqual([401, 429]);
    // The address is shut out after its allowance (60 a minute: twice if a minute turns during the run).
    expect(statuses.get(429)).toBeGreaterThanOrEqual(1_000 - 2 * 60);
    // Bounded: no audit row for any of them, a counter per address and minute instead.
    expect(Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM audit_log`)).rows[0]!.n)).toBe(auditBefore);
    const failures = (await pool.query<{ minutes: string; failures: string }>(`SELECT count(*) AS minutes, sum(failures) AS failures FROM auth_failures`)).rows[0]!;
    expect(Number(failures.minutes)).toBeLessThanOrEqual(5);
    expect(slowest).toBeLessThan(400);
    // …and still gets in after it: only the guessing is shut out.
    expect((await fetch(`${fresh.url}/v1/jobs`, { headers: { authorization: tokens.admin } })).status).toBe(200);
    expect((await fetch(`${fresh.url}/healthz`)).status).toBe(200);
    expect(await committedEndOffsets(reader.admin, runtime.topics)).toEqual(before);
  } finally {
    await fresh.close();
    await pool.end();
  }
}, 180_000);
