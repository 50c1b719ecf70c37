// Producers (issue 4, guarantee 1): a job's events are all on the topics, decodable,
// keyed by profile and in submission order; a repeated Idempotency-Key produces nothing
// new, also across an API restart; every class of bad input is refused and produces nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import type { ItemRequested } from '../../../src/domain/events.js';
import { openKafkaReader, postJob, startTestApi, type KafkaReader, type TestApi } from '../../helpers/api.js';
import { createTestDatabase, testConfig, type TestDatabase } from '../../helpers/services.js';
import { readTopic, committedEndOffsets } from '../../helpers/topic-reader.js';

const config = testConfig();
let db: TestDatabase;
let api: TestApi;
let reader: KafkaReader;
// Every request is tenant acme's, with an admin token made in beforeAll (the case table
// below is built before that, so the token is added to these objects then).
const AUTH: Record<string, string> = {};
const NDJSON: Record<string, string> = { 'content-type': 'application/x-ndjson' };
const JSON_CT: Record<string, string> = { 'content-type': 'application/json' };
const CSV: Record<string, string> = { 'content-type': 'text/csv' };
const TEXT: Record<string, string> = { 'content-type': 'text/plain' };
const LIMITS = { maxItems: 5_000, maxItemBytes: 2_048, maxRequestBytes: 2 * 1024 ** 2 };

const profiles = Array.from({ length: 7 }, (_, p) => generatedProfileId('NA', p));
function jobLines(count: number, bidBase = 0.5): string {
  return Array.from({ length: count }, (_, i) => {
    const profileId = profiles[i % profiles.length]!;
    const op = i % 10 === 9 ? { operation: 'campaign.setBudget', payload: { campaignId: generatedEntityId(profileId, 'campaigns', i % 3), budget: 20 + i } } : { payload: { keywordId: generatedEntityId(profileId, 'keywords', i), bid: bidBase + (i % 100) / 100 } };
    return JSON.stringify({ profileId, ...op });
  }).join('\n');
}

beforeAll(async () => {
  db = await createTestDatabase(config);
  api = await startTestApi(config, LIMITS);
  for (const headers of [AUTH, NDJSON, JSON_CT, CSV, TEXT]) Object.assign(headers, await api.auth('acme'));
  reader = await openKafkaReader(config, api.runtime);
});
afterAll(async () => {
  await reader?.close();
  await api?.close();
  await db?.drop();
});

describe('a submitted job', () => {
  it('is on the topics whole: JobSubmitted, every ItemRequested keyed by profile in order, RUNNING control state', async () => {
    const res = await postJob(api.url, jobLines(300), NDJSON, '?operation=keyword.setBid&label=team:search');
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ itemCount: 300, profileCount: 7, duplicate: false });
    const jobId = res.json.jobId as string;

    const events = (await readTopic(reader.kafka, reader.serde, api.runtime.topics, 'jobEvents', { expect: 2 })).filter((e) => e.value.jobId === jobId);
    const submitted = events.filter((e) => 'sluice.JobSubmitted' in e.value.event);
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({ key: jobId, value: { tenantId: 'acme', event: { 'sluice.JobSubmitted': { operation: 'keyword.setBid', itemCount: 300, profileCount: 7, labels: { team: 'search' } } } } });

    const commands = (await readTopic(reader.kafka, reader.serde, api.runtime.topics, 'itemCommands', { expect: 300 })).filter((c) => c.value.jobId === jobId);
    expect(commands).toHaveLength(300);
    expect(new Set(commands.map((c) => c.value.index))).toEqual(new Set(Array.from({ length: 300 }, (_, i) => i)));
    for (const c of commands) {
      const v: ItemRequested = c.value;
      expect(c.key).toBe(v.profileId);
      expect(v).toMatchObject({ itemId: `${jobId}:${v.index}`, attempt: 1, replayGeneration: 0, tenantId: 'acme', profileId: profiles[v.index % 7] });
      expect(v.operation).toBe(v.index % 10 === 9 ? 'campaign.setBudget' : 'keyword.setBid');
      expect(JSON.parse(v.payload)).toEqual(JSON.parse(jobLines(300).split('\n')[v.index]!).payload);
    }
    // Where the job said each command landed is where it is (what expires it if retention removes it).
    const placed = new Map<number, string>();
    for (const e of events) {
      if (!('sluice.CommandsPlaced' in e.value.event)) continue;
      expect(e.key).toBe(jobId);
      for (const pl of e.value.event['sluice.CommandsPlaced'].placements) pl.indexes.forEach((index, k) => placed.set(index, `${pl.partition}/${pl.offsets[k]}/${pl.profileId}`));
    }
    expect(placed).toEqual(new Map(commands.map((c) => [c.value.index, `${c.partition}/${c.offset}/${c.key}`])));
    // Each profile lives on one partition, and its items are in submission order there.
    for (const profileId of profiles) {
      const own = commands.filter((c) => c.key === profileId);
      expect(new Set(own.map((c) => c.partition)).size).toBe(1);
      const indexes = own.map((c) => c.value.index);
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    }

    const control = (await readTopic(reader.kafka, reader.serde, api.runtime.topics, 'jobControl', { expect: 1 })).filter((c) => c.key === jobId);
    expect(control.map((c) => c.value)).toMatchObject([{ state: 'RUNNING', version: 0, tenantId: 'acme' }]);
  });

  it('accepts a JSON body and a CSV stream with the same meaning', async () => {
    const p = profiles[0]!;
    const json = await postJob(api.url, JSON.stringify({ operation: 'keyword.setBid', items: [{ profileId: p, payload: { keywordId: generatedEntityId(p, 'keywords', 1), bid: 1.25 } }] }), JSON_CT);
    const csv = await postJob(api.url, `profileId,operation,keywordId,bid\n${p},keyword.setBid,${generatedEntityId(p, 'keywords', 1)},1.25\n`, CSV);
    expect([json.status, csv.status]).toEqual([202, 202]);
    const commands = await readTopic(reader.kafka, reader.serde, api.runtime.topics, 'itemCommands');
    const payloadOf = (jobId: unknown) => commands.find((c) => c.value.jobId === jobId)?.value.payload;
    expect(payloadOf(csv.json.jobId)).toBe(payloadOf(json.json.jobId));
    expect(JSON.parse(payloadOf(csv.json.jobId)!)).toEqual({ keywordId: generatedEntityId(p, 'keywords', 1), bid: 1.25 });
  });
});

