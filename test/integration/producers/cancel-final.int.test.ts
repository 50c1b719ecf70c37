// A cancel is final (issue 16 point 4). Kafka commits CANCELLED before Postgres stores
// it; here Postgres refuses that store (a trigger stands in for a crash between the two),
// so the row stays one version behind. Before, a later pause reused the version, made the
// cancelled job paused in every executor's view and then resumable. Now the pending cancel
// is finished first: pause and resume are refused, the control topic ends CANCELLED, and a
// replay does not trust the stale row. And a finished job takes no control action (409,
// nothing produced; issue 16 point 9).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import type { ItemResult } from '../../../src/domain/events.js';
import { submitJob } from '../../../src/index.js';
import { openApiWorld, until, type ApiWorld } from '../../helpers/api-world.js';
import { testLogger } from '../../helpers/services.js';
import { committedEndOffsets, readTopic } from '../../helpers/topic-reader.js';

let world: ApiWorld;
let projector: ProjectorRuntime;
let auth: { authorization: string };

beforeAll(async () => {
  world = await openApiWorld();
  projector = await openProjectorRuntime(world.config, testLogger());
  auth = await world.api.auth('final');
});
afterAll(async () => {
  await projector?.close();
  await world?.close();
});

const control = async (jobId: string, action: string) => {
  const res = await fetch(`${world.api.url}/v1/jobs/${jobId}/${action}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function submit(items: number): Promise<string> {
  const r = await submitJob(world.runtime, { tenantId: 'final', operation: 'keyword.setBid' }, Array.from({ length: items }, (_, i) => ({ profileId: '1000000000001', payload: { keywordId: String(i + 1), bid: 1 } })));
  if (r.type !== 'accepted') throw new Error(JSON.stringify(r));
  return r.jobId;
}


it('never brings a cancelled job back, whatever crashed between Kafka and Postgres', async () => {
  const { pool } = projector;
  const jobId = await submit(3);
  await pool.query(`CREATE FUNCTION test_crash_after_kafka() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.control_state = 'CANCELLED' THEN RAISE EXCEPTION 'the process died after Kafka committed'; END IF; RETURN NEW; END $$`);
  await pool.query(`CREATE TRIGGER test_crash_after_kafka BEFORE UPDATE ON submitted_jobs FOR EACH ROW EXECUTE FUNCTION test_crash_after_kafka()`);
  expect((await control(jobId, 'cancel')).status).toBe(500);
  expect((await pool.query(`SELECT control_state, control_version::int AS v FROM submitted_jobs WHERE job_id = $1`, [jobId])).rows).toEqual([{ control_state: 'RUNNING', v: 0 }]);

  // While the row is stale, a replay of the job's dead letters must see the cancel.
  const dead = randomUUID();
  const command = { jobId, itemId: `${jobId}:0`, index: 0, tenantId: 'final', profileId: '1000000000001', operation: 'keyword.setBid', payload: '{"keywordId":"1","bid":1}', attempt: 1, replayGeneration: 0, requestedAt: Date.now() };
  const producer = world.reader.kafka.producer();
  await producer.connect();
  await producer.send({
    topic: world.runtime.topics.dlq.name,
    messages: [{ key: '1000000000001', value: world.reader.serde.encode('dlq', { deadLetterId: dead, occurredAt: Date.now(), command, rawKey: null, rawValue: null, errorKind: 'entityNotFoundError', reason: 'ENTITY_NOT_FOUND', message: 'x', attempts: [], source: { topic: world.runtime.topics.itemCommands.name, partition: 0, offset: 0 } }) }],
  });
  await producer.disconnect();
  await until('the dead letter projected', async () => (await pool.query(`SELECT 1 FROM dead_letters WHERE dead_letter_id = $1`, [dead])).rowCount === 1);
  const replay = await world.runtime.replayer.replay({ tenantId: 'final', filter: { jobId }, dryRun: true });
  expect(replay).toMatchObject({ type: 'dry-run', replayed: 0, skipped: [{ reason: `job ${jobId} is cancelled: its items are not replayed`, count: 1 }] });

  await pool.query(`DROP TRIGGER test_crash_after_kafka ON submitted_jobs`);
  expect(await control(jobId, 'pause')).toMatchObject({ status: 409, body: { state: 'CANCELLED' } });
  expect(await control(jobId, 'resume')).toMatchObject({ status: 409, body: { state: 'CANCELLED' } });
  expect((await pool.query(`SELECT control_state, control_version::int AS v FROM submitted_jobs WHERE job_id = $1`, [jobId])).rows).toEqual([{ control_state: 'CANCELLED', v: 1 }]);
  const states = (await readTopic(world.reader.kafka, world.reader.serde, world.runtime.topics, 'jobControl')).filter((r) => r.value.jobId === jobId).map((r) => [r.value.state, r.value.version]);
  expect(states.at(-1)).toEqual(['CANCELLED', 1]);
  expect(states.filter(([state]) => state !== 'CANCELLED')).toEqual([['RUNNING', 0]]);
});

it('refuses to pause or cancel a job whose items have all ended, producing nothing', async () => {
  const jobId = await submit(1);
  const result: ItemResult = { jobId, itemId: `${jobId}:0`, index: 0, tenantId: 'final', profileId: '1000000000001', operation: 'keyword.setBid', attempt: 1, replayGeneration: 0, occurredAt: Date.now(), latencyMs: 5, outcome: { 'sluice.ItemSucceeded': { summary: null } } };
  const producer = world.reader.kafka.producer();
  await producer.connect();
  await producer.send({ topic: world.runtime.topics.itemResults.name, messages: [{ key: jobId, value: world.reader.serde.encode('itemResults', result) }] });
  await producer.disconnect();
  await until('the job completed', async () => (await projector.pool.query(`SELECT 1 FROM jobs WHERE job_id = $1 AND status = 'completed'`, [jobId])).rowCount === 1);
  const before = await committedEndOffsets(world.reader.admin, world.runtime.topics);
  for (const action of ['pause', 'cancel']) expect(await control(jobId, action)).toMatchObject({ status: 409, body: { message: `cannot ${action} a job that has finished (completed)` } });
  expect(await committedEndOffsets(world.reader.admin, world.runtime.topics)).toEqual(before);
});
