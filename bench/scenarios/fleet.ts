// The rate-limited fleet against the job queues a user would pick instead (issue 9): one
// bulk job, 300 profiles × 200 bid updates, against the rate-limited API of the
// `ratelimit` scenario (2 calls/s per profile, burst 2, up to 5 entities per call, no
// Retry-After). Sluice's executor is told the documented rate; each baseline gets the
// best per-profile limiting its free version offers (see baselines/spec.ts): BullMQ a
// queue per profile with its limiter at 2 jobs/s and its manual rate-limit on a 429,
// pg-boss each job deferred to its profile's next slot at 2/s and one job per profile at
// a time. The baselines send one item per call (one queue job per item, as their
// documentation recommends); Sluice batches a profile's items, 5 per call.
//
// Reported per contender: makespan (first enqueue, or the submission, to the last result
// stored in Postgres); utilisation, the ideal makespan for the calls it needs at the
// allowed rate ÷ its makespan (how well it uses the rate, batching aside); the share of
// calls answered 429; the most calls any profile made within one second (the API allows
// 2 plus the burst); items that ended failed.
import type { Config } from '../../src/config.js';
import type { CountersSnapshot } from '../../src/simulator/counters.js';
import { generatedProfileId } from '../../src/simulator/entities.js';
import { median, round, type Scenario } from '../harness.js';
import { alternateWithBaselines, runBaseline } from '../support/baselines/run.js';
import type { BaselineKind } from '../support/baselines/spec.js';
import { interleavedBidUpdates, runPipeline } from '../support/pipeline-run.js';
import { ENTITIES_PER_CALL, idealMakespanS, RATE, rateLimitedSimulator, SLUICE_EXECUTOR_ENV } from '../support/rate-limited-api.js';
import { ensureStack } from '../support/stack.js';

const PROFILES = 300;
const PER_PROFILE = 200;
const ITEMS = PROFILES * PER_PROFILE;
const SIMULATOR = rateLimitedSimulator(PROFILES, PER_PROFILE);
const PROFILE_IDS = Array.from({ length: PROFILES }, (_, i) => generatedProfileId('NA', i));

interface Sample {
  makespanS: number;
  utilisation: number;
  share429: number;
  peakCallsPerProfileSecond: number;
  failed: number;
}

const CONTENDERS = ['sluice', 'bullmq', 'pgboss'] as const;

export const fleetScenario: Scenario = {
  name: 'fleet',
  description: `${PROFILES} profiles × ${PER_PROFILE} items at ${RATE.ratePerSecond} calls/s each: Sluice vs BullMQ vs pg-boss with per-profile limits`,
  async run(runs) {
    const stack = await ensureStack();
    const samples = await alternateWithBaselines(runs, stack.database.url, () => sluiceRun(stack), (kind) => baselineRun(stack, kind));
    const m = (name: (typeof CONTENDERS)[number], key: keyof Sample) => median(samples[name].map((s) => s[key]));
    const metrics: Record<string, number> = { sluice_ideal_makespan_s: idealMakespanS(PER_PROFILE, ENTITIES_PER_CALL), baseline_ideal_makespan_s: idealMakespanS(PER_PROFILE, 1) };
    for (const name of CONTENDERS) {
      metrics[`${name}_makespan_s`] = round(m(name, 'makespanS'), 1);
      metrics[`${name}_utilisation`] = round(m(name, 'utilisation'));
      metrics[`${name}_share_429`] = round(m(name, 'share429'), 5);
      metrics[`${name}_peak_calls_per_profile_second`] = m(name, 'peakCallsPerProfileSecond');
      metrics[`${name}_failed_items`] = m(name, 'failed');
    }
    return {
      metrics,
      ratios: {
        bullmq_vs_sluice_makespan: round(m('bullmq', 'makespanS') / m('sluice', 'makespanS')),
        pgboss_vs_sluice_makespan: round(m('pgboss', 'makespanS') / m('sluice', 'makespanS')),
        sluice_vs_bullmq_utilisation: round(m('sluice', 'utilisation') / m('bullmq', 'utilisation')),
        sluice_vs_pgboss_utilisation: round(m('sluice', 'utilisation') / m('pgboss', 'utilisation')),
      },
    };
  },
};

async function sluiceRun(stack: Config): Promise<Sample> {
  const r = await runPipeline({
    stack,
    label: 'fleet',
    partitions: 12,
    project: true,
    simulator: SIMULATOR,
    executorEnv: SLUICE_EXECUTOR_ENV,
    itemCount: ITEMS,
    items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
  });
  return report('sluice', r.projected!.makespanS, ENTITIES_PER_CALL, r.counters, r.projected!.failedItems);
}

async function baselineRun(stack: Config, kind: BaselineKind): Promise<Sample> {
  const r = await runBaseline({
    stack,
    // Enough attempts that throttling alone never fails an item; a 429 is retried after 1 s.
    spec: { kind, concurrency: kind === 'bullmq' ? 1 : 256, retry: { attempts: 50, delayMs: 1000, exponential: false }, perProfile: { ratePerSecond: RATE.ratePerSecond, profiles: PROFILE_IDS } },
    simulator: SIMULATOR,
    itemCount: ITEMS,
    items: () => interleavedBidUpdates(PROFILES, PER_PROFILE),
  });
  return report(kind, r.makespanS, 1, r.counters, r.failed);
}

function report(name: string, makespanS: number, itemsPerCall: number, counters: CountersSnapshot, failed: number): Sample {
  const ideal = idealMakespanS(PER_PROFILE, itemsPerCall);
  const sample: Sample = {
    makespanS,
    utilisation: ideal / makespanS,
    share429: counters.throttled / Math.max(1, counters.calls),
    peakCallsPerProfileSecond: Math.max(...Object.values(counters.profiles).map((p) => p.peakCallsPerSecond)),
    failed,
  };
  console.error(
    `bench: fleet ${name}: makespan ${makespanS.toFixed(1)} s (ideal ${ideal} s, utilisation ${sample.utilisation.toFixed(3)}), ` +
      `${counters.throttled}/${counters.calls} calls throttled, peak ${sample.peakCallsPerProfileSecond} calls in a profile's second, ${failed} failed`,
  );
  return sample;
}
