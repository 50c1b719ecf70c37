// Nothing lost when an executor dies: kill -9 in the middle of a job, then a new
// executor, and every item ends with exactly one committed terminal result (a command
// whose result was not committed may run twice; operations set absolute values) and
// every keyword at its bid. A SIGTERM instead drains: the executor exits 0 promptly,
// having committed what it finished, and a new one completes the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config.js';
import { generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { outcomeOf } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type KeywordUpdate, type TestPipeline } from '../../helpers/pipeline.js';
import { startExecutorProcess, type SluiceProcess } from '../../helpers/sluice-process.js';

const PROFILES = Array.from({ length: 12 }, (_, i) => generatedProfileId('NA', i));
const PER_PROFILE = 100;
const running: SluiceProcess[] = [];
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 12 }, entitiesPerProfile: { keywords: PER_PROFILE, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 20, burst: 1 }, latency: { p50Ms: 5, p99Ms: 20 } },
    env: { SLUICE_ITEM_PARTITIONS: '4' },
    startExecutor: false,
  });
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.kill()));
  await p?.close();
});

function executorProcess(config: Config): Promise<SluiceProcess> {
  const env = { SLUICE_PROFILE_RATE: '20', SLUICE_PROFILE_BURST: '1', SLUICE_MAX_BATCH_SIZE: '2', SLUICE_SESSION_TIMEOUT_MS: '6000' };
  return startExecutorProcess(config, p.sim.sim.url, env).then((proc) => (running.push(proc), proc));
}

async function waitUntil(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectWholeOutcome(jobId: string, items: KeywordUpdate[]) {
  const results = await p.outcomes.waitForTerminal(jobId, items.length, 90_000);
  expect(results.size).toBe(items.length);
  expect([...results.values()].filter((rs) => rs.length !== 1)).toEqual([]);
  expect([...results.values()].filter((rs) => outcomeOf(rs[0]!) !== 'ItemSucceeded')).toEqual([]);
  for (const profileId of PROFILES) {
    const state = new Map((await p.sim.admin.entities<Keyword>(profileId, 'keywords')).map((k) => [k.keywordId, k.bid]));
    for (const item of items.filter((i) => i.profileId === profileId)) expect(state.get(item.payload.keywordId)).toBe(item.payload.bid);
  }
}

describe('an executor process', () => {
  it('killed -9 mid-job: after a restart every item has its terminal result, none lost', async () => {
    const items = PROFILES.flatMap((id) => keywordUpdates(id, PER_PROFILE, (i) => 5 + i / 100));
    const first = await executorProcess(p.config);
    const jobId = await p.submit(items);
    await waitUntil(() => p.outcomes.terminalByItem(jobId).size >= items.length * 0.3);
    await first.kill();
    const before = p.outcomes.terminalByItem(jobId).size;
    expect(before).toBeLessThan(items.length); // killed mid-job, really

    const second = await executorProcess(p.config);
    await expectWholeOutcome(jobId, items);
    await second.stop('SIGTERM');
  });

  it('SIGTERM mid-job: drains and exits 0 within seconds; a new executor finishes the job', async () => {
    const items = PROFILES.flatMap((id) => keywordUpdates(id, PER_PROFILE, (i) => 6 + i / 100));
    const first = await executorProcess(p.config);
    const jobId = await p.submit(items);
    await waitUntil(() => p.outcomes.terminalByItem(jobId).size >= items.length * 0.3);
    const stopping = Date.now();
    expect(await first.stop('SIGTERM')).toBe(0);
    const drainMs = Date.now() - stopping;
    expect(drainMs).toBeLessThan(5_000);
    await first.waitForLog(/drained; exiting/);

    const second = await executorProcess(p.config);
    await expectWholeOutcome(jobId, items);
    await second.stop('SIGTERM');
  });
});
