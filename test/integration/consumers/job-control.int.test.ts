// The executor follows job-control: a paused job's items wait without holding up other
// jobs of the same profile (except items of an entity the paused job still has to
// change: those keep their order), and a cancelled job's remaining items are reported
// cancelled without any API call.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ControlAction } from '../../../src/domain/job-control.js';
import { generatedEntityId, generatedProfileId, type Keyword } from '../../../src/simulator/entities.js';
import { outcomeOf } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type KeywordUpdate, type TestPipeline } from '../../helpers/pipeline.js';

const P = generatedProfileId('NA', 0);
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 1 }, entitiesPerProfile: { keywords: 100, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 5, burst: 1 } },
    env: { SLUICE_PROFILE_RATE: '5', SLUICE_PROFILE_BURST: '1', SLUICE_MAX_BATCH_SIZE: '1' },
  });
});
afterAll(() => p?.close());

async function control(jobId: string, action: ControlAction) {
  const result = await p.producer.control.control({ tenantId: 't1', jobId, action });
  expect(result.type).toBe('applied');
}

const terminalCount = (jobId: string) => p.outcomes.terminalByItem(jobId).size;
const keyword = (i: number, bid: number): KeywordUpdate => ({ profileId: P, payload: { keywordId: generatedEntityId(P, 'keywords', i), bid } });

it('a paused job waits while later jobs of its profile run; an item of an entity it still holds waits for it', async () => {
  const paused = await p.submit(keywordUpdates(P, 30, () => 1.11));
  await control(paused, 'pause');
  const other = await p.submit(Array.from({ length: 10 }, (_, i) => keyword(50 + i, 2.22)));
  const sameEntity = await p.submit([keyword(29, 3.33)]);

  await p.outcomes.waitForTerminal(other, 10, 30_000);
  const doneWhilePaused = terminalCount(paused);
  expect(doneWhilePaused).toBeLessThan(30);
  await new Promise((r) => setTimeout(r, 1_000));
  expect(terminalCount(paused)).toBe(doneWhilePaused); // nothing more of it ran
  expect(terminalCount(sameEntity)).toBe(0); // held behind the paused job's keyword 29

  await control(paused, 'resume');
  const resumed = await p.outcomes.waitForTerminal(paused, 30, 30_000);
  const last = await p.outcomes.waitForTerminal(sameEntity, 1, 30_000);
  expect([...resumed.values()].every((rs) => outcomeOf(rs[0]!) === 'ItemSucceeded')).toBe(true);
  const k29 = [...resumed.values()].find((rs) => rs[0]!.index === 29)![0]!;
  expect([...last.values()][0]![0]!.occurredAt).toBeGreaterThanOrEqual(k29.occurredAt);
  const state = await p.sim.admin.entities<Keyword>(P, 'keywords');
  expect(state.find((k) => k.keywordId === generatedEntityId(P, 'keywords', 29))?.bid).toBe(3.33);
});

it('a cancelled job: its remaining items are reported cancelled, and none of them reaches the API', async () => {
  const sinceSeq = Math.max(0, ...(await p.sim.admin.updates()).map((u) => u.seq));
  const cancelled = await p.submit(keywordUpdates(P, 40, () => 4.44));
  await control(cancelled, 'cancel');
  const results = await p.outcomes.waitForTerminal(cancelled, 40, 30_000);
  const kinds = [...results.values()].map((rs) => outcomeOf(rs[0]!));
  const succeeded = kinds.filter((k) => k === 'ItemSucceeded').length;
  expect(kinds.filter((k) => k === 'ItemCancelled').length).toBe(40 - succeeded);
  expect(succeeded).toBeLessThan(40);
  const applied = (await p.sim.admin.updates({ sinceSeq })).filter((u) => u.seq > sinceSeq && u.fields.bid === 4.44);
  expect(applied).toHaveLength(succeeded);
});
