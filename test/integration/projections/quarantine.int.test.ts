// Poison-but-decodable records never stall a projector partition (issue 16 point 1): a
// record Postgres refuses (a value it cannot hold, a constraint) or one that does not
// decode is quarantined in projection_errors with its coordinates, counted, and the
// partition goes on; a retry after the fix applies it. A lost connection is not poison:
// it is retried and quarantines nothing. Before this, one JobSubmitted with a NUL in a
// label stopped its job-events partition for good (14 of 40 later jobs never appeared).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openProjectorRuntime, type ProjectorRuntime } from '../../../src/app/projector-runtime.js';
import type { JobEvent } from '../../../src/domain/events.js';
import { submitJob } from '../../../src/index.js';
import { openApiWorld, type ApiWorld } from '../../helpers/api-world.js';
import { testLogger } from '../../helpers/services.js';

let world: ApiWorld;
let projector: ProjectorRuntime;

beforeAll(async () => {
  world = await openApiWorld();
  projector = await openProjectorRuntime(world.config, testLogger());
  // A rule the operator will lift later: jobs of this operation are refused for now.
  await projector.pool.query(`ALTER TABLE jobs ADD CONSTRAINT test_no_blocked CHECK (operation IS DISTINCT FROM 'test.blocked')`);
});
afterAll(async () => {
  await projector?.close();
  await world?.close();
});

const submitted = (jobId: string, tenantId: string, labels: Record<string, string>, operation = 'keyword.setBid'): JobEvent => ({
  eventId: randomUUID(),
  jobId,
  tenantId,
  occurredAt: Date.now(),
  event: { 'sluice.JobSubmitted': { operation, itemCount: 1, profileCount: 1, labels, submittedBy: null, idempotencyKey: null, profileItemCounts: {} } },
});

async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('quarantines records Postgres refuses or cannot decode, goes on with the partition, and applies them on retry after the fix', async () => {
  const { pool } = projector;
  const topic = world.runtime.topics.jobEvents.name;
  const producer = world.reader.kafka.producer();
  await producer.connect();
  // One poison record on every job-events partition (the NUL label, the constraint, and
  // bytes that are no Avro record), each ahead of the ordinary jobs submitted after it.
  const partitions = world.runtime.topics.jobEvents.partitions;
  const nulJob = randomUUID();
  const blockedJob = randomUUID();
  await producer.send({
    topic,
    messages: [
      ...Array.from({ length: partitions }, (_, partition) => ({ partition, key: nulJob, value: world.reader.serde.encode('jobEvents', submitted(nulJob, 'q-tenant', { team: 'a\u0000b' })) })),
      { partition: 0, key: blockedJob, value: world.reader.serde.encode('jobEvents', submitted(blockedJob, 'q-tenant', {}, 'test.blocked')) },
      { partition: 1, key: 'garbage', value: Buffer.from('not an avro record') },
    ],
  });
  await producer.disconnect();

  // Ordinary jobs behind the poison on every partition, with the projector's Postgres
  // connections cut once on the way (transient: retried, never quarantined).
  const jobIds: string[] = [];
  for (let i = 0; i < 40; i++) {
    if (i === 20) await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sluice-projector' AND datname = current_database() AND pid <> pg_backend_pid()`);
    const r = await submitJob(world.runtime, { tenantId: 'q-tenant', operation: 'keyword.setBid' }, [{ profileId: '1000000000001', payload: { keywordId: String(i + 1), bid: 1 } }]);
    if (r.type !== 'accepted') throw new Error(JSON.stringify(r));
    jobIds.push(r.jobId);
  }
  const projected = await waitFor(
    'every ordinary job projected',
    async () => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE job_id = ANY($1)`, [jobIds])).rows[0]!.n,
    (n) => n === jobIds.length,
  );
  expect(projected).toBe(40);

  const errors = await waitFor(
    'the poison quarantined',
    async () => (await pool.query<{ topic: string; partition: number; offset: string; job_id: string | null; tenant_id: string | null; error_code: string; status: string }>(`SELECT topic, partition, "offset", job_id, tenant_id, error_code, status FROM projection_errors ORDER BY partition, "offset"`)).rows,
    (rows) => rows.length === partitions + 2,
  );
  expect(errors.filter((e) => e.job_id === nulJob).map((e) => e.error_code)).toEqual(Array(partitions).fill('22P05'));
  expect(errors.find((e) => e.job_id === blockedJob)).toMatchObject({ topic, partition: 0, tenant_id: 'q-tenant', error_code: '23514', status: 'open' });
  expect(errors.find((e) => e.error_code === 'undecodable')).toMatchObject({ topic, partition: 1, job_id: null });
  expect(await (await fetch(projector.metricsUrl)).text()).toMatch(new RegExp(`sluice_projector_quarantined_total\\{topic_role="jobEvents"\\} ${partitions + 1}`));

  // The tenant's admins see their errors over HTTP; the retry fails while the cause stands…
  const auth = await world.api.auth('q-tenant');
  const listed = (await (await fetch(`${world.api.url}/v1/projection-errors`, { headers: auth })).json()) as { errors: { errorId: string; jobId: string; errorCode: string }[] };
  expect(listed.errors).toHaveLength(partitions + 1); // the undecodable one belongs to no tenant
  expect((await (await fetch(`${world.api.url}/v1/projection-errors`, { headers: await world.api.auth('other-tenant') })).json()) as { errors: unknown[] }).toEqual({ errors: [] });
  const blocked = listed.errors.find((e) => e.jobId === blockedJob)!;
  const retry = () => fetch(`${world.api.url}/v1/projection-errors/${blocked.errorId}/retry`, { method: 'POST', headers: auth });
  expect((await retry()).status).toBe(422);
  // …and applies the record once it is fixed.
  await pool.query(`ALTER TABLE jobs DROP CONSTRAINT test_no_blocked`);
  expect(await (await retry()).json()).toEqual({ errorId: blocked.errorId, status: 'resolved' });
  expect((await pool.query(`SELECT operation FROM jobs WHERE job_id = $1`, [blockedJob])).rows).toEqual([{ operation: 'test.blocked' }]);
  expect((await retry()).status).toBe(409);
  expect((await (await fetch(`${world.api.url}/metrics`)).text())).toMatch(new RegExp(`^sluice_projection_errors_open ${partitions + 1}$`, 'm'));
});
