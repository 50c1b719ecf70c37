// Fenced executors (issue 15 point 4). An executor frozen past its session timeout (here
// SIGSTOP, as a long GC pause or a stalled VM would) loses its partitions to another; when
// it wakes (SIGCONT) it must make no new API call for them and commit no result or
// offset: every item ends with exactly one terminal result, every keyword at its last
// submitted bid (but for a call the zombie had under way when it froze: see below), and the
// group's offsets never go back. Before, the woken executor went on
// with the items it held: it set keywords back to the first job's bids after the second
// job had run, and committed results for items the other executor had already finished.
// And a transaction a dead executor left open is aborted as soon as the partition has a
// new owner, so read-committed readers (the projector) are not held up until the broker's
// transaction timeout; before, each executor's transactional id was its own, and nothing
// settled a dead one's transaction but that timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config.js';
import { partitionTransactionalId } from '../../../src/consumers/result-sink.js';
import { transactionalProducer } from '../../../src/kafka/transactions.js';
import { generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { outcomeOf } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type KeywordUpdate, type TestPipeline } from '../../helpers/pipeline.js';
import { startExecutorProcess, type SluiceProcess } from '../../helpers/sluice-process.js';

const PROFILES = Array.from({ length: 12 }, (_, i) => generatedProfileId('NA', i));
const PER_PROFILE = 100;
const MAX_BATCH = 2;
/** How soon after waking a call the zombie had under way when it froze reaches the API. */
const CALLS_UNDER_WAY_MS = 1_000;
const running: SluiceProcess[] = [];
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 12 }, entitiesPerProfile: { keywords: PER_PROFILE, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 50, burst: 5 }, latency: { p50Ms: 5, p99Ms: 20 } },
    env: { SLUICE_ITEM_PARTITIONS: '4' },
    startExecutor: false,
  });
}, 120_000);
afterAll(async () => {
  for (const r of running) if (r.child.pid) process.kill(r.child.pid, 'SIGCONT');
  await Promise.all(running.map((r) => r.kill()));
  await p?.close();
});

function executorProcess(config: Config): Promise<SluiceProcess> {
  const env = { SLUICE_PROFILE_RATE: '10', SLUICE_PROFILE_BURST: '1', SLUICE_MAX_BATCH_SIZE: String(MAX_BATCH), SLUICE_SESSION_TIMEOUT_MS: '6000' };
  return startExecutorProcess(config, p.sim.sim.url, env).then((proc) => (running.push(proc), proc));
}

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const joins = (proc: SluiceProcess) => proc.logs().split('\n').filter((l) => l.includes('executor joined its group')).length;

async function groupOffsets(): Promise<Map<number, number>> {
  const [offsets] = await p.reader.admin.fetchOffsets({ groupId: p.config.executor.groupId, topics: [p.producer.topics.itemCommands.name] });
  return new Map(offsets!.partitions.map((o) => [o.partition, Number(o.offset)]));
}