describe('Idempotency-Key', () => {
  it('returns the same job and produces nothing new on a repeat, also after an API restart', async () => {
    const body = jobLines(50, 0.7);
    const headers = { ...NDJSON, 'idempotency-key': 'retry-me-1' };
    const first = await postJob(api.url, body, headers, '?operation=keyword.setBid');
    expect(first.status).toBe(202);
    const before = await committedEndOffsets(reader.admin, api.runtime.topics);

    const again = await postJob(api.url, body, headers, '?operation=keyword.setBid');
    expect(again).toMatchObject({ status: 202, json: { jobId: first.json.jobId, duplicate: true, itemCount: 50 } });

    await api.close();
    api = await startTestApi(config, LIMITS);
    const afterRestart = await postJob(api.url, body, headers, '?operation=keyword.setBid');
    expect(afterRestart.json).toMatchObject({ jobId: first.json.jobId, duplicate: true });
    expect(await committedEndOffsets(reader.admin, api.runtime.topics)).toEqual(before);
  });

  it('refuses the same key for different content (422), producing nothing', async () => {
    const headers = { ...NDJSON, 'idempotency-key': 'retry-me-2' };
    expect((await postJob(api.url, jobLines(5), headers, '?operation=keyword.setBid')).status).toBe(202);
    const before = await committedEndOffsets(reader.admin, api.runtime.topics);
    const other = await postJob(api.url, jobLines(6), headers, '?operation=keyword.setBid');
    expect(other.status).toBe(422);
    expect(await committedEndOffsets(reader.admin, api.runtime.topics)).toEqual(before);
  });
});

