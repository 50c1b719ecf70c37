// Isolation under skew (issue 15, guarantee 3): a paused job's backlog stays in Kafka
// while other jobs come and go. Every job's submission writes a control record; before,
// any control change woke every lane held by a paused job, so each one sent the
// partition's reader back over the whole paused backlog, and the paused lanes filled the
// partition's read-ahead again (to give it back a second later) while the profiles that
// could run waited for room. Now a held lane is woken only by a change of a job it holds.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ControlAction } from '../../../src/domain/job-control.js';
import { generatedEntityId, generatedProfileId } from '../../../src/simulator/entities.js';
import { outcomeOf } from '../../helpers/executor.js';
import { keywordUpdates, openTestPipeline, type TestPipeline } from '../../helpers/pipeline.js';

const profile = (i: number) => generatedProfileId('NA', i);
const PAUSED = Array.from({ length: 10 }, (_, i) => profile(i));
const ORDINARY = Array.from({ length: 40 }, (_, i) => profile(10 + i));
const CHURN = profile(50);
const PER_ORDINARY = 150;
let p: TestPipeline;

beforeAll(async () => {
  p = await openTestPipeline({
    simulator: { generate: { profilesPerRegion: 51 }, entitiesPerProfile: { keywords: 600, campaigns: 1, targets: 0 }, rateLimit: { ratePerSecond: 50, burst: 10 }, latency: { p50Ms: 2, p99Ms: 10 } },
    env: {
      SLUICE_ITEM_PARTITIONS: '1', // every profile on one partition
      SLUICE_READ_AHEAD: '1000', // fewer than the ordinary job's items: its lanes are refilled from Kafka
      SLUICE_PROFILE_RATE: '20',
      SLUICE_PROFILE_BURST: '5',
      SLUICE_MAX_BATCH_SIZE: '25',
    },
  });
}, 120_000);
afterAll(() => p?.close());

async function control(jobId: string, action: ControlAction): Promise<void> {
  expect((await p.producer.control.control({ tenantId: 't1', jobId, action })).type).toBe('applied');
}

/** Milliseconds from submission to the ordinary profiles' last terminal result. */
async function ordinaryMakespan(bid: number): Promise<number> {
  const startedAt = Date.now();
  const jobId = await p.submit(ORDINARY.flatMap((id) => keywordUpdates(id, PER_ORDINARY, () => bid)));
  const results = await p.outcomes.waitForTerminal(jobId, ORDINARY.length * PER_ORDINARY, 60_000);
  expect([...results.values()].every((rs) => outcomeOf(rs[0]!) === 'ItemSucceeded')).toBe(true);
  return Math.max(...[...results.values()].map((rs) => rs[0]!.occurredAt)) - startedAt;
}

it('other jobs submitted one after another do not send the reader back over a paused 6,000-item backlog', async () => {
  await ordinaryMakespan(1.4); // warms the executor up
  const alone = await ordinaryMakespan(1.5);

  const paused = await p.submit(PAUSED.flatMap((id) => keywordUpdates(id, 600, () => 3)));
  await control(paused, 'pause');
  const metrics = async () => (await fetch(p.executor!.metricsUrl)).text();
  const givenBack = async () => Number(/sluice_executor_items_given_back_total (\d+)/.exec(await metrics())?.[1] ?? 0);
  // The paused lanes have taken their first records and given them back: the backlog waits in Kafka.
  for (const t = Date.now(); (await givenBack()) < 1_000; ) {
    if (Date.now() - t > 30_000) throw new Error('the paused job\'s records were never given back');
    await new Promise((r) => setTimeout(r, 200));
  }

  let churning = true;
  let churned = 0;
  const churn = (async () => {
    for (let k = 0; churning; k++, churned++) {
      await p.submit([{ profileId: CHURN, payload: { keywordId: generatedEntityId(CHURN, 'keywords', k % 600), bid: 1 + (k % 9) / 10 } }]);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const givenBackBefore = await givenBack();
  // (Some of it ran between its submission and its pause.)
  const pausedRun = p.outcomes.terminalByItem(paused).size;
  const beside = await ordinaryMakespan(2.5);
  churning = false;
  await churn;
  const givenBackDuring = (await givenBack()) - givenBackBefore;
  console.log(`skew-control-churn: ordinary profiles alone ${alone} ms, beside the paused backlog with ${churned} jobs submitted meanwhile ${beside} ms; paused records taken and given back again meanwhile ${givenBackDuring}`);
  expect(churned).toBeGreaterThan(0); // (a loaded machine submits only a few while the ordinary job runs)
  expect(beside - alone).toBeLessThan(1_500);
  // The paused job's records were not taken into memory again for changes of other jobs
  // (before, each change took a partition's worth, 1,000, and gave them back).
  expect(givenBackDuring).toBeLessThan(100);
  expect(p.outcomes.terminalByItem(paused).size).toBe(pausedRun);
}, 240_000);
