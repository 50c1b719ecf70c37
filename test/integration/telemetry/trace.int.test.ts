// One trace from a submission to its item results (W3C trace context in Kafka headers):
// a job submitted over HTTP with the caller's traceparent carries that trace on its
// JobSubmitted, every command, every result and its dead letter; the projected job, items
// and dead letter keep its trace id; the spans (kept in memory here) are the submission
// under the caller's span and one item span under it per item, an event per attempt. A
// replay of the dead letter is a trace of its own, which the replayed command, its result
// and the item's projected row then carry.
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import { createPool, type Pool } from '../../../src/db/pool.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { flushTracing, startTracing, traceIdOf } from '../../../src/telemetry/tracing.js';
import { serveApi, type ServedApi } from '../../helpers/api.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';
import { testLogger } from '../../helpers/services.js';
import { readTopic } from '../../helpers/topic-reader.js';

const PROFILES = [0, 1].map((i) => generatedProfileId('NA', i));
const CALLER = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const REPLAYER = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
const traceparent = (t: { traceId: string; spanId: string }) => `00-${t.traceId}-${t.spanId}-01`;
const spans = new InMemorySpanExporter();

let p: TestPipeline;
let projector: ProjectorRuntime;
let api: ServedApi;
let pool: Pool;
let auth: { authorization: string };

beforeAll(async () => {
  startTracing('sluice-test', () => spans); // before any runtime: theirs then keep this one
  p = await openTestPipeline({ simulator: { generate: { profilesPerRegion: 2 }, entitiesPerProfile: { keywords: 30, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 50, burst: 10 } } });
  projector = await openProjectorRuntime(p.config, testLogger());
  api = await serveApi(p.producer);
  auth = await api.auth('t1');
  pool = createPool({ url: p.config.database.url, max: 2 });
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await api?.close();
  await projector?.close();
  await p?.close();
});

async function post(path: string, body: unknown, context: { traceId: string; spanId: string }): Promise<Record<string, unknown>> {
  const res = await fetch(`${api.url}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', traceparent: traceparent(context) }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  return (await res.json()) as Record<string, unknown>;
}

async function until(sql: string, args: unknown[], done: (row: Record<string, unknown>) => boolean): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const { rows } = await pool.query<Record<string, unknown>>(sql, args);
    if (rows[0] && done(rows[0])) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`never: ${sql}`);
}

it('carries the caller’s trace id from the submission through every command, attempt and result to the projected rows, and a replay as its own trace', async () => {
  const missing = { profileId: PROFILES[0], payload: { keywordId: `${PROFILES[0]}9999999`, bid: 1 } }; // dead-lettered
  const items = [...PROFILES.flatMap((id) => keywordUpdates(id, 30)), missing];
  const submitted = await post('/v1/jobs', { operation: 'keyword.setBid', items }, CALLER);
  expect(submitted.traceId).toBe(CALLER.traceId);
  const jobId = submitted.jobId as string;
  await until(`SELECT status FROM jobs WHERE job_id = $1`, [jobId], (r) => r.status === 'completed_with_errors');

  // On the wire: every record of the job in the caller's trace.
  const trace = (records: { traceparent?: string }[]) => new Set(records.map((r) => traceIdOf(r.traceparent)));
  const commands = (await readTopic(p.reader.kafka, p.reader.serde, p.producer.topics, 'itemCommands', { expect: 61 })).filter((r) => r.value.jobId === jobId);
  const results = (await readTopic(p.reader.kafka, p.reader.serde, p.producer.topics, 'itemResults', { expect: 61 })).filter((r) => r.value.jobId === jobId);
  const events = (await readTopic(p.reader.kafka, p.reader.serde, p.producer.topics, 'jobEvents', { expect: 1 })).filter((r) => r.value.jobId === jobId);
  const letters = await readTopic(p.reader.kafka, p.reader.serde, p.producer.topics, 'dlq', { expect: 1 });
  expect(commands).toHaveLength(61);
  expect(results.length).toBeGreaterThanOrEqual(61);
  for (const records of [commands, results, events, letters]) expect(trace(records)).toEqual(new Set([CALLER.traceId]));

  // In Postgres: the job, each item and the dead letter keep it.
  expect((await pool.query(`SELECT DISTINCT trace_id FROM jobs WHERE job_id = $1`, [jobId])).rows).toEqual([{ trace_id: CALLER.traceId }]);
  expect((await pool.query(`SELECT trace_id, count(*)::int AS n FROM job_items WHERE job_id = $1 GROUP BY 1`, [jobId])).rows).toEqual([{ trace_id: CALLER.traceId, n: 61 }]);
  expect((await pool.query(`SELECT trace_id FROM dead_letters WHERE job_id = $1`, [jobId])).rows).toEqual([{ trace_id: CALLER.traceId }]);

  // The spans: the submission under the caller's span; an item span per item under it, each attempt an event.
  await flushTracing();
  const finished = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === CALLER.traceId);
  const submit = finished.filter((s) => s.name === 'sluice.submit');
  expect(submit).toHaveLength(1);
  expect(parentOf(submit[0]!)).toBe(CALLER.spanId);
  const itemSpans = finished.filter((s) => s.name === 'sluice.item');
  expect(itemSpans).toHaveLength(61);
  expect(new Set(itemSpans.map(parentOf))).toEqual(new Set([submit[0]!.spanContext().spanId]));
  expect(itemSpans.every((s) => s.events.some((e) => e.name === 'attempt'))).toBe(true);
  expect(itemSpans.filter((s) => s.attributes['sluice.dead_lettered'] === true)).toHaveLength(1);
  // Each result names its item's span as its parent.
  const itemSpanIds = new Set(itemSpans.map((s) => s.spanContext().spanId));
  expect(results.every((r) => itemSpanIds.has(r.traceparent!.split('-')[2]!))).toBe(true);

  // A replay (with the keyword fixed) is the replayer's trace, down to the item's row.
  // (The missing keyword is created first: a patch may not change which entity an item updates.)
  const [existing] = await p.sim.admin.entities<Keyword>(PROFILES[0]!, 'keywords', [generatedEntityId(PROFILES[0]!, 'keywords', 0)]);
  await p.sim.admin.putEntity(PROFILES[0]!, 'keywords', { ...existing!, keywordId: `${PROFILES[0]}9999999`, keywordText: 'created for the replay' });
  const replay = await post('/v1/dead-letters/replay', { filter: { jobId }, patch: { bid: 1.5 } }, REPLAYER);
  expect(replay.replayed).toBe(1);
  await until(`SELECT status, trace_id FROM job_items WHERE job_id = $1 AND trace_id = $2`, [jobId, REPLAYER.traceId], (r) => r.status === 'succeeded');
  const replayed = (await readTopic(p.reader.kafka, p.reader.serde, p.producer.topics, 'itemCommands', { expect: 62 })).filter((r) => r.value.jobId === jobId && r.value.replayGeneration === 1);
  expect(trace(replayed)).toEqual(new Set([REPLAYER.traceId]));
  await flushTracing();
  const replaySpan = spans.getFinishedSpans().find((s) => s.name === 'sluice.replay');
  expect(replaySpan?.spanContext().traceId).toBe(REPLAYER.traceId);
  expect(parentOf(replaySpan!)).toBe(REPLAYER.spanId);
}, 120_000);

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