describe('bad input', () => {
  const p = generatedProfileId('NA', 0);
  const kw = generatedEntityId(p, 'keywords', 0);
  const item = (over: Record<string, unknown> = {}) => JSON.stringify({ profileId: p, operation: 'keyword.setBid', payload: { keywordId: kw, bid: 1 }, ...over });
  const cases: [string, string, Record<string, string>, number, RegExp | { index: number; field: string }][] = [
    ['malformed JSON body', '{"items": [', JSON_CT, 400, /not valid JSON/],
    ['a line that is not JSON', `${item()}\n{oops\n${item()}`, NDJSON, 400, { index: 1, field: 'line' }],
    ['a wrong type', item({ payload: { keywordId: kw, bid: 'high' } }), NDJSON, 400, { index: 0, field: 'payload.bid' }],
    ['an unknown operation', item({ operation: 'keyword.delete' }), NDJSON, 400, { index: 0, field: 'operation' }],
    ['a missing profile id', JSON.stringify({ operation: 'keyword.setBid', payload: { keywordId: kw, bid: 1 } }), NDJSON, 400, { index: 0, field: 'profileId' }],
    ['a bad profile id', item({ profileId: 'ACME-1' }), NDJSON, 400, { index: 0, field: 'profileId' }],
    ['an unknown field in an item', item({ bid: 2 }), NDJSON, 400, { index: 0, field: 'bid' }],
    ['an unknown field in the payload', item({ payload: { keywordId: kw, bid: 1, state: 'PAUSED' } }), NDJSON, 400, { index: 0, field: 'payload' }],
    ['an oversized item', item({ payload: { keywordId: kw, bid: 1, note: 'x'.repeat(3_000) } }), NDJSON, 400, { index: 0, field: 'line' }],
    ['an oversized job', Array.from({ length: 5_001 }, () => item()).join('\n'), NDJSON, 400, { index: 5_000, field: 'items' }],
    ['an unknown top-level field', JSON.stringify({ items: [JSON.parse(item())], priority: 'high' }), JSON_CT, 400, /body\.priority: unknown field/],
    ['a CSV number that is not one', `profileId,operation,keywordId,bid\n${p},keyword.setBid,${kw},high\n`, CSV, 400, { index: 0, field: 'payload.bid' }],
    ['an empty job', '', NDJSON, 400, { index: -1, field: 'items' }],
    ['an unsupported content type', item(), TEXT, 415, /Unsupported Media Type/],
    ['a streamed body over the request limit', `${item()}\n`.repeat(100) + '\n'.repeat(3 * 1024 ** 2), NDJSON, 413, /larger than 2097152 bytes/],
    ['a CSV body over the request limit', `profileId,keywordId,bid,note\n${`${p},${kw},1,${'n'.repeat(1_000)}\n`.repeat(3_000)}`, CSV, 413, /larger than 2097152 bytes/],
    ['a CSV job over the item limit, refused before its body ends', `profileId,operation,keywordId,bid\n${`${p},keyword.setBid,${kw},1\n`.repeat(100_000)}`, CSV, 400, { index: 5_000, field: 'items' }],
  ];

  it.each(cases)('%s: refused, naming the item and field, and nothing is produced', async (_name, body, headers, status, expected) => {
    const before = await committedEndOffsets(reader.admin, api.runtime.topics);
    const res = await postJob(api.url, body, headers);
    expect(res.status).toBe(status);
    if (expected instanceof RegExp) expect(String(res.json.message)).toMatch(expected);
    else expect(res.json.errors).toEqual(expect.arrayContaining([expect.objectContaining(expected)]));
    expect(await committedEndOffsets(reader.admin, api.runtime.topics)).toEqual(before);
  });

  it('lists every bad field of every item (capped) and counts them all', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? item({ payload: { keywordId: 'x', bid: -1 } }) : item())).join('\n');
    const res = await postJob(api.url, lines, NDJSON);
    expect(res.status).toBe(400);
    expect(res.json.errorCount).toBe(200); // 100 bad items × 2 bad fields
    expect(res.json.errors).toHaveLength(100);
    expect((res.json.errors as { index: number }[])[0]).toMatchObject({ index: 0 });
  });
});

describe('job control', () => {
  it('pauses, resumes and cancels with increasing versions, and refuses what the state forbids', async () => {
    const submitted = await postJob(api.url, jobLines(3), NDJSON, '?operation=keyword.setBid');
    const jobId = submitted.json.jobId as string;
    const act = async (action: string) => {
      const res = await fetch(`${api.url}/v1/jobs/${jobId}/${action}`, { method: 'POST', headers: JSON_CT, body: JSON.stringify({ reason: `test ${action}` }) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    expect(await act('resume')).toMatchObject({ status: 409 });
    expect(await act('pause')).toMatchObject({ status: 200, json: { state: 'PAUSED', version: 1 } });
    expect(await act('resume')).toMatchObject({ status: 200, json: { state: 'RUNNING', version: 2 } });
    expect(await act('cancel')).toMatchObject({ status: 200, json: { state: 'CANCELLED', version: 3 } });
    expect(await act('pause')).toMatchObject({ status: 409 });
    expect((await fetch(`${api.url}/v1/jobs/00000000-0000-4000-8000-000000000000/pause`, { method: 'POST', headers: AUTH })).status).toBe(404);
    expect((await fetch(`${api.url}/v1/jobs/no-such-job/pause`, { method: 'POST', headers: AUTH })).status).toBe(400); // not a job id at all

    const events = (await readTopic(reader.kafka, reader.serde, api.runtime.topics, 'jobEvents')).filter((e) => e.key === jobId && !('sluice.CommandsPlaced' in e.value.event));
    expect(events.map((e) => Object.keys(e.value.event)[0])).toEqual(['sluice.JobSubmitted', 'sluice.JobPaused', 'sluice.JobResumed', 'sluice.JobCancelled']);
    expect(events[1]?.value.event).toEqual({ 'sluice.JobPaused': { by: null, reason: 'test pause' } });
    const control = (await readTopic(reader.kafka, reader.serde, api.runtime.topics, 'jobControl')).filter((c) => c.key === jobId);
    expect(control.at(-1)?.value).toMatchObject({ state: 'CANCELLED', version: 3 });
  });

  it('belongs to the tenant: another tenant gets 404', async () => {
    const submitted = await postJob(api.url, jobLines(2), NDJSON, '?operation=keyword.setBid');
    const res = await fetch(`${api.url}/v1/jobs/${submitted.json.jobId}/pause`, { method: 'POST', headers: await api.auth('globex') });
    expect(res.status).toBe(404);
  });
});