async function metric(proc: SluiceProcess, name: string): Promise<number> {
  const text = await (await fetch(proc.ready)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

describe('a zombie executor', () => {
  it('woken after another took its partitions, calls the API for none of them and commits nothing', async () => {
    const first = PROFILES.flatMap((id) => keywordUpdates(id, PER_PROFILE, (i) => 5 + i / 100));
    const second = PROFILES.flatMap((id) => keywordUpdates(id, PER_PROFILE, (i) => 7 + i / 100));
    const zombie = await executorProcess(p.config);
    const jobA = await p.submit(first);
    await waitUntil('a third of the first job done', () => p.outcomes.terminalByItem(jobA).size >= first.length * 0.3);
    process.kill(zombie.child.pid!, 'SIGSTOP');

    const heir = await executorProcess(p.config);
    const jobB = await p.submit(second);
    await p.outcomes.waitForTerminal(jobA, first.length, 90_000);
    await p.outcomes.waitForTerminal(jobB, second.length, 90_000);
    const offsetsBefore = await groupOffsets();

    const wokenAt = Date.now();
    process.kill(zombie.child.pid!, 'SIGCONT');
    // It finds out (its heartbeat is refused) and joins the group again as a new member.
    await waitUntil('the zombie rejoined', () => joins(zombie) >= 2, 60_000);
    await waitUntil('the heir rejoined', () => joins(heir) >= 2, 60_000);
    // Both work on after it: a third job, spread over both.
    const third = PROFILES.flatMap((id) => keywordUpdates(id, 5, (i) => 9 + i / 100));
    const jobC = await p.submit(third);
    await p.outcomes.waitForTerminal(jobC, third.length, 60_000);

    // Exactly one committed terminal result per item, every one a success.
    for (const [jobId, items] of [[jobA, first], [jobB, second], [jobC, third]] as const) {
      const results = p.outcomes.terminalByItem(jobId);
      expect(results.size).toBe(items.length);
      expect([...results.values()].filter((rs) => rs.length !== 1).map((rs) => `${rs[0]!.itemId} at ${rs.map((r) => r.occurredAt).join(', ')}`)).toEqual([]);
      expect([...results.values()].filter((rs) => outcomeOf(rs[0]!) !== 'ItemSucceeded')).toEqual([]);
    }
    // Once it woke, the zombie made no new API call for the first two jobs. A call it had
    // already decided on when it froze (past its lease check, not yet on the wire) can still
    // go out as it wakes: at most one per lane, within moments. Nothing guards against that
    // write but the API itself (a conditional write, issue 18): it is counted and reported.
    const staleBids = new Set([...first, ...second].map((i: KeywordUpdate) => i.payload.bid));
    const lateWrites = (await p.sim.admin.updates()).filter((u) => u.atMs > wokenAt && staleBids.has(u.fields.bid as number));
    const underWay = lateWrites.filter((u) => u.atMs - wokenAt < CALLS_UNDER_WAY_MS);
    console.log(`zombie-executor: ${lateWrites.length} writes of the zombie after it woke, all within ${Math.max(0, ...lateWrites.map((u) => u.atMs - wokenAt))} ms (calls under way at the freeze)`);
    expect(lateWrites.filter((u) => !underWay.includes(u)).map((u) => `${u.profileId}/${u.id}=${String(u.fields.bid)} ${u.atMs - wokenAt} ms after waking`)).toEqual([]);
    const perProfile = new Map<string, number>();
    for (const u of underWay) perProfile.set(u.profileId, (perProfile.get(u.profileId) ?? 0) + 1);
    expect([...perProfile.values()].every((n) => n <= MAX_BATCH)).toBe(true); // one call per lane at most
    // Every keyword at its last bid, but for what such a call wrote.
    const overwritten = new Set(underWay.map((u) => `${u.profileId}/${u.id}`));
    for (const profileId of PROFILES) {
      const bids = new Map((await p.sim.admin.entities<Keyword>(profileId, 'keywords')).map((k) => [k.keywordId, k.bid]));
      const last = new Map([...second, ...third].filter((i) => i.profileId === profileId).map((i) => [i.payload.keywordId, i.payload.bid]));
      expect([...last].filter(([id, bid]) => bids.get(id) !== bid && !overwritten.has(`${profileId}/${id}`))).toEqual([]);
    }
    // The group's offsets never went back.
    const offsetsAfter = await groupOffsets();
    for (const [partition, offset] of offsetsBefore) expect(offsetsAfter.get(partition)).toBeGreaterThanOrEqual(offset);
    // The zombie held its lanes' calls back on waking: its lease had lapsed.
    expect(await metric(zombie, 'sluice_executor_calls_held_total')).toBeGreaterThan(0);
  }, 240_000);

  it("a transaction a dead executor left open is aborted by the partition's next owner, not left to time out", async () => {
    for (const r of running.splice(0)) await r.kill();
    const { itemCommands, itemResults } = p.producer.topics;
    // What a kill -9 in the middle of a flush leaves: an open transaction of a partition's
    // producer, with a result already written to item-results (holding its readers back).
    const dead = transactionalProducer(p.reader.kafka, { transactionalId: partitionTransactionalId(p.config.executor.groupId, itemCommands.name, 0), transactionTimeoutMs: 120_000 });
    await dead.connect();
    const txn = await dead.transaction();
    for (let partition = 0; partition < itemResults.partitions; partition++) await txn.send({ topic: itemResults.name, messages: [{ partition, key: 'dead', value: Buffer.from('never committed') }] });

    const items = PROFILES.flatMap((id) => keywordUpdates(id, 5, (i) => 3 + i / 100));
    const started = Date.now();
    await executorProcess(p.config);
    const jobId = await p.submit(items);
    await p.outcomes.waitForTerminal(jobId, items.length, 60_000);
    const tookMs = Date.now() - started;
    console.log(`zombie-executor: results readable ${tookMs} ms after the replacement started (transaction timeout 120,000 ms)`);
    expect(tookMs).toBeLessThan(30_000);
    await dead.disconnect().catch(() => undefined);
  }, 120_000);
});
