// What one profile's trouble must not do to the others, on the real stack: a profile
// under sticky throttling on the same partition does not slow the rest (key-level
// lanes), a profile whose access was revoked is dead-lettered by its breaker's probe
// while the rest finish, and an undecodable record is dead-lettered while its lane
// moves on.
import { submitJob } from '../../../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemResult } from '../../../src/domain/events.js';
import { generatedProfileId } from '../../../src/simulator/entities.js';
import { outcomeOf } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const profile = (i: number) => generatedProfileId('NA', i);
const OTHERS = [1, 2, 3, 4, 5].map(profile);
const STICKY = profile(0);
const REVOKED = profile(6);
const RATE = 10;
const BREAKER_VOLUME = 3;
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 8 }, entitiesPerProfile: { keywords: 100, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: RATE, burst: 1 }, latency: { p50Ms: 5, p99Ms: 15 } },
    env: {
      SLUICE_ITEM_PARTITIONS: '1', // every profile on one partition
      SLUICE_PROFILE_RATE: String(RATE),
      SLUICE_PROFILE_BURST: '1',
      SLUICE_MAX_BATCH_SIZE: '5',
      SLUICE_BREAKER_VOLUME: String(BREAKER_VOLUME),
      SLUICE_BREAKER_RESET_MS: '300',
    },
  });
});
afterAll(() => p?.close());

/** Seconds from `startedAt` to the job's last terminal result. */
function makespan(results: Map<string, ItemResult[]>, startedAt: number): number {
  return (Math.max(...[...results.values()].map((rs) => rs[0]!.occurredAt)) - startedAt) / 1000;
}

async function runOthers(bidOffset: number): Promise<number> {
  const startedAt = Date.now();
  const jobId = await p.submit(OTHERS.flatMap((id) => keywordUpdates(id, 100, (i) => bidOffset + i / 100)));
  const results = await p.outcomes.waitForTerminal(jobId, OTHERS.length * 100);
  expect([...results.values()].every((rs) => outcomeOf(rs[0]!) === 'ItemSucceeded')).toBe(true);
  return makespan(results, startedAt);
}

describe('lanes', () => {
  it('a profile under sticky throttling does not slow the other profiles of its partition', async () => {
    // Each figure the mean of two runs: one ~3 s run on two shared cores varies by a fifth.
    const alone = ((await runOthers(1)) + (await runOthers(1.5))) / 2;

    await p.sim.admin.setKnobs({ profileFaults: { [STICKY]: { stickyThrottle: true } } });
    const stuckJob = await p.submit(keywordUpdates(STICKY, 100));
    const beside = ((await runOthers(2)) + (await runOthers(2.5))) / 2;
    expect(beside).toBeLessThanOrEqual(alone * 1.2);

    // Throttling is not failure: once the API lets it through, every item succeeds.
    const throttled = (await p.sim.admin.counters()).profiles[STICKY]!.throttled;
    expect(throttled).toBeGreaterThan(0);
    await p.sim.admin.setKnobs({ profileFaults: { [STICKY]: null } });
    const stuck = await p.outcomes.waitForTerminal(stuckJob, 100, 60_000);
    expect([...stuck.values()].every((rs) => outcomeOf(rs[0]!) === 'ItemSucceeded')).toBe(true);
  });

  it('a revoked profile is dead-lettered with diagnostics after its breaker threshold plus one probe, while the others finish', async () => {
    await p.sim.admin.setKnobs({ profileFaults: { [REVOKED]: { revokedAuth: true } } });
    await p.sim.admin.resetCounters();
    // Without before-images: the calls counted below are the writes the breaker sees (a read
    // of before-images covers ten write batches and would settle the 60 items in fewer calls).
    const submitted = await submitJob(p.producer, { tenantId: 't1', operation: 'keyword.setBid', captureBefore: false }, [...keywordUpdates(REVOKED, 60), ...keywordUpdates(OTHERS[0]!, 50), ...keywordUpdates(OTHERS[1]!, 50)]);
    if (submitted.type !== 'accepted') throw new Error(JSON.stringify(submitted));
    const jobId = submitted.jobId;
    const results = await p.outcomes.waitForTerminal(jobId, 160);

    const outcomes = [...results.values()].map((rs) => [rs[0]!.profileId, outcomeOf(rs[0]!)] as const);
    expect(outcomes.filter(([id, o]) => id !== REVOKED && o !== 'ItemSucceeded')).toEqual([]);
    expect(outcomes.filter(([id, o]) => id === REVOKED && o === 'ItemFailed')).toHaveLength(60);

    const dead = p.outcomes.deadLetters.filter((d) => d.command?.jobId === jobId);
    expect(dead).toHaveLength(60);
    for (const d of dead) {
      expect(d).toMatchObject({ errorKind: 'unauthorized', reason: 'UNAUTHORIZED', source: { topic: p.producer.topics.itemCommands.name, partition: 0 } });
      expect(d.command?.profileId).toBe(REVOKED);
      expect(d.attempts.at(-1)).toMatchObject({ outcome: 'permanent', httpStatus: 401 });
    }
    // Each executor call of a revoked profile is two HTTP calls (the client refreshes its
    // token once on a 401). The breaker opened after its threshold; one probe settled the rest.
    const calls = (await p.sim.admin.counters()).profiles[REVOKED]!.calls;
    expect(calls).toBe(2 * (BREAKER_VOLUME + 1));

    const metrics = await (await fetch(p.executor!.metricsUrl)).text();
    expect(metrics).toMatch(new RegExp(`sluice_executor_breaker_state\\{profile="${REVOKED}"\\} [12]`)); // open, or half-open again
    expect(metrics).toMatch(/sluice_executor_consumer_lag\{partition="0"\} 0\n/);
    expect(metrics).toMatch(/sluice_executor_items_total\{outcome="dead_lettered"\} 60/);
    await p.sim.admin.setKnobs({ profileFaults: { [REVOKED]: null } });
  });

  it('dead-letters an undecodable record as raw bytes with the decode error, and its lane moves on', async () => {
    const producer = p.reader.kafka.producer();
    await producer.connect();
    const garbage = Buffer.from('this is not an Avro record');
    await producer.send({ topic: p.producer.topics.itemCommands.name, messages: [{ key: OTHERS[2]!, value: garbage }] });
    await producer.disconnect();
    const jobId = await p.submit(keywordUpdates(OTHERS[2]!, 20, (i) => 3 + i / 100));

    const results = await p.outcomes.waitForTerminal(jobId, 20);
    expect([...results.values()].every((rs) => outcomeOf(rs[0]!) === 'ItemSucceeded')).toBe(true);
    const poison = p.outcomes.deadLetters.filter((d) => d.command === null);
    expect(poison).toHaveLength(1);
    expect(poison[0]).toMatchObject({ errorKind: 'undecodable', rawKey: Buffer.from(OTHERS[2]!), rawValue: garbage });
    expect(poison[0]!.message).not.toBe('');
  });
});
